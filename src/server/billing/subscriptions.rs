//! The local projection of Stripe subscriptions: one row per subscription, always rewritten from
//! the object Stripe returns now (re-fetched by the worker), with the MRR movement its change
//! implies written in the same transaction under a unique cause key; and the customer's current
//! subscription as the pages and forms read it.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_billing::subscription::RetrieveSubscription;
use stripe_shared::{CustomerId, RecurringInterval, Subscription, SubscriptionId, SubscriptionStatus as StripeStatus};

use crate::domain::catalog::BillingInterval;
use crate::domain::revenue::{self, MovementKind};
use crate::domain::subscription::{AccessFacts, CollectionPause, PauseBehavior, PauseReason, SubscriptionStatus};
use crate::server::billing::price_book::{plan_lookup_key, remembered_lookup_key};
use crate::server::http::outcome::{refused, FormError};
use crate::server::stripe::client::StripeClient;
use crate::server::{db, db::users::User, state::AppState};

/// What the app keeps of a subscription. Money in minor units, times in unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    pub customer_id: String,
    pub status: SubscriptionStatus,
    pub price_id: String,
    pub lookup_key: Option<String>,
    pub quantity: i64,
    pub unit_amount: i64,
    pub currency: String,
    pub interval: Option<BillingInterval>,
    pub interval_count: i64,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub trial_end: Option<i64>,
    pub created: i64,
    /// Monthly recurring revenue this subscription brings now (0 while trialing or not paying).
    pub mrr: i64,
    pub card: Option<Card>,
    /// The Stripe subscription schedule attached to it, if any.
    pub schedule_id: Option<String>,
    /// A price change Stripe will make at `at` (a scheduled downgrade).
    pub pending: Option<PendingChange>,
    /// While past due: when the first payment still failing was attempted (see
    /// [`super::past_due`]); `None` otherwise.
    pub past_due_since: Option<i64>,
    /// Payment collection paused (`pause_collection`): no MRR meanwhile.
    pub collection_pause: Option<CollectionPause>,
    /// What its coupons take off each invoice (none: zero), and when the first of them ends.
    pub discount: revenue::Discount,
    pub discount_ends_at: Option<i64>,
    /// Why it is paused, in Stripe's words (`status_details.paused.subscription.type`).
    pub pause_reason: Option<String>,
}

/// The card that pays: the subscription's default, else the customer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub brand: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub price_id: String,
    /// The seat count then (a per-seat plan's quantity).
    pub quantity: i64,
    pub at: i64,
}

fn card_of(pm: &stripe_shared::PaymentMethod) -> Option<Card> {
    pm.card.as_ref().map(|c| Card { brand: c.brand.clone(), last4: c.last4.clone() })
}

/// What the subscription's coupons take off each invoice (retrieved with
/// `discounts.source.coupon` expanded): percentages (Stripe gives percent_off as a decimal like
/// 12.5) and amounts off in the price's `currency` (a coupon in another currency does not apply).
fn discount_of(sub: &Subscription, currency: &str) -> revenue::Discount {
    let coupons =
        || sub.discounts.iter().filter_map(|d| d.as_object()).filter_map(|d| d.source.coupon.as_ref()?.as_object());
    let percent_off_bp: i64 =
        coupons().filter_map(|coupon| coupon.percent_off).map(|percent| (percent * 100.0).round() as i64).sum();
    let amount_off: i64 = coupons()
        .filter(|coupon| coupon.currency.as_ref().is_some_and(|c| c.to_string() == currency))
        .filter_map(|coupon| coupon.amount_off)
        .sum();
    revenue::Discount { percent_off_bp: percent_off_bp.clamp(0, 10_000), amount_off }
}

/// When the first of the subscription's discounts ends (a repeating coupon); `None`: never.
fn discount_ends_at(sub: &Subscription) -> Option<i64> {
    sub.discounts.iter().filter_map(|d| d.as_object()).filter_map(|d| d.end).min()
}

