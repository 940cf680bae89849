//! `tollgate import`: backfills what a Stripe account already holds (customers, subscriptions
//! in every status, invoices, payments, refunds, disputes) from Stripe's list endpoints, not the
//! 30-day events window. Each list is read newest first, 100 objects a page, through the app's
//! Stripe client (its request ceiling and 429 back-off apply); a page's rows are written with
//! the same code the webhook handlers use and committed with the list's cursor
//! (`import_cursors`), so a killed import resumes after its last stored page. Objects whose
//! rows would not change are not written at all, so a second import changes nothing. MRR
//! movements are rebuilt from the imported subscriptions (`subscriptions.rs`). Nothing here
//! sends email. `--dry-run` makes every write in a transaction that is rolled back.

mod changes;
mod cursors;
mod customers;
mod lists;
mod report;
mod subscriptions;

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};

use self::changes::{Watched, Watcher};
use self::cursors::Cursor;
pub use self::report::{Counts, Report};
use crate::server::stripe::client::{api_error, stripe_cause, StripeClient};

/// Stripe's largest page.
const PAGE: i64 = 100;

/// The lists in the order they are imported: customers first (a subscription's trial is noted
/// on its user), invoices before payments (a payment row takes the invoice it paid).
pub const LISTS: [&str; 6] = ["customers", "subscriptions", "invoices", "payment_intents", "refunds", "disputes"];

/// One of Stripe's lists and how its objects are stored.
trait ObjectList {
    type Item;
    const NAME: &'static str;
    /// The rows storing an object may touch (see `changes`).
    const WATCHED: Watched;
    /// One page, newest first, after `after`.
    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<stripe_types::List<Self::Item>>;
    fn id(item: &Self::Item) -> String;
    async fn store(
        tx: &mut Transaction<'static, Any>,
        item: &Self::Item,
        pass: &mut Report,
        now: i64,
    ) -> anyhow::Result<()>;
}

/// Runs an import (or, with `dry_run`, counts what one would do). `progress` gets a line per page.
pub async fn run(
    pool: &AnyPool,
    stripe: &StripeClient,
    dry_run: bool,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Report> {
    if !dry_run && cursors::all_finished(pool, &LISTS).await? {
        // The last import finished: this one walks every list again.
        cursors::reset(pool).await?;
    }
    let mut report = Report { dry_run, ..Report::default() };
    import_list::<lists::Customers>(pool, stripe, &mut report, progress).await?;
    import_list::<lists::Subscriptions>(pool, stripe, &mut report, progress).await?;
    import_list::<lists::Invoices>(pool, stripe, &mut report, progress).await?;
    import_list::<lists::Payments>(pool, stripe, &mut report, progress).await?;
    import_list::<lists::Refunds>(pool, stripe, &mut report, progress).await?;
    import_list::<lists::Disputes>(pool, stripe, &mut report, progress).await?;
    if !dry_run {
        // Customers of earlier (interrupted) runs too, not only this run's pages.
        report.unlinked = customers::unlinked(pool).await?;
    }
    Ok(report)
}

async fn import_list<L: ObjectList>(
    pool: &AnyPool,
    stripe: &StripeClient,
    report: &mut Report,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let mut cursor = if report.dry_run { Cursor::default() } else { cursors::load(pool, L::NAME).await? };
    if cursor.finished {
        progress(&format!("import: {}: read to the end by the interrupted run", L::NAME));
        report.lists.push((L::NAME, Counts::default()));
        return Ok(());
    }
    if let Some(after) = &cursor.last_id {
        progress(&format!("import: {}: resuming after {after}", L::NAME));
    }
    let mut counts = Counts::default();
    let mut watcher = None;
    loop {
        let page = match L::page(stripe, cursor.last_id.clone()).await {
            // The object the cursor names is gone (a deleted customer): read the list again
            // from its start; what is stored already counts as unchanged.
            Err(err) if cursor.last_id.is_some() && is_not_found(&err) => {
                progress(&format!("import: {}: the cursor's object is gone; reading the list again", L::NAME));
                cursor.last_id = None;
                continue;
            }
            page => page.with_context(|| format!("listing {}", L::NAME))?,
        };
        let now = crate::server::db::now();
        let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
        let watcher = match &mut watcher {
            Some(watcher) => watcher,
            None => watcher.insert(Watcher::new(&mut tx, L::WATCHED).await?),
        };
        for item in &page.data {
            let id = L::id(item);
            let before = watcher.begin(&mut tx, &id).await?;
            L::store(&mut tx, item, report, now).await.with_context(|| format!("storing {id}"))?;
            counts.add(watcher.finish(&mut tx, &id, before).await?);
        }
        cursor = Cursor { last_id: page.data.last().map(L::id).or(cursor.last_id), finished: !page.has_more };
        if report.dry_run {
            tx.rollback().await.context("rolling the dry run back")?;
        } else {
            cursors::save(&mut tx, L::NAME, &cursor, now).await?;
            tx.commit().await.with_context(|| format!("committing a page of {}", L::NAME))?;
        }
        progress(&format!("import: {}: {}", L::NAME, counts.line(report.dry_run)));
        if cursor.finished {
            break;
        }
    }
    report.lists.push((L::NAME, counts));
    Ok(())
}

/// Stripe names no such object (`resource_missing`, however it answers the cursor).
fn is_not_found(err: &anyhow::Error) -> bool {
    stripe_cause(err)
        .and_then(api_error)
        .is_some_and(|(status, code)| status == 404 || code.as_deref() == Some("resource_missing"))
}

/// `tollgate import [--dry-run]` on the configured database and Stripe account.
pub async fn command(config: &crate::server::config::Config, dry_run: bool) -> anyhow::Result<Report> {
    let stripe = crate::server::catalog::command::stripe_client(config)?;
    let db = crate::server::db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let report = run(db.pool(), &stripe, dry_run, &mut |line| println!("{line}")).await;
    db.close().await;
    let report = report?;
    print!("{report}");
    Ok(report)
}
