//! Hosted pages a person uses in a browser: Checkout, 3-D Secure, Customer Portal, invoices.
//! Plain HTML forms, no JavaScript; labels and button names follow Stripe's.

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json, Value};
use std::collections::HashMap;

use crate::api::checkout::{self, Completion};
use crate::app::App;
use crate::cards;
use crate::error::ApiError;
use crate::state::{Ctx, PLATFORM};
use crate::util::{html_escape as esc, money, ymd};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/checkout/{id}", get(checkout_page).post(checkout_submit))
        .route("/checkout/{id}/authenticate", get(checkout_3ds_page).post(checkout_3ds_submit))
        .route("/3ds/{pi}", get(pi_3ds_page).post(pi_3ds_submit))
        .route("/portal/{id}", get(portal_page))
        .route("/portal/{id}/subscriptions/{sub}/cancel", post(portal_cancel))
        .route("/portal/{id}/subscriptions/{sub}/renew", post(portal_renew))
        .route("/portal/{id}/subscriptions/{sub}/update", post(portal_update))
        .route("/portal/{id}/payment_method", post(portal_payment_method))
        .route("/invoice/{id}", get(invoice_page).post(invoice_pay))
        .route("/invoice/{id}/pdf", get(invoice_pdf))
        .route("/receipts/{id}", get(receipt_page))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input,select{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box}\
button{margin-top:1rem;font-size:1rem;padding:.6rem 1.2rem;background:#635bff;color:#fff;border:0;border-radius:6px;cursor:pointer}\
button.secondary{background:#e3e8ee;color:#1a1f36}[role=alert]{background:#fde8e8;color:#8a1c1c;padding:.75rem;border-radius:6px}\
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem;border-bottom:1px solid #e3e8ee}.muted{color:#697386}\
section{margin:1.5rem 0;padding:1rem;border:1px solid #e3e8ee;border-radius:8px}";

fn layout(title: &str, body: &str) -> String {
    format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>", esc(title))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(layout(title, body))).into_response()
}

fn not_found(what: &str) -> Response {
    page(StatusCode::NOT_FOUND, "Not found", &format!("<h1>Not found</h1><p>{}</p>", esc(what)))
}

/// The account holding an object (hosted pages have no Stripe-Account header).
fn account_of(app: &App, kind: &str, id: &str) -> Option<String> {
    let st = app.state.lock();
    st.accounts
        .iter()
        .find(|(_, a)| a.collections.get(kind).is_some_and(|c| c.map.contains_key(id)))
        .map(|(k, _)| k.clone())
}

fn base(app: &App, headers: &HeaderMap) -> String {
    app.base_url(headers)
}

fn card_fields(error: Option<&str>) -> String {
    let alert = error.map(|e| format!("<p role=\"alert\" id=\"card-error\">{}</p>", esc(e))).unwrap_or_default();
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
    let (m, y) = expiry.split_once('/').ok_or_else(|| "Your card's expiration date is incomplete.".to_string())?;
    let month: i64 = m.parse().map_err(|_| "Your card's expiration date is incomplete.".to_string())?;
    let mut year: i64 = y.parse().map_err(|_| "Your card's expiration year is invalid.".to_string())?;
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

// ---------------------------------------------------------------------------------------------
// Checkout

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
            esc(it["description"].as_str().unwrap_or_default()),
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
        format!("<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"{}\" required>", esc(value))
    } else {
        String::new()
    };
    let cancel =
        cs["cancel_url"].as_str().map(|u| format!("<p><a href=\"{}\">Back</a></p>", esc(u))).unwrap_or_default();
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
                    esc(&u.replace("{CHECKOUT_SESSION_ID}", cs["id"].as_str().unwrap_or_default()))
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
    let Some(acct) = account_of(&app, "checkout.session", &id) else { return not_found("No such Checkout Session.") };
    let cs = app.with_ctx(&acct, "", |cx| cx.get("checkout.session", &id).cloned());
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
    let Some(acct) = account_of(&app, "checkout.session", &id) else { return not_found("No such Checkout Session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let Some(cs) = cx.get("checkout.session", &id).cloned() else { return not_found("No such Checkout Session.") };
        if cs["status"] != "open" {
            return closed_page(&cs);
        }
        let email = form.get("email").map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if cs["customer"].is_null() && email.is_none() && cs["customer_email"].is_null() {
            return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&cs, Some("Your email is incomplete.")));
        }
        let now = cx.now();
        let (card, m, y) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => return page(StatusCode::BAD_REQUEST, "Checkout", &checkout_html(&cs, Some(&msg))),
        };
        let mut pm = crate::objects::card_pm(&card, m, y, now);
        pm["billing_details"]["email"] =
            json!(email.clone().or_else(|| cs["customer_email"].as_str().map(str::to_string)));
        let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
        cx.put("payment_method", pm);
        let code = form.get("promotion_code").map(|c| c.trim().to_string()).unwrap_or_default();
        if let Some(s) = cx.get_mut("checkout.session", &id) {
            s["_sb_entered_code"] = json!(code);
        }
        finish_checkout(cx, &cs, &pm_id, email.as_deref(), false)
    })
}

