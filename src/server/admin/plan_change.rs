//! The admin's changes to a customer's live subscription: change plan or seats (an upgrade at
//! once with the proration invoiced, a downgrade at the period end: the customer's own rules,
//! through the same `billing::plan_change` code) and cancel at period end / resume
//! (`billing::actions`).
//!
//! Like a refund: a confirm step first; the form's one-time token is the Stripe idempotency key
//! and the audit row's request key (a double submit is one change, one row); the subscription
//! is re-fetched and stored in the same transaction as the audit row (actor, IP, before/after).

use anyhow::Context;
use stripe_shared::{CustomerId, SubscriptionId};

use super::audit::{self, Actor, Record};
use crate::domain::catalog::BillingInterval;
use crate::domain::subscription::{CollectionPause, PauseBehavior, SubscriptionStatus};
use crate::server::billing::plan_change::{self, Applied};
use crate::server::billing::price_book::{plan_label, seats_label, PlanPrice, PriceBook};
use crate::server::billing::renewal;
use crate::server::billing::subscriptions::{self, StoredSubscription, SubscriptionRow};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::server::{db, state::AppState};
use crate::views::admin::customer::{
    PauseControls, PlanChangeStep, PriceChoice, RenewalStep, SeatControls, SubscriptionControls,
};
use crate::views::format;

/// The customer's live subscription: the one the admin's forms act on.
async fn live_subscription(state: &AppState, customer_id: &CustomerId) -> Result<StoredSubscription, FormError> {
    match subscriptions::current_subscription(state.db.pool(), customer_id).await? {
        Some(sub) if sub.is_live() => Ok(sub),
        _ => Err(refused("This customer has no subscription to change.")),
    }
}

/// The posted subscription, which must still be the customer's live one.
async fn posted_subscription(
    state: &AppState,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
) -> Result<StoredSubscription, FormError> {
    let sub = live_subscription(state, customer_id).await?;
    if *subscription_id != sub.id {
        return Err(refused("The customer's subscription changed since this form was opened: open it again."));
    }
    Ok(sub)
}

/// A catalog price by lookup key (plans only: one-time items are not subscriptions).
fn catalog_price(book: &PriceBook, lookup_key: &str) -> Result<PlanPrice, FormError> {
    book.catalog
        .plan_for_lookup_key(lookup_key)
        .and_then(|(plan, interval)| book.plan_price(plan.key.as_str(), interval))
        .ok_or_else(|| refused("There is no such price in the catalog."))
}

async fn email_of(state: &AppState, customer_id: &CustomerId) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(customer_id.as_str())
        .fetch_optional(state.db.pool())
        .await
        .context("reading the customer's email")
}

/// A price and its quantity (seats), as the audit log names them.
struct Holding<'a> {
    lookup_key: Option<&'a str>,
    price_id: &'a str,
    quantity: i64,
}

/// How a subscription stands, for the audit log: plan and price (with the seats of a per-seat
/// plan), the cancel flag, and a scheduled change. E.g. `Pro (monthly) [price_1]; cancel at
/// period end: no`, `Team (monthly), 3 seats [price_2]; …; then Team (monthly), 2 seats [price_2] from …`.
fn standing(book: &PriceBook, now: Holding<'_>, cancel: bool, pending: Option<(Holding<'_>, i64)>) -> String {
    let mut words = format!(
        "{} [{}]; cancel at period end: {}",
        seats_label(book, now.lookup_key, now.price_id, now.quantity),
        now.price_id,
        if cancel { "yes" } else { "no" }
    );
    if let Some((next, at)) = pending {
        words.push_str(&format!(
            "; then {} [{}] from {}",
            seats_label(book, None, next.price_id, next.quantity),
            next.price_id,
            format::day(at)
        ));
    }
    words
}

/// A pause, for the audit log: nothing when there is none.
fn pause_words(status: SubscriptionStatus, collection_pause: Option<CollectionPause>) -> String {
    let mut words = String::new();
    if status == SubscriptionStatus::Paused {
        words.push_str("; paused");
    }
    if let Some(pause) = collection_pause {
        words.push_str(&format!("; payments paused ({})", pause.behavior.as_str()));
        if let Some(at) = pause.resumes_at {
            words.push_str(&format!(" until {}", format::day(at)));
        }
    }
    words
}

fn stored_standing(book: &PriceBook, sub: &StoredSubscription) -> String {
    let pending = sub.pending_price_id.as_deref().zip(sub.pending_change_at).map(|(price_id, at)| {
        (Holding { lookup_key: None, price_id, quantity: sub.pending_quantity.unwrap_or(1) }, at)
    });
    let now = Holding { lookup_key: sub.lookup_key.as_deref(), price_id: &sub.price_id, quantity: sub.quantity };
    standing(book, now, sub.cancel_at_period_end, pending) + &pause_words(sub.status, sub.collection_pause)
}

