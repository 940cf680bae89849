//! Pausing payment collection (`pause_collection`): the subscription stays `active` and keeps
//! renewing, but each renewal invoice is kept as a draft, marked uncollectible or voided as the
//! pause says, until `resumes_at` passes or the setting is cleared.

use serde_json::{json, Value};

use crate::engine::invoices::PAUSED_COLLECTION;
use crate::error::ApiResult;
use crate::store::Ctx;

/// `pause_collection[behavior]` as Stripe knows it.
pub const COLLECTION_BEHAVIORS: [&str; 3] = ["keep_as_draft", "mark_uncollectible", "void"];

/// The `pause_collection` behaviour in force on a subscription, if any.
pub fn paused_collection(subscription: &Value) -> Option<&str> {
    subscription["pause_collection"]["behavior"].as_str()
}

/// When a subscription's paused collection resumes by itself.
pub fn collection_resumes_at(subscription: &Value) -> Option<i64> {
    subscription["pause_collection"]["resumes_at"].as_i64()
}

/// Marks a renewal invoice made while collection is paused: finalizing it closes it rather than
/// charging (`keep_as_draft` invoices are made without `auto_advance` and are never finalized).
pub(super) fn mark_paused_invoice(ctx: &mut Ctx, invoice_id: &str, behavior: &str) {
    if let Some(invoice) = ctx.get_mut("invoice", invoice_id) {
        invoice[PAUSED_COLLECTION] = json!(behavior);
    }
}

/// `resumes_at` has passed: Stripe clears `pause_collection` (emitting
/// `customer.subscription.updated`), and later renewals are charged again.
pub fn resume_collection(ctx: &mut Ctx, id: &str) -> ApiResult<()> {
    let old = ctx.find("subscription", id, "subscription")?;
    if collection_resumes_at(&old).is_none_or(|at| at > ctx.now_for(&old)) {
        return Ok(());
    }
    let mut subscription = old.clone();
    subscription["pause_collection"] = Value::Null;
    ctx.save_updated("subscription", "customer.subscription.updated", &old, subscription);
    Ok(())
}
