//! `checkout.session.*`: fulfilment of a paid Checkout Session, and the failed-payment email
//! (own transaction).

use super::{customer_email, enqueue_alone, object_id, pricing_url, ApplyContext};
use crate::server::billing::checkout::{self, Fulfilled};
use crate::server::billing::emails;
use crate::server::billing::entitlements::SessionGrant;
use crate::server::marketplace::orders;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

/// `completed`, `async_payment_succeeded`: the same fulfilment as the success page runs.
pub async fn completed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    // A marketplace purchase (a destination charge): its order, not the platform's billing.
    let id: stripe_shared::CheckoutSessionId = object_id(&event)?;
    if let Some(order) = orders::by_payment(ctx.pool, orders::PaidThrough::Checkout(id.as_str())).await? {
        return super::marketplace::fulfil_order(ctx, id.as_str(), &order).await;
    }
    let session = checkout::retrieve_session(ctx.stripe, &id).await?;
    match checkout::fulfil_checkout_session(ctx.pool, ctx.stripe, &session, &event.id, ctx.now).await? {
        Fulfilled::Payment { grant: SessionGrant::Nothing(why), .. } => Ok(Outcome::Skipped(why)),
        Fulfilled::Payment { grant: SessionGrant::Unpaid, .. } => {
            Ok(Outcome::Skipped("not paid yet: async_payment_succeeded will grant".into()))
        }
        _ => Ok(Outcome::Applied),
    }
}

/// A delayed payment method failed: the buyer is told.
pub async fn async_payment_failed(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let session = checkout::retrieve_session(ctx.stripe, &object_id(&event)?).await?;
    let customer = session.customer.as_ref().map(|c| c.id().as_str().to_string());
    let fallback = session.customer_details.as_ref().and_then(|d| d.email.clone());
    let Some(to) = customer_email(ctx.pool, customer.as_deref().unwrap_or(""), fallback.as_deref()).await? else {
        return Ok(Outcome::Skipped("no address to tell about the failed payment".into()));
    };
    let email = emails::checkout_payment_failed(&to, session.id.as_str(), &pricing_url(ctx));
    enqueue_alone(ctx.pool, &email, ctx.now).await?;
    Ok(Outcome::Applied)
}

/// Nothing was paid, so nothing was granted; the PaymentIntent's own events record it.
pub async fn expired(_: &ApplyContext<'_>, _: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    Ok(Outcome::Skipped("session expired unpaid: nothing to grant".into()))
}
