//! `payment_intent.*`: the payment row (batched), and what a purchase on the app's own payment
//! page bought once it succeeded: a catalog item (`/buy/complete` grants the same, under the same
//! key) or a creator's product paid as a destination charge (`/library?payment_intent=…` fulfils
//! the same order; a direct charge's intent reports on the Connect endpoint,
//! `marketplace::payment_succeeded`).

use anyhow::Context;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::PaymentIntentId;

use super::{object_id, ApplyContext};
use crate::server::billing::entitlements;
use crate::server::billing::payments::{self, PaymentRow};
use crate::server::marketplace::orders::{fulfil, PRODUCT_METADATA};
use crate::server::webhooks::inbox::InboxEvent;
use crate::server::webhooks::worker::{Outcome, Prepared};

/// Any change to a PaymentIntent: the payment as Stripe has it now, with its latest charge (for
/// Radar's outcome).
pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let id: PaymentIntentId = object_id(&event)?;
    let pi = ctx
        .stripe
        .send(&RetrievePaymentIntent::new(&id).expand(vec!["latest_charge".to_string()]), None)
        .await
        .with_context(|| format!("retrieving payment intent {id}"))?;
    let row = PaymentRow::from_stripe(&pi);
    let now = ctx.now;
    let pi = std::sync::Arc::new(pi);
    Ok(Prepared::write(move |tx| {
        let row = row.clone();
        let pi = pi.clone();
        Box::pin(async move {
            payments::upsert(tx, &row, now).await?;
            entitlements::grant_for_payment_intent(tx, &pi, now).await?;
            if pi.metadata.contains_key(PRODUCT_METADATA) {
                fulfil::fulfil_intent(tx, &pi, now).await?;
            }
            Ok(Outcome::Applied)
        })
    }))
}
