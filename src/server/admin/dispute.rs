//! `/admin/disputes/:id`: the dispute as Stripe holds it now (status, deadline, saved evidence)
//! and the evidence form. Fields Stripe has no answer for yet are prefilled from tollgate's own
//! records: the account that paid, what it bought, when, its activity and what tollgate emailed it.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_core::dispute::RetrieveDispute;
use stripe_shared::{Dispute, DisputeId};

use crate::server::admin::audit;
use crate::server::http::outcome::{refused, FormError};
use crate::server::state::AppState;
use crate::server::stripe::client::StripeClient;
use crate::server::stripe::idempotency::new_form_token;
use crate::server::{config::StripeMode, db};
use crate::views::admin::customer::dashboard_url;
use crate::views::admin::dispute::{DisputeView, EvidenceForm, EVIDENCE_FIELDS};
use crate::views::format::{day, money, utc};

/// How many of tollgate's records each prefilled log lists, newest first.
const LOG_LINES: i64 = 20;

pub async fn dispute(state: &AppState, id: &str) -> Result<DisputeView, FormError> {
    let pool = state.db.pool();
    let known: Option<(String, Option<String>)> = sqlx::query_as("SELECT id, customer_id FROM disputes WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading the dispute")?;
    let (id, customer_id) = known.ok_or_else(|| refused("No such dispute."))?;
    let id = DisputeId::from(id);
    let dispute = read(&client_for(state, &id).await?, &id).await?;
    let facts = Facts::gather(state, &dispute, customer_id).await?;
    let closed_because = closed_because(&dispute, db::now());
    let form = closed_because.is_none().then(|| EvidenceForm {
        values: EVIDENCE_FIELDS
            .iter()
            .map(|(field, _, _)| {
                let saved = saved_evidence(&dispute, field).filter(|value| !value.is_empty());
                (field.to_string(), saved.unwrap_or_else(|| facts.prefill(field)))
            })
            .collect(),
        token: new_form_token(),
    });
    Ok(DisputeView {
        id: dispute.id.as_str().to_owned(),
        charge_id: dispute.charge.id().as_str().to_owned(),
        payment_intent_id: dispute.payment_intent.as_ref().map(|pi| pi.id().as_str().to_owned()),
        amount: money(dispute.amount, &dispute.currency.to_string()),
        reason: dispute.reason.clone(),
        status: dispute.status.as_str().to_owned(),
        evidence_due_by: dispute.evidence_details.due_by,
        submission_count: dispute.evidence_details.submission_count as i64,
        customer_email: facts.email.clone(),
        order_id: facts.order.as_ref().map(|order| order.id),
        dashboard_url: dashboard_url(state.stripe.mode == StripeMode::Live, &format!("disputes/{}", dispute.id)),
        history: audit::for_subject(pool, "dispute", dispute.id.as_str()).await?,
        form,
        closed_because,
    })
}

/// The dispute as Stripe holds it now, read with `stripe` (see [`client_for`]).
pub async fn read(stripe: &StripeClient, id: &DisputeId) -> anyhow::Result<Dispute> {
    stripe.send(&RetrieveDispute::new(id.clone()), None).await.with_context(|| format!("retrieving dispute {id}"))
}

/// A client acting on the account the dispute's charge lives on: the creator's for a direct
/// charge's order, else the platform.
pub async fn client_for(state: &AppState, id: &DisputeId) -> anyhow::Result<StripeClient> {
    Ok(match connected_account_of(state.db.pool(), id.as_str()).await? {
        Some(account) => state.stripe_client.on_account(&account),
        None => state.stripe_client.clone(),
    })
}

/// The connected account of a direct-charge order's dispute (its dispute lives there); `None`
/// for disputes on the platform.
async fn connected_account_of(pool: &AnyPool, dispute_id: &str) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT o.account_id FROM disputes d JOIN orders o ON o.payment_intent_id = d.payment_intent_id \
         WHERE d.id = $1 AND o.charge_type = 'direct'",
    )
    .bind(dispute_id)
    .fetch_optional(pool)
    .await
    .context("reading the dispute's account")
}

/// Why the dispute takes no more evidence, if it does not.
pub fn closed_because(dispute: &Dispute, now: i64) -> Option<String> {
    use stripe_shared::DisputeStatus::*;
    match dispute.status {
        NeedsResponse | WarningNeedsResponse => {
            let past_due =
                dispute.evidence_details.past_due || dispute.evidence_details.due_by.is_some_and(|d| d <= now);
            past_due.then(|| "The deadline for evidence has passed: Stripe takes no more.".to_owned())
        }
        UnderReview | WarningUnderReview => {
            Some("Evidence was submitted: the card network is reviewing it. Stripe reports the outcome.".to_owned())
        }
        _ => Some(format!("This dispute is closed ({}).", dispute.status.as_str())),
    }
}