fn finish_checkout(cx: &mut Ctx, cs: &Value, pm_id: &str, email: Option<&str>, authenticated: bool) -> Response {
    let id = cs["id"].as_str().unwrap_or_default().to_string();
    let mark = cx.events.len();
    match checkout::complete(cx, &id, pm_id, email, authenticated) {
        Ok(Completion::Done(done)) => success_redirect(&done),
        Ok(Completion::NeedsAuthentication) => {
            cx.events.truncate(mark);
            if let Some(s) = cx.get_mut("checkout.session", &id) {
                s["_sb_pending_pm"] = json!(pm_id);
                s["_sb_pending_email"] = json!(email);
            }
            Redirect::to(&format!("/checkout/{id}/authenticate")).into_response()
        }
        Err(e) => {
            // A declined attempt keeps what it did (a failed charge on the payment intent, and
            // in subscription mode the customer and the incomplete subscription), as on Stripe.
            let cs = cx.get("checkout.session", &id).cloned().unwrap_or_else(|| cs.clone());
            page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&cs, Some(&e.message)))
        }
    }
}

fn three_ds_html(action: &str) -> String {
    format!(
        "<h1>3D Secure 2 Test Page</h1><p>This is a test authentication page. Complete or fail the authentication.</p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"complete\"><button type=\"submit\">Complete</button></form>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"action\" value=\"fail\"><button type=\"submit\" class=\"secondary\">Fail</button></form>"
    )
}

const AUTH_FAILED: &str =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";

async fn checkout_3ds_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(acct) = account_of(&app, "checkout.session", &id) else { return not_found("No such Checkout Session.") };
    let pending =
        app.with_ctx(&acct, "", |cx| cx.get("checkout.session", &id).map(|c| c["_sb_pending_pm"].is_string()));
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
    let Some(acct) = account_of(&app, "checkout.session", &id) else { return not_found("No such Checkout Session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let Some(mut cs) = cx.get("checkout.session", &id).cloned() else {
            return not_found("No such Checkout Session.");
        };
        let Some(pm) = cs["_sb_pending_pm"].as_str().map(str::to_string) else {
            return Redirect::to(&format!("/checkout/{id}")).into_response();
        };
        let email = cs["_sb_pending_email"].as_str().map(str::to_string);
        cs["_sb_pending_pm"] = Value::Null;
        cx.put("checkout.session", cs.clone());
        if form.get("action").map(String::as_str) != Some("complete") {
            return page(StatusCode::PAYMENT_REQUIRED, "Checkout", &checkout_html(&cs, Some(AUTH_FAILED)));
        }
        finish_checkout(cx, &cs, &pm, email.as_deref(), true)
    })
}

