//! Builds what the pricing and account pages show (`crate::views::billing`), read from the
//! local tables (kept true by the webhook worker) and the price book. No Stripe call while
//! rendering.

use anyhow::Context;
use sqlx::AnyPool;

use super::price_book::{seats_label, PriceBook};
use super::subscriptions::{subscription_of, StoredSubscription};
use crate::domain::catalog::{BillingInterval, Plan};
use crate::domain::subscription::SubscriptionStatus;
use crate::domain::text::capitalise;
use crate::server::{db, db::users::User, state::AppState};
use crate::views::billing::{
    Banner, BannerKind, BillingOverview, InvoiceView, ItemCard, PlanCard, PricingView, SavingView, SeatRange,
    SubscriptionSeats, SubscriptionView,
};
use crate::views::format::{day, money, usage_price};

pub async fn pricing_view(
    state: &AppState,
    user: Option<&User>,
    interval: BillingInterval,
) -> anyhow::Result<PricingView> {
    let pool = state.db.pool();
    let book = &*state.prices.current();
    let subscription = match user {
        Some(user) => subscription_of(pool, user).await?,
        None => None,
    };
    let live = subscription.as_ref().filter(|s| s.is_live());
    let current_plan =
        live.and_then(|s| book.plan_of(s.lookup_key.as_deref(), &s.price_id)).map(|(p, _)| p.key.to_string());
    let had_trial = user.is_some_and(|u| u.had_trial);
    let catalog = &book.catalog;
    let plans = catalog
        .plans
        .iter()
        .map(|plan| PlanCard {
            key: plan.key.to_string(),
            name: plan.name.clone(),
            description: plan.description.clone(),
            price: match plan.price(interval) {
                Some(spec) => Some(spec.amount.to_string()),
                None => plan.is_free().then(|| money(0, catalog.currency.as_str())),
            },
            saving: plan.yearly_saving().map(|saving| SavingView {
                words: saving.words(),
                percent: saving.percent,
                amount: money(saving.amount, catalog.currency.as_str()),
            }),
            usage: catalog
                .usage
                .prices_of(plan.key.as_str())
                .map(|price| {
                    let meter = catalog.usage.meter(price.meter.as_str()).map_or(price.meter.as_str(), |m| &m.name);
                    usage_price(price, meter)
                })
                .collect(),
            recommended: plan.recommended,
            features: plan.features.clone(),
            trial_days: plan.trial_days.filter(|_| !had_trial),
            trial_without_card: plan.trial_without_card.is_some(),
            is_free: plan.is_free(),
            is_current: match &current_plan {
                Some(key) => key == plan.key.as_str(),
                None => user.is_some() && plan.is_free(),
            },
            seats: plan.per_seat.map(|seats| SeatRange { count: i64::from(seats.min), min: seats.min, max: seats.max }),
        })
        .collect();
    let owned = match user {
        Some(user) => crate::server::entitlements::one_time_grants(pool, user.id).await?,
        None => Vec::new(),
    };
    let items = book
        .catalog
        .one_time
        .iter()
        .map(|item| ItemCard {
            key: item.key.to_string(),
            name: item.name.clone(),
            description: item.description.clone(),
            price: item.price.amount.to_string(),
            owned: item.grants.as_ref().is_some_and(|g| owned.contains(g)),
        })
        .collect();
    Ok(PricingView {
        interval,
        signed_in: user.is_some(),
        awaits_verification: user.is_some_and(|u| !u.email_verified()),
        subscribed: live.is_some(),
        yearly_saving: toggle_saving(&catalog.plans),
        plans,
        items,
        checkout_ui: state.config.checkout_ui,
    })
}

