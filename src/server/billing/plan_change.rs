//! Changing plan or seats: a preview from Stripe's `invoices/create_preview` (what is due now
//! and next), then the change. Upgrades (more per month in total: a dearer plan or more seats)
//! apply at once with proration, invoiced immediately; downgrades (and equal-value changes) wait
//! for the period end through a subscription schedule, so the customer keeps what they paid for.
//! A per-seat plan whose catalog entry says `removal = "now"` drops seats at once instead, the
//! unused time credited on the next invoice (`create_prorations`).
//!
//! Why a schedule for a removal at the period end: Stripe has no "quantity from the next period"
//! on the subscription itself (its pending updates are for updates awaiting payment), while a
//! schedule's second phase with the lower quantity is what Stripe documents for future changes.

use anyhow::Context;
use stripe_billing::invoice::{
    CreatePreviewInvoice, CreatePreviewInvoiceSubscriptionDetails, CreatePreviewInvoiceSubscriptionDetailsItems,
    CreatePreviewInvoiceSubscriptionDetailsProrationBehavior,
};
use stripe_billing::subscription::{
    RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems, UpdateSubscriptionProrationBehavior,
};
use stripe_billing::subscription_schedule::{
    CreateSubscriptionSchedule, UpdateSubscriptionSchedule, UpdateSubscriptionSchedulePhases,
    UpdateSubscriptionSchedulePhasesDuration, UpdateSubscriptionSchedulePhasesDurationInterval,
    UpdateSubscriptionSchedulePhasesEndDate, UpdateSubscriptionSchedulePhasesItems,
    UpdateSubscriptionSchedulePhasesStartDate,
};
use stripe_shared::{RecurringInterval, Subscription, SubscriptionScheduleEndBehavior};

use super::price_book::{seats_label, PlanPrice};
use super::renewal;
use super::subscriptions::{self, StoredSubscription};
use crate::domain::catalog::{BillingInterval, SeatRemoval};
use crate::domain::revenue::{monthly_recurring, Discount};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::server::{db, db::users::User, state::AppState};
use crate::views::billing::PlanChangePreview;
use crate::views::format;

/// A change asked for, checked against the subscription it applies to.
pub struct Target {
    stored: StoredSubscription,
    live: Subscription,
    item_id: String,
    current_mrr: i64,
    price: PlanPrice,
    /// The quantity after the change: seats on a per-seat plan, else 1.
    quantity: i64,
}

/// When and how a checked change reaches the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    /// Worth more: now, the proration invoiced at once.
    Upgrade,
    /// Fewer seats on the same price, the plan saying so: now, the credit on the next invoice.
    SeatsDownNow,
    /// Anything else: at the period end.
    AtPeriodEnd,
}

impl Target {
    fn new_mrr(&self) -> i64 {
        monthly_recurring(self.price.spec.amount.minor(), self.quantity, self.price.interval, 1, Discount::NONE)
    }

    /// Worth more per month in total (price × seats): charge the difference now. Otherwise wait
    /// for the period end.
    pub fn is_upgrade(&self) -> bool {
        self.new_mrr() > self.current_mrr
    }

    fn timing(&self) -> Timing {
        let same_price = self.stored.price_id == self.price.price_id;
        let removal = self.price.plan.per_seat.map(|seats| seats.removal);
        if self.is_upgrade() {
            Timing::Upgrade
        } else if same_price && removal == Some(SeatRemoval::Now) {
            Timing::SeatsDownNow
        } else {
            Timing::AtPeriodEnd
        }
    }

    /// The seat count after the change (1 unless the plan is per seat).
    pub fn quantity(&self) -> i64 {
        self.quantity
    }

    /// The subscription (as stored before the change).
    pub fn subscription(&self) -> &StoredSubscription {
        &self.stored
    }