/// Stripe's saved answer for `field`, if any.
fn saved_evidence(dispute: &Dispute, field: &str) -> Option<String> {
    let evidence = &dispute.evidence;
    match field {
        "product_description" => evidence.product_description.clone(),
        "customer_name" => evidence.customer_name.clone(),
        "customer_email_address" => evidence.customer_email_address.clone(),
        "customer_purchase_ip" => evidence.customer_purchase_ip.clone(),
        "service_date" => evidence.service_date.clone(),
        "access_activity_log" => evidence.access_activity_log.clone(),
        "refund_policy_disclosure" => evidence.refund_policy_disclosure.clone(),
        "uncategorized_text" => evidence.uncategorized_text.clone(),
        _ => None,
    }
}

#[derive(sqlx::FromRow)]
struct OrderFacts {
    id: i64,
    product: String,
    paid_at: Option<i64>,
    granted_at: Option<i64>,
}

/// What tollgate knows about the disputed payment and the account that made it.
struct Facts {
    email: Option<String>,
    order: Option<OrderFacts>,
    /// A subscription invoice the payment paid: (plan, period start, period end).
    subscription: Option<(String, i64, i64)>,
    /// A one-time purchase: (what, when).
    purchase: Option<(String, i64)>,
    paid_at: Option<i64>,
    last_ip: Option<String>,
    activity: Vec<String>,
    mails: Vec<String>,
}