/// The card from a subscription retrieved with `default_payment_method` and
/// `customer.invoice_settings.default_payment_method` expanded.
fn paying_card(sub: &Subscription) -> Option<Card> {
    let own = sub.default_payment_method.as_ref().and_then(|pm| pm.as_object()).and_then(card_of);
    own.or_else(|| {
        let customer = sub.customer.as_object()?;
        let pm = customer.invoice_settings.as_ref()?.default_payment_method.as_ref()?;
        card_of(pm.as_object()?)
    })
}

/// The next phase of an active schedule (retrieved with `schedule` expanded) whose price or
/// quantity (seats) differs.
fn pending_change(sub: &Subscription, current_price: &str, current_quantity: i64) -> Option<PendingChange> {
    use stripe_shared::SubscriptionScheduleStatus as S;
    let schedule = sub.schedule.as_ref()?.as_object()?;
    if !matches!(schedule.status, S::Active | S::NotStarted) {
        return None;
    }
    let now_end = schedule.current_phase.as_ref().map(|p| p.end_date);
    schedule.phases.iter().find_map(|phase| {
        let starts_later = now_end.is_none_or(|end| phase.start_date >= end);
        let item = phase.items.first()?;
        let price = item.price.id().as_str().to_string();
        let quantity = item.quantity.and_then(|q| i64::try_from(q).ok()).unwrap_or(1);
        (starts_later && (price != current_price || quantity != current_quantity)).then_some(PendingChange {
            price_id: price,
            quantity,
            at: phase.start_date,
        })
    })
}

fn status_from_stripe(status: &StripeStatus) -> anyhow::Result<SubscriptionStatus> {
    Ok(match status {
        StripeStatus::Active => SubscriptionStatus::Active,
        StripeStatus::Canceled => SubscriptionStatus::Canceled,
        StripeStatus::Incomplete => SubscriptionStatus::Incomplete,
        StripeStatus::IncompleteExpired => SubscriptionStatus::IncompleteExpired,
        StripeStatus::PastDue => SubscriptionStatus::PastDue,
        StripeStatus::Paused => SubscriptionStatus::Paused,
        StripeStatus::Trialing => SubscriptionStatus::Trialing,
        StripeStatus::Unpaid => SubscriptionStatus::Unpaid,
        StripeStatus::Unknown(other) => anyhow::bail!("unknown subscription status {other:?}"),
        #[allow(unreachable_patterns)]
        other => anyhow::bail!("unhandled subscription status {other:?}"),
    })
}

/// Statuses whose subscription is paid for: the ones that count toward MRR.
fn counts_toward_mrr(status: SubscriptionStatus) -> bool {
    matches!(status, SubscriptionStatus::Active | SubscriptionStatus::PastDue)
}

fn collection_pause(sub: &Subscription) -> anyhow::Result<Option<CollectionPause>> {
    use stripe_shared::SubscriptionsResourcePauseCollectionBehavior as B;
    let Some(pause) = &sub.pause_collection else { return Ok(None) };
    let behavior = match &pause.behavior {
        B::KeepAsDraft => PauseBehavior::KeepAsDraft,
        B::MarkUncollectible => PauseBehavior::MarkUncollectible,
        B::Void => PauseBehavior::Void,
        other => anyhow::bail!("unknown pause_collection behavior {other:?}"),
    };
    Ok(Some(CollectionPause { behavior, resumes_at: pause.resumes_at }))
}