/// The Yearly toggle's promise: the saving in words when every plan sold both ways saves the
/// same, else the best percent ("up to").
fn toggle_saving(plans: &[Plan]) -> Option<String> {
    let both = plans.iter().filter(|p| p.monthly.is_some() && p.yearly.is_some());
    let savings: Vec<_> = both.map(|p| p.yearly_saving().map(|s| (s.words(), s.percent))).collect();
    let best = savings.iter().flatten().map(|(_, percent)| *percent).max()?;
    match savings.first() {
        Some(Some((words, _))) if savings.iter().all(|s| s.as_ref().is_some_and(|(w, _)| w == words)) => {
            Some(words.clone())
        }
        _ => Some(format!("save up to {best}%")),
    }
}

/// The plan's limits; on a per-seat plan `seats` is the seats paid for.
fn limits_of(plan: &Plan, quantity: i64) -> Vec<(String, u64)> {
    let mut limits = plan.limits.clone();
    if plan.per_seat.is_some() {
        limits.insert("seats".to_string(), u64::try_from(quantity).unwrap_or(0));
    }
    limits.into_iter().collect()
}

pub async fn account_view(state: &AppState, user: &User) -> anyhow::Result<BillingOverview> {
    let pool = state.db.pool();
    let book = &*state.prices.current();
    let now = db::now();
    let subscription = subscription_of(pool, user).await?;
    let access = subscription.as_ref().is_some_and(|s| crate::server::entitlements::subscription_grants(state, s, now));
    // Without access the user is on the free plan (if the catalog has one).
    let paid_plan = subscription
        .as_ref()
        .filter(|_| access)
        .and_then(|s| book.plan_of(s.lookup_key.as_deref(), &s.price_id).map(|found| (s, found)));
    let (plan_name, price, features, limits) = match (&paid_plan, book.free_plan()) {
        (Some((s, (plan, interval))), _) => (
            plan.name.clone(),
            Some(format!("{} / {}", money(s.unit_amount * s.quantity, &s.currency), interval.as_str())),
            plan.features.clone(),
            limits_of(plan, s.quantity),
        ),
        (None, Some(free)) => (free.name.clone(), None, free.features.clone(), limits_of(free, 1)),
        (None, None) => ("No plan".to_string(), None, Vec::new(), Vec::new()),
    };
    let view = subscription.as_ref().map(|s| subscription_view(book, s));
    let banner = match (&subscription, &user.stripe_customer_id) {
        (Some(s), Some(customer)) => banner_for(pool, s, customer).await?,
        _ => None,
    };
    let invoices = match &user.stripe_customer_id {
        Some(customer) => invoices_of(pool, customer).await?,
        None => Vec::new(),
    };
    Ok(BillingOverview {
        email: user.email.to_string(),
        awaits_verification: !user.email_verified(),
        plan_name,
        price,
        features,
        limits,
        has_access: access,
        subscription: view,
        banner,
        invoices,
        has_customer: user.stripe_customer_id.is_some(),
        form_token: crate::server::stripe::idempotency::new_form_token(),
    })
}

