//! Connect's hosted pages: onboarding behind an account link (`/connect/onboarding/{token}`)
//! and the stand-in Express Dashboard behind a login link (`/express/{account}/{token}`).
//! Plain HTML forms; the onboarding form comes filled with Stripe's test values.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde_json::Value;

use super::base;
use super::layout::{escape, not_found, page};
use crate::app::App;
use crate::engine::accounts::{self, Onboarding};
use crate::engine::balance;
use crate::store::PLATFORM;
use crate::util::{money, ymd};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/connect/onboarding/{token}", get(onboarding_page).post(onboarding_submit))
        .route("/express/{account}/{token}", get(dashboard_page))
}

/// A labelled text field (`id` = `name`).
fn field(label: &str, name: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" value=\"{}\" {extra}>",
        escape(value)
    )
}

fn onboarding_html(account: &Value, form: &HashMap<String, String>, error: Option<&str>) -> String {
    let value = |name: &str, default: &str| form.get(name).cloned().unwrap_or_else(|| default.to_string());
    let alert = error.map(|e| format!("<p role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let email = account["email"].as_str().unwrap_or("jenny.rosen@example.com");
    let business_type = value("business_type", account["business_type"].as_str().unwrap_or("individual"));
    let selected = |v: &str| if business_type == v { " selected" } else { "" };
    let bank_options = [
        ("000123456789", "payouts succeed"),
        ("000111111116", "payouts fail: no_account"),
        ("000111111113", "payouts fail: account_closed"),
        ("000222222227", "payouts fail: insufficient_funds"),
        ("000333333335", "payouts fail: debit_not_authorized"),
        ("000444444440", "payouts fail: invalid_currency"),
    ];
    let datalist: String =
        bank_options.iter().map(|(n, what)| format!("<option value=\"{n}\" label=\"{what}\"></option>")).collect();
    let bank_rows: String =
        bank_options.iter().map(|(n, what)| format!("<tr><td><code>{n}</code></td><td>{what}</td></tr>")).collect();
    format!(
        "<h1>Set up payouts for {name}</h1><p class=\"muted\">Test mode: the form is filled with Stripe's test values.</p>{alert}\
<form method=\"post\">\
<section aria-label=\"Business\"><h2>Business</h2>\
<label for=\"business_type\">Business type</label><select id=\"business_type\" name=\"business_type\"><option value=\"individual\"{}>Individual</option><option value=\"company\"{}>Company</option></select>\
{}{}</section>\
<section aria-label=\"Personal details\"><h2>Personal details</h2>{}{}{}{}{}{}{}{}{}{}{}</section>\
<section aria-label=\"Bank account\"><h2>Bank account</h2>{}{}<datalist id=\"test_bank_accounts\">{datalist}</datalist>\
<table aria-label=\"Test bank accounts\"><thead><tr><th>Account number</th><th>Behaviour</th></tr></thead><tbody>{bank_rows}</tbody></table></section>\
<p>By submitting, you agree to the Stripe Connected Account Agreement.</p>\
<button type=\"submit\" name=\"action\" value=\"complete\">Agree and submit</button> \
<button type=\"submit\" name=\"action\" value=\"skip_document\" class=\"secondary\">Submit without ID document</button>\
</form>",
        selected("individual"),
        selected("company"),
        field("Business name", "business_name", &value("business_name", "Sandbox Shop"), "autocomplete=\"organization\""),
        field("Business website", "url", &value("url", "https://accessible.stripe.com"), "type=\"url\""),
        field("First name", "first_name", &value("first_name", "Jenny"), "autocomplete=\"given-name\" required"),
        field("Last name", "last_name", &value("last_name", "Rosen"), "autocomplete=\"family-name\" required"),
        field("Email", "email", &value("email", email), "type=\"email\" autocomplete=\"email\" required"),
        field("Mobile phone number", "phone", &value("phone", "000-000-0000"), "autocomplete=\"tel\" required"),
        field("SMS code", "sms_code", &value("sms_code", "000-000"), "autocomplete=\"one-time-code\" required"),
        field("Date of birth", "dob", &value("dob", "01/01/1901"), "placeholder=\"MM/DD/YYYY\" required"),
        field("Address line 1", "address_line1", &value("address_line1", "address_full_match"), "required"),
        field("City", "city", &value("city", "San Francisco"), "required"),
        field("State", "state", &value("state", "CA"), "required"),
        field("ZIP code", "postal_code", &value("postal_code", "94111"), "required"),
        field("Last 4 digits of SSN", "ssn_last_4", &value("ssn_last_4", "0000"), "inputmode=\"numeric\" required"),
        field("Routing number", "routing_number", &value("routing_number", "110000000"), "inputmode=\"numeric\" required"),
        field(
            "Account number",
            "account_number",
            &value("account_number", "000123456789"),
            "inputmode=\"numeric\" list=\"test_bank_accounts\" required"
        ),
        name = escape(&display_name(account)),
    )
}

/// The account's name as its pages show it.
fn display_name(account: &Value) -> String {
    account["business_profile"]["name"]
        .as_str()
        .or_else(|| account["settings"]["dashboard"]["display_name"].as_str())
        .or_else(|| account["email"].as_str())
        .or_else(|| account["id"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// What is wrong with the submitted form, as the page says it.
fn check(form: &HashMap<String, String>) -> Result<(), &'static str> {
    let digits = |name: &str| -> String {
        form.get(name).map(|v| v.chars().filter(char::is_ascii_digit).collect()).unwrap_or_default()
    };
    let filled = |name: &str| form.get(name).is_some_and(|v| !v.trim().is_empty());
    if !filled("first_name") || !filled("last_name") {
        return Err("Enter your first and last name.");
    }
    if digits("phone").len() != 10 {
        return Err("Enter a valid phone number (test mode: 000-000-0000).");
    }
    if digits("sms_code") != "000000" {
        return Err("The SMS code is incorrect (test mode: 000-000).");
    }
    if !filled("address_line1") || !filled("city") || !filled("postal_code") {
        return Err("Enter your address.");
    }
    if digits("ssn_last_4").len() != 4 {
        return Err("Enter the last 4 digits of your SSN (test mode: 0000).");
    }
    if digits("routing_number").len() != 9 {
        return Err("Your routing number must be 9 digits (test mode: 110000000).");
    }
    if !(4..=17).contains(&digits("account_number").len()) {
        return Err("Enter a valid account number (test mode: 000123456789).");
    }
    Ok(())
}

/// The link's account, or where to send the browser: `refresh_url` for a used or expired link.
fn open_link(app: &App, token: &str) -> Result<(Value, Value), Response> {
    app.with_ctx(PLATFORM, "", |ctx| {
        let Some(link) = accounts::find_link(ctx, token) else { return Err(not_found("No such account link.")) };
        if !accounts::link_usable(ctx, &link) {
            let refresh = link["_sb_refresh_url"].as_str().unwrap_or("/");
            return Err(Redirect::to(refresh).into_response());
        }
        let account_id = link["_sb_account"].as_str().unwrap_or_default().to_string();
        match accounts::find(ctx, &account_id) {
            Ok(account) => Ok((link, account)),
            Err(_) => Err(not_found("This account no longer exists.")),
        }
    })
}

async fn onboarding_page(AxState(app): AxState<Arc<App>>, Path(token): Path<String>) -> Response {
    match open_link(&app, &token) {
        Ok((_, account)) => page(StatusCode::OK, "Onboarding", &onboarding_html(&account, &HashMap::new(), None)),
        Err(response) => response,
    }
}

async fn onboarding_submit(
    AxState(app): AxState<Arc<App>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (link, account) = match open_link(&app, &token) {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Err(message) = check(&form) {
        return page(StatusCode::BAD_REQUEST, "Onboarding", &onboarding_html(&account, &form, Some(message)));
    }
    let ip = headers
        .get("x-forwarded-for")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(',').next())
        .unwrap_or("127.0.0.1")
        .trim()
        .to_string();
    let digits = |name: &str| -> String {
        form.get(name).map(|v| v.chars().filter(char::is_ascii_digit).collect()).unwrap_or_default()
    };
    let text = |name: &str| form.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let onboarding = Onboarding {
        business_type: if text("business_type").as_deref() == Some("company") { "company" } else { "individual" }
            .into(),
        email: text("email"),
        business_name: text("business_name"),
        url: text("url"),
        routing_number: digits("routing_number"),
        account_number: digits("account_number"),
        skip_document: form.get("action").map(String::as_str) == Some("skip_document"),
        ip,
    };
    let account_id = account["id"].as_str().unwrap_or_default().to_string();
    let base = base(&app, &headers);
    let done = app.with_ctx(PLATFORM, &base, |ctx| {
        accounts::use_link(ctx, &token);
        accounts::complete_onboarding(ctx, &account_id, onboarding)
    });
    match done {
        Ok(_) => Redirect::to(link["_sb_return_url"].as_str().unwrap_or("/")).into_response(),
        Err(e) => page(StatusCode::BAD_REQUEST, "Onboarding", &onboarding_html(&account, &form, Some(&e.message))),
    }
}

async fn dashboard_page(
    AxState(app): AxState<Arc<App>>,
    Path((account_id, token)): Path<(String, String)>,
) -> Response {
    let found = app.with_ctx(PLATFORM, "", |ctx| {
        if !accounts::login_link_valid(ctx, &account_id, &token) {
            return None;
        }
        let account = accounts::find(ctx, &account_id).ok()?;
        let (totals, payouts) = ctx.in_account(&account_id, |ctx| {
            balance::refresh(ctx);
            let payouts: Vec<Value> = ctx.all("payout").into_iter().take(10).cloned().collect();
            (balance::totals(ctx), payouts)
        });
        Some((account, totals, payouts))
    });
    let Some((account, totals, payouts)) = found else { return not_found("This login link is not valid.") };
    let mut balance_rows = String::new();
    for (currency, (available, pending)) in &totals {
        balance_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            currency.to_uppercase(),
            money(*available, currency),
            money(*pending, currency)
        ));
    }
    if balance_rows.is_empty() {
        balance_rows = "<tr><td>USD</td><td>$0.00</td><td>$0.00</td></tr>".into();
    }
    let mut payout_rows = String::new();
    for payout in &payouts {
        let currency = payout["currency"].as_str().unwrap_or("usd");
        payout_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(payout["id"].as_str().unwrap_or_default()),
            money(payout["amount"].as_i64().unwrap_or(0), currency),
            escape(payout["status"].as_str().unwrap_or_default()),
            ymd(payout["arrival_date"].as_i64().unwrap_or(0))
        ));
    }
    if payout_rows.is_empty() {
        payout_rows = "<tr><td colspan=\"4\">No payouts yet.</td></tr>".into();
    }
    let status = if account["payouts_enabled"] == true { "Payouts enabled" } else { "Payouts paused" };
    let body = format!(
        "<h1>Express Dashboard</h1><p>Account: <strong id=\"account-name\">{}</strong> <span class=\"muted\">{}</span></p><p>{status}</p>\
<h2>Balance</h2><table aria-label=\"Balance\"><thead><tr><th>Currency</th><th>Available</th><th>Pending</th></tr></thead><tbody>{balance_rows}</tbody></table>\
<h2>Recent payouts</h2><table aria-label=\"Recent payouts\"><thead><tr><th>Payout</th><th>Amount</th><th>Status</th><th>Arrival date</th></tr></thead><tbody>{payout_rows}</tbody></table>",
        escape(&display_name(&account)),
        escape(&account_id),
    );
    page(StatusCode::OK, "Express Dashboard", &body)
}