fn row_standing(book: &PriceBook, row: &SubscriptionRow) -> String {
    let pending = row
        .pending
        .as_ref()
        .map(|p| (Holding { lookup_key: None, price_id: p.price_id.as_str(), quantity: p.quantity }, p.at));
    let now = Holding { lookup_key: row.lookup_key.as_deref(), price_id: &row.price_id, quantity: row.quantity };
    standing(book, now, row.cancel_at_period_end, pending) + &pause_words(row.status, row.collection_pause)
}

/// The customer page's controls: the live subscription and every catalog plan price.
pub async fn controls(state: &AppState, customer_id: &CustomerId) -> anyhow::Result<Option<SubscriptionControls>> {
    let Some(sub) = subscriptions::current_subscription(state.db.pool(), customer_id).await?.filter(|s| s.is_live())
    else {
        return Ok(None);
    };
    let book = &*state.prices.current();
    let prices = book
        .catalog
        .plans
        .iter()
        .flat_map(|plan| [BillingInterval::Month, BillingInterval::Year].map(|interval| (plan, interval)))
        .filter_map(|(plan, interval)| book.plan_price(plan.key.as_str(), interval))
        .map(|price| PriceChoice {
            lookup_key: price.spec.lookup_key.clone(),
            label: format!(
                "{} ({}) — {} / {}",
                price.plan.name,
                format::interval_words(price.interval),
                price.spec.amount,
                price.interval.as_str()
            ),
            current: price.price_id == sub.price_id,
        })
        .collect();
    let day = format::day(sub.current_period_end);
    let state_words = match (&sub.pending_price_id, sub.cancel_at_period_end) {
        (_, true) => format!("ends on {day}"),
        (Some(price), false) => format!(
            "changes to {} on {}",
            seats_label(book, None, price, sub.pending_quantity.unwrap_or(1)),
            format::day(sub.pending_change_at.unwrap_or(sub.current_period_end))
        ),
        (None, false) => format!("renews on {day}"),
    };
    // A per-seat plan: the seats form, on the current price.
    let seats = book.plan_of(sub.lookup_key.as_deref(), &sub.price_id).and_then(|(plan, interval)| {
        let bounds = plan.per_seat?;
        let price = book.plan_price(plan.key.as_str(), interval)?;
        Some(SeatControls { lookup_key: price.spec.lookup_key, seats: sub.quantity, min: bounds.min, max: bounds.max })
    });
    Ok(Some(SubscriptionControls {
        plan: seats_label(book, sub.lookup_key.as_deref(), &sub.price_id, sub.quantity),
        seats,
        subscription_id: sub.id,
        state: state_words,
        cancel_at_period_end: sub.cancel_at_period_end,
        prices,
        pause: PauseControls {
            paused: sub.status == SubscriptionStatus::Paused,
            collection_paused: sub.collection_pause.map(|pause| match pause.resumes_at {
                Some(at) => format!("{} until {}", pause.behavior.describe(), format::day(at)),
                None => pause.behavior.describe().to_string(),
            }),
            behaviors: PauseBehavior::ALL.map(|b| (b.as_str().to_string(), b.describe().to_string())).to_vec(),
            token: new_form_token(),
        },
    }))
}

/// The plan (or seats) change's confirm step: checked as the change itself will be, with
/// Stripe's preview.
pub async fn change_form(
    state: &AppState,
    customer_id: &CustomerId,
    lookup_key: &str,
    seats: Option<i64>,
) -> Result<PlanChangeStep, FormError> {
    let book = state.prices.current();
    let price = catalog_price(&book, lookup_key)?;
    let sub = live_subscription(state, customer_id).await?;
    let target = plan_change::target(state, sub, price, seats).await?;
    let preview = plan_change::preview_target(state, &target).await?;
    Ok(PlanChangeStep {
        customer_id: customer_id.to_string(),
        email: email_of(state, customer_id).await?,
        subscription_id: target.subscription().id.clone(),
        price: lookup_key.to_string(),
        preview,
        token: new_form_token(),
    })
}

/// Changes the customer's plan to the catalog price `lookup_key` (with `seats` on a per-seat
/// plan), as the customer would: now with proration if it is worth more per month, else at the
/// period end. Audited as a seat change when the price stays the same.
pub async fn change_plan(
    state: &AppState,
    actor: &Actor,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    lookup_key: &str,
    seats: Option<i64>,
    token: &str,
) -> Result<Next, FormError> {
    let book = state.prices.current();
    check_form_token(token)?;
    let key = format!("admin-change-{token}");
    if audit::request_done(state.db.pool(), &key).await? {
        return Ok(Next::Back("This plan change was already made.".into()));
    }
    let price = catalog_price(&book, lookup_key)?;
    let sub = posted_subscription(state, customer_id, subscription_id).await?;
    let before = stored_standing(&book, &sub);
    let action = if sub.price_id == price.price_id { "subscription.seat_change" } else { "subscription.plan_change" };
    let target = plan_change::target(state, sub, price, seats).await?;
    let applied = plan_change::apply_target(state, &target, &key).await?;
    let change = Change { action, subscription_id, customer_id, before: &before, key: &key };
    record(state, actor, change).await?;
    Ok(Next::Back(match applied {
        Applied::Now => format!("The plan is now {}; the proration was invoiced.", target.to_name()),
        Applied::At(at) => format!("The plan changes to {} on {}.", target.to_name(), format::day(at)),
    }))
}