fn subscription_view(book: &PriceBook, s: &StoredSubscription) -> SubscriptionView {
    use SubscriptionStatus as S;
    let live = s.is_live();
    let ending = s.cancel_at_period_end && live;
    SubscriptionView {
        status: s.status.as_str().to_string(),
        status_words: if ending {
            "Cancels at the end of the period".to_string()
        } else {
            s.status.describe().to_string()
        },
        renews_on: (live && !ending && !matches!(s.status, S::Trialing | S::Paused)).then(|| day(s.current_period_end)),
        trial_ends_on: (s.status == S::Trialing).then(|| s.trial_end.map(day)).flatten(),
        ends_on: ending.then(|| day(s.current_period_end)),
        ended_on: s.ended_at.filter(|_| !live).map(day),
        card: match (&s.card_brand, &s.card_last4) {
            (Some(brand), Some(last4)) => Some(format!("{} •••• {last4}", capitalise(brand))),
            _ => None,
        },
        scheduled_change: match (&s.pending_price_id, s.pending_change_at) {
            (Some(price), Some(at)) => {
                Some(format!("{} from {}", seats_label(book, None, price, s.pending_quantity.unwrap_or(1)), day(at)))
            }
            _ => None,
        },
        seats: book.plan_of(s.lookup_key.as_deref(), &s.price_id).and_then(|(plan, interval)| {
            let bounds = plan.per_seat?;
            Some(SubscriptionSeats {
                plan: plan.key.to_string(),
                interval,
                range: SeatRange { count: s.quantity, min: bounds.min, max: bounds.max },
            })
        }),
        can_change: matches!(s.status, S::Active | S::Trialing) && !ending,
        can_cancel: matches!(s.status, S::Active | S::Trialing | S::PastDue) && !ending,
        can_resume: ending,
        can_pause: book.catalog.customers_can_pause && super::pause::why_not_pausable(s).is_none(),
        // A trial that ended without a card resumes when one is added, not by this button.
        can_unpause: s.status == S::Paused && !super::pause::awaits_card(s),
        discount: live.then(|| discount_words(s)).flatten(),
        payments_paused: s.collection_pause.filter(|_| live).map(|pause| match pause.resumes_at {
            Some(at) => format!("Paused until {} (nothing is charged meanwhile)", day(at)),
            None => "Paused (nothing is charged meanwhile)".to_string(),
        }),
    }
}

