//! 3-D Secure for PaymentIntents and SetupIntents: the `next_action` that sends the customer to
//! the challenge page (`/3ds/{id}`), and the `return_url` they come back to.

use serde_json::{json, Value};

use crate::store::{public, Ctx};

/// What a confirmation asked for, kept on the intent until the challenge is answered: the
/// `return_url` (the challenge redirects there), and whether Stripe.js confirmed it without
/// one (then Stripe answers `use_stripe_sdk` and Stripe.js shows the challenge in a frame).
pub fn remember_confirmation(ctx: &mut Ctx, kind: &str, id: &str, return_url: Option<&str>, stripe_js: bool) {
    if let Some(intent) = ctx.get_mut(kind, id) {
        intent["_sb_return_url"] = json!(return_url);
        intent["_sb_stripe_js"] = json!(stripe_js && return_url.is_none());
    }
}

/// The `next_action` of an intent that needs 3-D Secure.
pub fn next_action(ctx: &Ctx, intent: &Value) -> Value {
    let url = format!("{}/3ds/{}", ctx.base_url, intent["id"].as_str().unwrap_or_default());
    if intent["_sb_stripe_js"] == true {
        return json!({
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url, "source": null},
        });
    }
    json!({
        "type": "redirect_to_url",
        "redirect_to_url": {"return_url": intent["_sb_return_url"], "url": url},
    })
}

/// An intent whose customer failed 3-D Secure: back to `requires_payment_method`, its
/// `last_payment_error` / `last_setup_error` (`error_field`) saying why with Stripe's `code` and
/// message, the failed card shown there and taken off the intent.
pub fn record_failure(ctx: &Ctx, intent: &mut Value, error_field: &str, code: &str, message: &str) {
    let payment_method = intent["payment_method"]
        .as_str()
        .and_then(|id| ctx.get("payment_method", id))
        .map(public)
        .unwrap_or(Value::Null);
    intent["status"] = json!("requires_payment_method");
    intent["next_action"] = Value::Null;
    intent["payment_method"] = Value::Null;
    intent[error_field] = json!({
        "type": "invalid_request_error",
        "code": code,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
        "message": message,
        "payment_method": payment_method,
    });
}

/// Stripe's `redirect_status` for an intent's status after a redirect.
pub fn redirect_status(intent: &Value) -> &'static str {
    match intent["status"].as_str().unwrap_or_default() {
        "succeeded" => "succeeded",
        "processing" => "processing",
        "requires_action" => "requires_action",
        _ => "failed",
    }
}

/// `url` with the query parameters Stripe adds when it sends the customer back:
/// `payment_intent`, `payment_intent_client_secret` (or `setup_intent…`) and `redirect_status`,
/// after any query the URL has and before its fragment.
pub fn return_url_with(url: &str, intent: &Value) -> String {
    let kind = intent["object"].as_str().unwrap_or("payment_intent");
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(kind, intent["id"].as_str().unwrap_or_default())
        .append_pair(&format!("{kind}_client_secret"), intent["client_secret"].as_str().unwrap_or_default())
        .append_pair("redirect_status", redirect_status(intent))
        .finish();
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, format!("#{fragment}")),
        None => (url, String::new()),
    };
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{separator}{query}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_url_keeps_its_query_and_fragment() {
        let intent =
            json!({"object": "payment_intent", "id": "pi_1", "client_secret": "pi_1_secret_x", "status": "succeeded"});
        assert_eq!(
            return_url_with("https://shop.test/done?order=7#top", &intent),
            "https://shop.test/done?order=7&payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_x&redirect_status=succeeded#top"
        );
        let setup = json!({"object": "setup_intent", "id": "seti_1", "client_secret": "s", "status": "requires_payment_method"});
        assert_eq!(
            return_url_with("https://shop.test/card", &setup),
            "https://shop.test/card?setup_intent=seti_1&setup_intent_client_secret=s&redirect_status=failed"
        );
    }
}
