//! Where objects live: per-account collections in creation order, the state root (clock
//! offset, idempotency records, settings), and the [`Ctx`] methods that read and write objects.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{public, Ctx};
use crate::error::{ApiError, ApiResult};

/// Objects of one kind in creation order.
#[derive(Default, Serialize, Deserialize, Clone)]
pub struct Collection {
    pub order: Vec<String>,
    pub map: HashMap<String, Value>,
}

#[derive(Default, Serialize, Deserialize, Clone)]
pub struct Account {
    pub collections: BTreeMap<String, Collection>,
}

/// What happens to a subscription when every retry of a renewal invoice has failed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DunningFinal {
    Cancel,
    Unpaid,
    PastDue,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Settings {
    /// Days between failed payment attempts of an invoice (Smart-Retry-like); the number of
    /// entries is the number of retries after the first attempt.
    pub dunning_retry_days: Vec<i64>,
    pub dunning_final: DunningFinal,
    /// Seconds between a renewal invoice's creation and its automatic finalisation (Stripe: 1 h).
    pub finalize_delay_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self { dunning_retry_days: vec![3, 5, 7, 6], dunning_final: DunningFinal::Cancel, finalize_delay_secs: 3600 }
    }
}

/// The platform account's brand, as its Dashboard's Branding and Public details settings hold it
/// (Stripe's API cannot set them on the platform itself): set through `/_sandbox/branding`, read
/// back in `GET /v1/account`, and shown by the hosted pages.
#[derive(Default, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    /// The public business name (`business_profile.name`).
    pub business_name: Option<String>,
    /// Where the logo is served (Stripe keeps an uploaded file; the sandbox shows this URL).
    pub logo_url: Option<String>,
    /// `#rrggbb`, lower-case.
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct IdemEntry {
    pub method: String,
    pub path: String,
    pub body: String,
    pub status: u16,
    pub response: String,
    pub created: i64,
}

#[derive(Default, Serialize, Deserialize)]
pub struct State {
    /// Seconds added to the wall clock: the sandbox-wide clock is `wall + offset`.
    pub clock_offset: i64,
    pub accounts: BTreeMap<String, Account>,
    pub idempotency: HashMap<String, IdemEntry>,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub branding: Branding,
}

pub fn wall_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl State {
    /// The sandbox-wide clock.
    pub fn now(&self) -> i64 {
        wall_now() + self.clock_offset
    }
    pub fn account(&mut self, account: &str) -> &mut Account {
        self.accounts.entry(account.to_string()).or_default()
    }
}

/// Maps an id to its object kind from the prefix.
pub fn kind_of_id(id: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("sub_sched_", "subscription_schedule"),
        ("cus_", "customer"),
        ("prod_", "product"),
        ("price_", "price"),
        ("sub_", "subscription"),
        ("si_", "subscription_item"),
        ("in_", "invoice"),
        ("ii_", "invoiceitem"),
        ("inpay_", "invoice_payment"),
        ("pi_", "payment_intent"),
        ("ch_", "charge"),
        ("py_", "charge"),
        ("re_", "refund"),
        ("dp_", "dispute"),
        ("du_", "dispute"),
        ("pm_", "payment_method"),
        ("cs_", "checkout.session"),
        ("bps_", "billing_portal.session"),
        ("bpc_", "billing_portal.configuration"),
        ("we_", "webhook_endpoint"),
        ("evt_", "event"),
        ("clock_", "test_helpers.test_clock"),
        ("promo_", "promotion_code"),
        ("txn_", "balance_transaction"),
        ("seti_", "setup_intent"),
        ("ppage_", "checkout.session"),
        ("di_", "discount"),
        ("mtr_", "billing.meter"),
        ("feat_", "entitlements.feature"),
        ("prodft_", "product_feature"),
        ("ent_", "entitlements.active_entitlement"),
        ("acct_", "account"),
        ("trr_", "transfer_reversal"),
        ("tr_", "transfer"),
        ("fee_", "application_fee"),
        ("fr_", "fee_refund"),
        ("po_", "payout"),
        ("ba_", "bank_account"),
        ("pyr_", "refund"),
        ("issfr_", "radar.early_fraud_warning"),
        ("prv_", "review"),
    ];
    PREFIXES.iter().find(|(p, _)| id.starts_with(p)).map(|(_, k)| *k)
}

/// A human name for error messages ("No such customer: …").
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "checkout.session" => "checkout.session",
        "billing_portal.configuration" => "configuration",
        "test_helpers.test_clock" => "test_clock",
        "payment_method" => "PaymentMethod",
        "payment_intent" => "payment_intent",
        "entitlements.feature" => "feature",
        "entitlements.active_entitlement" => "active_entitlement",
        "radar.early_fraud_warning" => "early_fraud_warning",
        other => other,
    }
}

impl Ctx<'_> {
    fn coll(&mut self, kind: &str) -> &mut Collection {
        let account = self.account.clone();
        self.state.account(&account).collections.entry(kind.to_string()).or_default()
    }

    pub fn get(&self, kind: &str, id: &str) -> Option<&Value> {
        self.state.accounts.get(&self.account)?.collections.get(kind)?.map.get(id)
    }

    pub fn get_mut(&mut self, kind: &str, id: &str) -> Option<&mut Value> {
        let account = self.account.clone();
        self.state.accounts.get_mut(&account)?.collections.get_mut(kind)?.map.get_mut(id)
    }

    /// Retrieves a clone or a 404 in Stripe's words.
    pub fn find(&self, kind: &str, id: &str, param: &str) -> ApiResult<Value> {
        self.get(kind, id).cloned().ok_or_else(|| ApiError::not_found(kind_label(kind), id, param))
    }

    /// Inserts or replaces an object (keyed by its `id`).
    pub fn put(&mut self, kind: &str, obj: Value) {
        let id = obj["id"].as_str().expect("object with id").to_string();
        let collection = self.coll(kind);
        if collection.map.insert(id.clone(), obj).is_none() {
            collection.order.push(id);
        }
    }

    pub fn remove(&mut self, kind: &str, id: &str) -> Option<Value> {
        let collection = self.coll(kind);
        let removed = collection.map.remove(id)?;
        collection.order.retain(|x| x != id);
        Some(removed)
    }

    /// All objects of a kind, newest first.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        let Some(c) = self.state.accounts.get(&self.account).and_then(|a| a.collections.get(kind)) else {
            return Vec::new();
        };
        c.order.iter().rev().filter_map(|id| c.map.get(id)).collect()
    }

    /// Finds any object by id (used by `expand[]`), guided by the field name for custom ids.
    pub fn lookup_any(&self, id: &str, field: &str) -> Option<Value> {
        let kind = kind_of_id(id).or(match field {
            "product" => Some("product"),
            "coupon" => Some("coupon"),
            "plan" => Some("price"),
            _ => None,
        })?;
        if kind == "subscription_item" {
            return self.find_subscription_item(id).map(|(_, item)| item);
        }
        self.get(kind, id).map(public)
    }

    /// A subscription item and its subscription's id.
    pub fn find_subscription_item(&self, id: &str) -> Option<(String, Value)> {
        for subscription in self.all("subscription") {
            if let Some(items) = subscription["items"]["data"].as_array() {
                if let Some(item) = items.iter().find(|i| i["id"] == id) {
                    return Some((subscription["id"].as_str()?.to_string(), item.clone()));
                }
            }
        }
        None
    }
}