    /// `Pro (yearly)`, or with its seats: `Team (monthly), 5 seats`.
    pub fn to_name(&self) -> String {
        let name = format!("{} ({})", self.price.plan.name, format::interval_words(self.price.interval));
        match self.price.plan.per_seat {
            Some(_) => format!("{name}, {}", format::seats(self.quantity)),
            None => name,
        }
    }
}

/// What a change did in Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The new price is on the subscription now (the proration invoiced).
    Now,
    /// The new price starts at this time (the end of the current period).
    At(i64),
}

/// The user's own change: to `plan` at `interval` (with `seats` on a per-seat plan), on their
/// live subscription.
async fn user_target(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    seats: Option<i64>,
) -> Result<Target, FormError> {
    super::require_verified_email(user)?;
    let book = state.prices.current();
    if !book.is_resolved() {
        return Err(refused(super::price_book::PRICES_NOT_LOADED));
    }
    let price = book.plan_price(plan, interval).ok_or_else(|| refused("There is no such plan to change to."))?;
    let stored = subscriptions::live_subscription(state, user).await?;
    target(state, stored, price, seats).await
}

/// The quantity a change to `price` asks for: `seats` within a per-seat plan's bounds (or the
/// current count, kept within them, when not given); 1 on any other plan.
fn target_quantity(price: &PlanPrice, seats: Option<i64>, current: i64) -> Result<i64, FormError> {
    match (price.plan.per_seat, seats) {
        (Some(bounds), Some(seats)) => bounds.check(seats).map(i64::from).map_err(refused),
        (Some(bounds), None) => Ok(current.clamp(i64::from(bounds.min), i64::from(bounds.max))),
        (None, Some(seats)) if seats != 1 => {
            Err(refused(format!("The {} plan is not sold per seat.", price.plan.name)))
        }
        (None, _) => Ok(1),
    }
}

/// Checks a change of `stored` (a live subscription) to `price` (with `seats` on a per-seat
/// plan) against Stripe's copy.
pub async fn target(
    state: &AppState,
    stored: StoredSubscription,
    price: PlanPrice,
    seats: Option<i64>,
) -> Result<Target, FormError> {
    if stored.cancel_at_period_end {
        return Err(refused("The subscription is set to end. Resume it before changing plan."));
    }
    let live = state
        .stripe_client
        .send(&RetrieveSubscription::new(stored.id.as_str()), None)
        .await
        .context("retrieving the subscription")?;
    let item = live.items.data.first().context("the subscription has no items")?;
    let quantity = i64::try_from(item.quantity.unwrap_or(1)).unwrap_or(1);
    let new_quantity = target_quantity(&price, seats, quantity)?;
    if item.price.id.as_str() == price.price_id && new_quantity == quantity {
        return Err(refused(if price.plan.per_seat.is_some() {
            format!("The subscription already has {} on this plan.", format::seats(quantity))
        } else {
            "The subscription is already on this plan.".to_string()
        }));
    }
    let current_interval = match item.price.recurring.as_ref().map(|r| &r.interval) {
        Some(RecurringInterval::Year) => BillingInterval::Year,
        _ => BillingInterval::Month,
    };
    let count = item.price.recurring.as_ref().map_or(1, |r| i64::try_from(r.interval_count).unwrap_or(1));
    let current_mrr =
        monthly_recurring(item.price.unit_amount.unwrap_or(0), quantity, current_interval, count, Discount::NONE);
    let item_id = item.id.as_str().to_string();
    Ok(Target { stored, live, item_id, current_mrr, price, quantity: new_quantity })
}

pub async fn preview(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    seats: Option<i64>,
) -> Result<PlanChangePreview, FormError> {
    let target = user_target(state, user, plan, interval, seats).await?;
    preview_target(state, &target).await
}

