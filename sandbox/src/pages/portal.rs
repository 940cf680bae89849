//! The Customer Portal (`/portal/{bps_id}`): current plan, plan changes, cancel/renew, the
//! payment method, invoice history.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde_json::{json, Value};

use super::branding;
use super::layout::{escape, not_found, page};
use super::{account_of, base, card_fields, parse_card};
use crate::app::App;
use crate::engine::lines::product_name;
use crate::engine::subscriptions::{self, ItemSpec, SubscriptionUpdate};
use crate::engine::views::SubscriptionView;
use crate::engine::{customers, payment_methods, portal};
use crate::error::ApiError;
use crate::store::Ctx;
use crate::util::{money, ymd};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/portal/{id}", get(portal_page))
        .route("/portal/{id}/subscriptions/{subscription}/cancel", post(portal_cancel))
        .route("/portal/{id}/subscriptions/{subscription}/renew", post(portal_renew))
        .route("/portal/{id}/subscriptions/{subscription}/update", post(portal_update))
        .route("/portal/{id}/payment_method", post(portal_payment_method))
}

fn price_label(price: &Value, product_name: &str) -> String {
    let interval = price["recurring"]["interval"].as_str().map(|interval| {
        let count = price["recurring"]["interval_count"].as_i64().unwrap_or(1);
        if count > 1 {
            format!(" every {count} {interval}s")
        } else {
            format!(" / {interval}")
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
fn switchable_prices(ctx: &Ctx, configuration: &Value, currency: &str) -> Vec<Value> {
    let configured =
        configuration["features"]["subscription_update"]["products"].as_array().cloned().unwrap_or_default();
    let ids: Vec<String> = configured
        .iter()
        .flat_map(|p| p["prices"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    ctx.all("price")
        .into_iter()
        .filter(|p| p["active"] == true && p["type"] == "recurring" && p["currency"] == currency)
        .filter(|p| ids.is_empty() || ids.iter().any(|i| p["id"] == i.as_str()))
        .cloned()
        .collect()
}

fn portal_html(ctx: &Ctx, session: &Value, notice: Option<&str>) -> String {
    let session_id = session["id"].as_str().unwrap_or_default();
    let customer = session["customer"].as_str().unwrap_or_default();
    let configuration = session_configuration(ctx, session);
    let customer_object = ctx.get("customer", customer).cloned().unwrap_or(json!({}));
    let now = ctx.now_for_customer(Some(customer));
    let mut html = String::new();
    html.push_str(&branding::header(&ctx.state.branding));
    if let Some(url) = session["return_url"].as_str() {
        html.push_str(&format!("<p><a href=\"{}\">Return</a></p>", escape(url)));
    }
    html.push_str("<h1>Billing</h1>");
    // The configuration's headline, under the business's name as on Stripe's portal.
    if let Some(headline) = configuration["business_profile"]["headline"].as_str().filter(|h| !h.is_empty()) {
        html.push_str(&format!("<p class=\"headline\">{}</p>", escape(headline)));
    }
    if let Some(message) = notice {
        html.push_str(&format!("<p role=\"alert\">{}</p>", escape(message)));
    }
    html.push_str(&format!("<p class=\"muted\">{}</p>", escape(customer_object["email"].as_str().unwrap_or_default())));
    let subscriptions: Vec<Value> = ctx
        .all("subscription")
        .into_iter()
        .filter(|s| {
            s["customer"] == customer && !matches!(s["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
        })
        .cloned()
        .collect();
    html.push_str("<section aria-labelledby=\"plan-h\"><h2 id=\"plan-h\">Current plan</h2>");
    if subscriptions.is_empty() {
        html.push_str("<p>No active subscription.</p>");
    }
    for subscription in &subscriptions {
        let subscription_id = subscription["id"].as_str().unwrap_or_default();
        let item = SubscriptionView(subscription).first_item();
        let name = product_name(ctx, &item["price"]);
        let end = item["current_period_end"].as_i64().unwrap_or(now);
        html.push_str(&format!("<p><strong>{}</strong></p>", escape(&price_label(&item["price"], &name))));
        let status_line = if subscription["cancel_at_period_end"] == true || subscription["cancel_at"].is_i64() {
            format!("Cancels {}", ymd(subscription["cancel_at"].as_i64().unwrap_or(end)))
        } else if subscription["status"] == "trialing" {
            format!("Trial ends {}", ymd(subscription["trial_end"].as_i64().unwrap_or(end)))
        } else if subscription["status"] == "past_due" {
            "Payment past due".to_string()
        } else {
            format!("Renews {}", ymd(end))
        };
        html.push_str(&format!("<p>{}</p>", escape(&status_line)));
        let update = &configuration["features"]["subscription_update"];
        if update["enabled"] != false && subscription["cancel_at_period_end"] != true {
            let prices = switchable_prices(ctx, &configuration, subscription["currency"].as_str().unwrap_or("usd"));
            let quantity = portal::quantity_bounds(&configuration, &item["price"]).map(|(minimum, maximum)| {
                format!(
                    "<label for=\"quantity-{subscription_id}\">Quantity</label><input id=\"quantity-{subscription_id}\" name=\"quantity\" type=\"number\" min=\"{minimum}\"{} value=\"{}\" required>",
                    maximum.map(|m| format!(" max=\"{m}\"")).unwrap_or_default(),
                    item["quantity"]
                )
            });
            if prices.len() > 1 || quantity.is_some() {
                let mut options = String::new();
                for price in &prices {
                    let name = product_name(ctx, price);
                    let selected = if price["id"] == item["price"]["id"] { " selected" } else { "" };
                    options.push_str(&format!(
                        "<option value=\"{}\"{selected}>{}</option>",
                        escape(price["id"].as_str().unwrap_or_default()),
                        escape(&price_label(price, &name))
                    ));
                }
                html.push_str(&format!(
                    "<form method=\"post\" action=\"/portal/{session_id}/subscriptions/{subscription_id}/update\"><label for=\"price-{subscription_id}\">Plan</label><select id=\"price-{subscription_id}\" name=\"price\">{options}</select>{}<button type=\"submit\">Update plan</button></form>",
                    quantity.unwrap_or_default()
                ));
            }
        }
        if configuration["features"]["subscription_cancel"]["enabled"] != false {
            if subscription["cancel_at_period_end"] == true {
                html.push_str(&format!("<form method=\"post\" action=\"/portal/{session_id}/subscriptions/{subscription_id}/renew\"><button type=\"submit\">Renew plan</button></form>"));
            } else {
                html.push_str(&format!("<form method=\"post\" action=\"/portal/{session_id}/subscriptions/{subscription_id}/cancel\"><button type=\"submit\" class=\"secondary\">Cancel plan</button></form>"));
            }
        }
    }
    html.push_str("</section>");
    // Payment method.
    html.push_str("<section aria-labelledby=\"pm-h\"><h2 id=\"pm-h\">Payment method</h2>");
    match customer_object["invoice_settings"]["default_payment_method"]
        .as_str()
        .and_then(|price| ctx.get("payment_method", price))
    {
        Some(card) => html.push_str(&format!(
            "<p>{} •••• {}, expires {:02}/{}</p>",
            escape(card["card"]["brand"].as_str().unwrap_or("card")),
            escape(card["card"]["last4"].as_str().unwrap_or("")),
            card["card"]["exp_month"].as_i64().unwrap_or(0),
            card["card"]["exp_year"]
        )),
        None => html.push_str("<p>No payment method on file.</p>"),
    }
    if configuration["features"]["payment_method_update"]["enabled"] != false {
        html.push_str(&format!("<form method=\"post\" action=\"/portal/{session_id}/payment_method\">{}<button type=\"submit\">Update payment method</button></form>", card_fields(None)));
    }
    html.push_str("</section>");
    // Invoice history.
    html.push_str("<section aria-labelledby=\"inv-h\"><h2 id=\"inv-h\">Invoice history</h2><table><thead><tr><th>Date</th><th>Amount</th><th>Status</th><th>Invoice</th></tr></thead><tbody>");
    for invoice in ctx.all("invoice").into_iter().filter(|i| i["customer"] == customer && i["status"] != "draft") {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">View invoice</a></td></tr>",
            ymd(invoice["created"].as_i64().unwrap_or(0)),
            money(invoice["total"].as_i64().unwrap_or(0), invoice["currency"].as_str().unwrap_or("usd")),
            escape(invoice["status"].as_str().unwrap_or_default()),
            escape(invoice["hosted_invoice_url"].as_str().unwrap_or("#"))
        ));
    }
    html.push_str("</tbody></table></section>");
    html
}

fn portal_session(app: &App, id: &str) -> Option<(String, Value)> {
    let account = account_of(app, "billing_portal.session", id)?;
    let session =
        app.state.lock().accounts.get(&account)?.collections.get("billing_portal.session")?.map.get(id).cloned()?;
    Some((account, session))
}

async fn portal_page(AxState(app): AxState<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some((account, session)) = portal_session(&app, &id) else { return not_found("No such portal session.") };
    let html = app.with_ctx(&account, "", |ctx| portal_html(ctx, &session, None));
    page(StatusCode::OK, "Billing", &html)
}

fn portal_result(ctx: &mut Ctx, session: &Value, result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/portal/{}", session["id"].as_str().unwrap_or_default())).into_response(),
        Err(e) => page(StatusCode::PAYMENT_REQUIRED, "Billing", &portal_html(ctx, session, Some(&e.message))),
    }
}

fn owned_subscription(ctx: &Ctx, session: &Value, subscription_id: &str) -> Result<Value, ApiError> {
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    if subscription["customer"] != session["customer"] {
        return Err(ApiError::not_found("subscription", subscription_id, "subscription"));
    }
    Ok(subscription)
}

/// The session's portal configuration (features), or none.
fn session_configuration(ctx: &Ctx, session: &Value) -> Value {
    session["configuration"]
        .as_str()
        .and_then(|c| ctx.get("billing_portal.configuration", c))
        .cloned()
        .unwrap_or(json!({}))
}

/// Runs a portal action for the session's customer: back to the portal on success, the portal
/// with the error otherwise.
fn portal_action(
    app: &App,
    headers: &HeaderMap,
    id: &str,
    action: impl FnOnce(&mut Ctx, &Value) -> Result<Value, ApiError>,
) -> Response {
    let Some((account, session)) = portal_session(app, id) else { return not_found("No such portal session.") };
    let base = base(app, headers);
    app.with_ctx(&account, &base, |ctx| {
        let result = action(ctx, &session);
        portal_result(ctx, &session, result)
    })
}

async fn portal_cancel(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, subscription_id)): Path<(String, String)>,
) -> Response {
    portal_action(&app, &headers, &id, |ctx, session| {
        owned_subscription(ctx, session, &subscription_id)?;
        if session_configuration(ctx, session)["features"]["subscription_cancel"]["mode"] == "immediately" {
            subscriptions::cancel(ctx, &subscription_id, "cancellation_requested")
        } else {
            let change = SubscriptionUpdate { cancel_at_period_end: Some(true), ..Default::default() };
            subscriptions::update(ctx, &subscription_id, change)
        }
    })
}

async fn portal_renew(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, subscription_id)): Path<(String, String)>,
) -> Response {
    portal_action(&app, &headers, &id, |ctx, session| {
        owned_subscription(ctx, session, &subscription_id)?;
        let change = SubscriptionUpdate { cancel_at_period_end: Some(false), ..Default::default() };
        subscriptions::update(ctx, &subscription_id, change)
    })
}

async fn portal_update(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path((id, subscription_id)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    portal_action(&app, &headers, &id, |ctx, session| {
        owned_subscription(ctx, session, &subscription_id).and_then(|subscription| {
            let price = form.get("price").cloned().ok_or_else(|| ApiError::missing("price"))?;
            let configuration = session_configuration(ctx, session);
            let current = SubscriptionView(&subscription).first_item();
            let new_price = if current["price"]["id"] == price.as_str() {
                current["price"].clone()
            } else {
                switchable_prices(ctx, &configuration, subscription["currency"].as_str().unwrap_or("usd"))
                    .into_iter()
                    .find(|p| p["id"] == price.as_str())
                    .ok_or_else(|| ApiError::invalid_value("price", "This plan is not available in the portal."))?
            };
            let quantity = portal_quantity(&form, &configuration, &new_price)?;
            if current["price"]["id"] == price.as_str() && quantity.is_none_or(|q| current["quantity"] == q) {
                return Ok(subscription);
            }
            let proration_behavior = configuration["features"]["subscription_update"]["proration_behavior"]
                .as_str()
                .unwrap_or("create_prorations")
                .to_string();
            let item = SubscriptionView(&subscription).first_item()["id"].as_str().filter(|i| !i.is_empty());
            let change = SubscriptionUpdate {
                items: vec![ItemSpec {
                    id: item.map(str::to_string),
                    price: Some(price).filter(|p| !p.is_empty()),
                    quantity,
                    ..Default::default()
                }],
                proration_behavior,
                ..Default::default()
            };
            subscriptions::update(ctx, &subscription_id, change)
        })
    })
}

/// The quantity posted with a plan update, checked against what the configuration allows for
/// `price`; `None` when it may not be changed (or was not posted).
fn portal_quantity(
    form: &HashMap<String, String>,
    configuration: &Value,
    price: &Value,
) -> Result<Option<i64>, ApiError> {
    let Some(posted) = form.get("quantity").map(|q| q.trim()).filter(|q| !q.is_empty()) else { return Ok(None) };
    let Some((minimum, maximum)) = portal::quantity_bounds(configuration, price) else { return Ok(None) };
    let quantity = posted.parse::<i64>().map_err(|_| ApiError::invalid_value("quantity", "Enter a whole number."))?;
    if quantity < minimum || maximum.is_some_and(|m| quantity > m) {
        let most = maximum.map(|m| format!(" and at most {m}")).unwrap_or_default();
        return Err(ApiError::invalid_value("quantity", format!("The quantity must be at least {minimum}{most}.")));
    }
    Ok(Some(quantity))
}

async fn portal_payment_method(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    portal_action(&app, &headers, &id, |ctx, session| {
        let customer = session["customer"].as_str().unwrap_or_default().to_string();
        let now = ctx.now_for_customer(Some(&customer));
        let (card, month, year) =
            parse_card(&form, now).map_err(|message| ApiError::card("invalid_card", None, message))?;
        let pm_id = payment_methods::store_entered_card(ctx, &card, (month, year), now, None);
        customers::replace_default_card(ctx, &customer, &pm_id)?;
        Ok(json!({}))
    })
}
