//! `/v1` endpoints. `route` maps a method and path to a handler; handlers read parameters and
//! call the engine (`crate::engine`) for state changes and their events.

pub mod catalog;
pub mod checkout;
pub mod connect;
pub mod customers;
pub mod entitlements;
pub mod entry;
pub mod event_types;
pub mod invoices;
pub mod meters;
pub mod payments;
pub mod portal;
pub mod publishable;
pub mod radar;
pub mod schedules;
pub mod subscriptions;
pub mod tax_settings;
pub mod test_clocks;
pub mod webhook_endpoints;

use axum::http::Method;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};

/// Dispatches one API call. `segments` are the path segments after `/v1/`.
pub fn route(ctx: &mut Ctx, method: &Method, segments: &[&str], params: &Value) -> ApiResult<Value> {
    let method = method.as_str();
    let response = match (method, segments) {
        // Customers
        ("POST", ["customers"]) => customers::create(ctx, params),
        ("GET", ["customers"]) => customers::list(ctx, params),
        ("GET", ["customers", "search"]) => customers::search(ctx, params),
        ("GET", ["customers", id]) => customers::retrieve(ctx, id),
        ("POST", ["customers", id]) => customers::update(ctx, id, params),
        ("DELETE", ["customers", id]) => customers::delete(ctx, id),
        ("GET", ["customers", id, "payment_methods"]) => customers::list_payment_methods(ctx, id, params),
        ("GET", ["customers", id, "payment_methods", payment_method]) => {
            customers::retrieve_payment_method(ctx, id, payment_method)
        }
        // Payment methods
        ("POST", ["payment_methods"]) => customers::create_payment_method(ctx, params),
        ("GET", ["payment_methods"]) => customers::list_all_payment_methods(ctx, params),
        ("GET", ["payment_methods", id]) => customers::get_payment_method(ctx, id),
        ("POST", ["payment_methods", id]) => customers::update_payment_method(ctx, id, params),
        ("POST", ["payment_methods", id, "attach"]) => customers::attach(ctx, id, params),
        ("POST", ["payment_methods", id, "detach"]) => customers::detach(ctx, id),
        // Catalog
        ("POST", ["products"]) => catalog::create_product(ctx, params),
        ("GET", ["products"]) => catalog::list_products(ctx, params),
        ("GET", ["products", "search"]) => catalog::search_products(ctx, params),
        ("GET", ["products", id]) => ctx.find("product", id, "id").map(|v| public(&v)),
        ("POST", ["products", id]) => catalog::update_product(ctx, id, params),
        ("DELETE", ["products", id]) => catalog::delete_product(ctx, id),
        ("POST", ["products", id, "features"]) => entitlements::attach(ctx, id, params),
        ("GET", ["products", id, "features"]) => entitlements::list_product_features(ctx, id, params),
        ("GET", ["products", id, "features", feature]) => entitlements::retrieve_product_feature(ctx, id, feature),
        ("DELETE", ["products", id, "features", feature]) => crate::engine::entitlements::detach(ctx, id, feature),
        // Entitlements
        ("POST", ["entitlements", "features"]) => entitlements::create_feature(ctx, params),
        ("GET", ["entitlements", "features"]) => entitlements::list_features(ctx, params),
        ("GET", ["entitlements", "features", id]) => {
            ctx.find(crate::engine::entitlements::FEATURE, id, "id").map(|v| public(&v))
        }
        ("POST", ["entitlements", "features", id]) => entitlements::update_feature(ctx, id, params),
        ("GET", ["entitlements", "active_entitlements"]) => entitlements::list_active(ctx, params),
        ("GET", ["entitlements", "active_entitlements", id]) => entitlements::retrieve_active(ctx, id),
        ("POST", ["prices"]) => catalog::create_price(ctx, params),
        ("GET", ["prices"]) => catalog::list_prices(ctx, params),
        ("GET", ["prices", "search"]) => catalog::search_prices(ctx, params),
        ("GET", ["prices", id]) => ctx.find("price", id, "price").map(|v| public(&v)),
        ("POST", ["prices", id]) => catalog::update_price(ctx, id, params),
        ("POST", ["plans"]) => catalog::create_plan(ctx, params),
        ("GET", ["plans", id]) => catalog::get_plan(ctx, id),
        ("POST", ["coupons"]) => catalog::create_coupon(ctx, params),
        ("GET", ["coupons"]) => catalog::list_coupons(ctx, params),
        ("GET", ["coupons", id]) => catalog::get_coupon(ctx, id),
        ("POST", ["coupons", id]) => catalog::update_simple(ctx, "coupon", id, params),
        ("DELETE", ["coupons", id]) => catalog::delete_simple(ctx, "coupon", id),
        ("POST", ["promotion_codes"]) => catalog::create_promotion_code(ctx, params),
        ("GET", ["promotion_codes"]) => catalog::list_promotion_codes(ctx, params),
        ("GET", ["promotion_codes", id]) => ctx.find("promotion_code", id, "promotion_code").map(|v| public(&v)),
        ("POST", ["promotion_codes", id]) => catalog::update_simple(ctx, "promotion_code", id, params),
        // Checkout
        ("POST", ["checkout", "sessions"]) => checkout::create(ctx, params),
        ("GET", ["checkout", "sessions"]) => checkout::list(ctx, params),
        ("GET", ["checkout", "sessions", id]) => ctx.find("checkout.session", id, "session").map(|v| public(&v)),
        ("POST", ["checkout", "sessions", id]) => checkout::update(ctx, id, params),
        ("POST", ["checkout", "sessions", id, "expire"]) => crate::engine::checkout::expire(ctx, id),
        ("GET", ["checkout", "sessions", id, "line_items"]) => checkout::line_items(ctx, id, params),
        ("GET", ["payment_pages", id]) => checkout::payment_page(ctx, id),
        ("POST", ["payment_pages", id]) => checkout::payment_page(ctx, id),
        ("POST", ["payment_pages", id, "confirm"]) => checkout::payment_page_confirm(ctx, id, params),
        // Billing
        ("POST", ["subscriptions"]) => subscriptions::create_subscription(ctx, params),
        ("GET", ["subscriptions"]) => subscriptions::list_subscriptions(ctx, params),
        ("GET", ["subscriptions", "search"]) => subscriptions::search_subscriptions(ctx, params),
        ("GET", ["subscriptions", id]) => ctx.find("subscription", id, "id").map(|v| public(&v)),
        ("POST", ["subscriptions", id]) => subscriptions::update_subscription(ctx, id, params),
        ("DELETE", ["subscriptions", id]) => subscriptions::cancel_subscription(ctx, id, params),
        ("POST", ["subscriptions", id, "pause"]) => subscriptions::pause_subscription(ctx, id, params),
        ("POST", ["subscriptions", id, "resume"]) => subscriptions::resume_subscription(ctx, id, params),
        ("DELETE", ["subscriptions", id, "discount"]) => subscriptions::delete_discount(ctx, id),
        ("GET", ["subscription_items"]) => subscriptions::list_items(ctx, params),
        ("POST", ["subscription_items"]) => subscriptions::create_item(ctx, params),
        ("GET", ["subscription_items", id]) => subscriptions::retrieve_item(ctx, id),
        ("POST", ["subscription_items", id]) => subscriptions::update_item(ctx, id, params),
        ("DELETE", ["subscription_items", id]) => subscriptions::delete_item(ctx, id, params),
        // Usage-based billing
        ("POST", ["billing", "meters"]) => meters::create_meter(ctx, params),
        ("GET", ["billing", "meters"]) => meters::list_meters(ctx, params),
        ("GET", ["billing", "meters", id]) => meters::retrieve_meter(ctx, id),
        ("POST", ["billing", "meters", id]) => meters::update_meter(ctx, id, params),
        ("POST", ["billing", "meters", id, "deactivate"]) => crate::engine::meters::deactivate(ctx, id),
        ("POST", ["billing", "meters", id, "reactivate"]) => crate::engine::meters::reactivate(ctx, id),
        ("GET", ["billing", "meters", id, "event_summaries"]) => meters::event_summaries(ctx, id, params),
        ("POST", ["billing", "meter_events"]) => meters::create_meter_event(ctx, params),
        ("POST", ["billing", "meter_event_adjustments"]) => meters::create_meter_event_adjustment(ctx, params),
        ("POST", ["subscription_schedules"]) => schedules::create_schedule(ctx, params),
        ("GET", ["subscription_schedules"]) => schedules::list_schedules(ctx, params),
        ("GET", ["subscription_schedules", id]) => {
            ctx.find("subscription_schedule", id, "schedule").map(|v| public(&v))
        }
        ("POST", ["subscription_schedules", id]) => schedules::update_schedule(ctx, id, params),
        ("POST", ["subscription_schedules", id, "release"]) => crate::engine::schedules::release(ctx, id),
        ("POST", ["subscription_schedules", id, "cancel"]) => crate::engine::schedules::cancel(ctx, id),
        ("POST", ["invoices"]) => invoices::create_invoice(ctx, params),
        ("GET", ["invoices"]) => invoices::list_invoices(ctx, params),
        ("GET", ["invoices", "search"]) => invoices::search_invoices(ctx, params),
        ("POST", ["invoices", "create_preview"]) => invoices::create_preview(ctx, params),
        ("GET", ["invoices", "upcoming"]) => invoices::create_preview(ctx, params),
        ("GET", ["invoices", id]) => ctx.find("invoice", id, "invoice").map(|v| public(&v)),
        ("POST", ["invoices", id]) => invoices::update_invoice(ctx, id, params),
        ("DELETE", ["invoices", id]) => invoices::delete_invoice(ctx, id),
        ("GET", ["invoices", id, "lines"]) => invoices::invoice_lines(ctx, id, params),
        ("POST", ["invoices", id, "finalize"]) => crate::engine::invoices::finalize(ctx, id).map(|v| public(&v)),
        ("POST", ["invoices", id, "pay"]) => invoices::pay_invoice(ctx, id, params),
        ("POST", ["invoices", id, "void"]) => crate::engine::invoices::void(ctx, id).map(|v| public(&v)),
        ("POST", ["invoices", id, "mark_uncollectible"]) => {
            crate::engine::invoices::mark_uncollectible(ctx, id).map(|v| public(&v))
        }
        ("POST", ["invoices", id, "send"]) => ctx.find("invoice", id, "invoice").map(|v| public(&v)),
        ("POST", ["invoiceitems"]) => invoices::create_invoiceitem(ctx, params),
        ("GET", ["invoiceitems"]) => invoices::list_invoiceitems(ctx, params),
        ("GET", ["invoiceitems", id]) => ctx.find("invoiceitem", id, "invoiceitem").map(|v| public(&v)),
        ("POST", ["invoiceitems", id]) => catalog::update_simple(ctx, "invoiceitem", id, params),
        ("DELETE", ["invoiceitems", id]) => catalog::delete_simple(ctx, "invoiceitem", id),
        ("GET", ["invoice_payments"]) => invoices::list_invoice_payments(ctx, params),
        // Portal
        ("POST", ["billing_portal", "configurations"]) => portal::create_portal_configuration(ctx, params),
        ("GET", ["billing_portal", "configurations"]) => portal::list_portal_configurations(ctx, params),
        ("GET", ["billing_portal", "configurations", id]) => {
            ctx.find("billing_portal.configuration", id, "configuration").map(|v| public(&v))
        }
        ("POST", ["billing_portal", "configurations", id]) => portal::update_portal_configuration(ctx, id, params),
        ("POST", ["billing_portal", "sessions"]) => portal::create_portal_session(ctx, params),
        // Payments
        ("POST", ["payment_intents"]) => payments::create_intent(ctx, params),
        ("GET", ["payment_intents"]) => payments::list_intents(ctx, params),
        ("GET", ["payment_intents", "search"]) => payments::list_intents(ctx, params),
        ("GET", ["payment_intents", id]) => ctx.find("payment_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["payment_intents", id]) => payments::update_intent(ctx, id, params),
        ("POST", ["payment_intents", id, "confirm"]) => payments::confirm_intent(ctx, id, params),
        ("POST", ["payment_intents", id, "cancel"]) => payments::cancel_intent(ctx, id, params),
        ("POST", ["payment_intents", id, "capture"]) => ctx.find("payment_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["charges"]) => payments::create_charge(ctx, params),
        ("GET", ["charges"]) => payments::list_charges(ctx, params),
        ("GET", ["charges", id]) => ctx.find("charge", id, "charge").map(|v| public(&v)),
        ("POST", ["charges", id]) => catalog::update_simple(ctx, "charge", id, params),
        ("POST", ["charges", id, "refund"]) | ("POST", ["charges", id, "refunds"]) => {
            payments::refund_charge(ctx, id, params)
        }
        ("GET", ["charges", id, "refunds"]) => payments::list_refunds(ctx, &json!({"charge": id}), params),
        ("POST", ["refunds"]) => payments::create_refund(ctx, params),
        ("GET", ["refunds"]) => payments::list_refunds(ctx, params, params),
        ("GET", ["refunds", id]) => ctx.find("refund", id, "refund").map(|v| public(&v)),
        ("POST", ["refunds", id]) => catalog::update_simple(ctx, "refund", id, params),
        ("GET", ["disputes"]) => payments::list_disputes(ctx, params),
        ("GET", ["disputes", id]) => ctx.find("dispute", id, "dispute").map(|v| public(&v)),
        ("POST", ["disputes", id]) => payments::update_dispute(ctx, id, params),
        ("POST", ["disputes", id, "close"]) => payments::close_dispute(ctx, id),
        ("POST", ["setup_intents"]) => payments::create_setup_intent(ctx, params),
        ("GET", ["setup_intents", id]) => ctx.find("setup_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["setup_intents", id, "confirm"]) => payments::confirm_setup_intent(ctx, id, params),
        ("POST", ["tokens"]) => payments::create_token(ctx, params),
        // Radar
        ("GET", ["radar", "early_fraud_warnings"]) => radar::list_early_fraud_warnings(ctx, params),
        ("GET", ["radar", "early_fraud_warnings", id]) => radar::retrieve_early_fraud_warning(ctx, id),
        ("GET", ["reviews"]) => radar::list_reviews(ctx, params),
        ("GET", ["reviews", id]) => radar::retrieve_review(ctx, id),
        ("POST", ["reviews", id, "approve"]) => radar::approve_review(ctx, id),
        // Webhooks and events
        ("POST", ["webhook_endpoints"]) => webhook_endpoints::create_webhook_endpoint(ctx, params),
        ("GET", ["webhook_endpoints"]) => {
            catalog::list_simple(ctx, "webhook_endpoint", params, "/v1/webhook_endpoints")
        }
        ("GET", ["webhook_endpoints", id]) => ctx.find("webhook_endpoint", id, "id").map(|v| public(&v)),
        ("POST", ["webhook_endpoints", id]) => webhook_endpoints::update_webhook_endpoint(ctx, id, params),
        ("DELETE", ["webhook_endpoints", id]) => webhook_endpoints::delete_webhook_endpoint(ctx, id),
        ("GET", ["events"]) => webhook_endpoints::list_events(ctx, params),
        ("GET", ["events", id]) => ctx.find("event", id, "id").map(|v| public(&v)),
        // Tax
        ("GET", ["tax", "settings"]) => Ok(crate::engine::tax_settings::retrieve(ctx)),
        ("POST", ["tax", "settings"]) => tax_settings::update_tax_settings(ctx, params),
        // Test clocks
        ("POST", ["test_helpers", "test_clocks"]) => test_clocks::create_test_clock(ctx, params),
        ("GET", ["test_helpers", "test_clocks"]) => {
            catalog::list_simple(ctx, "test_helpers.test_clock", params, "/v1/test_helpers/test_clocks")
        }
        ("GET", ["test_helpers", "test_clocks", id]) => {
            ctx.find("test_helpers.test_clock", id, "test_clock").map(|v| public(&v))
        }
        ("DELETE", ["test_helpers", "test_clocks", id]) => test_clocks::delete_test_clock(ctx, id),
        ("POST", ["test_helpers", "test_clocks", id, "advance"]) => test_clocks::advance_test_clock(ctx, id, params),
        // Misc used by SDKs and the CLI
        // Connect
        ("GET", ["account"]) => connect::current_account(ctx),
        ("POST", ["accounts"]) => connect::create_account(ctx, params),
        ("GET", ["accounts"]) => connect::list_accounts(ctx, params),
        ("GET", ["accounts", id]) => connect::retrieve_account(ctx, id),
        ("POST", ["accounts", id]) => connect::update_account(ctx, id, params),
        ("DELETE", ["accounts", id]) => connect::delete_account(ctx, id),
        ("GET", ["accounts", id, "capabilities"]) => connect::list_capabilities(ctx, id),
        ("POST", ["accounts", id, "login_links"]) => connect::create_login_link(ctx, id),
        ("POST", ["account_links"]) => connect::create_account_link(ctx, params),
        ("GET", ["balance"]) => connect::get_balance(ctx),
        ("GET", ["balance_transactions"]) | ("GET", ["balance", "history"]) => {
            connect::list_balance_transactions(ctx, params)
        }
        ("GET", ["balance_transactions", id]) | ("GET", ["balance", "history", id]) => {
            connect::retrieve_balance_transaction(ctx, id)
        }
        ("POST", ["payouts"]) => connect::create_payout(ctx, params),
        ("GET", ["payouts"]) => connect::list_payouts(ctx, params),
        ("GET", ["payouts", id]) => ctx.find("payout", id, "payout").map(|v| public(&v)),
        ("POST", ["payouts", id]) => crate::engine::payouts::update(ctx, id, params.get("metadata")),
        ("POST", ["payouts", id, "cancel"]) => crate::engine::payouts::cancel(ctx, id),
        ("POST", ["transfers"]) => connect::create_transfer(ctx, params),
        ("GET", ["transfers"]) => connect::list_transfers(ctx, params),
        ("GET", ["transfers", id]) => connect::retrieve_transfer(ctx, id),
        ("POST", ["transfers", id]) => connect::update_transfer(ctx, id, params),
        ("POST", ["transfers", id, "reversals"]) => connect::create_reversal(ctx, id, params),
        ("GET", ["transfers", id, "reversals"]) => connect::list_reversals(ctx, id, params),
        ("GET", ["transfers", id, "reversals", reversal]) => connect::retrieve_reversal(ctx, id, reversal),
        ("GET", ["application_fees"]) => connect::list_application_fees(ctx, params),
        ("GET", ["application_fees", id]) => connect::retrieve_application_fee(ctx, id),
        ("POST", ["application_fees", id, "refunds"]) | ("POST", ["application_fees", id, "refund"]) => {
            connect::create_fee_refund(ctx, id, params)
        }
        ("GET", ["application_fees", id, "refunds"]) => connect::list_fee_refunds(ctx, id, params),
        ("GET", ["application_fees", id, "refunds", refund]) => connect::retrieve_fee_refund(ctx, id, refund),
        _ => Err(ApiError::unknown_route(method, &format!("/v1/{}", segments.join("/")))),
    };
    response
}

/// `GET /v1/account`: the platform (or the connected account named by `Stripe-Account`), as
/// Stripe shows an activated standard account: it charges and pays out, nothing is due.
pub fn account(ctx: &Ctx) -> Value {
    let id = if ctx.account.is_empty() { "acct_sandbox".to_string() } else { ctx.account.clone() };
    let nothing_due = json!({
        "alternatives": [], "current_deadline": null, "currently_due": [], "disabled_reason": null,
        "errors": [], "eventually_due": [], "past_due": [], "pending_verification": [],
    });
    // The platform's brand (`/_sandbox/branding`); a connected account read this way has its own.
    let brand = if ctx.account.is_empty() { ctx.state.branding.clone() } else { Default::default() };
    let name = brand.business_name.as_deref().unwrap_or("Sandbox");
    let mut settings = crate::engine::accounts::settings(Some(name), Some("SANDBOX"));
    settings["branding"]["primary_color"] = json!(brand.primary_color);
    settings["branding"]["secondary_color"] = json!(brand.secondary_color);
    json!({
        "id": id,
        "object": "account",
        "business_profile": {
            "annual_revenue": null, "estimated_worker_count": null, "mcc": null,
            "minority_owned_business_designation": null, "name": name, "product_description": null,
            "support_address": null, "support_email": null, "support_phone": null, "support_url": null, "url": null,
        },
        "business_type": null,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": true,
        "controller": {"type": "account"},
        "country": "US",
        "created": 0,
        "default_currency": "usd",
        "details_submitted": true,
        "email": null,
        "external_accounts": {"object": "list", "data": [], "has_more": false, "url": format!("/v1/accounts/{id}/external_accounts")},
        "future_requirements": nothing_due.clone(),
        "metadata": {},
        "payouts_enabled": true,
        "requirements": nothing_due,
        "settings": settings,
        "tos_acceptance": {"date": 0, "ip": null, "user_agent": null},
        "type": "standard",
    })
}
