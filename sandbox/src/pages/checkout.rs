//! The hosted Checkout page (`/checkout/{id}`) and its 3-D Secure step.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::Value;

use super::layout::{escape, not_found, page};
use super::three_ds::{three_ds_html, AUTH_FAILED};
use super::{account_of, card_fields, parse_card, with_object};
use crate::app::App;
use crate::engine::checkout::{self, Completion};
use crate::engine::payment_methods;
use crate::store::Ctx;
use crate::util::money;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/checkout/{id}", get(checkout_page).post(checkout_submit))
        .route("/checkout/{id}/authenticate", get(checkout_3ds_page).post(checkout_3ds_submit))
}

fn submit_label(session: &Value) -> &'static str {
    if session["mode"] == "subscription" {
        if session["_sb_trial_days"].as_i64().is_some_and(|d| d > 0) || session["_sb_trial_end"].is_i64() {
            "Start trial"
        } else {
            "Subscribe"
        }
    } else if session["mode"] == "setup" {
        "Save card"
    } else {
        "Pay"
    }
}

fn checkout_html(session: &Value, error: Option<&str>) -> String {
    let id = session["id"].as_str().unwrap_or_default();
    let currency = session["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    let mut adjustable = false;
    for item in session["_sb_items"].as_array().cloned().unwrap_or_default() {
        let interval = item["price"]["recurring"]["interval"].as_str().map(|i| format!(" / {i}")).unwrap_or_default();
        let interval = if item["quantity"].is_null() { format!("{interval}, billed for usage") } else { interval };
        let quantity = quantity_cell(&item);
        adjustable |= item["adjustable_quantity"]["enabled"] == true;
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{quantity}</td><td>{}{}</td></tr>",
            escape(item["description"].as_str().unwrap_or_default()),
            money(item["amount_total"].as_i64().unwrap_or(0), currency),
            interval
        ));
    }
    let trial = session["_sb_trial_days"]
        .as_i64()
        .filter(|d| *d > 0)
        .map(|d| format!("<p>{d}-day free trial</p>"))
        .unwrap_or_default();
    let email_field = if session["customer"].is_null() {
        let value = session["customer_email"].as_str().unwrap_or_default();
        format!("<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"{}\" required>", escape(value))
    } else {
        String::new()
    };
    let cancel = session["cancel_url"]
        .as_str()
        .map(|u| format!("<p><a href=\"{}\">Back</a></p>", escape(u)))
        .unwrap_or_default();
    let promo = if session["allow_promotion_codes"] == true {
        "<label for=\"promotion_code\">Promotion code</label><input id=\"promotion_code\" name=\"promotion_code\" autocomplete=\"off\">"
    } else {
        ""
    };
    // Without JavaScript the buyer updates the total with this button (no card needed for it).
    let update = if adjustable {
        "<button type=\"submit\" form=\"checkout\" name=\"action\" value=\"update\" formnovalidate>Update quantity</button>"
    } else {
        ""
    };
    format!(
        "{}{cancel}<h1>Checkout</h1>{trial}<table aria-label=\"Order summary\"><thead><tr><th>Item</th><th>Qty</th><th>Price</th></tr></thead><tbody>{rows}</tbody></table>{update}\
<p><strong>Total due today: {}</strong></p>\
<form id=\"checkout\" method=\"post\" action=\"/checkout/{id}{}\">{email_field}{promo}{}<button type=\"submit\">{}</button></form>\
<p class=\"muted\">Test mode: use 4242 4242 4242 4242, any future expiry and any CVC.</p>",
        branding(session),
        money(if trial.is_empty() { session["amount_total"].as_i64().unwrap_or(0) } else { 0 }, currency),
        escape(&embedded_query(session)),
        payment_fields(session, error),
        submit_label(session)
    )
}

/// The card fields, unless the session collects no payment method (a card-less trial): then
/// only the error, if any, and a line saying no card is needed, as Stripe's page says.
fn payment_fields(session: &Value, error: Option<&str>) -> String {
    if checkout::collects_payment_method(session) {
        return card_fields(error);
    }
    let alert = error.map(|e| format!("<p role=\"alert\" id=\"card-error\">{}</p>", escape(e))).unwrap_or_default();
    format!("{alert}<p class=\"muted\">No payment method is needed today.</p>")
}

/// The seller's `branding_settings` (display name, logo, button colour), as Stripe's page shows
/// them above the order; nothing when the session has none.
fn branding(session: &Value) -> String {
    let settings = &session["branding_settings"];
    if !settings.is_object() {
        return String::new();
    }
    let logo = settings["logo"]["url"]
        .as_str()
        .map(|url| format!("<img src=\"{}\" alt=\"\" height=\"32\"> ", escape(url)))
        .unwrap_or_default();
    let name = escape(settings["display_name"].as_str().unwrap_or_default());
    // The colour was checked to be #rrggbb when the session was made.
    let button = escape(settings["button_color"].as_str().unwrap_or("#0074d4"));
    format!("<style>button{{background:{button}}}</style><p class=\"seller\">{logo}<strong>{name}</strong></p>")
}