impl Facts {
    /// `customer_id`: the Stripe customer the app stored on the dispute's row.
    async fn gather(state: &AppState, dispute: &Dispute, customer_id: Option<String>) -> anyhow::Result<Self> {
        let pool = state.db.pool();
        let payment_intent = dispute.payment_intent.as_ref().map(|pi| pi.id().as_str().to_owned());
        let order: Option<(OrderFacts, i64)> = match &payment_intent {
            None => None,
            Some(pi) => sqlx::query_as::<_, (i64, String, Option<i64>, Option<i64>, i64)>(
                "SELECT o.id, p.title, o.paid_at, \
                   (SELECT MIN(l.granted_at) FROM library l WHERE l.order_id = o.id), o.buyer_id \
                 FROM orders o JOIN products p ON p.id = o.product_id WHERE o.payment_intent_id = $1",
            )
            .bind(pi)
            .fetch_optional(pool)
            .await
            .context("reading the disputed order")?
            .map(|(id, product, paid_at, granted_at, buyer)| (OrderFacts { id, product, paid_at, granted_at }, buyer)),
        };
        let user_id = match (&order, &customer_id) {
            (Some((_, buyer)), _) => Some(*buyer),
            (None, Some(customer)) => sqlx::query_scalar("SELECT id FROM users WHERE stripe_customer_id = $1")
                .bind(customer)
                .fetch_optional(pool)
                .await
                .context("reading the customer's account")?,
            (None, None) => None,
        };
        let email: Option<String> = match user_id {
            Some(user) => sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(pool)
                .await
                .context("reading the customer's email")?,
            None => None,
        };
        let payment: Option<(i64, Option<String>)> = match &payment_intent {
            Some(pi) => sqlx::query_as("SELECT created, invoice_id FROM payments WHERE id = $1")
                .bind(pi)
                .fetch_optional(pool)
                .await
                .context("reading the payment")?,
            None => None,
        };
        let subscription = match payment.as_ref().and_then(|(_, invoice)| invoice.clone()) {
            Some(invoice) => subscription_of(state, &invoice).await?,
            None => None,
        };
        let purchase: Option<(String, i64)> = match &payment_intent {
            Some(pi) => sqlx::query_as(
                "SELECT grant_key, granted_at FROM entitlements WHERE payment_intent_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(pi)
            .fetch_optional(pool)
            .await
            .context("reading the purchase")?,
            None => None,
        };
        let (activity, last_ip) = activity_of(pool, user_id).await?;
        let mails = match &email {
            Some(to) => mails_to(pool, to).await?,
            None => Vec::new(),
        };
        Ok(Self {
            email,
            paid_at: order.as_ref().and_then(|(o, _)| o.paid_at).or(payment.map(|(created, _)| created)),
            order: order.map(|(order, _)| order),
            subscription,
            purchase,
            last_ip,
            activity,
            mails,
        })
    }

    fn prefill(&self, field: &str) -> String {
        match field {
            "product_description" => self.product(),
            "customer_email_address" => self.email.clone().unwrap_or_default(),
            "customer_purchase_ip" => self.last_ip.clone().unwrap_or_default(),
            "service_date" => self.service_date().map(day_iso).unwrap_or_default(),
            "access_activity_log" => self.activity.join("\n"),
            "uncategorized_text" if !self.mails.is_empty() => {
                format!("Emails sent to the customer's address:\n{}", self.mails.join("\n"))
            }
            _ => String::new(),
        }
    }

    fn product(&self) -> String {
        if let Some(order) = &self.order {
            let delivered = order.granted_at.map(|t| format!(", delivered to the buyer's library on {}", utc(t)));
            return format!("Digital product \"{}\"{}", order.product, delivered.unwrap_or_default());
        }
        if let Some((plan, start, end)) = &self.subscription {
            return format!("Subscription to {plan}, service period {} to {}", day(*start), day(*end));
        }
        if let Some((item, granted)) = &self.purchase {
            return format!("One-time purchase \"{item}\", access granted on {}", utc(*granted));
        }
        String::new()
    }

    fn service_date(&self) -> Option<i64> {
        match (&self.subscription, &self.order) {
            (Some((_, start, _)), _) => Some(*start),
            (None, Some(order)) => order.granted_at.or(order.paid_at),
            (None, None) => self.purchase.as_ref().map(|(_, at)| *at).or(self.paid_at),
        }
    }
}

/// `YYYY-MM-DD` (UTC), the form Stripe's `service_date` reads best.
fn day_iso(unix: i64) -> String {
    utc(unix).split(' ').next().unwrap_or_default().to_owned()
}

/// The plan and service period of the subscription invoice `invoice_id` paid.
async fn subscription_of(state: &AppState, invoice_id: &str) -> anyhow::Result<Option<(String, i64, i64)>> {
    let found: Option<(i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT i.period_start, i.period_end, s.price_id FROM invoices i \
           LEFT JOIN subscriptions s ON s.id = i.subscription_id WHERE i.id = $1 AND i.subscription_id IS NOT NULL",
    )
    .bind(invoice_id)
    .fetch_optional(state.db.pool())
    .await
    .context("reading the disputed invoice")?;
    let Some((start, end, price)) = found else { return Ok(None) };
    let plan = match price {
        Some(price) => plan_name(state, &price).await?,
        None => "the service".to_owned(),
    };
    Ok(Some((plan, start, end)))
}

/// The catalog's name for the plan `price_id` sells, else the price id.
async fn plan_name(state: &AppState, price_id: &str) -> anyhow::Result<String> {
    let lookup_key = crate::server::billing::price_book::remembered_lookup_key(state.db.pool(), price_id).await?;
    let book = state.prices.current();
    Ok(lookup_key
        .and_then(|key| book.catalog.plan_for_lookup_key(&key).map(|(plan, _)| plan.name.clone()))
        .unwrap_or_else(|| price_id.to_owned()))
}

/// The account's own actions tollgate recorded (sign-up, plan changes, purchases…), newest
/// first, and the last IP address they came from.
async fn activity_of(pool: &AnyPool, user_id: Option<i64>) -> anyhow::Result<(Vec<String>, Option<String>)> {
    let Some(user) = user_id else { return Ok((Vec::new(), None)) };
    let created: Option<i64> = sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await
        .context("reading the account")?;
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT created_at, action, ip FROM audit_log WHERE actor_user_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user)
    .bind(LOG_LINES)
    .fetch_all(pool)
    .await
    .context("reading the account's activity")?;
    let last_ip = rows.iter().find_map(|(_, _, ip)| ip.clone());
    let mut lines: Vec<String> = rows
        .into_iter()
        .map(|(at, action, ip)| match ip {
            Some(ip) => format!("{} {action} from {ip}", utc(at)),
            None => format!("{} {action}", utc(at)),
        })
        .collect();
    if let Some(created) = created {
        lines.push(format!("{} account created", utc(created)));
    }
    Ok((lines, last_ip))
}

/// What tollgate sent the address, newest first.
async fn mails_to(pool: &AnyPool, to: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT created_at, subject FROM emails WHERE to_address = $1 ORDER BY id DESC LIMIT $2")
            .bind(to)
            .bind(LOG_LINES)
            .fetch_all(pool)
            .await
            .context("reading the customer's emails")?;
    Ok(rows.into_iter().map(|(at, subject)| format!("{} email \"{subject}\"", utc(at))).collect())
}
