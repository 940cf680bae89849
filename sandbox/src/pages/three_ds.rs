//! 3-D Secure test pages: the challenge shown by Checkout, and `/3ds/{id}` for a payment or setup
//! intent in `requires_action` (its `next_action` URL: opened by redirect, or by Stripe.js in a
//! frame). With the confirmation's `return_url` the answer redirects there with Stripe's query
//! parameters; in a frame it tells Stripe.js by `postMessage`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::Value;

use super::layout::{escape, not_found, page};
use super::{account_of, with_object};
use crate::app::App;
use crate::engine::{authentication, invoice_payments, pay, setup_intents};
use crate::error::ApiResult;
use crate::store::Ctx;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/3ds/{id}", get(intent_3ds_page).post(intent_3ds_submit))
}

pub(super) fn three_ds_html(action: &str) -> String {
    format!(
        "<h1>3D Secure 2 Test Page</h1><p>This is a test authentication page. Complete or fail the authentication.</p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"complete\"><button type=\"submit\">Complete</button></form>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"fail\"><button type=\"submit\" class=\"secondary\">Fail</button></form>"
    )
}

pub(super) const AUTH_FAILED: &str =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

/// The stored kind of the intent an id names (`pi_…` or `seti_…`), and the page for a missing one.
fn intent_kind(id: &str) -> (&'static str, &'static str) {
    if id.starts_with("seti_") {
        ("setup_intent", "No such SetupIntent.")
    } else {
        ("payment_intent", "No such PaymentIntent.")
    }
}

/// 3-D Secure for a payment or setup intent in `requires_action` (its `next_action` URL).
async fn intent_3ds_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let (kind, missing) = intent_kind(&id);
    if account_of(&app, kind, &id).is_none() {
        return not_found(missing);
    }
    page(StatusCode::OK, "3D Secure", &three_ds_html(&format!("/3ds/{id}")))
}

async fn intent_3ds_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let completed = form.get("action").map(String::as_str) == Some("complete");
    let (kind, missing) = intent_kind(&id);
    with_object(&app, &headers, (kind, &id), missing, |ctx, intent| {
        // The invoice a completed payment paid, if any: the customer goes back to it.
        let result = if kind == "setup_intent" {
            setup_intents::authenticate(ctx, &id, completed).map(|_| None)
        } else if completed {
            complete_payment(ctx, &id, &intent)
        } else {
            pay::fail_authentication(ctx, &id).map(|_| None)
        };
        let after = ctx.get(kind, &id).cloned().unwrap_or(intent);
        // A challenge reached by redirect (`return_url` given) sends the customer back, as Stripe does.
        if let Some(return_url) = after["_sb_return_url"].as_str() {
            return Redirect::to(&authentication::return_url_with(return_url, &after)).into_response();
        }
        if let Ok(Some(invoice_id)) = &result {
            return Redirect::to(&format!("/invoice/{invoice_id}")).into_response();
        }
        let (status, body) = match result {
            Ok(_) if completed => {
                (StatusCode::OK, "<h1>Authentication complete</h1><p>Your payment succeeded.</p>".to_string())
            }
            Ok(_) => (
                StatusCode::PAYMENT_REQUIRED,
                format!("<h1>Authentication failed</h1><p role=\"alert\">{AUTH_FAILED}</p>"),
            ),
            Err(e) => (
                StatusCode::PAYMENT_REQUIRED,
                format!("<h1>Payment failed</h1><p role=\"alert\">{}</p>", escape(&e.message)),
            ),
        };
        page(status, "3D Secure", &format!("{body}{}", tell_stripe_js(&id)))
    })
}

/// Completes 3-D Secure for a payment intent: the invoice it pays is paid (its id returned), or
/// the intent is confirmed.
fn complete_payment(ctx: &mut Ctx, id: &str, payment_intent: &Value) -> ApiResult<Option<String>> {
    let invoice = ctx
        .all("invoice")
        .into_iter()
        .find(|i| i["_sb_pi"] == id)
        .map(|i| i["id"].as_str().unwrap_or_default().to_string());
    match invoice {
        Some(invoice_id) => {
            invoice_payments::attempt_payment(
                ctx,
                &invoice_id,
                payment_intent["payment_method"].as_str(),
                false,
                true,
            )?;
            Ok(Some(invoice_id))
        }
        None => invoice_payments::confirm_intent(ctx, id, None, false, true).map(|_| None),
    }
}

/// In Stripe.js's challenge frame, tells the page that opened it that the challenge is answered.
fn tell_stripe_js(id: &str) -> String {
    format!(
        "<script>if (window.parent !== window) window.parent.postMessage({{type: 'stripe-sandbox:3ds-done', intent: '{}'}}, '*');</script>",
        escape(id)
    )
}