/// The quantity, or for an adjustable item a number field (in the payment form) within its bounds.
fn quantity_cell(item: &Value) -> String {
    let bounds = &item["adjustable_quantity"];
    if item["quantity"].is_null() {
        // A metered price: what it bills is counted from usage after the period.
        return "Usage-based".to_string();
    }
    if bounds["enabled"] != true {
        return item["quantity"].to_string();
    }
    let id = escape(item["id"].as_str().unwrap_or_default());
    format!(
        "<input form=\"checkout\" type=\"number\" name=\"quantity_{id}\" aria-label=\"Quantity of {}\" min=\"{}\" max=\"{}\" value=\"{}\" required>",
        escape(item["description"].as_str().unwrap_or_default()),
        bounds["minimum"],
        bounds["maximum"],
        item["quantity"]
    )
}

/// The quantities the page posted (`quantity_<line item id>`); one not a number is refused.
fn posted_quantities(form: &HashMap<String, String>) -> Result<Vec<(String, i64)>, String> {
    form.iter()
        .filter_map(|(name, value)| name.strip_prefix("quantity_").map(|id| (id, value)))
        .map(|(id, value)| {
            value
                .trim()
                .parse::<i64>()
                .map(|n| (id.to_string(), n))
                .map_err(|_| "Enter a whole number of items.".to_string())
        })
        .collect()
}

fn success_redirect(session: &Value) -> Response {
    let id = session["id"].as_str().unwrap_or_default();
    let url = session["success_url"]
        .as_str()
        .or_else(|| session["return_url"].as_str())
        .unwrap_or("/")
        .replace("{CHECKOUT_SESSION_ID}", id);
    if is_embedded(session) {
        return embedded_done(session, &url);
    }
    Redirect::to(&url).into_response()
}

/// A session shown in Stripe.js's frame (`ui_mode=embedded_page`) rather than at its own `url`.
fn is_embedded(session: &Value) -> bool {
    session["ui_mode"] != "hosted_page"
}

/// `?client_secret=…` for an embedded session's links: its page has no public `url`, only what
/// `initEmbeddedCheckout` opens with the session's `client_secret`.
fn embedded_query(session: &Value) -> String {
    if !is_embedded(session) {
        return String::new();
    }
    let secret = session["client_secret"].as_str().unwrap_or_default();
    format!("?{}", form_urlencoded::Serializer::new(String::new()).append_pair("client_secret", secret).finish())
}

/// An embedded session's page opens only with the session's `client_secret`.
fn embedded_allowed(session: &Value, query: &HashMap<String, String>) -> bool {
    !is_embedded(session) || query.get("client_secret").is_some_and(|given| session["client_secret"] == given.as_str())
}

/// Embedded Checkout completed: the frame asks Stripe.js (in the page around it) to take the
/// whole window to `return_url` (a frame of another origin may not navigate the top window
/// itself); with `redirect_on_completion=never` it only says so.
fn embedded_done(session: &Value, url: &str) -> Response {
    let redirect = session["redirect_on_completion"] != "never" && session["return_url"].is_string();
    let message = serde_json::json!({
        "type": "stripe-sandbox:checkout-complete",
        "session": session["id"],
        "return_url": if redirect { serde_json::json!(url) } else { Value::Null },
    });
    let link = if redirect {
        format!("<p><a href=\"{}\" target=\"_top\">Continue</a></p>", escape(url))
    } else {
        String::new()
    };
    let script =
        format!("<script>window.parent.postMessage({}, '*');</script>", message.to_string().replace('<', "\\u003c"));
    page(
        StatusCode::OK,
        "Checkout",
        &format!("<h1>Thanks for your order</h1><p>Your payment is complete.</p>{link}{script}"),
    )
}

fn closed_page(session: &Value) -> Response {
    let status = session["status"].as_str().unwrap_or_default();
    let link = if status == "complete" {
        session["success_url"]
            .as_str()
            .map(|u| {
                format!(
                    "<p><a href=\"{}\">Continue</a></p>",
                    escape(&u.replace("{CHECKOUT_SESSION_ID}", session["id"].as_str().unwrap_or_default()))
                )
            })
            .unwrap_or_default()
    } else {
        String::new()
    };
    let msg = if status == "complete" {
        "This Checkout Session is already complete."
    } else {
        "This Checkout Session has expired."
    };
    page(StatusCode::OK, "Checkout", &format!("<h1>Checkout</h1><p>{msg}</p>{link}"))
}

