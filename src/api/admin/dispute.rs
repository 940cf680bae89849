//! `/admin/disputes/:id`: one dispute and its evidence form (saved as a draft or submitted,
//! audited).

// The evidence form posts one field per argument (a plain form, no JavaScript needed); the
// server macro's client stub repeats the list, so the allow is for the whole module.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::views::{admin::dispute::DisputeView, AppError};

#[server(endpoint = "admin_dispute")]
pub async fn admin_dispute(id: String) -> Result<DisputeView, AppError> {
    use crate::server::{admin::dispute, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(dispute::dispute(&ctx.state, id.trim()).await?)
}

/// The evidence form: every field of `EVIDENCE_FIELDS` and `intent` (`save` or `submit`, the
/// button pressed).
#[server(endpoint = "admin_dispute_respond")]
pub async fn respond_to_dispute(
    dispute: String,
    token: String,
    intent: String,
    product_description: Option<String>,
    customer_name: Option<String>,
    customer_email_address: Option<String>,
    customer_purchase_ip: Option<String>,
    service_date: Option<String>,
    access_activity_log: Option<String>,
    refund_policy_disclosure: Option<String>,
    uncategorized_text: Option<String>,
) -> Result<(), AppError> {
    use crate::server::billing::dispute_evidence::{respond, EvidenceRequest};
    use crate::server::http::{context::RequestCtx, outcome::Next};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let fields = [
        ("product_description", product_description),
        ("customer_name", customer_name),
        ("customer_email_address", customer_email_address),
        ("customer_purchase_ip", customer_purchase_ip),
        ("service_date", service_date),
        ("access_activity_log", access_activity_log),
        ("refund_policy_disclosure", refund_policy_disclosure),
        ("uncategorized_text", uncategorized_text),
    ]
    .into_iter()
    .filter_map(|(field, value)| value.map(|value| (field.to_owned(), value)))
    .collect();
    let submit = match intent.as_str() {
        "submit" => true,
        "save" => false,
        _ => return Err(AppError::User("Choose to save the evidence or to submit it.".into())),
    };
    let id = dispute.trim().to_owned();
    let outcome =
        respond(&ctx.state, &actor, &id, EvidenceRequest { fields, submit, token: &token }).await.map(Next::Back);
    ctx.finish(outcome, &format!("/admin/disputes/{id}")).await
}
