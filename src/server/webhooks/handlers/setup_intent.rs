//! `setup_intent.succeeded`: a card saved on `/billing/card` by a customer who never came back to
//! the return page is applied as that page applies it (the default card, the open invoice paid),
//! under the same idempotency keys: whichever comes second changes nothing.

use anyhow::Context;
use stripe_core::setup_intent::RetrieveSetupIntent;
use stripe_shared::{SetupIntentId, SetupIntentStatus};

use super::{object_id, ApplyContext};
use crate::server::billing::card_update::{apply_saved_card, CARD_UPDATE, PURPOSE_METADATA};
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::Outcome;

pub async fn succeeded(ctx: &ApplyContext<'_>, event: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    let id: SetupIntentId = object_id(&event)?;
    let setup = ctx
        .stripe
        .send(&RetrieveSetupIntent::new(&id), None)
        .await
        .with_context(|| format!("retrieving setup intent {id}"))?;
    let purpose = setup.metadata.as_ref().and_then(|m| m.get(PURPOSE_METADATA)).map(String::as_str);
    if purpose != Some(CARD_UPDATE) {
        return Ok(Outcome::Skipped(format!("{id} is not a card update")));
    }
    if setup.status != SetupIntentStatus::Succeeded {
        return Ok(Outcome::Skipped(format!("{id} has not succeeded")));
    }
    let Some(customer) = setup.customer.as_ref().map(|c| c.id().as_str().to_owned()) else {
        return Ok(Outcome::Skipped(format!("{id} has no customer")));
    };
    apply_saved_card(ctx.pool, ctx.stripe, &customer, &setup).await?;
    Ok(Outcome::Applied)
}
