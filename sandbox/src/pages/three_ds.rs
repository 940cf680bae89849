//! 3-D Secure test pages: the challenge shown by Checkout, and `/3ds/{payment_intent}` for a payment
//! intent in `requires_action` (`next_action.redirect_to_url`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};

use super::layout::{escape, not_found, page};
use super::{account_of, with_object};
use crate::app::App;
use crate::engine::{invoice_payments, pay};

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/3ds/{payment_intent}", get(payment_intent_3ds_page).post(payment_intent_3ds_submit))
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

/// 3-D Secure for a payment intent in `requires_action` (`next_action.redirect_to_url`).
async fn payment_intent_3ds_page(AxState(app): AxState<Arc<App>>, Path(payment_intent): Path<String>) -> Response {
    if account_of(&app, "payment_intent", &payment_intent).is_none() {
        return not_found("No such PaymentIntent.");
    }
    page(StatusCode::OK, "3D Secure", &three_ds_html(&format!("/3ds/{payment_intent}")))
}

async fn payment_intent_3ds_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(payment_intent_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(
        &app,
        &headers,
        ("payment_intent", &payment_intent_id),
        "No such PaymentIntent.",
        |ctx, payment_intent| {
            if form.get("action").map(String::as_str) != Some("complete") {
                if let Err(e) = pay::fail_authentication(ctx, &payment_intent_id) {
                    return page(
                        StatusCode::BAD_REQUEST,
                        "3D Secure",
                        &format!("<p role=\"alert\">{}</p>", escape(&e.message)),
                    );
                }
                return page(
                    StatusCode::PAYMENT_REQUIRED,
                    "3D Secure",
                    &format!("<h1>Authentication failed</h1><p role=\"alert\">{AUTH_FAILED}</p>"),
                );
            }
            let invoice = ctx
                .all("invoice")
                .into_iter()
                .find(|i| i["_sb_pi"] == payment_intent_id.as_str())
                .map(|i| i["id"].as_str().unwrap_or_default().to_string());
            let result = match &invoice {
                Some(invoice_id) => invoice_payments::attempt_payment(
                    ctx,
                    invoice_id,
                    payment_intent["payment_method"].as_str(),
                    false,
                    true,
                )
                .map(|_| ()),
                None => invoice_payments::confirm_intent(ctx, &payment_intent_id, None, false, true).map(|_| ()),
            };
            match result {
                Ok(()) => {
                    if let Some(invoice_id) = invoice {
                        return Redirect::to(&format!("/invoice/{invoice_id}")).into_response();
                    }
                    page(StatusCode::OK, "3D Secure", "<h1>Authentication complete</h1><p>Your payment succeeded.</p>")
                }
                Err(e) => page(
                    StatusCode::PAYMENT_REQUIRED,
                    "3D Secure",
                    &format!("<h1>Payment failed</h1><p role=\"alert\">{}</p>", escape(&e.message)),
                ),
            }
        },
    )
}
