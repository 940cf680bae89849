//! The admin sets a creator's own fee rate, or clears it (the tiers and the default apply
//! again). Sales already started keep the fee agreed then; the next Checkout uses the new rate.
//!
//! Like the admin's other forms: the form's one-time token is the audit row's request key, and
//! the row (`marketplace.fee_changed`, actor, IP, before/after) is written in the same
//! transaction as the change, so a double submit is one change and one row.

use anyhow::Context;
use serde_json::json;

use crate::domain::marketplace::FeeRate;
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::marketplace::creators;
use crate::server::stripe::idempotency::check_form_token;
use crate::server::{db, state::AppState};

/// What the fee form's `percent` says: a rate (`7.5`, `10%`), or nothing to clear the override.
pub fn parse_override(percent: &str) -> Result<Option<FeeRate>, FormError> {
    let percent = percent.trim();
    if percent.is_empty() {
        return Ok(None);
    }
    FeeRate::parse_percent(percent)
        .map(Some)
        .map_err(|why| refused(format!("The fee was not changed: {why}. Enter a percentage from 0 to 100, like 7.5.")))
}

/// How the audit log records a creator's own rate.
fn standing(rate: Option<FeeRate>) -> String {
    match rate {
        Some(rate) => json!({ "fee_bps": rate.bps(), "fee": rate.to_string() }),
        None => json!({ "fee_bps": null, "fee": "tiers and default" }),
    }
    .to_string()
}

/// Sets (or, with an empty `percent`, clears) the rate of the creator who is user `creator_id`.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    creator_id: i64,
    percent: &str,
    token: &str,
) -> Result<Next, FormError> {
    check_form_token(token)?;
    let rate = parse_override(percent)?;
    let pool = state.db.pool();
    let key = format!("admin-fee-{token}");
    let already = || Ok(Next::Back("This fee change was already made.".into()));
    if audit::request_done(pool, &key).await? {
        return already();
    }
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    let Some(creator) = creators::of_user(&mut *tx, creator_id).await? else {
        return Err(refused("There is no such creator."));
    };
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(creator_id)
        .fetch_one(&mut *tx)
        .await
        .context("reading the creator's email")?;
    if creator.fee_rate == rate {
        return Ok(Next::Back(format!("Nothing changed: {}.", words(&email, rate))));
    }
    let subject_id = creator_id.to_string();
    let (before, after) = (standing(creator.fee_rate), standing(rate));
    let record = Record {
        action: "marketplace.fee_changed",
        subject_type: "creator",
        subject_id: &subject_id,
        customer_id: None,
        before: Some(&before),
        after: Some(&after),
    };
    let now = db::now();
    // A concurrent double submit finds the row already there: the first submit made the change.
    if !audit::write_once(&mut tx, actor, record, &key, now).await? {
        return already();
    }
    sqlx::query("UPDATE creators SET fee_bps = $1, updated_at = $2 WHERE user_id = $3")
        .bind(rate.map(|r| i64::from(r.bps())))
        .bind(now)
        .bind(creator_id)
        .execute(&mut *tx)
        .await
        .context("setting the creator's fee")?;
    tx.commit().await.context("committing the fee change")?;
    Ok(Next::Back(format!("{}.", words(&email, rate))))
}

fn words(email: &str, rate: Option<FeeRate>) -> String {
    match rate {
        Some(rate) => format!("{email} pays a fee of {rate} on their next sales"),
        None => format!("{email} pays the tier or default fee"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(percent: &str) -> String {
        match parse_override(percent) {
            Err(FormError::Refused(message)) => message,
            other => panic!("{percent:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn the_override_is_a_percentage_or_nothing() {
        assert_eq!(parse_override("7.5").unwrap(), Some(FeeRate::from_bps(750).unwrap()));
        assert_eq!(parse_override(" 12% ").unwrap(), Some(FeeRate::from_bps(1200).unwrap()));
        assert_eq!(parse_override("  ").unwrap(), None, "empty clears the override");
        assert_eq!(
            refusal("101"),
            r#"The fee was not changed: "101" is more than 100%. Enter a percentage from 0 to 100, like 7.5."#
        );
        assert!(refusal("-1").contains(r#""-1" is below 0%"#));
        assert!(refusal("abc").contains(r#""abc" is not a percentage like 10 or 7.5"#));
    }
}