/// 3-D Secure for a payment intent in `requires_action` (`next_action.redirect_to_url`).
async fn pi_3ds_page(AxState(app): AxState<Arc<App>>, Path(pi): Path<String>) -> Response {
    if account_of(&app, "payment_intent", &pi).is_none() {
        return not_found("No such PaymentIntent.");
    }
    page(StatusCode::OK, "3D Secure", &three_ds_html(&format!("/3ds/{pi}")))
}

async fn pi_3ds_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(pi_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(acct) = account_of(&app, "payment_intent", &pi_id) else { return not_found("No such PaymentIntent.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let Some(pi) = cx.get("payment_intent", &pi_id).cloned() else { return not_found("No such PaymentIntent.") };
        if form.get("action").map(String::as_str) != Some("complete") {
            return page(
                StatusCode::PAYMENT_REQUIRED,
                "3D Secure",
                &format!("<h1>Authentication failed</h1><p role=\"alert\">{AUTH_FAILED}</p>"),
            );
        }
        let invoice = cx
            .all("invoice")
            .into_iter()
            .find(|i| i["_sb_pi"] == pi_id.as_str())
            .map(|i| i["id"].as_str().unwrap_or_default().to_string());
        let result = match &invoice {
            Some(inv) => {
                crate::engine::billing::attempt_payment(cx, inv, pi["payment_method"].as_str(), false, true).map(|_| ())
            }
            None => crate::engine::pay::confirm(cx, &pi_id, None, false, true).map(|_| ()),
        };
        match result {
            Ok(()) => {
                if let Some(inv) = invoice {
                    return Redirect::to(&format!("/invoice/{inv}")).into_response();
                }
                page(StatusCode::OK, "3D Secure", "<h1>Authentication complete</h1><p>Your payment succeeded.</p>")
            }
            Err(e) => page(
                StatusCode::PAYMENT_REQUIRED,
                "3D Secure",
                &format!("<h1>Payment failed</h1><p role=\"alert\">{}</p>", esc(&e.message)),
            ),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Customer portal

fn price_label(price: &Value, product_name: &str) -> String {
    let interval = price["recurring"]["interval"].as_str().map(|i| {
        let n = price["recurring"]["interval_count"].as_i64().unwrap_or(1);
        if n > 1 {
            format!(" every {n} {i}s")
        } else {
            format!(" / {i}")
        }
    });
    format!(
        "{} — {}{}",
        product_name,
        money(price["unit_amount"].as_i64().unwrap_or(0), price["currency"].as_str().unwrap_or("usd")),
        interval.unwrap_or_default()
    )
}

/// Prices a customer may switch to: the configuration's products, or every active recurring price.
fn switchable_prices(cx: &Ctx, conf: &Value, currency: &str) -> Vec<Value> {
    let configured = conf["features"]["subscription_update"]["products"].as_array().cloned().unwrap_or_default();
    let ids: Vec<String> = configured
        .iter()
        .flat_map(|p| p["prices"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    cx.all("price")
        .into_iter()
        .filter(|p| p["active"] == true && p["type"] == "recurring" && p["currency"] == currency)
        .filter(|p| ids.is_empty() || ids.iter().any(|i| p["id"] == i.as_str()))
        .cloned()
        .collect()
}

fn portal_html(cx: &Ctx, session: &Value, notice: Option<&str>) -> String {
    let sid = session["id"].as_str().unwrap_or_default();
    let customer = session["customer"].as_str().unwrap_or_default();
    let conf = session["configuration"]
        .as_str()
        .and_then(|c| cx.get("billing_portal.configuration", c))
        .cloned()
        .unwrap_or(json!({}));
    let cus = cx.get("customer", customer).cloned().unwrap_or(json!({}));
    let now = cx.now_for_customer(Some(customer));
    let mut html = String::new();
    if let Some(u) = session["return_url"].as_str() {
        html.push_str(&format!("<p><a href=\"{}\">Return</a></p>", esc(u)));
    }
    html.push_str("<h1>Billing</h1>");
    if let Some(n) = notice {
        html.push_str(&format!("<p role=\"alert\">{}</p>", esc(n)));
    }
    html.push_str(&format!("<p class=\"muted\">{}</p>", esc(cus["email"].as_str().unwrap_or_default())));
    let subs: Vec<Value> = cx
        .all("subscription")
        .into_iter()
        .filter(|s| {
            s["customer"] == customer && !matches!(s["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
        })
        .cloned()
        .collect();
    html.push_str("<section aria-labelledby=\"plan-h\"><h2 id=\"plan-h\">Current plan</h2>");
    if subs.is_empty() {
        html.push_str("<p>No active subscription.</p>");
    }
    for sub in &subs {
        let sub_id = sub["id"].as_str().unwrap_or_default();
        let item = &sub["items"]["data"][0];
        let name = crate::engine::billing::product_name(cx, &item["price"]);
        let end = item["current_period_end"].as_i64().unwrap_or(now);
        html.push_str(&format!("<p><strong>{}</strong></p>", esc(&price_label(&item["price"], &name))));
        let status_line = if sub["cancel_at_period_end"] == true || sub["cancel_at"].is_i64() {
            format!("Cancels {}", ymd(sub["cancel_at"].as_i64().unwrap_or(end)))
        } else if sub["status"] == "trialing" {
            format!("Trial ends {}", ymd(sub["trial_end"].as_i64().unwrap_or(end)))
        } else if sub["status"] == "past_due" {
            "Payment past due".to_string()
        } else {
            format!("Renews {}", ymd(end))
        };
        html.push_str(&format!("<p>{}</p>", esc(&status_line)));
        let update = &conf["features"]["subscription_update"];
        if update["enabled"] != false && sub["cancel_at_period_end"] != true {
            let prices = switchable_prices(cx, &conf, sub["currency"].as_str().unwrap_or("usd"));
            if prices.len() > 1 {
                let mut options = String::new();
                for p in &prices {
                    let pn = crate::engine::billing::product_name(cx, p);
                    let selected = if p["id"] == item["price"]["id"] { " selected" } else { "" };
                    options.push_str(&format!(
                        "<option value=\"{}\"{selected}>{}</option>",
                        esc(p["id"].as_str().unwrap_or_default()),
                        esc(&price_label(p, &pn))
                    ));
                }
                html.push_str(&format!(
                    "<form method=\"post\" action=\"/portal/{sid}/subscriptions/{sub_id}/update\"><label for=\"price-{sub_id}\">Plan</label><select id=\"price-{sub_id}\" name=\"price\">{options}</select><button type=\"submit\">Update plan</button></form>"
                ));
            }
        }
        if conf["features"]["subscription_cancel"]["enabled"] != false {
            if sub["cancel_at_period_end"] == true {
                html.push_str(&format!("<form method=\"post\" action=\"/portal/{sid}/subscriptions/{sub_id}/renew\"><button type=\"submit\">Renew plan</button></form>"));
            } else {
                html.push_str(&format!("<form method=\"post\" action=\"/portal/{sid}/subscriptions/{sub_id}/cancel\"><button type=\"submit\" class=\"secondary\">Cancel plan</button></form>"));
            }
        }
    }
    html.push_str("</section>");
    // Payment method.
    html.push_str("<section aria-labelledby=\"pm-h\"><h2 id=\"pm-h\">Payment method</h2>");
    match cus["invoice_settings"]["default_payment_method"].as_str().and_then(|p| cx.get("payment_method", p)) {
        Some(pm) => html.push_str(&format!(
            "<p>{} •••• {}, expires {:02}/{}</p>",
            esc(pm["card"]["brand"].as_str().unwrap_or("card")),
            esc(pm["card"]["last4"].as_str().unwrap_or("")),
            pm["card"]["exp_month"].as_i64().unwrap_or(0),
            pm["card"]["exp_year"]
        )),
        None => html.push_str("<p>No payment method on file.</p>"),
    }
    if conf["features"]["payment_method_update"]["enabled"] != false {
        html.push_str(&format!("<form method=\"post\" action=\"/portal/{sid}/payment_method\">{}<button type=\"submit\">Update payment method</button></form>", card_fields(None)));
    }
    html.push_str("</section>");
    // Invoice history.
    html.push_str("<section aria-labelledby=\"inv-h\"><h2 id=\"inv-h\">Invoice history</h2><table><thead><tr><th>Date</th><th>Amount</th><th>Status</th><th>Invoice</th></tr></thead><tbody>");
    for inv in cx.all("invoice").into_iter().filter(|i| i["customer"] == customer && i["status"] != "draft") {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">View invoice</a></td></tr>",
            ymd(inv["created"].as_i64().unwrap_or(0)),
            money(inv["total"].as_i64().unwrap_or(0), inv["currency"].as_str().unwrap_or("usd")),
            esc(inv["status"].as_str().unwrap_or_default()),
            esc(inv["hosted_invoice_url"].as_str().unwrap_or("#"))
        ));
    }
    html.push_str("</tbody></table></section>");
    html
}

fn portal_session(app: &App, id: &str) -> Option<(String, Value)> {
    let acct = account_of(app, "billing_portal.session", id)?;
    let s = app.state.lock().accounts.get(&acct)?.collections.get("billing_portal.session")?.map.get(id).cloned()?;
    Some((acct, s))
}

async fn portal_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some((acct, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let html = app.with_ctx(&acct, "", |cx| portal_html(cx, &session, None));
    page(StatusCode::OK, "Billing", &html)
}

fn portal_result(cx: &mut Ctx, session: &Value, r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(_) => Redirect::to(&format!("/portal/{}", session["id"].as_str().unwrap_or_default())).into_response(),
        Err(e) => page(StatusCode::PAYMENT_REQUIRED, "Billing", &portal_html(cx, session, Some(&e.message))),
    }
}

fn owned_sub(cx: &Ctx, session: &Value, sub: &str) -> Result<Value, ApiError> {
    let s = cx.find("subscription", sub, "subscription")?;
    if s["customer"] != session["customer"] {
        return Err(ApiError::not_found("subscription", sub, "subscription"));
    }
    Ok(s)
}

async fn portal_cancel(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, sub)): Path<(String, String)>,
) -> Response {
    let Some((acct, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let r = owned_sub(cx, &session, &sub).and_then(|_| {
            let conf = session["configuration"]
                .as_str()
                .and_then(|c| cx.get("billing_portal.configuration", c))
                .cloned()
                .unwrap_or(json!({}));
            if conf["features"]["subscription_cancel"]["mode"] == "immediately" {
                crate::api::billing::cancel_subscription(cx, &sub, &json!({}))
            } else {
                crate::api::billing::update_subscription(cx, &sub, &json!({"cancel_at_period_end": "true"}))
            }
        });
        portal_result(cx, &session, r)
    })
}

async fn portal_renew(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, sub)): Path<(String, String)>,
) -> Response {
    let Some((acct, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let r = owned_sub(cx, &session, &sub).and_then(|_| {
            crate::api::billing::update_subscription(cx, &sub, &json!({"cancel_at_period_end": "false"}))
        });
        portal_result(cx, &session, r)
    })
}

async fn portal_update(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, sub)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some((acct, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let r = owned_sub(cx, &session, &sub).and_then(|s| {
            let price = form.get("price").cloned().ok_or_else(|| ApiError::missing("price"))?;
            if s["items"]["data"][0]["price"]["id"] == price.as_str() {
                return Ok(s);
            }
            let conf = session["configuration"]
                .as_str()
                .and_then(|c| cx.get("billing_portal.configuration", c))
                .cloned()
                .unwrap_or(json!({}));
            if !switchable_prices(cx, &conf, s["currency"].as_str().unwrap_or("usd"))
                .iter()
                .any(|p| p["id"] == price.as_str())
            {
                return Err(ApiError::invalid_value("price", "This plan is not available in the portal."));
            }
            let proration = conf["features"]["subscription_update"]["proration_behavior"]
                .as_str()
                .unwrap_or("create_prorations")
                .to_string();
            let item = s["items"]["data"][0]["id"].as_str().unwrap_or_default().to_string();
            crate::api::billing::update_subscription(
                cx,
                &sub,
                &json!({"items": [{"id": item, "price": price}], "proration_behavior": proration}),
            )
        });
        portal_result(cx, &session, r)
    })
}

async fn portal_payment_method(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some((acct, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let customer = session["customer"].as_str().unwrap_or_default().to_string();
        let now = cx.now_for_customer(Some(&customer));
        let r = parse_card(&form, now).map_err(|m| ApiError::card("invalid_card", None, m)).and_then(|(card, m, y)| {
            let pm = crate::objects::card_pm(&card, m, y, now);
            let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
            cx.put("payment_method", pm);
            crate::engine::pay::attach(cx, &pm_id, &customer)?;
            crate::api::customers::update(
                cx,
                &customer,
                &json!({"invoice_settings": {"default_payment_method": pm_id}}),
            )?;
            let subs: Vec<String> = cx
                .all("subscription")
                .into_iter()
                .filter(|s| s["customer"] == customer.as_str() && s["default_payment_method"].is_string())
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect();
            for s in subs {
                crate::api::billing::update_subscription(cx, &s, &json!({"default_payment_method": pm_id}))?;
            }
            // Stripe retries open invoices of past-due subscriptions with the new card.
            let open: Vec<String> = cx
                .all("invoice")
                .into_iter()
                .filter(|i| {
                    i["customer"] == customer.as_str() && i["status"] == "open" && i["subscription"].is_string()
                })
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect();
            for inv in open {
                let _ = crate::engine::billing::attempt_payment(cx, &inv, Some(&pm_id), false, false);
            }
            Ok(json!({}))
        });
        portal_result(cx, &session, r)
    })
}

// ---------------------------------------------------------------------------------------------
// Invoices and receipts

fn invoice_html(inv: &Value, error: Option<&str>) -> String {
    let id = inv["id"].as_str().unwrap_or_default();
    let currency = inv["currency"].as_str().unwrap_or("usd");
    let mut rows = String::new();
    for l in inv["lines"]["data"].as_array().cloned().unwrap_or_default() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(l["description"].as_str().unwrap_or_default()),
            money(l["amount"].as_i64().unwrap_or(0), currency)
        ));
    }
    let pay = if inv["status"] == "open" {
        format!(
            "<form method=\"post\" action=\"/invoice/{id}\">{}<button type=\"submit\">Pay</button></form>",
            card_fields(error)
        )
    } else {
        String::new()
    };
    format!(
        "<h1>Invoice {}</h1><p>Status: <strong>{}</strong></p><table aria-label=\"Invoice lines\"><tbody>{rows}</tbody></table><p><strong>Amount due: {}</strong></p><p><a href=\"/invoice/{id}/pdf\">Download invoice</a></p>{pay}",
        esc(inv["number"].as_str().unwrap_or(id)),
        esc(inv["status"].as_str().unwrap_or_default()),
        money(inv["amount_remaining"].as_i64().unwrap_or(0), currency)
    )
}