async fn checkout_page(
    AxState(app): AxState<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(account) = account_of(&app, "checkout.session", &id) else {
        return not_found("No such Checkout Session.");
    };
    let session = app.with_ctx(&account, "", |ctx| ctx.get("checkout.session", &id).cloned());
    let Some(session) = session.filter(|session| embedded_allowed(session, &query)) else {
        return not_found("No such Checkout Session.");
    };
    if session["status"] != "open" {
        return closed_page(&session);
    }
    page(StatusCode::OK, "Checkout", &checkout_html(&session, None))
}

async fn checkout_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("checkout.session", &id), "No such Checkout Session.", |ctx, session| {
        if !embedded_allowed(&session, &query) {
            return not_found("No such Checkout Session.");
        }
        if session["status"] != "open" {
            return closed_page(&session);
        }
        // The code typed with the quantities counts for the new total (and for the payment).
        let code = form.get("promotion_code").map(|c| c.trim().to_string()).unwrap_or_default();
        checkout::enter_promotion_code(ctx, &id, &code);
        let quantities = posted_quantities(&form)
            .and_then(|quantities| checkout::set_quantities(ctx, &id, &quantities).map_err(|e| e.message));
        let session = ctx.get("checkout.session", &id).cloned().unwrap_or(session);
        if let Err(msg) = quantities {
            return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&session, Some(&msg)));
        }
        if form.get("action").map(String::as_str) == Some("update") {
            return page(StatusCode::OK, "Checkout", &checkout_html(&session, None));
        }
        let email = form.get("email").map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if session["customer"].is_null() && email.is_none() && session["customer_email"].is_null() {
            return page(
                StatusCode::BAD_REQUEST,
                "Checkout",
                &checkout_html(&session, Some("Your email is incomplete.")),
            );
        }
        if !checkout::collects_payment_method(&session) {
            return finish_checkout(ctx, &session, None, email.as_deref(), false);
        }
        let now = ctx.now();
        let (card, exp_month, exp_year) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&session, Some(&msg))),
        };
        let entered_email = email.clone().or_else(|| session["customer_email"].as_str().map(str::to_string));
        let payment_method_id =
            payment_methods::store_entered_card(ctx, &card, (exp_month, exp_year), now, entered_email.as_deref());
        finish_checkout(ctx, &session, Some(&payment_method_id), email.as_deref(), false)
    })
}

fn finish_checkout(
    ctx: &mut Ctx,
    session: &Value,
    payment_method_id: Option<&str>,
    email: Option<&str>,
    authenticated: bool,
) -> Response {
    let id = session["id"].as_str().unwrap_or_default().to_string();
    match checkout::complete_on_page(ctx, &id, payment_method_id, email, authenticated) {
        Ok(Completion::Done(done)) => success_redirect(&done),
        Ok(Completion::NeedsAuthentication) => {
            Redirect::to(&format!("/checkout/{id}/authenticate{}", embedded_query(session))).into_response()
        }
        Err(e) => {
            // A declined attempt keeps what it did (a failed charge on the payment intent, and
            // in subscription mode the customer and the incomplete subscription), as on Stripe.
            let session = ctx.get("checkout.session", &id).cloned().unwrap_or_else(|| session.clone());
            page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&session, Some(&e.message)))
        }
    }
}

async fn checkout_3ds_page(
    AxState(app): AxState<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(account) = account_of(&app, "checkout.session", &id) else {
        return not_found("No such Checkout Session.");
    };
    let session = app.with_ctx(&account, "", |ctx| ctx.get("checkout.session", &id).cloned());
    let Some(session) = session.filter(|session| embedded_allowed(session, &query)) else {
        return not_found("No such Checkout Session.");
    };
    let back = embedded_query(&session);
    if session["_sb_pending_pm"].is_string() {
        page(StatusCode::OK, "3D Secure", &three_ds_html(&escape(&format!("/checkout/{id}/authenticate{back}"))))
    } else {
        Redirect::to(&format!("/checkout/{id}{back}")).into_response()
    }
}

async fn checkout_3ds_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("checkout.session", &id), "No such Checkout Session.", |ctx, session| {
        if !embedded_allowed(&session, &query) {
            return not_found("No such Checkout Session.");
        }
        let Some((payment_method_id, email)) = checkout::take_pending_card(ctx, &id) else {
            return Redirect::to(&format!("/checkout/{id}{}", embedded_query(&session))).into_response();
        };
        if form.get("action").map(String::as_str) != Some("complete") {
            return page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&session, Some(AUTH_FAILED)));
        }
        finish_checkout(ctx, &session, Some(&payment_method_id), email.as_deref(), true)
    })
}
