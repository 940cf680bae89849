//! The hosted Checkout page (`/checkout/{id}`) and its 3-D Secure step.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::{json, Value};

use super::layout::{escape, not_found, page};
use super::three_ds::{three_ds_html, AUTH_FAILED};
use super::{account_of, card_fields, parse_card, with_object};
use crate::app::App;
use crate::engine::checkout::{complete, Completion};
use crate::store::Ctx;
use crate::util::money;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/checkout/{id}", get(checkout_page).post(checkout_submit))
        .route("/checkout/{id}/authenticate", get(checkout_3ds_page).post(checkout_3ds_submit))
}

fn submit_label(cs: &Value) -> &'static str {
    if cs["mode"] == "subscription" {
        if cs["_sb_trial_days"].as_i64().is_some_and(|d| d > 0) || cs["_sb_trial_end"].is_i64() {
            "Start trial"
        } else {
            "Subscribe"
        }
    } else if cs["mode"] == "setup" {
        "Save card"
    } else {
        "Pay"
    }
}

fn checkout_html(cs: &Value, error: Option<&str>) -> String {
    let id = cs["id"].as_str().unwrap_or_default();
    let currency = cs["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    for it in cs["_sb_items"].as_array().cloned().unwrap_or_default() {
        let interval = it["price"]["recurring"]["interval"].as_str().map(|i| format!(" / {i}")).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            escape(it["description"].as_str().unwrap_or_default()),
            it["quantity"],
            money(it["amount_total"].as_i64().unwrap_or(0), currency),
            interval
        ));
    }
    let trial = cs["_sb_trial_days"]
        .as_i64()
        .filter(|d| *d > 0)
        .map(|d| format!("<p>{d}-day free trial</p>"))
        .unwrap_or_default();
    let email_field = if cs["customer"].is_null() {
        let value = cs["customer_email"].as_str().unwrap_or_default();
        format!("<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"{}\" required>", escape(value))
    } else {
        String::new()
    };
    let cancel =
        cs["cancel_url"].as_str().map(|u| format!("<p><a href=\"{}\">Back</a></p>", escape(u))).unwrap_or_default();
    let promo = if cs["allow_promotion_codes"] == true {
        "<label for=\"promotion_code\">Promotion code</label><input id=\"promotion_code\" name=\"promotion_code\" autocomplete=\"off\">"
    } else {
        ""
    };
    format!(
        "{cancel}<h1>Checkout</h1>{trial}<table aria-label=\"Order summary\"><thead><tr><th>Item</th><th>Qty</th><th>Price</th></tr></thead><tbody>{rows}</tbody></table>\
<p><strong>Total due today: {}</strong></p>\
<form method=\"post\" action=\"/checkout/{id}\">{email_field}{promo}{}<button type=\"submit\">{}</button></form>\
<p class=\"muted\">Test mode: use 4242 4242 4242 4242, any future expiry and any CVC.</p>",
        money(if trial.is_empty() { cs["amount_total"].as_i64().unwrap_or(0) } else { 0 }, currency),
        card_fields(error),
        submit_label(cs)
    )
}

fn success_redirect(cs: &Value) -> Response {
    let id = cs["id"].as_str().unwrap_or_default();
    let url = cs["success_url"]
        .as_str()
        .or_else(|| cs["return_url"].as_str())
        .unwrap_or("/")
        .replace("{CHECKOUT_SESSION_ID}", id);
    Redirect::to(&url).into_response()
}