async fn invoice_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(acct) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let inv = app.with_ctx(&acct, "", |cx| cx.get("invoice", &id).cloned());
    match inv {
        Some(inv) => page(StatusCode::OK, "Invoice", &invoice_html(&inv, None)),
        None => not_found("No such invoice."),
    }
}

async fn invoice_pay(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(acct) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let base = base(&app, &headers);
    app.with_ctx(&acct, &base, |cx| {
        let Some(inv) = cx.get("invoice", &id).cloned() else { return not_found("No such invoice.") };
        let customer = inv["customer"].as_str().unwrap_or_default().to_string();
        let now = cx.now_for_customer(Some(&customer));
        let (card, m, y) = match parse_card(&form, now) {
            Ok(c) => c,
            Err(msg) => return page(StatusCode::BAD_REQUEST, "Invoice", &invoice_html(&inv, Some(&msg))),
        };
        let pm = crate::objects::card_pm(&card, m, y, now);
        let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
        cx.put("payment_method", pm);
        let r = crate::engine::pay::attach(cx, &pm_id, &customer)
            .and_then(|_| crate::engine::billing::attempt_payment(cx, &id, Some(&pm_id), false, false));
        match r {
            Ok(crate::engine::pay::Outcome::Succeeded) => Redirect::to(&format!("/invoice/{id}")).into_response(),
            Ok(crate::engine::pay::Outcome::RequiresAction) => {
                let pi =
                    cx.get("invoice", &id).and_then(|i| i["_sb_pi"].as_str().map(str::to_string)).unwrap_or_default();
                Redirect::to(&format!("/3ds/{pi}")).into_response()
            }
            Ok(crate::engine::pay::Outcome::Failed(e)) | Err(e) => {
                let inv = cx.get("invoice", &id).cloned().unwrap_or(inv);
                page(StatusCode::PAYMENT_REQUIRED, "Invoice", &invoice_html(&inv, Some(&e.message)))
            }
        }
    })
}

