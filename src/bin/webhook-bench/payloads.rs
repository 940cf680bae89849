//! The signed deliveries every webhook target gets: one `customer.created`-shaped event per
//! request (Stripe's customer object, about 1 KB), each with its own id.

use tollgate::server::webhooks::signature;

use crate::load::{self, Requests};

pub const SECRET: &str = "whsec_tollgate_bench";

/// The events' type: a `customer.created` body under a type the app does not act on, so the
/// app's worker marks each one ignored instead of re-fetching a customer Stripe never made
/// (that is the apply figure's work, measured on its own).
pub const EVENT_TYPE: &str = "bench.customer_created";

/// `count` signed POSTs to `/webhooks/stripe`, signed at `now`.
pub fn deliveries(count: usize, now: i64) -> Requests {
    std::sync::Arc::new((0..count).map(|i| signed(&event(&format!("evt_bench_{i:08}"), i, now), SECRET, now)).collect())
}

/// One POST of `body`, signed with `secret` at `now`.
pub fn signed(body: &str, secret: &str, now: i64) -> Vec<u8> {
    let signature = signature::sign(body.as_bytes(), secret, now);
    load::request(
        "POST",
        "/webhooks/stripe",
        &[("Content-Type", "application/json; charset=utf-8"), ("Stripe-Signature", &signature)],
        body.as_bytes(),
    )
}

/// An event as Stripe sends it, its object a new customer.
pub fn event(id: &str, n: usize, now: i64) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","api_version":"2026-09-30.endive","created":{now},"data":{{"object":{{"id":"cus_bench{n:08}","object":"customer","address":null,"balance":0,"created":{now},"currency":null,"default_source":null,"delinquent":false,"description":null,"discount":null,"email":"bench{n}@example.com","invoice_prefix":"B{n:07X}","invoice_settings":{{"custom_fields":null,"default_payment_method":null,"footer":null,"rendering_options":null}},"livemode":false,"metadata":{{}},"name":"Bench Customer {n}","next_invoice_sequence":1,"phone":null,"preferred_locales":[],"shipping":null,"tax_exempt":"none","test_clock":null}}}},"livemode":false,"pending_webhooks":1,"request":{{"id":"req_bench{n:08}","idempotency_key":"bench-{n}"}},"type":"{EVENT_TYPE}"}}"#
    )
}
