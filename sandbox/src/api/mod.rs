//! `/v1` endpoints. `route` maps a method and path to a handler working on the state.

pub mod billing;
pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod misc;
pub mod payments;

use axum::http::Method;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::{diff, public, Ctx};

/// Dispatches one API call. `s` are the path segments after `/v1/`.
pub fn route(cx: &mut Ctx, m: &Method, s: &[&str], p: &Value) -> ApiResult<Value> {
    let method = m.as_str();
    let r = match (method, s) {
        // Customers
        ("POST", ["customers"]) => customers::create(cx, p),
        ("GET", ["customers"]) => customers::list(cx, p),
        ("GET", ["customers", "search"]) => customers::search(cx, p),
        ("GET", ["customers", id]) => customers::retrieve(cx, id),
        ("POST", ["customers", id]) => customers::update(cx, id, p),
        ("DELETE", ["customers", id]) => customers::delete(cx, id),
        ("GET", ["customers", id, "payment_methods"]) => customers::list_payment_methods(cx, id, p),
        ("GET", ["customers", id, "payment_methods", pm]) => customers::retrieve_payment_method(cx, id, pm),
        // Payment methods
        ("POST", ["payment_methods"]) => customers::create_payment_method(cx, p),
        ("GET", ["payment_methods"]) => customers::list_all_payment_methods(cx, p),
        ("GET", ["payment_methods", id]) => customers::get_payment_method(cx, id),
        ("POST", ["payment_methods", id]) => customers::update_payment_method(cx, id, p),
        ("POST", ["payment_methods", id, "attach"]) => customers::attach(cx, id, p),
        ("POST", ["payment_methods", id, "detach"]) => customers::detach(cx, id),
        // Catalog
        ("POST", ["products"]) => catalog::create_product(cx, p),
        ("GET", ["products"]) => catalog::list_products(cx, p),
        ("GET", ["products", "search"]) => catalog::search_products(cx, p),
        ("GET", ["products", id]) => cx.find("product", id, "id").map(|v| public(&v)),
        ("POST", ["products", id]) => catalog::update_product(cx, id, p),
        ("DELETE", ["products", id]) => catalog::delete_product(cx, id),
        ("POST", ["prices"]) => catalog::create_price(cx, p),
        ("GET", ["prices"]) => catalog::list_prices(cx, p),
        ("GET", ["prices", "search"]) => catalog::search_prices(cx, p),
        ("GET", ["prices", id]) => cx.find("price", id, "price").map(|v| public(&v)),
        ("POST", ["prices", id]) => catalog::update_price(cx, id, p),
        ("POST", ["plans"]) => catalog::create_plan(cx, p),
        ("GET", ["plans", id]) => catalog::get_plan(cx, id),
        ("POST", ["coupons"]) => catalog::create_coupon(cx, p),
        ("GET", ["coupons"]) => catalog::list_simple(cx, "coupon", p, "/v1/coupons"),
        ("GET", ["coupons", id]) => cx.find("coupon", id, "coupon").map(|v| public(&v)),
        ("POST", ["coupons", id]) => catalog::update_simple(cx, "coupon", id, p),
        ("DELETE", ["coupons", id]) => catalog::delete_simple(cx, "coupon", id),
        ("POST", ["promotion_codes"]) => catalog::create_promotion_code(cx, p),
        ("GET", ["promotion_codes"]) => catalog::list_promotion_codes(cx, p),
        ("GET", ["promotion_codes", id]) => cx.find("promotion_code", id, "promotion_code").map(|v| public(&v)),
        ("POST", ["promotion_codes", id]) => catalog::update_simple(cx, "promotion_code", id, p),
        // Checkout
        ("POST", ["checkout", "sessions"]) => checkout::create(cx, p),
        ("GET", ["checkout", "sessions"]) => checkout::list(cx, p),
        ("GET", ["checkout", "sessions", id]) => cx.find("checkout.session", id, "session").map(|v| public(&v)),
        ("POST", ["checkout", "sessions", id]) => checkout::update(cx, id, p),
        ("POST", ["checkout", "sessions", id, "expire"]) => checkout::expire(cx, id),
        ("GET", ["checkout", "sessions", id, "line_items"]) => checkout::line_items(cx, id, p),
        ("GET", ["payment_pages", id]) => checkout::payment_page(cx, id),
        ("POST", ["payment_pages", id]) => checkout::payment_page(cx, id),
        ("POST", ["payment_pages", id, "confirm"]) => checkout::payment_page_confirm(cx, id, p),
        // Billing
        ("POST", ["subscriptions"]) => billing::create_subscription(cx, p),
        ("GET", ["subscriptions"]) => billing::list_subscriptions(cx, p),
        ("GET", ["subscriptions", "search"]) => billing::search_subscriptions(cx, p),
        ("GET", ["subscriptions", id]) => cx.find("subscription", id, "id").map(|v| public(&v)),
        ("POST", ["subscriptions", id]) => billing::update_subscription(cx, id, p),
        ("DELETE", ["subscriptions", id]) => billing::cancel_subscription(cx, id, p),
        ("POST", ["subscriptions", id, "resume"]) => billing::resume_subscription(cx, id, p),
        ("DELETE", ["subscriptions", id, "discount"]) => billing::delete_discount(cx, id),
        ("GET", ["subscription_items"]) => billing::list_items(cx, p),
        ("POST", ["subscription_items"]) => billing::create_item(cx, p),
        ("GET", ["subscription_items", id]) => billing::retrieve_item(cx, id),
        ("POST", ["subscription_items", id]) => billing::update_item(cx, id, p),
        ("DELETE", ["subscription_items", id]) => billing::delete_item(cx, id, p),
        ("POST", ["subscription_schedules"]) => crate::engine::schedules::create(cx, p),
        ("GET", ["subscription_schedules"]) => billing::list_schedules(cx, p),
        ("GET", ["subscription_schedules", id]) => cx.find("subscription_schedule", id, "schedule").map(|v| public(&v)),
        ("POST", ["subscription_schedules", id]) => crate::engine::schedules::update(cx, id, p),
        ("POST", ["subscription_schedules", id, "release"]) => crate::engine::schedules::release(cx, id),
        ("POST", ["subscription_schedules", id, "cancel"]) => crate::engine::schedules::cancel(cx, id),
        ("POST", ["invoices"]) => billing::create_invoice(cx, p),
        ("GET", ["invoices"]) => billing::list_invoices(cx, p),
        ("GET", ["invoices", "search"]) => billing::search_invoices(cx, p),
        ("POST", ["invoices", "create_preview"]) => billing::create_preview(cx, p),
        ("GET", ["invoices", "upcoming"]) => billing::create_preview(cx, p),
        ("GET", ["invoices", id]) => cx.find("invoice", id, "invoice").map(|v| public(&v)),
        ("POST", ["invoices", id]) => billing::update_invoice(cx, id, p),
        ("DELETE", ["invoices", id]) => billing::delete_invoice(cx, id),
        ("GET", ["invoices", id, "lines"]) => billing::invoice_lines(cx, id, p),
        ("POST", ["invoices", id, "finalize"]) => crate::engine::billing::finalize(cx, id).map(|v| public(&v)),
        ("POST", ["invoices", id, "pay"]) => billing::pay_invoice(cx, id, p),
        ("POST", ["invoices", id, "void"]) => crate::engine::billing::void(cx, id).map(|v| public(&v)),
        ("POST", ["invoices", id, "mark_uncollectible"]) => {
            crate::engine::billing::mark_uncollectible(cx, id).map(|v| public(&v))
        }
        ("POST", ["invoices", id, "send"]) => cx.find("invoice", id, "invoice").map(|v| public(&v)),
        ("POST", ["invoiceitems"]) => billing::create_invoiceitem(cx, p),
        ("GET", ["invoiceitems"]) => billing::list_invoiceitems(cx, p),
        ("GET", ["invoiceitems", id]) => cx.find("invoiceitem", id, "invoiceitem").map(|v| public(&v)),
        ("POST", ["invoiceitems", id]) => catalog::update_simple(cx, "invoiceitem", id, p),
        ("DELETE", ["invoiceitems", id]) => catalog::delete_simple(cx, "invoiceitem", id),
        ("GET", ["invoice_payments"]) => billing::list_invoice_payments(cx, p),
        // Portal
        ("POST", ["billing_portal", "configurations"]) => misc::create_portal_configuration(cx, p),
        ("GET", ["billing_portal", "configurations"]) => misc::list_portal_configurations(cx, p),
        ("GET", ["billing_portal", "configurations", id]) => {
            cx.find("billing_portal.configuration", id, "configuration").map(|v| public(&v))
        }
        ("POST", ["billing_portal", "configurations", id]) => misc::update_portal_configuration(cx, id, p),
        ("POST", ["billing_portal", "sessions"]) => misc::create_portal_session(cx, p),
        // Payments
        ("POST", ["payment_intents"]) => payments::create_intent(cx, p),
        ("GET", ["payment_intents"]) => payments::list_intents(cx, p),
        ("GET", ["payment_intents", "search"]) => payments::list_intents(cx, p),
        ("GET", ["payment_intents", id]) => cx.find("payment_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["payment_intents", id]) => payments::update_intent(cx, id, p),
        ("POST", ["payment_intents", id, "confirm"]) => payments::confirm_intent(cx, id, p),
        ("POST", ["payment_intents", id, "cancel"]) => payments::cancel_intent(cx, id, p),
        ("POST", ["payment_intents", id, "capture"]) => cx.find("payment_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["charges"]) => payments::create_charge(cx, p),
        ("GET", ["charges"]) => payments::list_charges(cx, p),
        ("GET", ["charges", id]) => cx.find("charge", id, "charge").map(|v| public(&v)),
        ("POST", ["charges", id]) => catalog::update_simple(cx, "charge", id, p),
        ("POST", ["charges", id, "refund"]) | ("POST", ["charges", id, "refunds"]) => {
            payments::refund_charge(cx, id, p)
        }
        ("GET", ["charges", id, "refunds"]) => payments::list_refunds(cx, &json!({"charge": id}), p),
        ("POST", ["refunds"]) => payments::create_refund(cx, p),
        ("GET", ["refunds"]) => payments::list_refunds(cx, p, p),
        ("GET", ["refunds", id]) => cx.find("refund", id, "refund").map(|v| public(&v)),
        ("POST", ["refunds", id]) => catalog::update_simple(cx, "refund", id, p),
        ("GET", ["disputes"]) => payments::list_disputes(cx, p),
        ("GET", ["disputes", id]) => cx.find("dispute", id, "dispute").map(|v| public(&v)),
        ("POST", ["disputes", id]) => payments::update_dispute(cx, id, p),
        ("POST", ["disputes", id, "close"]) => payments::close_dispute(cx, id),
        ("POST", ["setup_intents"]) => payments::create_setup_intent(cx, p),
        ("GET", ["setup_intents", id]) => cx.find("setup_intent", id, "intent").map(|v| public(&v)),
        ("POST", ["setup_intents", id, "confirm"]) => payments::confirm_setup_intent(cx, id, p),
        ("POST", ["tokens"]) => payments::create_token(cx, p),
        // Webhooks and events
        ("POST", ["webhook_endpoints"]) => misc::create_webhook_endpoint(cx, p),
        ("GET", ["webhook_endpoints"]) => catalog::list_simple(cx, "webhook_endpoint", p, "/v1/webhook_endpoints"),
        ("GET", ["webhook_endpoints", id]) => cx.find("webhook_endpoint", id, "id").map(|v| public(&v)),
        ("POST", ["webhook_endpoints", id]) => misc::update_webhook_endpoint(cx, id, p),
        ("DELETE", ["webhook_endpoints", id]) => misc::delete_webhook_endpoint(cx, id),
        ("GET", ["events"]) => misc::list_events(cx, p),
        ("GET", ["events", id]) => cx.find("event", id, "id").map(|v| public(&v)),
        // Test clocks
        ("POST", ["test_helpers", "test_clocks"]) => misc::create_test_clock(cx, p),
        ("GET", ["test_helpers", "test_clocks"]) => {
            catalog::list_simple(cx, "test_helpers.test_clock", p, "/v1/test_helpers/test_clocks")
        }
        ("GET", ["test_helpers", "test_clocks", id]) => {
            cx.find("test_helpers.test_clock", id, "test_clock").map(|v| public(&v))
        }
        ("DELETE", ["test_helpers", "test_clocks", id]) => misc::delete_test_clock(cx, id),
        ("POST", ["test_helpers", "test_clocks", id, "advance"]) => misc::advance_test_clock(cx, id, p),
        // Misc used by SDKs and the CLI
        ("GET", ["account"]) | ("GET", ["accounts", _]) => Ok(misc::account(cx)),
        ("GET", ["balance"]) => Ok(
            json!({"object": "balance", "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}], "livemode": false, "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]}),
        ),
        _ => Err(ApiError::unknown_route(method, &format!("/v1/{}", s.join("/")))),
    };
    r
}

/// Replaces an object, emitting `{kind}.updated` with `previous_attributes` when it changed.
pub fn save_updated(cx: &mut Ctx, kind: &str, event: &str, old: &Value, new: Value) -> Value {
    let prev = diff(old, &new);
    cx.put(kind, new.clone());
    if prev.as_object().is_some_and(|m| !m.is_empty()) {
        cx.emit(event, &new, Some(prev));
    }
    public(&new)
}
