//! The six lists an import reads: each page's request (newest first, `PAGE` objects, with what
//! the stored rows need expanded) and the webhook path's own code that stores an object.

use sqlx::{Any, Transaction};
use stripe_billing::invoice::ListInvoice;
use stripe_billing::subscription::{ListSubscription, ListSubscriptionStatus};
use stripe_core::customer::ListCustomer;
use stripe_core::dispute::ListDispute;
use stripe_core::payment_intent::ListPaymentIntent;
use stripe_core::refund::ListRefund;
use stripe_shared::{Customer, Dispute, Invoice, PaymentIntent, Refund, Subscription};
use stripe_types::List;

use super::changes::Watched;
use super::report::Report;
use super::{customers, subscriptions, ObjectList, PAGE};
use crate::server::billing::{disputes, invoices, payments, refunds, subscriptions::SUBSCRIPTION_EXPAND};
use crate::server::stripe::client::StripeClient;

type Tx = Transaction<'static, Any>;

/// `what` expanded in every object of a list.
fn in_list(what: &[&str]) -> Vec<String> {
    what.iter().map(|path| format!("data.{path}")).collect()
}

macro_rules! paged {
    ($request:expr, $stripe:expr, $after:expr) => {{
        let mut request = $request.limit(PAGE);
        if let Some(after) = $after {
            request = request.starting_after(after);
        }
        $stripe.send(&request, None).await.map_err(anyhow::Error::from)
    }};
}

pub struct Customers;

impl ObjectList for Customers {
    type Item = Customer;
    const NAME: &'static str = "customers";
    const WATCHED: Watched = &[("customers", "id"), ("users", "stripe_customer_id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<Customer>> {
        paged!(ListCustomer::new().expand(in_list(&[crate::server::billing::customers::CARD_EXPAND])), stripe, after)
    }

    fn id(item: &Customer) -> String {
        item.id.as_str().to_string()
    }

    async fn store(tx: &mut Tx, item: &Customer, report: &mut Report, now: i64) -> anyhow::Result<()> {
        customers::store(tx, item, report, now).await
    }
}

pub struct Subscriptions;

impl ObjectList for Subscriptions {
    type Item = Subscription;
    const NAME: &'static str = "subscriptions";
    const WATCHED: Watched = &[("subscriptions", "id"), ("mrr_movements", "subscription_id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<Subscription>> {
        // Without `status=all` Stripe leaves canceled subscriptions out.
        let request = ListSubscription::new().status(ListSubscriptionStatus::All).expand(in_list(&SUBSCRIPTION_EXPAND));
        paged!(request, stripe, after)
    }

    fn id(item: &Subscription) -> String {
        item.id.as_str().to_string()
    }

    async fn store(tx: &mut Tx, item: &Subscription, _: &mut Report, now: i64) -> anyhow::Result<()> {
        subscriptions::store(tx, item, now).await
    }
}

pub struct Invoices;

impl ObjectList for Invoices {
    type Item = Invoice;
    const NAME: &'static str = "invoices";
    const WATCHED: Watched = &[("invoices", "id"), ("invoice_payment_links", "invoice_id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<Invoice>> {
        // `payments` is includable: Stripe leaves it out unless asked for.
        paged!(ListInvoice::new().expand(in_list(&["payments"])), stripe, after)
    }

    fn id(item: &Invoice) -> String {
        item.id.as_ref().map(|id| id.as_str().to_string()).unwrap_or_default()
    }

    async fn store(tx: &mut Tx, item: &Invoice, _: &mut Report, now: i64) -> anyhow::Result<()> {
        invoices::store(tx, &invoices::FetchedInvoice::from_stripe(item)?, now).await
    }
}

/// Payments are PaymentIntents (what the `payments` table keeps); their charges' refunds and
/// disputes have lists of their own.
pub struct Payments;

impl ObjectList for Payments {
    type Item = PaymentIntent;
    const NAME: &'static str = "payment_intents";
    const WATCHED: Watched = &[("payments", "id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<PaymentIntent>> {
        paged!(ListPaymentIntent::new(), stripe, after)
    }

    fn id(item: &PaymentIntent) -> String {
        item.id.as_str().to_string()
    }

    async fn store(tx: &mut Tx, item: &PaymentIntent, _: &mut Report, now: i64) -> anyhow::Result<()> {
        payments::upsert(tx, &payments::PaymentRow::from_stripe(item), now).await
    }
}

pub struct Refunds;

impl ObjectList for Refunds {
    type Item = Refund;
    const NAME: &'static str = "refunds";
    const WATCHED: Watched = &[("refunds", "id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<Refund>> {
        paged!(ListRefund::new(), stripe, after)
    }

    fn id(item: &Refund) -> String {
        item.id.as_str().to_string()
    }

    async fn store(tx: &mut Tx, item: &Refund, _: &mut Report, now: i64) -> anyhow::Result<()> {
        refunds::upsert(tx, &refunds::RefundRow::from_stripe(item), now).await
    }
}

pub struct Disputes;

impl ObjectList for Disputes {
    type Item = Dispute;
    const NAME: &'static str = "disputes";
    const WATCHED: Watched = &[("disputes", "id")];

    async fn page(stripe: &StripeClient, after: Option<String>) -> anyhow::Result<List<Dispute>> {
        // The charge names the customer.
        paged!(ListDispute::new().expand(in_list(&["charge"])), stripe, after)
    }

    fn id(item: &Dispute) -> String {
        item.id.as_str().to_string()
    }

    async fn store(tx: &mut Tx, item: &Dispute, _: &mut Report, now: i64) -> anyhow::Result<()> {
        disputes::upsert(tx, &disputes::DisputeRow::from_stripe(item), now).await
    }
}