impl SubscriptionRow {
    pub fn from_stripe(sub: &Subscription) -> anyhow::Result<Self> {
        let status = status_from_stripe(&sub.status)?;
        // tollgate sells one licensed price per subscription (beside it, a hybrid plan's metered
        // prices, billed in arrears, count toward no MRR): that item carries price and period.
        let licensed = sub.items.data.iter().find(|item| {
            !item
                .price
                .recurring
                .as_ref()
                .is_some_and(|r| matches!(r.usage_type, stripe_shared::RecurringUsageType::Metered))
        });
        let item = licensed
            .or_else(|| sub.items.data.first())
            .with_context(|| format!("subscription {} has no items", sub.id.as_str()))?;
        let price = &item.price;
        let quantity = i64::try_from(item.quantity.unwrap_or(1)).context("quantity overflow")?;
        let unit_amount = price.unit_amount.unwrap_or(0);
        let (interval, interval_count) = match &price.recurring {
            Some(r) => {
                let interval = match r.interval {
                    RecurringInterval::Month => Some(BillingInterval::Month),
                    RecurringInterval::Year => Some(BillingInterval::Year),
                    _ => None,
                };
                (interval, i64::try_from(r.interval_count).unwrap_or(1))
            }
            None => (None, 1),
        };
        let collection_pause = collection_pause(sub)?;
        let discount = discount_of(sub, &price.currency.to_string());
        // While collection is paused nothing is collected: not recurring revenue.
        let mrr = match interval {
            Some(interval) if counts_toward_mrr(status) && collection_pause.is_none() => {
                revenue::monthly_recurring(unit_amount, quantity, interval, interval_count, discount)
            }
            _ => 0,
        };
        Ok(Self {
            id: sub.id.as_str().to_string(),
            customer_id: sub.customer.id().as_str().to_string(),
            status,
            price_id: price.id.as_str().to_string(),
            // Stripe takes the lookup key off a price that `catalog sync` replaced: the plan
            // is still the one the price was created for.
            lookup_key: plan_lookup_key(price),
            quantity,
            unit_amount,
            currency: price.currency.to_string(),
            interval,
            interval_count,
            current_period_start: item.current_period_start,
            current_period_end: item.current_period_end,
            cancel_at_period_end: sub.cancel_at_period_end,
            cancel_at: sub.cancel_at,
            canceled_at: sub.canceled_at,
            ended_at: sub.ended_at,
            trial_end: sub.trial_end,
            created: sub.created,
            mrr,
            card: paying_card(sub),
            schedule_id: sub.schedule.as_ref().map(|s| s.id().as_str().to_string()),
            pending: pending_change(sub, price.id.as_str(), quantity),
            // A first estimate, refined from the open invoices by `fetch_subscription`: a renewal
            // that fails does so at the start of the period it bills.
            past_due_since: (status == SubscriptionStatus::PastDue).then_some(item.current_period_start),
            collection_pause,
            discount,
            discount_ends_at: discount_ends_at(sub),
            pause_reason: sub
                .status_details
                .as_ref()
                .filter(|_| status == SubscriptionStatus::Paused)
                .map(|details| details.paused.subscription.type_.as_str().to_string()),
        })
    }
}

/// What an upsert changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub previous_status: Option<SubscriptionStatus>,
    pub mrr_before: i64,
    pub mrr_after: i64,
    pub movement: Option<MovementKind>,
}

