//! One answer to "may they?": the SaaS's own code calls [`check`] and [`limit`] (or
//! `GET /api/v1/entitlements`, see [`http`]) instead of reading subscription statuses.
//!
//! The answer joins, in this one place: the access rule (`domain::subscription::has_access`:
//! status, pending cancellation, the past-due grace from the first failed payment); the plan in
//! force (the subscription's while it grants access, else the free plan) and its limits; the
//! features Stripe's active entitlements name (kept by [`stripe_summary`]), gated by the same
//! rule; the free plan's features; what one-time purchases granted (`billing::entitlements`); and
//! the marketplace products the user holds, as `product:{slug}` (`marketplace::orders`).

pub mod http;
pub mod stripe_summary;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::catalog::Plan;
use crate::domain::subscription::{has_access, SubscriptionStatus};
use crate::server::billing::subscriptions::{subscription_of, StoredSubscription};
use crate::server::db::{self, users::User};
use crate::server::state::AppState;
use crate::views::entitlements::{EntitlementsView, MeterAllowanceView, UsageView};

/// What a user may do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    /// The plan in force: the subscription's while it grants access, else the free plan.
    pub plan: Option<Plan>,
    /// A subscription grants its plan now.
    pub subscribed: bool,
    pub status: Option<SubscriptionStatus>,
    pub features: BTreeSet<String>,
    pub limits: BTreeMap<String, u64>,
    /// Seats held: a per-seat plan's subscribed quantity, else the plan's `seats` limit.
    pub seats: Option<u64>,
}

impl Entitlements {
    pub fn allows(&self, feature: &str) -> bool {
        self.features.contains(feature)
    }

    pub fn limit(&self, name: &str) -> Option<u64> {
        self.limits.get(name).copied()
    }

    pub fn plan_name(&self) -> String {
        self.plan.as_ref().map(|p| p.name.clone()).unwrap_or_else(|| "No plan".to_string())
    }
}

/// Whether the subscription grants access now, under the configured past-due grace.
pub fn subscription_grants(state: &AppState, subscription: &StoredSubscription, now: i64) -> bool {
    has_access(&subscription.access_facts(), state.config.past_due_grace_secs, now)
}

/// What `user` may do now.
pub async fn of_user(state: &AppState, user: &User) -> anyhow::Result<Entitlements> {
    of_user_at(state, user, db::now()).await
}

/// What `user` may do at `now` (unix seconds): tests ask at the sandbox clock's time.
pub async fn of_user_at(state: &AppState, user: &User, now: i64) -> anyhow::Result<Entitlements> {
    let pool = state.db.pool();
    let book = state.prices.current();
    let subscription = subscription_of(pool, user).await?;
    let granting = subscription.as_ref().filter(|s| subscription_grants(state, s, now));
    let paid_plan = granting.and_then(|s| book.plan_of(s.lookup_key.as_deref(), &s.price_id)).map(|(p, _)| p);
    let free_plan = book.free_plan();
    let plan = paid_plan.or(free_plan).cloned();

    let mut features: BTreeSet<String> =
        free_plan.map(|p| p.entitlements.iter().cloned().collect()).unwrap_or_default();
    if let (Some(_), Some(customer)) = (granting, &user.stripe_customer_id) {
        features.extend(stripe_summary::stored(pool, customer).await?);
    }
    features.extend(one_time_grants(pool, user.id).await?);
    features.extend(marketplace_grants(pool, user.id).await?);
    let limits = plan.as_ref().map(|p| p.limits.clone()).unwrap_or_default();
    let seats = match (granting, plan.as_ref().and_then(|p| p.per_seat)) {
        (Some(subscription), Some(_)) => u64::try_from(subscription.quantity).ok(),
        _ => limits.get("seats").copied(),
    };
    Ok(Entitlements {
        limits,
        seats,
        plan,
        subscribed: granting.is_some(),
        status: subscription.map(|s| s.status),
        features,
    })
}

/// The user `user_id`, or an error naming it (an API caller's id comes from a session or key).
async fn user(state: &AppState, user_id: i64) -> anyhow::Result<User> {
    db::users::find_by_id(state.db.pool(), user_id).await?.with_context(|| format!("no user {user_id}"))
}

/// Whether user `user_id` may use `feature` (a catalog entitlement key, or a one-time grant).
pub async fn check(state: &AppState, user_id: i64, feature: &str) -> anyhow::Result<bool> {
    Ok(of_user(state, &user(state, user_id).await?).await?.allows(feature))
}

/// The plan's limit `name` (e.g. `"projects"`) for user `user_id`; `None` when the plan sets none.
pub async fn limit(state: &AppState, user_id: i64, name: &str) -> anyhow::Result<Option<u64>> {
    Ok(of_user(state, &user(state, user_id).await?).await?.limit(name))
}

/// Feature keys the user bought once and still holds (not refunded).
pub async fn one_time_grants(pool: &AnyPool, user_id: i64) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT grant_key FROM entitlements WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .fetch_all(pool)
        .await
        .context("reading the user's one-time grants")
}

/// `product:{slug}` for each marketplace product the user bought and still holds (not refunded
/// in full, no dispute lost).
pub async fn marketplace_grants(pool: &AnyPool, user_id: i64) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT 'product:' || p.slug FROM library l JOIN products p ON p.id = l.product_id \
         WHERE l.buyer_id = $1 AND l.revoked_at IS NULL",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .context("reading the user's marketplace products")
}

/// The whole answer for user `user_id`, with what is used of each counted limit.
pub async fn view(state: &AppState, user_id: i64) -> anyhow::Result<EntitlementsView> {
    let user = user(state, user_id).await?;
    let entitlements = of_user(state, &user).await?;
    let mut usage = BTreeMap::new();
    if let Some(limit) = entitlements.limit(crate::server::projects::LIMIT) {
        let used = crate::server::projects::count(state.db.pool(), user.id).await?;
        usage.insert(crate::server::projects::LIMIT.to_string(), UsageView::new(limit, used));
    }
    let meters = metered_usage(state, &user, &entitlements).await?;
    Ok(EntitlementsView {
        plan: entitlements.plan.as_ref().map(|p| p.key.to_string()),
        plan_name: entitlements.plan_name(),
        subscribed: entitlements.subscribed,
        status: entitlements.status.map(|s| s.as_str().to_string()),
        seats: entitlements.seats,
        features: entitlements.features.iter().cloned().collect(),
        limits: entitlements.limits,
        usage,
        meters,
    })
}

/// This period's usage of each meter the plan in force prices, with its included units left.
pub async fn metered_usage(
    state: &AppState,
    user: &User,
    entitlements: &Entitlements,
) -> anyhow::Result<BTreeMap<String, MeterAllowanceView>> {
    let (Some(customer), Some(plan)) = (user.stripe_customer_id.as_deref(), entitlements.plan.as_ref()) else {
        return Ok(BTreeMap::new());
    };
    let catalog = &state.prices.current().catalog;
    let pool = state.db.pool();
    let period = crate::server::usage::period::current(pool, customer, db::now()).await?;
    let mut meters = BTreeMap::new();
    for price in catalog.usage.prices_of(plan.key.as_str()) {
        let meter = price.meter.as_str();
        let used = crate::server::usage::totals::total(pool, customer, meter, period.start, period.end).await?;
        meters.insert(meter.to_string(), MeterAllowanceView::new(price.included(), used, period.end));
    }
    Ok(meters)
}