/// What a checked change costs: for an upgrade, Stripe's preview of the prorated invoice.
pub async fn preview_target(state: &AppState, target: &Target) -> Result<PlanChangePreview, FormError> {
    let (plan, interval) = (target.price.plan.key.to_string(), target.price.interval);
    let currency = target.stored.currency.clone();
    let stored = &target.stored;
    let from_name =
        seats_label(&state.prices.current(), stored.lookup_key.as_deref(), &stored.price_id, stored.quantity);
    let to_name = target.to_name();
    let next_amount = format::money(target.price.spec.amount.minor() * target.quantity, &currency);
    let period_end = format::day(target.stored.current_period_end);
    let seats = target.price.plan.per_seat.map(|_| target.quantity);
    let timing = target.timing();
    if timing != Timing::Upgrade {
        let explanation = if timing == Timing::SeatsDownNow {
            format!(
                "You have {to_name} from now on, at {next_amount} per {}. The unused time on the removed seats is credited to your next invoice on {period_end}.",
                interval.as_str()
            )
        } else {
            format!(
                "You keep {from_name} until {period_end}. Then {to_name} starts at {next_amount} per {}.",
                interval.as_str()
            )
        };
        return Ok(PlanChangePreview {
            plan,
            interval,
            seats,
            explanation,
            from_name,
            to_name,
            is_upgrade: false,
            due_now: format::money(0, &currency),
            next_amount,
            next_on: period_end,
            form_token: new_form_token(),
        });
    }
    let mut item = CreatePreviewInvoiceSubscriptionDetailsItems::new();
    item.id = Some(target.item_id.clone());
    item.price = Some(target.price.price_id.to_string());
    item.quantity = Some(u64::try_from(target.quantity).context("seat count")?);
    let mut details = CreatePreviewInvoiceSubscriptionDetails::new();
    details.items = Some(vec![item]);
    details.proration_behavior = Some(CreatePreviewInvoiceSubscriptionDetailsProrationBehavior::AlwaysInvoice);
    let request = CreatePreviewInvoice::new().subscription(target.stored.id.as_str()).subscription_details(details);
    let invoice = state.stripe_client.send(&request, None).await.context("previewing the plan change")?;
    // A new interval restarts the billing cycle today; otherwise the renewal date stays.
    let same_cycle = target.live.items.data.first().and_then(|i| i.price.recurring.as_ref()).is_some_and(|r| {
        matches!(
            (&r.interval, interval),
            (RecurringInterval::Month, BillingInterval::Month) | (RecurringInterval::Year, BillingInterval::Year)
        )
    });
    let next_on = if same_cycle {
        period_end
    } else {
        let days = if interval == BillingInterval::Year { 365 } else { 30 };
        format!("about {}", format::day(db::now() + days * 86_400))
    };
    let due_now = format::money(invoice.amount_due, &currency);
    Ok(PlanChangePreview {
        plan,
        interval,
        seats,
        explanation: format!(
            "{to_name} starts now. You pay {due_now} today for the rest of this period (less what is left of {from_name})."
        ),
        from_name,
        to_name,
        is_upgrade: true,
        due_now,
        next_amount,
        next_on,
        form_token: new_form_token(),
    })
}

/// Applies the change the preview's confirm form (carrying `token`) asked for: that submission
/// reaches Stripe once however often it is sent, and a later form (A → B → A) reaches it again.
pub async fn apply(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
    seats: Option<i64>,
    token: &str,
) -> Result<Next, FormError> {
    check_form_token(token)?;
    let target = user_target(state, user, plan, interval, seats).await?;
    let key = format!("change-{}-{}-x{}-{token}", target.stored.id, target.price.price_id, target.quantity);
    let message = match apply_target(state, &target, &key).await? {
        Applied::Now => format!("Your plan is now {}.", target.to_name()),
        Applied::At(at) => format!("Your plan changes to {} on {}.", target.to_name(), format::day(at)),
    };
    subscriptions::resync(state, &target.stored.id.as_str().into(), &format!("account:{key}")).await?;
    Ok(Next::Back(message))
}