/// Writes `row` and, when MRR moved, an MRR movement (numbered per subscription), so applying
/// the same event twice writes one movement. `cause` (the event id, or the page that synced)
/// is logged with it.
pub async fn upsert(
    tx: &mut Transaction<'_, Any>,
    row: &SubscriptionRow,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    // On Postgres the row is locked so two syncs of one subscription (the worker and the success
    // page, say) see each other's result; SQLite's BEGIN IMMEDIATE already serialises writers.
    let lock = if tx.backend_name() == "PostgreSQL" { " FOR UPDATE" } else { "" };
    let previous: Option<(String, i64)> =
        sqlx::query_as(&format!("SELECT status, mrr FROM subscriptions WHERE id = $1{lock}"))
            .bind(&row.id)
            .fetch_optional(&mut **tx)
            .await
            .context("reading the stored subscription")?;
    let (previous_status, mrr_before) = match previous {
        Some((status, mrr)) => (Some(status.parse::<SubscriptionStatus>()?), mrr),
        None => (None, 0),
    };
    let lookup_key = match &row.lookup_key {
        Some(key) => Some(key.clone()),
        None => remembered_lookup_key(&mut **tx, &row.price_id).await?,
    };

    sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, status, price_id, lookup_key, quantity, \
           unit_amount, currency, billing_interval, interval_count, current_period_start, \
           current_period_end, cancel_at_period_end, cancel_at, canceled_at, ended_at, trial_end, \
           created, mrr, synced_at, card_brand, card_last4, schedule_id, pending_price_id, \
           pending_change_at, pending_quantity, past_due_since, pause_behavior, pause_resumes_at, \
           discount_percent_off_bp, discount_amount_off, discount_ends_at, pause_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
           $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33) \
         ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, \
           status = excluded.status, price_id = excluded.price_id, \
           lookup_key = excluded.lookup_key, quantity = excluded.quantity, \
           unit_amount = excluded.unit_amount, currency = excluded.currency, \
           billing_interval = excluded.billing_interval, interval_count = excluded.interval_count, \
           current_period_start = excluded.current_period_start, \
           current_period_end = excluded.current_period_end, \
           cancel_at_period_end = excluded.cancel_at_period_end, cancel_at = excluded.cancel_at, \
           canceled_at = excluded.canceled_at, ended_at = excluded.ended_at, \
           trial_end = excluded.trial_end, mrr = excluded.mrr, synced_at = excluded.synced_at, \
           card_brand = excluded.card_brand, card_last4 = excluded.card_last4, \
           schedule_id = excluded.schedule_id, pending_price_id = excluded.pending_price_id, \
           pending_change_at = excluded.pending_change_at, pending_quantity = excluded.pending_quantity, \
           past_due_since = excluded.past_due_since, pause_behavior = excluded.pause_behavior, \
           pause_resumes_at = excluded.pause_resumes_at, \
           discount_percent_off_bp = excluded.discount_percent_off_bp, \
           discount_amount_off = excluded.discount_amount_off, discount_ends_at = excluded.discount_ends_at, \
           pause_reason = excluded.pause_reason",
    )
    .bind(&row.id)
    .bind(&row.customer_id)
    .bind(row.status.as_str())
    .bind(&row.price_id)
    .bind(lookup_key.as_deref())
    .bind(row.quantity)
    .bind(row.unit_amount)
    .bind(&row.currency)
    .bind(row.interval.map(BillingInterval::as_str))
    .bind(row.interval_count)
    .bind(row.current_period_start)
    .bind(row.current_period_end)
    .bind(row.cancel_at_period_end)
    .bind(row.cancel_at)
    .bind(row.canceled_at)
    .bind(row.ended_at)
    .bind(row.trial_end)
    .bind(row.created)
    .bind(row.mrr)
    .bind(now)
    .bind(row.card.as_ref().map(|c| c.brand.as_str()))
    .bind(row.card.as_ref().map(|c| c.last4.as_str()))
    .bind(row.schedule_id.as_deref())
    .bind(row.pending.as_ref().map(|p| p.price_id.as_str()))
    .bind(row.pending.as_ref().map(|p| p.at))
    .bind(row.pending.as_ref().map(|p| p.quantity))
    .bind(row.past_due_since)
    .bind(row.collection_pause.map(|p| p.behavior.as_str()))
    .bind(row.collection_pause.and_then(|p| p.resumes_at))
    .bind(row.discount.percent_off_bp)
    .bind(row.discount.amount_off)
    .bind(row.discount_ends_at)
    .bind(row.pause_reason.as_deref())
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing subscription {}", row.id))?;

    // COUNT, not EXISTS: SQLite would answer an integer where Postgres answers a boolean.
    let paid_movements: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements WHERE customer_id = $1 AND mrr_after > 0")
            .bind(&row.customer_id)
            .fetch_one(&mut **tx)
            .await
            .context("reading the customer's revenue history")?;
    let movement = revenue::classify(mrr_before, row.mrr, paid_movements > 0);
    if let Some(kind) = movement {
        // The key numbers the subscription's transitions: each real change gets its own row,
        // while applying an event again finds no change (the stored row is already current) and
        // writes none. Keying by event id instead would lose a change when an event applied
        // twice (after a crash) re-fetches a newer state the second time.
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements WHERE subscription_id = $1")
            .bind(&row.id)
            .fetch_one(&mut **tx)
            .await
            .context("counting the subscription's movements")?;
        tracing::debug!(%cause, subscription = %row.id, ?kind, mrr_before, mrr_after = row.mrr, "MRR movement");
        sqlx::query(
            "INSERT INTO mrr_movements (cause_key, customer_id, subscription_id, kind, \
               mrr_before, mrr_after, delta, currency, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (cause_key) DO NOTHING",
        )
        .bind(format!("{}#{}", row.id, seen + 1))
        .bind(&row.customer_id)
        .bind(&row.id)
        .bind(kind.as_str())
        .bind(mrr_before)
        .bind(row.mrr)
        .bind(row.mrr - mrr_before)
        .bind(&row.currency)
        .bind(occurred_at)
        .execute(&mut **tx)
        .await
        .context("recording the MRR movement")?;
    }
    Ok(Change { previous_status, mrr_before, mrr_after: row.mrr, movement })
}