/// The subscription's discount in words, e.g. `25% off each invoice until 3 March 2027`,
/// `$5.00 off each invoice`; `None` without one.
fn discount_words(s: &StoredSubscription) -> Option<String> {
    let percent = s.discount.percent_off_bp;
    let parts: Vec<String> = [
        (percent > 0).then(|| match (percent / 100, percent % 100) {
            (whole, 0) => format!("{whole}% off"),
            (whole, tenths) if tenths % 10 == 0 => format!("{whole}.{}% off", tenths / 10),
            (whole, hundredths) => format!("{whole}.{hundredths:02}% off"),
        }),
        (s.discount.amount_off > 0).then(|| format!("{} off", money(s.discount.amount_off, &s.currency))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    let until = s.discount_ends_at.map(|at| format!(" until {}", day(at))).unwrap_or_default();
    Some(format!("{} each invoice{until}", parts.join(" and ")))
}

async fn banner_for(pool: &AnyPool, s: &StoredSubscription, customer: &str) -> anyhow::Result<Option<Banner>> {
    use SubscriptionStatus as S;
    let open_invoice: Option<Option<String>> = sqlx::query_scalar(
        "SELECT hosted_invoice_url FROM invoices WHERE customer_id = $1 AND status = 'open' \
         ORDER BY created DESC LIMIT 1",
    )
    .bind(customer)
    .fetch_optional(pool)
    .await
    .context("reading open invoices")?;
    let open_invoice = open_invoice.flatten();
    // The worker queues an `action_required:<invoice>` email when a payment needs 3-D Secure.
    // Confirmed on the app's own page when the payment is known, else on the invoice page.
    let needs_action: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT i.hosted_invoice_url, \
           (SELECT MAX(l.payment_intent_id) FROM invoice_payment_links l WHERE l.invoice_id = i.id) \
         FROM invoices i JOIN emails e ON e.cause_key = 'action_required:' || i.id \
         WHERE i.customer_id = $1 AND i.status = 'open' ORDER BY i.created DESC LIMIT 1",
    )
    .bind(customer)
    .fetch_optional(pool)
    .await
    .context("reading invoices waiting for authentication")?;
    if let Some((hosted, payment)) = needs_action {
        return Ok(Some(Banner {
            kind: BannerKind::ActionRequired,
            message: "A payment needs your confirmation. Confirm it with your bank to keep your plan.".into(),
            invoice_url: payment.map(|pi| super::confirm_payment::confirm_path(&pi)).or(hosted),
        }));
    }
    Ok(match s.status {
        S::Paused if super::pause::awaits_card(s) => Some(Banner {
            kind: BannerKind::CardNeeded,
            message: "Your trial has ended and your subscription is paused. Add a card to continue: the first \
                      period is charged to it and your plan is back at once."
                .into(),
            invoice_url: None,
        }),
        S::Trialing if s.card_last4.is_none() => Some(Banner {
            kind: BannerKind::CardNeeded,
            message: match s.trial_end {
                Some(end) => format!("Your trial ends on {}. Add a card to keep your plan after it.", day(end)),
                None => "Add a card to keep your plan after your trial.".into(),
            },
            invoice_url: None,
        }),
        S::PastDue | S::Unpaid => Some(Banner {
            kind: BannerKind::PastDue,
            message: "Your last payment failed. Update your payment method to keep your plan.".into(),
            invoice_url: open_invoice,
        }),
        S::Incomplete => Some(Banner {
            kind: BannerKind::ActionRequired,
            message: "Your first payment is not complete yet. Open the invoice to finish it.".into(),
            invoice_url: open_invoice,
        }),
        _ => None,
    })
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: String,
    number: Option<String>,
    status: String,
    amount_due: i64,
    amount_paid: i64,
    currency: String,
    hosted_invoice_url: Option<String>,
    invoice_pdf: Option<String>,
    created: i64,
}

impl From<InvoiceRow> for InvoiceView {
    fn from(row: InvoiceRow) -> Self {
        // A paid invoice shows what was paid, any other what is due.
        let amount = if row.status == "paid" { row.amount_paid } else { row.amount_due };
        InvoiceView {
            number: row.number.unwrap_or(row.id),
            date: day(row.created),
            amount: money(amount, &row.currency),
            status: row.status,
            hosted_url: row.hosted_invoice_url,
            pdf_url: row.invoice_pdf,
        }
    }
}

async fn invoices_of(pool: &AnyPool, customer: &str) -> anyhow::Result<Vec<InvoiceView>> {
    let rows = sqlx::query_as::<_, InvoiceRow>(
        "SELECT id, number, status, amount_due, amount_paid, currency, hosted_invoice_url, invoice_pdf, created \
         FROM invoices WHERE customer_id = $1 AND status <> 'draft' ORDER BY created DESC, id DESC LIMIT 24",
    )
    .bind(customer)
    .fetch_all(pool)
    .await
    .context("reading invoices")?;
    Ok(rows.into_iter().map(InvoiceView::from).collect())
}

#[cfg(test)]
mod tests {
    use super::toggle_saving;

    fn plans(body: &str) -> Vec<crate::domain::catalog::Plan> {
        crate::server::catalog::parse(&format!("currency = \"usd\"\n{body}")).unwrap().plans
    }

    #[test]
    fn the_toggle_promises_only_what_every_plan_gives() {
        let same = "[[plans]]\nkey = \"a\"\nname = \"A\"\nmonthly = 900\nyearly = 9000\n\
                    [[plans]]\nkey = \"b\"\nname = \"B\"\nmonthly = 2900\nyearly = 29000\n\
                    [[plans]]\nkey = \"m\"\nname = \"M\"\nmonthly = 100\n";
        assert_eq!(toggle_saving(&plans(same)).as_deref(), Some("2 months free"));
        let mixed = "[[plans]]\nkey = \"a\"\nname = \"A\"\nmonthly = 900\nyearly = 9000\n\
                     [[plans]]\nkey = \"b\"\nname = \"B\"\nmonthly = 1000\nyearly = 12000\n";
        assert_eq!(toggle_saving(&plans(mixed)).as_deref(), Some("save up to 17%"));
        let none = "[[plans]]\nkey = \"b\"\nname = \"B\"\nmonthly = 1000\nyearly = 12000\n";
        assert_eq!(toggle_saving(&plans(none)), None);
    }
}
