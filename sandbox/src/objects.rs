//! JSON constructors for Stripe objects, in the shapes async-stripe rc.10 parses.

use serde_json::{json, Value};

use crate::cards::TestCard;
use crate::util::{new_id, random_str};

pub fn null_address() -> Value {
    json!({"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null})
}

pub fn customer(id: &str, now: i64) -> Value {
    json!({
        "id": id,
        "object": "customer",
        "address": null,
        "balance": 0,
        "created": now,
        "currency": null,
        "customer_account": null,
        "default_source": null,
        "delinquent": false,
        "description": null,
        "discount": null,
        "email": null,
        "invoice_prefix": random_str(8).to_uppercase(),
        "invoice_settings": {"custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null},
        "livemode": false,
        "metadata": {},
        "name": null,
        "next_invoice_sequence": 1,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}

/// The `plan` view of a recurring price, as embedded in subscription items.
pub fn plan_from_price(price: &Value) -> Value {
    let rec = &price["recurring"];
    let mut plan = json!({
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": rec["interval"],
        "interval_count": rec["interval_count"],
        "livemode": false,
        "metadata": price["metadata"],
        "meter": rec["meter"],
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": price["transform_quantity"],
        "trial_period_days": rec["trial_period_days"],
        "usage_type": rec["usage_type"],
    });
    // Includable like the price's (shown only when expanded).
    if let Some(tiers) = price.get("tiers") {
        plan["tiers"] = tiers.clone();
    }
    plan
}

pub fn card_payment_method(card: &TestCard, exp_month: i64, exp_year: i64, now: i64) -> Value {
    let fingerprint = format!("{}{}", card.brand.chars().next().unwrap_or('x'), &card.last4).repeat(3);
    json!({
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": null_address(), "email": null, "name": null, "phone": null, "tax_id": null},
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
            "country": "US",
            "display_brand": card.brand,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": fingerprint,
            "funding": card.funding,
            "generated_from": null,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": null},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": true},
            "wallet": null,
        },
        "created": now,
        "customer": null,
        "livemode": false,
        "metadata": {},
        "type": "card",
        "_sb_behavior": card.behavior.as_str(),
        "_sb_bypass_pending": card.bypass_pending,
    })
}

/// `payment_method_details` of a charge made with a card payment method.
pub fn charge_payment_method_details(payment_method: &Value) -> Value {
    let card = &payment_method["card"];
    json!({
        "card": {
            "amount_authorized": null,
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "installments": null,
            "last4": card["last4"],
            "mandate": null,
            "network": card["brand"],
            "network_token": {"used": false},
            "three_d_secure": null,
            "wallet": null,
        },
        "type": "card",
    })
}

pub fn empty_list(url: &str) -> Value {
    json!({"object": "list", "data": [], "has_more": false, "total_count": 0, "url": url})
}
