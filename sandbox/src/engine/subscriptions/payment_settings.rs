//! A subscription's `payment_settings`, and the card Stripe saves on it: with
//! `save_default_payment_method=on_subscription` the payment method that pays one of its
//! invoices (or sets up its `pending_setup_intent`) becomes its `default_payment_method`.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{diff, Ctx};

/// The values Stripe accepts in `payment_settings[payment_method_types]` (its API reference).
const PAYMENT_METHOD_TYPES: &[&str] = &[
    "ach_credit_transfer",
    "ach_debit",
    "acss_debit",
    "affirm",
    "amazon_pay",
    "au_becs_debit",
    "bacs_debit",
    "bancontact",
    "boleto",
    "card",
    "cashapp",
    "crypto",
    "custom",
    "customer_balance",
    "eps",
    "fpx",
    "giropay",
    "grabpay",
    "ideal",
    "jp_credit_transfer",
    "kakao_pay",
    "klarna",
    "konbini",
    "kr_card",
    "link",
    "multibanco",
    "naver_pay",
    "nz_bank_account",
    "p24",
    "payco",
    "paynow",
    "paypal",
    "payto",
    "pix",
    "promptpay",
    "revolut_pay",
    "sepa_credit_transfer",
    "sepa_debit",
    "sofort",
    "swish",
    "upi",
    "us_bank_account",
    "wechat_pay",
];

/// `payment_settings[...]` of a create or update request; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct PaymentSettings {
    /// `off` or `on_subscription`.
    pub save_default_payment_method: Option<String>,
    /// `Some(None)` clears the list (an empty parameter).
    pub payment_method_types: Option<Option<Vec<String>>>,
}

impl PaymentSettings {
    /// Stripe's `invalid_request_error` for a value it does not know, naming the parameter.
    pub fn check(&self) -> ApiResult<()> {
        if let Some(save) = &self.save_default_payment_method {
            if !matches!(save.as_str(), "off" | "on_subscription") {
                return Err(ApiError::invalid_value(
                    "payment_settings[save_default_payment_method]",
                    "Invalid payment_settings[save_default_payment_method]: must be one of off or on_subscription",
                ));
            }
        }
        for (i, kind) in self.payment_method_types.iter().flatten().flatten().enumerate() {
            if !PAYMENT_METHOD_TYPES.contains(&kind.as_str()) {
                let param = format!("payment_settings[payment_method_types][{i}]");
                return Err(ApiError::invalid_value(
                    &param,
                    format!("Invalid {param}: must be one of {}", PAYMENT_METHOD_TYPES.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Writes the requested settings into a subscription.
    pub fn apply(&self, subscription: &mut Value) {
        if let Some(save) = &self.save_default_payment_method {
            subscription["payment_settings"]["save_default_payment_method"] = json!(save);
        }
        if let Some(types) = &self.payment_method_types {
            subscription["payment_settings"]["payment_method_types"] = json!(types);
        }
    }
}

/// A new subscription's `payment_settings` (Stripe's defaults where the request says nothing).
pub fn initial(requested: &PaymentSettings) -> Value {
    let mut subscription = json!({"payment_settings": {
        "payment_method_options": null,
        "payment_method_types": null,
        "save_default_payment_method": "off",
    }});
    requested.apply(&mut subscription);
    subscription["payment_settings"].take()
}

/// The payment method types a subscription's intents offer (`card` unless its settings say).
pub fn intent_payment_method_types(subscription: &Value) -> Value {
    match &subscription["payment_settings"]["payment_method_types"] {
        Value::Array(types) if !types.is_empty() => Value::Array(types.clone()),
        _ => json!(["card"]),
    }
}

/// With `on_subscription`, `payment_method` becomes the subscription's default (in `subscription`,
/// not yet stored).
pub fn save_default_payment_method(subscription: &mut Value, payment_method: &str) {
    if subscription["payment_settings"]["save_default_payment_method"] == "on_subscription" {
        subscription["default_payment_method"] = json!(payment_method);
    }
}

/// The subscription's pending SetupIntent succeeded: `pending_setup_intent` is cleared and,
/// with `on_subscription`, the card set up becomes the default; one
/// `customer.subscription.updated`.
pub fn pending_setup_intent_succeeded(ctx: &mut Ctx, setup_intent: &Value) {
    let Some(old) =
        ctx.all("subscription").into_iter().find(|s| s["pending_setup_intent"] == setup_intent["id"]).cloned()
    else {
        return;
    };
    let mut new = old.clone();
    new["pending_setup_intent"] = Value::Null;
    if let Some(payment_method) = setup_intent["payment_method"].as_str() {
        save_default_payment_method(&mut new, payment_method);
    }
    ctx.put("subscription", new.clone());
    ctx.emit("customer.subscription.updated", &new, Some(diff(&old, &new)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_refused_naming_the_parameter() {
        let save = PaymentSettings { save_default_payment_method: Some("always".into()), ..Default::default() };
        assert_eq!(save.check().unwrap_err().param.as_deref(), Some("payment_settings[save_default_payment_method]"));
        let types = PaymentSettings {
            payment_method_types: Some(Some(vec!["card".into(), "cheque".into()])),
            ..Default::default()
        };
        assert_eq!(types.check().unwrap_err().param.as_deref(), Some("payment_settings[payment_method_types][1]"));
        let fine = PaymentSettings {
            save_default_payment_method: Some("on_subscription".into()),
            payment_method_types: Some(Some(vec!["card".into()])),
        };
        assert!(fine.check().is_ok());
    }

    #[test]
    fn only_on_subscription_saves_the_card() {
        let mut off = json!({"payment_settings": initial(&PaymentSettings::default()), "default_payment_method": null});
        save_default_payment_method(&mut off, "pm_1");
        assert_eq!(off["default_payment_method"], Value::Null);
        let requested =
            PaymentSettings { save_default_payment_method: Some("on_subscription".into()), ..Default::default() };
        let mut on = json!({"payment_settings": initial(&requested), "default_payment_method": null});
        save_default_payment_method(&mut on, "pm_1");
        assert_eq!(on["default_payment_method"], "pm_1");
    }
}
