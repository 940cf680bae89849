//! The admin answers a dispute: the evidence form is saved to Stripe as a draft or submitted
//! (Stripe then closes the evidence and the card network decides). Stripe first, idempotent on
//! the form's token, then one audit row; the dispute's row follows from Stripe's answer, and
//! the outcome arrives later as `charge.dispute.closed`.

use std::collections::HashMap;

use anyhow::Context;
use stripe_core::dispute::{UpdateDispute, UpdateDisputeEvidence};
use stripe_shared::DisputeId;

use crate::server::admin::audit::{self, Actor, Record};
use crate::server::admin::dispute::{client_for, closed_because, read};
use crate::server::billing::disputes::{upsert, DisputeRow};
use crate::server::http::outcome::{refused, FormError};
use crate::server::stripe::idempotency::check_form_token;
use crate::server::{db, state::AppState};
use crate::views::admin::dispute::{EVIDENCE_FIELDS, EVIDENCE_TOTAL_LIMIT};

/// What the evidence form posts.
pub struct EvidenceRequest<'a> {
    /// Field → text, for the fields of [`EVIDENCE_FIELDS`] the form sent.
    pub fields: HashMap<String, String>,
    /// Submit to the card network (final), or only save a draft.
    pub submit: bool,
    pub token: &'a str,
}

/// Saves or submits the evidence of dispute `id`; returns what to tell the admin.
pub async fn respond(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: EvidenceRequest<'_>,
) -> Result<String, FormError> {
    check_form_token(request.token)?;
    let evidence = evidence_of(&request.fields)?;
    let key = format!("dispute-evidence-{}", request.token);
    let done = if request.submit { "Evidence submitted." } else { "Evidence saved as a draft." };
    if audit::request_done(state.db.pool(), &key).await? {
        return Ok(done.into());
    }
    let known: Option<String> = sqlx::query_scalar("SELECT id FROM disputes WHERE id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await
        .context("reading the dispute")?;
    let id = DisputeId::from(known.ok_or_else(|| refused("No such dispute."))?);
    let stripe = client_for(state, &id).await?;
    let before = read(&stripe, &id).await?;
    if let Some(why) = closed_because(&before, db::now()) {
        return Err(refused(why));
    }
    if request.submit && request.fields.values().all(|value| value.trim().is_empty()) {
        return Err(refused("Submit at least one piece of evidence: an empty answer loses the dispute."));
    }
    let update =
        UpdateDispute::new(id.clone()).evidence(evidence).submit(request.submit).expand(vec!["charge".to_string()]);
    let after = stripe.send(&update, Some(&key)).await.with_context(|| format!("answering dispute {id}"))?;

    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    upsert(&mut tx, &DisputeRow::from_stripe(&after), now).await?;
    // The fields answered and their lengths, not their text (it may hold personal data).
    let answered: serde_json::Map<String, serde_json::Value> = EVIDENCE_FIELDS
        .iter()
        .filter_map(|(field, _, _)| request.fields.get(*field).filter(|v| !v.trim().is_empty()).map(|v| (field, v)))
        .map(|(field, value)| (field.to_string(), value.chars().count().into()))
        .collect();
    let before_state = serde_json::json!({ "status": before.status.as_str() }).to_string();
    let after_state = serde_json::json!({
        "status": after.status.as_str(), "submitted": request.submit, "fields": answered,
    })
    .to_string();
    let record = Record {
        action: if request.submit { "dispute.evidence_submitted" } else { "dispute.evidence_saved" },
        subject_type: "dispute",
        subject_id: id.as_str(),
        customer_id: None,
        before: Some(&before_state),
        after: Some(&after_state),
    };
    audit::write_once(&mut tx, actor, record, &key, now).await?;
    tx.commit().await.context("committing the dispute's answer")?;
    Ok(done.into())
}

/// The form's fields as Stripe's evidence, refusing text Stripe would refuse.
fn evidence_of(fields: &HashMap<String, String>) -> Result<UpdateDisputeEvidence, FormError> {
    let total: usize = fields.values().map(|value| value.chars().count()).sum();
    if total > EVIDENCE_TOTAL_LIMIT {
        return Err(refused(format!(
            "The evidence is {total} characters long; Stripe takes at most {EVIDENCE_TOTAL_LIMIT} in all."
        )));
    }
    let text = |field: &str| fields.get(field).map(|value| value.trim().to_owned());
    if let Some(date) = text("service_date").filter(|d| !d.is_empty()) {
        if !is_iso_date(&date) {
            return Err(refused(format!("Service date: \"{date}\" is not a date like 2026-11-30.")));
        }
    }
    let mut evidence = UpdateDisputeEvidence::new();
    evidence.product_description = text("product_description");
    evidence.customer_name = text("customer_name");
    evidence.customer_email_address = text("customer_email_address");
    evidence.customer_purchase_ip = text("customer_purchase_ip");
    evidence.service_date = text("service_date");
    evidence.access_activity_log = text("access_activity_log");
    evidence.refund_policy_disclosure = text("refund_policy_disclosure");
    evidence.uncategorized_text = text("uncategorized_text");
    Ok(evidence)
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, len: usize| {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse::<u32>().ok()).flatten()
    };
    match parts.as_slice() {
        [y, m, d] => {
            number(y, 4).is_some()
                && number(m, 2).is_some_and(|m| (1..=12).contains(&m))
                && number(d, 2).is_some_and(|d| (1..=31).contains(&d))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn service_dates_must_be_dates() {
        assert!(evidence_of(&form(&[("service_date", "2026-11-30")])).is_ok());
        assert!(evidence_of(&form(&[("service_date", "")])).is_ok(), "left empty");
        for bad in ["30/11/2026", "2026-13-01", "2026-1-1", "soon"] {
            assert!(evidence_of(&form(&[("service_date", bad)])).is_err(), "{bad}");
        }
    }

    #[test]
    fn evidence_longer_than_stripe_takes_is_refused() {
        let long = "x".repeat(EVIDENCE_TOTAL_LIMIT / 2 + 1);
        assert!(evidence_of(&form(&[("uncategorized_text", &long)])).is_ok());
        assert!(evidence_of(&form(&[("uncategorized_text", &long), ("access_activity_log", &long)])).is_err());
    }

    #[test]
    fn text_is_trimmed_and_empty_fields_are_sent_empty() {
        let evidence = evidence_of(&form(&[("customer_name", "  Ada  "), ("customer_purchase_ip", "")])).unwrap();
        assert_eq!(evidence.customer_name.as_deref(), Some("Ada"));
        assert_eq!(evidence.customer_purchase_ip.as_deref(), Some(""));
        assert_eq!(evidence.receipt, None, "fields the form does not have are left alone");
    }
}