fn already(cancel: bool) -> FormError {
    refused(if cancel {
        "The subscription is already set to end at the period end."
    } else {
        "The subscription is not set to end: there is nothing to resume."
    })
}

/// The cancel (or resume) confirm step.
pub async fn renewal_form(state: &AppState, customer_id: &CustomerId, cancel: bool) -> Result<RenewalStep, FormError> {
    let book = state.prices.current();
    let sub = live_subscription(state, customer_id).await?;
    if sub.cancel_at_period_end == cancel {
        return Err(already(cancel));
    }
    Ok(RenewalStep {
        customer_id: customer_id.to_string(),
        email: email_of(state, customer_id).await?,
        plan: plan_label(&book, sub.lookup_key.as_deref(), &sub.price_id),
        subscription_id: sub.id,
        cancel,
        period_end: format::day(sub.current_period_end),
        token: new_form_token(),
    })
}

/// Cancels the subscription at the period end (`cancel`), or resumes it.
pub async fn set_renewal(
    state: &AppState,
    actor: &Actor,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    cancel: bool,
    token: &str,
) -> Result<Next, FormError> {
    let action = if cancel { "cancel" } else { "resume" };
    let Some(prepared) = prepare(state, customer_id, subscription_id, action, token).await? else {
        return Ok(already_done());
    };
    if prepared.sub.cancel_at_period_end == cancel {
        return Err(already(cancel));
    }
    renewal::send_cancel_at_period_end(state, &prepared.sub, cancel, &prepared.key).await?;
    let action = if cancel { "subscription.cancel_at_period_end" } else { "subscription.resume" };
    prepared.record(state, actor, customer_id, subscription_id, action).await?;
    let day = format::day(prepared.sub.current_period_end);
    Ok(Next::Back(if cancel {
        format!("The subscription ends on {day}: it will not renew.")
    } else {
        format!("The subscription continues: it renews on {day}.")
    }))
}

/// An admin's form about a live subscription, checked: its request key (`admin-{action}-{token}`,
/// also the Stripe idempotency key), the subscription as stored, and its standing before.
pub(super) struct Prepared {
    pub key: String,
    pub sub: StoredSubscription,
    pub before: String,
}

/// Checks the form's token and reads the posted subscription; `None` when this form was
/// already done (its audit row exists).
pub(super) async fn prepare(
    state: &AppState,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    action: &str,
    token: &str,
) -> Result<Option<Prepared>, FormError> {
    check_form_token(token)?;
    let key = format!("admin-{action}-{token}");
    if audit::request_done(state.db.pool(), &key).await? {
        return Ok(None);
    }
    let sub = posted_subscription(state, customer_id, subscription_id).await?;
    let before = stored_standing(&state.prices.current(), &sub);
    Ok(Some(Prepared { key, sub, before }))
}

pub(super) fn already_done() -> Next {
    Next::Back("This was already done.".into())
}

impl Prepared {
    /// Audits `action`, storing the subscription as Stripe now has it in the same transaction.
    pub(super) async fn record(
        &self,
        state: &AppState,
        actor: &Actor,
        customer_id: &CustomerId,
        subscription_id: &SubscriptionId,
        action: &str,
    ) -> anyhow::Result<()> {
        let change = Change { action, subscription_id, customer_id, before: &self.before, key: &self.key };
        record(state, actor, change).await
    }
}

struct Change<'a> {
    action: &'a str,
    subscription_id: &'a str,
    customer_id: &'a str,
    before: &'a str,
    key: &'a str,
}

/// Re-fetches the subscription and stores it with the audit row, in one transaction.
async fn record(state: &AppState, actor: &Actor, change: Change<'_>) -> anyhow::Result<()> {
    let row = subscriptions::fetch_subscription(&state.stripe_client, &change.subscription_id.into()).await?;
    let after = row_standing(&state.prices.current(), &row);
    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    subscriptions::store_subscription(&mut tx, &row, &format!("admin:{}", change.key), now, now).await?;
    let record = Record {
        action: change.action,
        subject_type: "subscription",
        subject_id: change.subscription_id,
        customer_id: Some(change.customer_id),
        before: Some(change.before),
        after: Some(&after),
    };
    // A concurrent double submit finds the row already there: the same change, audited once.
    audit::write_once(&mut tx, actor, record, change.key, now).await?;
    tx.commit().await.context("committing the subscription and its audit row")?;
    Ok(())
}