/// Makes a checked change in Stripe, its requests keyed by `key`: an upgrade at once with
/// proration invoiced now, anything else at the period end (or, for seats the plan drops at
/// once, now with the credit prorated). A pending downgrade is replaced.
pub async fn apply_target(state: &AppState, target: &Target, key: &str) -> Result<Applied, FormError> {
    renewal::release_schedule(state, &target.stored).await?;
    let proration = match target.timing() {
        Timing::Upgrade => UpdateSubscriptionProrationBehavior::AlwaysInvoice,
        Timing::SeatsDownNow => UpdateSubscriptionProrationBehavior::CreateProrations,
        Timing::AtPeriodEnd => {
            schedule_at_period_end(state, target, key).await?;
            return Ok(Applied::At(target.stored.current_period_end));
        }
    };
    let mut item = UpdateSubscriptionItems::new();
    item.id = Some(target.item_id.clone());
    item.price = Some(target.price.price_id.to_string());
    item.quantity = Some(u64::try_from(target.quantity).context("seat count")?);
    let update = UpdateSubscription::new(target.stored.id.as_str()).items(vec![item]).proration_behavior(proration);
    state.stripe_client.send(&update, Some(key)).await.context("changing the subscription's price")?;
    Ok(Applied::Now)
}

/// When a schedule made from a subscription starts: its first phase, the current period's start.
pub fn first_phase_start(schedule: &stripe_shared::SubscriptionSchedule) -> anyhow::Result<i64> {
    schedule
        .current_phase
        .as_ref()
        .map(|p| p.start_date)
        .or_else(|| schedule.phases.first().map(|p| p.start_date))
        .context("the new schedule has no phase")
}

/// Two phases: the current price until the period ends, then the new one; then the schedule
/// releases the subscription to renew on its own.
async fn schedule_at_period_end(state: &AppState, target: &Target, key: &str) -> anyhow::Result<()> {
    let create = CreateSubscriptionSchedule::new().from_subscription(target.stored.id.as_str());
    let schedule = state
        .stripe_client
        .send(&create, Some(&format!("{key}-schedule")))
        .await
        .context("creating the subscription schedule")?;
    let start = first_phase_start(&schedule)?;
    let current_item = target.live.items.data.first().context("the subscription has no items")?;
    let mut now_item = UpdateSubscriptionSchedulePhasesItems::new();
    now_item.price = Some(current_item.price.id.as_str().to_string());
    now_item.quantity = current_item.quantity;
    let mut now_phase = UpdateSubscriptionSchedulePhases::new(vec![now_item]);
    now_phase.start_date = Some(UpdateSubscriptionSchedulePhasesStartDate::Timestamp(start));
    now_phase.end_date = Some(UpdateSubscriptionSchedulePhasesEndDate::Timestamp(target.stored.current_period_end));
    let mut next_item = UpdateSubscriptionSchedulePhasesItems::new();
    next_item.price = Some(target.price.price_id.to_string());
    // The seats carry over (a per-seat plan's count, or 1): a schedule never resets them.
    next_item.quantity = Some(u64::try_from(target.quantity).context("seat count")?);
    let mut next_phase = UpdateSubscriptionSchedulePhases::new(vec![next_item]);
    next_phase.duration = Some(UpdateSubscriptionSchedulePhasesDuration::new(match target.price.interval {
        BillingInterval::Month => UpdateSubscriptionSchedulePhasesDurationInterval::Month,
        BillingInterval::Year => UpdateSubscriptionSchedulePhasesDurationInterval::Year,
    }));
    let update = UpdateSubscriptionSchedule::new(schedule.id.as_str())
        .phases(vec![now_phase, next_phase])
        .end_behavior(SubscriptionScheduleEndBehavior::Release);
    state.stripe_client.send(&update, Some(&format!("{key}-phases"))).await.context("scheduling the plan change")?;
    Ok(())
}
