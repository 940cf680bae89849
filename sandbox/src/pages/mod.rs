//! Hosted pages a person uses in a browser: Checkout, 3-D Secure, Customer Portal, invoices
//! (and `/v3/`, the Stripe.js stand-in). Plain HTML forms, no JavaScript; labels and button names
//! follow Stripe's. State changes go through the engine, as API calls do.

mod branding;
mod checkout;
mod connect;
mod invoice;
mod layout;
mod portal;
mod stripe_js;
mod three_ds;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use crate::app::App;
use crate::cards;
use crate::store::Ctx;
use crate::util::ymd;
use layout::{escape, not_found};

pub use invoice::pdf_document;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .merge(branding::routes())
        .merge(checkout::routes())
        .merge(connect::routes())
        .merge(three_ds::routes())
        .merge(portal::routes())
        .merge(invoice::routes())
        .merge(stripe_js::routes())
}

/// The account holding an object (hosted pages have no Stripe-Account header).
fn account_of(app: &App, kind: &str, id: &str) -> Option<String> {
    let state = app.state.lock();
    state
        .accounts
        .iter()
        .find(|(_, a)| a.collections.get(kind).is_some_and(|c| c.map.contains_key(id)))
        .map(|(k, _)| k.clone())
}

/// Runs `handle` on the stored object `kind`/`id` in its account, or answers the "not found"
/// page with `missing`.
fn with_object(
    app: &App,
    headers: &HeaderMap,
    (kind, id): (&str, &str),
    missing: &str,
    handle: impl FnOnce(&mut Ctx, Value) -> Response,
) -> Response {
    let Some(account) = account_of(app, kind, id) else { return not_found(missing) };
    let base = base(app, headers);
    app.with_ctx(&account, &base, |ctx| match ctx.get(kind, id).cloned() {
        Some(object) => handle(ctx, object),
        None => not_found(missing),
    })
}

/// The base URL for links the engine writes (invoice URLs…).
fn base(app: &App, headers: &HeaderMap) -> String {
    app.base_url(headers)
}

fn card_fields(error: Option<&str>) -> String {
    let alert = error.map(|e| format!("<p role=\"alert\" id=\"card-error\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "{alert}<label for=\"card_number\">Card number</label><input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\" placeholder=\"1234 1234 1234 1234\" required>\
<label for=\"expiry\">Expiry</label><input id=\"expiry\" name=\"expiry\" autocomplete=\"cc-exp\" placeholder=\"MM / YY\" required>\
<label for=\"cvc\">CVC</label><input id=\"cvc\" name=\"cvc\" inputmode=\"numeric\" autocomplete=\"cc-csc\" placeholder=\"CVC\" required>"
    )
}

/// Parses the card form; returns (card, exp_month, exp_year) or a message to show.
fn parse_card(form: &HashMap<String, String>, now: i64) -> Result<(cards::TestCard, i64, i64), String> {
    let number = form.get("card_number").map(String::as_str).unwrap_or("");
    let card = cards::by_number(number).ok_or_else(|| "Your card number is incorrect.".to_string())?;
    let expiry: String = form
        .get("expiry")
        .map(String::as_str)
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '/')
        .collect();
    let (month_text, year_text) =
        expiry.split_once('/').ok_or_else(|| "Your card's expiration date is incomplete.".to_string())?;
    let month: i64 = month_text.parse().map_err(|_| "Your card's expiration date is incomplete.".to_string())?;
    let mut year: i64 = year_text.parse().map_err(|_| "Your card's expiration year is invalid.".to_string())?;
    if year < 100 {
        year += 2000;
    }
    if !(1..=12).contains(&month) {
        return Err("Your card's expiration month is invalid.".into());
    }
    let this_year: i64 = ymd(now)[..4].parse().unwrap_or(2026);
    let this_month: i64 = ymd(now)[5..7].parse().unwrap_or(1);
    if year < this_year || (year == this_year && month < this_month) {
        return Err("Your card's expiration date is in the past.".into());
    }
    let cvc = form.get("cvc").map(String::as_str).unwrap_or("");
    if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
        return Err("Your card's security code is incomplete.".into());
    }
    Ok((card, month, year))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_form_parsing() {
        let now = 1_780_000_000; // 2026-05
        let f = |n: &str, e: &str, c: &str| {
            HashMap::from([
                ("card_number".to_string(), n.to_string()),
                ("expiry".to_string(), e.to_string()),
                ("cvc".to_string(), c.to_string()),
            ])
        };
        let (card, m, y) = parse_card(&f("4242 4242 4242 4242", "12 / 34", "123"), now).unwrap();
        assert_eq!((card.last4.as_str(), m, y), ("4242", 12, 2034));
        assert_eq!(parse_card(&f("4242", "12/34", "123"), now).unwrap_err(), "Your card number is incorrect.");
        assert_eq!(
            parse_card(&f("4242424242424242", "01/20", "123"), now).unwrap_err(),
            "Your card's expiration date is in the past."
        );
        assert_eq!(
            parse_card(&f("4242424242424242", "12/34", "1"), now).unwrap_err(),
            "Your card's security code is incomplete."
        );
    }
}