fn closed_page(cs: &Value) -> Response {
    let status = cs["status"].as_str().unwrap_or_default();
    let link = if status == "complete" {
        cs["success_url"]
            .as_str()
            .map(|u| {
                format!(
                    "<p><a href=\"{}\">Continue</a></p>",
                    escape(&u.replace("{CHECKOUT_SESSION_ID}", cs["id"].as_str().unwrap_or_default()))
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

async fn checkout_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "checkout.session", &id) else {
        return not_found("No such Checkout Session.");
    };
    let cs = app.with_ctx(&account, "", |ctx| ctx.get("checkout.session", &id).cloned());
    let Some(cs) = cs else { return not_found("No such Checkout Session.") };
    if cs["status"] != "open" {
        return closed_page(&cs);
    }
    page(StatusCode::OK, "Checkout", &checkout_html(&cs, None))
}

async fn checkout_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("checkout.session", &id), "No such Checkout Session.", |ctx, cs| {
        if cs["status"] != "open" {
            return closed_page(&cs);
        }
        let email = form.get("email").map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if cs["customer"].is_null() && email.is_none() && cs["customer_email"].is_null() {
            return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&cs, Some("Your email is incomplete.")));
        }
        let now = ctx.now();
        let (card, m, y) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&cs, Some(&msg))),
        };
        let mut pm = crate::objects::card_payment_method(&card, m, y, now);
        pm["billing_details"]["email"] =
            json!(email.clone().or_else(|| cs["customer_email"].as_str().map(str::to_string)));
        let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
        ctx.put("payment_method", pm);
        let code = form.get("promotion_code").map(|c| c.trim().to_string()).unwrap_or_default();
        if let Some(s) = ctx.get_mut("checkout.session", &id) {
            s["_sb_entered_code"] = json!(code);
        }
        finish_checkout(ctx, &cs, &pm_id, email.as_deref(), false)
    })
}

fn finish_checkout(ctx: &mut Ctx, cs: &Value, pm_id: &str, email: Option<&str>, authenticated: bool) -> Response {
    let id = cs["id"].as_str().unwrap_or_default().to_string();
    let mark = ctx.events.len();
    match complete(ctx, &id, pm_id, email, authenticated) {
        Ok(Completion::Done(done)) => success_redirect(&done),
        Ok(Completion::NeedsAuthentication) => {
            ctx.events.truncate(mark);
            if let Some(s) = ctx.get_mut("checkout.session", &id) {
                s["_sb_pending_pm"] = json!(pm_id);
                s["_sb_pending_email"] = json!(email);
            }
            Redirect::to(&format!("/checkout/{id}/authenticate")).into_response()
        }
        Err(e) => {
            // A declined attempt keeps what it did (a failed charge on the payment intent, and
            // in subscription mode the customer and the incomplete subscription), as on Stripe.
            let cs = ctx.get("checkout.session", &id).cloned().unwrap_or_else(|| cs.clone());
            page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&cs, Some(&e.message)))
        }
    }
}

async fn checkout_3ds_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(account) = account_of(&app, "checkout.session", &id) else {
        return not_found("No such Checkout Session.");
    };
    let pending =
        app.with_ctx(&account, "", |ctx| ctx.get("checkout.session", &id).map(|c| c["_sb_pending_pm"].is_string()));
    match pending {
        Some(true) => page(StatusCode::OK, "3D Secure", &three_ds_html(&format!("/checkout/{id}/authenticate"))),
        Some(false) => Redirect::to(&format!("/checkout/{id}")).into_response(),
        None => not_found("No such Checkout Session."),
    }
}

async fn checkout_3ds_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_object(&app, &headers, ("checkout.session", &id), "No such Checkout Session.", |ctx, mut cs| {
        let Some(pm) = cs["_sb_pending_pm"].as_str().map(str::to_string) else {
            return Redirect::to(&format!("/checkout/{id}")).into_response();
        };
        let email = cs["_sb_pending_email"].as_str().map(str::to_string);
        cs["_sb_pending_pm"] = Value::Null;
        ctx.put("checkout.session", cs.clone());
        if form.get("action").map(String::as_str) != Some("complete") {
            return page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&cs, Some(AUTH_FAILED)));
        }
        finish_checkout(ctx, &cs, &pm, email.as_deref(), true)
    })
}