// --- Sync: Stripe's subscription, rewritten locally. ---

/// What a sync needs beside the subscription: the paying card, a scheduled change, and the
/// coupons that discount its MRR.
pub const SUBSCRIPTION_EXPAND: [&str; 4] = [
    "default_payment_method",
    "customer.invoice_settings.default_payment_method",
    "schedule",
    "discounts.source.coupon",
];

/// Re-fetches a subscription and rewrites its local row (with the MRR movement it implies).
pub async fn sync_subscription(
    pool: &AnyPool,
    stripe: &StripeClient,
    subscription_id: &SubscriptionId,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    let row = fetch_subscription(stripe, subscription_id).await?;
    store_fetched(pool, &row, cause, occurred_at, now).await
}

/// The subscription as Stripe has it now, as the local row it becomes.
pub async fn fetch_subscription(
    stripe: &StripeClient,
    subscription_id: &SubscriptionId,
) -> anyhow::Result<SubscriptionRow> {
    let sub = stripe
        .send(&retrieve_expanded(subscription_id), None)
        .await
        .with_context(|| format!("retrieving subscription {subscription_id}"))?;
    row_of(stripe, &sub).await
}

/// Reads a subscription with what its local row needs expanded.
pub fn retrieve_expanded(subscription_id: &SubscriptionId) -> RetrieveSubscription {
    RetrieveSubscription::new(subscription_id).expand(SUBSCRIPTION_EXPAND.map(String::from).to_vec())
}

/// The local row of a subscription read with [`retrieve_expanded`] (a past-due one also asks
/// Stripe when its first payment failed).
pub async fn row_of(stripe: &StripeClient, sub: &Subscription) -> anyhow::Result<SubscriptionRow> {
    let mut row = SubscriptionRow::from_stripe(sub)?;
    if row.status == SubscriptionStatus::PastDue {
        if let Some(at) = super::past_due::first_failed_payment_at(stripe, &sub.id).await? {
            row.past_due_since = Some(at);
        }
    }
    Ok(row)
}

/// Writes a fetched subscription in a transaction of its own.
pub async fn store_fetched(
    pool: &AnyPool,
    row: &SubscriptionRow,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    let change = store_subscription(&mut tx, row, cause, occurred_at, now).await?;
    tx.commit().await.context("committing the subscription")?;
    Ok(change)
}

/// Writes a fetched subscription inside `tx` (so a caller can add its own rows, e.g. an audit
/// row, to the same transaction).
pub async fn store_subscription(
    tx: &mut Transaction<'static, Any>,
    row: &SubscriptionRow,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    let change = upsert(tx, row, cause, occurred_at, now).await?;
    if row.trial_end.is_some() {
        // A trial was given: never offer another to this customer.
        sqlx::query("UPDATE users SET had_trial = TRUE, updated_at = $1 WHERE stripe_customer_id = $2")
            .bind(now)
            .bind(&row.customer_id)
            .execute(&mut **tx)
            .await
            .context("recording that the customer had a trial")?;
    }
    Ok(change)
}

// --- The current subscription, as the pages and the forms read it. ---

/// A subscription as stored, with what the account page needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubscription {
    pub id: String,
    pub status: SubscriptionStatus,
    pub price_id: String,
    pub lookup_key: Option<String>,
    pub unit_amount: i64,
    pub quantity: i64,
    pub currency: String,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub trial_end: Option<i64>,
    pub ended_at: Option<i64>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub schedule_id: Option<String>,
    pub pending_price_id: Option<String>,
    pub pending_change_at: Option<i64>,
    pub pending_quantity: Option<i64>,
    pub past_due_since: Option<i64>,
    pub collection_pause: Option<CollectionPause>,
    pub discount: revenue::Discount,
    pub discount_ends_at: Option<i64>,
    /// Set while paused.
    pub pause_reason: Option<PauseReason>,
}