/// A one-page PDF with the invoice's number, lines and total.
pub fn pdf_document(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 50 790 Td 16 TL\n");
    for l in lines {
        let safe: String = l.chars().filter(|c| c.is_ascii() && *c != '\\' && *c != '(' && *c != ')').collect();
        content.push_str(&format!("({safe}) Tj T*\n"));
    }
    content.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}\nendstream", content.len(), content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, o).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

async fn invoice_pdf(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(acct) = account_of(&app, "invoice", &id) else { return not_found("No such invoice.") };
    let Some(inv) = app.with_ctx(&acct, "", |cx| cx.get("invoice", &id).cloned()) else {
        return not_found("No such invoice.");
    };
    let currency = inv["currency"].as_str().unwrap_or("usd");
    let mut lines = vec![
        format!("Invoice {}", inv["number"].as_str().unwrap_or(&id)),
        format!("Date: {}", ymd(inv["created"].as_i64().unwrap_or(0))),
        String::new(),
    ];
    for l in inv["lines"]["data"].as_array().cloned().unwrap_or_default() {
        lines.push(format!(
            "{}  {}",
            l["description"].as_str().unwrap_or_default(),
            money(l["amount"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Total: {}",
        money(inv["total"].as_i64().unwrap_or(0), currency).replace('€', "EUR ").replace('£', "GBP ")
    ));
    lines.push(format!("Status: {}", inv["status"].as_str().unwrap_or_default()));
    ([(header::CONTENT_TYPE, "application/pdf")], pdf_document(&lines)).into_response()
}

async fn receipt_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(acct) = account_of(&app, "charge", &id) else { return not_found("No such charge.") };
    let Some(ch) = app.with_ctx(&acct, "", |cx| cx.get("charge", &id).cloned()) else {
        return not_found("No such charge.");
    };
    page(
        StatusCode::OK,
        "Receipt",
        &format!(
            "<h1>Receipt</h1><p>Amount paid: <strong>{}</strong></p><p>Date: {}</p><p>Refunded: {}</p>",
            money(ch["amount"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd")),
            ymd(ch["created"].as_i64().unwrap_or(0)),
            money(ch["amount_refunded"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd"))
        ),
    )
}

#[allow(dead_code)]
fn platform() -> &'static str {
    PLATFORM
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

    #[test]
    fn pdf_is_well_formed() {
        let pdf = pdf_document(&["Invoice X".into(), "Total: $1.00".into()]);
        let s = String::from_utf8_lossy(&pdf);
        assert!(s.starts_with("%PDF-1.4"));
        assert!(s.contains("(Invoice X) Tj"));
        assert!(s.trim_end().ends_with("%%EOF"));
    }
}