impl StoredSubscription {
    /// Whether a new Checkout would duplicate it: change its plan instead.
    pub fn is_live(&self) -> bool {
        !self.status.is_terminal()
    }

    /// What the access rule (`domain::subscription::has_access`) reads of it.
    pub fn access_facts(&self) -> AccessFacts {
        AccessFacts {
            status: self.status,
            current_period_end: self.current_period_end,
            cancel_pending: self.cancel_at_period_end,
            first_failed_payment_at: self.past_due_since,
        }
    }
}

/// A `subscriptions` row as [`current_subscription`] reads it.
#[derive(sqlx::FromRow)]
struct StoredSubscriptionRow {
    id: String,
    status: String,
    price_id: String,
    lookup_key: Option<String>,
    unit_amount: i64,
    quantity: i64,
    currency: String,
    current_period_end: i64,
    cancel_pending: i64,
    trial_end: Option<i64>,
    ended_at: Option<i64>,
    card_brand: Option<String>,
    card_last4: Option<String>,
    schedule_id: Option<String>,
    pending_price_id: Option<String>,
    pending_change_at: Option<i64>,
    pending_quantity: Option<i64>,
    past_due_since: Option<i64>,
    pause_behavior: Option<String>,
    pause_resumes_at: Option<i64>,
    discount_percent_off_bp: i64,
    discount_amount_off: i64,
    discount_ends_at: Option<i64>,
    pause_reason: Option<String>,
}

impl TryFrom<StoredSubscriptionRow> for StoredSubscription {
    type Error = anyhow::Error;

    fn try_from(row: StoredSubscriptionRow) -> anyhow::Result<Self> {
        Ok(StoredSubscription {
            id: row.id,
            status: row.status.parse()?,
            price_id: row.price_id,
            lookup_key: row.lookup_key,
            unit_amount: row.unit_amount,
            quantity: row.quantity,
            currency: row.currency,
            current_period_end: row.current_period_end,
            cancel_at_period_end: row.cancel_pending != 0,
            trial_end: row.trial_end,
            ended_at: row.ended_at,
            card_brand: row.card_brand,
            card_last4: row.card_last4,
            schedule_id: row.schedule_id,
            pending_price_id: row.pending_price_id,
            pending_change_at: row.pending_change_at,
            pending_quantity: row.pending_quantity,
            past_due_since: row.past_due_since,
            collection_pause: row
                .pause_behavior
                .map(|behavior| {
                    anyhow::Ok(CollectionPause { behavior: behavior.parse()?, resumes_at: row.pause_resumes_at })
                })
                .transpose()?,
            discount: revenue::Discount {
                percent_off_bp: row.discount_percent_off_bp,
                amount_off: row.discount_amount_off,
            },
            discount_ends_at: row.discount_ends_at,
            pause_reason: row.pause_reason.as_deref().map(PauseReason::from_stripe),
        })
    }
}

/// The customer's subscription that matters: the newest live one, else the newest ended one.
pub async fn current_subscription(
    pool: &AnyPool,
    customer_id: &CustomerId,
) -> anyhow::Result<Option<StoredSubscription>> {
    sqlx::query_as::<_, StoredSubscriptionRow>(
        "SELECT id, status, price_id, lookup_key, unit_amount, quantity, currency, current_period_end, \
           CAST(cancel_at_period_end AS INTEGER) AS cancel_pending, trial_end, ended_at, card_brand, \
           card_last4, schedule_id, pending_price_id, pending_change_at, pending_quantity, past_due_since, \
           pause_behavior, pause_resumes_at, discount_percent_off_bp, discount_amount_off, discount_ends_at, \
           pause_reason \
         FROM subscriptions WHERE customer_id = $1 \
         ORDER BY CASE WHEN status IN ('canceled', 'incomplete_expired') THEN 1 ELSE 0 END, created DESC, id DESC \
         LIMIT 1",
    )
    .bind(customer_id.as_str())
    .fetch_optional(pool)
    .await
    .context("reading the customer's subscription")?
    .map(StoredSubscription::try_from)
    .transpose()
}

/// The user's subscription, if they have a Stripe customer and a subscription under it.
pub async fn subscription_of(pool: &AnyPool, user: &User) -> anyhow::Result<Option<StoredSubscription>> {
    match &user.stripe_customer_id {
        Some(customer) => current_subscription(pool, &customer.as_str().into()).await,
        None => Ok(None),
    }
}

/// The subscription a cancel/resume/change acts on: the user's live one.
pub async fn live_subscription(state: &AppState, user: &User) -> Result<StoredSubscription, FormError> {
    match subscription_of(state.db.pool(), user).await? {
        Some(sub) if sub.is_live() => Ok(sub),
        _ => Err(refused("You have no subscription to change.")),
    }
}

/// Re-reads the subscription from Stripe and stores it, so the page shows the change at once.
pub async fn resync(state: &AppState, subscription_id: &SubscriptionId, cause: &str) -> anyhow::Result<()> {
    let now = db::now();
    sync_subscription(state.db.pool(), &state.stripe_client, subscription_id, cause, now, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;
    use sqlx::AnyPool;

    fn row(status: SubscriptionStatus, mrr: i64) -> SubscriptionRow {
        SubscriptionRow {
            id: "sub_1".into(),
            customer_id: "cus_1".into(),
            status,
            price_id: "price_1".into(),
            lookup_key: Some("pro_monthly".into()),
            quantity: 1,
            unit_amount: mrr,
            currency: "usd".into(),
            interval: Some(BillingInterval::Month),
            interval_count: 1,
            current_period_start: 0,
            current_period_end: 100,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            trial_end: None,
            created: 0,
            mrr,
            card: None,
            schedule_id: None,
            pending: None,
            past_due_since: None,
            collection_pause: None,
            discount: revenue::Discount::NONE,
            discount_ends_at: None,
            pause_reason: None,
        }
    }

    async fn apply(pool: &AnyPool, row: &SubscriptionRow, cause: &str) -> Change {
        let mut tx = pool.begin().await.unwrap();
        let change = upsert(&mut tx, row, cause, 10, 10).await.unwrap();
        tx.commit().await.unwrap();
        change
    }

    async fn movements(pool: &AnyPool) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT kind, delta FROM mrr_movements ORDER BY occurred_at, cause_key")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_life_of_movements_is_recorded_once_per_event() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let trial = apply(&pool, &row(SubscriptionStatus::Trialing, 0), "evt_1").await;
        assert_eq!((trial.previous_status, trial.movement), (None, None));
        let paid = apply(&pool, &row(SubscriptionStatus::Active, 2900), "evt_2").await;
        assert_eq!(paid.movement, Some(MovementKind::New));
        // The same event applied again (a duplicate or a replay) moves nothing more.
        let again = apply(&pool, &row(SubscriptionStatus::Active, 2900), "evt_2").await;
        assert_eq!(again.movement, None);
        apply(&pool, &row(SubscriptionStatus::Active, 9900), "evt_3").await;
        apply(&pool, &row(SubscriptionStatus::Active, 900), "evt_4").await;
        apply(&pool, &row(SubscriptionStatus::Canceled, 0), "evt_5").await;
        let back = apply(&pool, &row(SubscriptionStatus::Active, 900), "evt_6").await;
        assert_eq!(back.movement, Some(MovementKind::Reactivation));
        let expected: Vec<(String, i64)> =
            [("new", 2900), ("expansion", 7000), ("contraction", -9000), ("churn", -900), ("reactivation", 900)]
                .into_iter()
                .map(|(k, d)| (k.to_string(), d))
                .collect();
        // occurred_at is equal for all, so order by key: sub_1#1 … sub_1#5.
        assert_eq!(movements(&pool).await, expected);
        let status: String =
            sqlx::query_scalar("SELECT status FROM subscriptions WHERE id = 'sub_1'").fetch_one(&pool).await.unwrap();
        assert_eq!(status, "active");
    }
}
