//! The sandbox's state: every object as Stripe's JSON, per account, plus the clock,
//! idempotency records and engine settings. One lock guards it all.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::util::new_id;

pub const API_VERSION: &str = "2026-09-30.endive";
/// The platform account's key in [`State::accounts`].
pub const PLATFORM: &str = "";

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
}

pub fn wall_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl State {
    /// The sandbox-wide clock.
    pub fn now(&self) -> i64 {
        wall_now() + self.clock_offset
    }
    pub fn account(&mut self, acct: &str) -> &mut Account {
        self.accounts.entry(acct.to_string()).or_default()
    }
}

/// An event waiting to be stored and delivered when the request or engine step ends.
pub struct PendingEvent {
    pub kind: String,
    pub object: Value,
    pub previous: Option<Value>,
    pub created: i64,
}

/// One webhook delivery to send.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub account: String,
    pub endpoint_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub attempt: u32,
}

/// The context of one request (or one engine run): state, account, request info, and the
/// events produced so far.
pub struct Ctx<'a> {
    pub st: &'a mut State,
    pub acct: String,
    pub base_url: String,
    pub request_id: Option<String>,
    pub idem_key: Option<String>,
    pub events: Vec<PendingEvent>,
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
        other => other,
    }
}

impl<'a> Ctx<'a> {
    pub fn new(st: &'a mut State, acct: &str, base_url: &str) -> Self {
        Ctx {
            st,
            acct: acct.to_string(),
            base_url: base_url.to_string(),
            request_id: None,
            idem_key: None,
            events: Vec::new(),
        }
    }

    pub fn now(&self) -> i64 {
        self.st.now()
    }

    fn coll(&mut self, kind: &str) -> &mut Collection {
        let acct = self.acct.clone();
        self.st.account(&acct).collections.entry(kind.to_string()).or_default()
    }

    pub fn get(&self, kind: &str, id: &str) -> Option<&Value> {
        self.st.accounts.get(&self.acct)?.collections.get(kind)?.map.get(id)
    }

    pub fn get_mut(&mut self, kind: &str, id: &str) -> Option<&mut Value> {
        let acct = self.acct.clone();
        self.st.accounts.get_mut(&acct)?.collections.get_mut(kind)?.map.get_mut(id)
    }

    /// Retrieves a clone or a 404 in Stripe's words.
    pub fn find(&self, kind: &str, id: &str, param: &str) -> ApiResult<Value> {
        self.get(kind, id).cloned().ok_or_else(|| ApiError::not_found(kind_label(kind), id, param))
    }

    /// Inserts or replaces an object (keyed by its `id`).
    pub fn put(&mut self, kind: &str, obj: Value) {
        let id = obj["id"].as_str().expect("object with id").to_string();
        let c = self.coll(kind);
        if c.map.insert(id.clone(), obj).is_none() {
            c.order.push(id);
        }
    }

    pub fn remove(&mut self, kind: &str, id: &str) -> Option<Value> {
        let c = self.coll(kind);
        let v = c.map.remove(id)?;
        c.order.retain(|x| x != id);
        Some(v)
    }

    /// All objects of a kind, newest first.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        let Some(c) = self.st.accounts.get(&self.acct).and_then(|a| a.collections.get(kind)) else { return Vec::new() };
        c.order.iter().rev().filter_map(|id| c.map.get(id)).collect()
    }

    /// The time an object lives in: its customer's test clock, or the sandbox clock.
    pub fn now_for_customer(&self, customer: Option<&str>) -> i64 {
        if let Some(clock) = customer.and_then(|c| self.get("customer", c)).and_then(|c| c["test_clock"].as_str()) {
            if let Some(t) = self.get("test_helpers.test_clock", clock).and_then(|c| c["frozen_time"].as_i64()) {
                return t;
            }
        }
        self.now()
    }

    /// The clock time for an object, found through its `customer` field.
    pub fn now_for(&self, obj: &Value) -> i64 {
        if obj["object"] == "customer" {
            if let Some(clock) = obj["test_clock"].as_str() {
                if let Some(t) = self.get("test_helpers.test_clock", clock).and_then(|c| c["frozen_time"].as_i64()) {
                    return t;
                }
            }
            return self.now();
        }
        let cus = match &obj["customer"] {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            _ => None,
        };
        self.now_for_customer(cus)
    }

    /// Records an event; it is stored and delivered when the request ends.
    pub fn emit(&mut self, kind: &str, object: &Value, previous: Option<Value>) {
        let created = self.now_for(object);
        self.events.push(PendingEvent { kind: kind.to_string(), object: public(object), previous, created });
    }

    /// Stores pending events and returns the webhook deliveries they cause.
    pub fn flush_events(&mut self) -> Vec<Delivery> {
        let pending = std::mem::take(&mut self.events);
        let mut deliveries = Vec::new();
        for ev in pending {
            let id = new_id("evt");
            // Endpoints in this account, and Connect endpoints on the platform for connected accounts.
            let mut targets: Vec<(String, String, String)> = Vec::new();
            let connected = self.acct != PLATFORM;
            let sources: Vec<(&str, bool)> = if connected { vec![(PLATFORM, true)] } else { vec![(PLATFORM, false)] };
            for (acct, want_connect) in sources {
                if let Some(c) = self.st.accounts.get(acct).and_then(|a| a.collections.get("webhook_endpoint")) {
                    for eid in &c.order {
                        let ep = &c.map[eid];
                        if ep["status"] != "enabled" || ep["_sb_connect"].as_bool().unwrap_or(false) != want_connect {
                            continue;
                        }
                        let enabled = ep["enabled_events"].as_array().cloned().unwrap_or_default();
                        if enabled.iter().any(|e| e == "*" || e.as_str() == Some(ev.kind.as_str())) {
                            targets.push((
                                eid.clone(),
                                ep["url"].as_str().unwrap_or_default().to_string(),
                                ep["_sb_secret"].as_str().unwrap_or_default().to_string(),
                            ));
                        }
                    }
                }
            }
            let mut data = json!({ "object": ev.object });
            if let Some(prev) = ev.previous {
                data["previous_attributes"] = prev;
            }
            let mut event = json!({
                "id": id,
                "object": "event",
                "api_version": API_VERSION,
                "created": ev.created,
                "data": data,
                "livemode": false,
                "pending_webhooks": targets.len(),
                "request": { "id": self.request_id, "idempotency_key": self.idem_key },
                "type": ev.kind,
            });
            if connected {
                event["account"] = json!(self.acct);
            }
            let payload = serde_json::to_string(&event).expect("json");
            for (endpoint_id, url, secret) in targets {
                deliveries.push(Delivery {
                    account: self.acct.clone(),
                    endpoint_id,
                    url,
                    secret,
                    event_id: id.clone(),
                    event_type: ev.kind.clone(),
                    payload: payload.clone(),
                    attempt: 1,
                });
            }
            self.put("event", event);
        }
        deliveries
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
            return self.find_subscription_item(id).map(|(_, si)| si);
        }
        self.get(kind, id).map(public)
    }

    /// A subscription item and its subscription's id.
    pub fn find_subscription_item(&self, id: &str) -> Option<(String, Value)> {
        for sub in self.all("subscription") {
            if let Some(items) = sub["items"]["data"].as_array() {
                if let Some(si) = items.iter().find(|i| i["id"] == id) {
                    return Some((sub["id"].as_str()?.to_string(), si.clone()));
                }
            }
        }
        None
    }
}

/// A copy of an object without the sandbox's private `_sb_*` fields.
pub fn public(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter().filter(|(k, _)| !k.starts_with("_sb_")).map(|(k, v)| (k.clone(), public(v))).collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(public).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading parameters

/// A string parameter (`None` when absent or not a string).
pub fn p_str<'v>(p: &'v Value, key: &str) -> Option<&'v str> {
    p.get(key).and_then(Value::as_str)
}

/// A string parameter, non-empty.
pub fn p_nonempty<'v>(p: &'v Value, key: &str) -> Option<&'v str> {
    p_str(p, key).filter(|s| !s.is_empty())
}

pub fn p_req<'v>(p: &'v Value, key: &str) -> ApiResult<&'v str> {
    p_nonempty(p, key).ok_or_else(|| ApiError::missing(key))
}

pub fn p_i64(p: &Value, key: &str) -> ApiResult<Option<i64>> {
    match p.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse::<i64>().map(Some).map_err(|_| {
            ApiError::invalid_value(key, format!("Invalid integer: {s}")).with_code("parameter_invalid_integer")
        }),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(_) => {
            Err(ApiError::invalid_value(key, format!("Invalid integer: {key}")).with_code("parameter_invalid_integer"))
        }
    }
}

pub fn p_bool(p: &Value, key: &str) -> ApiResult<Option<bool>> {
    match p.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            _ => Err(ApiError::invalid_value(key, format!("Invalid boolean: {s}"))),
        },
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::invalid_value(key, format!("Invalid boolean: {key}"))),
    }
}

/// An array parameter; a single string counts as a one-element array.
pub fn p_list(p: &Value, key: &str) -> Vec<Value> {
    match p.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(v @ Value::String(_)) | Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

pub fn p_strings(p: &Value, key: &str) -> Vec<String> {
    p_list(p, key).into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// Applies `metadata[...]` from params onto an existing metadata map (Stripe's merge rules:
/// an empty value deletes a key, `metadata=` clears everything).
pub fn merge_metadata(current: &Value, p: &Value) -> ApiResult<Value> {
    let mut out = current.as_object().cloned().unwrap_or_default();
    match p.get("metadata") {
        None => {}
        Some(Value::String(s)) if s.is_empty() => out.clear(),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match v.as_str() {
                    Some("") => {
                        out.remove(k);
                    }
                    Some(s) => {
                        if out.len() >= 50 && !out.contains_key(k) {
                            return Err(ApiError::invalid_value("metadata", "Metadata can have at most 50 keys."));
                        }
                        out.insert(k.clone(), json!(s));
                    }
                    None => {
                        return Err(ApiError::invalid_value(
                            &format!("metadata[{k}]"),
                            "Invalid metadata value: must be a string.",
                        ))
                    }
                }
            }
        }
        Some(_) => return Err(ApiError::invalid_value("metadata", "Invalid metadata: must be a hash.")),
    }
    Ok(Value::Object(out))
}

pub fn new_metadata(p: &Value) -> ApiResult<Value> {
    merge_metadata(&json!({}), p)
}

/// Ensures a value is a JSON object and returns its map.
pub fn obj_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("object")
}

// ---------------------------------------------------------------------------------------------
// Lists

/// Builds a Stripe list object from already filtered objects (newest first), honouring
/// `limit`, `starting_after` and `ending_before`.
pub fn paginate(items: Vec<Value>, p: &Value, url: &str) -> ApiResult<Value> {
    let limit = p_i64(p, "limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_value(
            "limit",
            "This value must be greater than 1 and less than or equal to 100.",
        )
        .with_code("parameter_invalid_integer"));
    }
    let limit = limit as usize;
    let (page, has_more) = if let Some(after) = p_nonempty(p, "starting_after") {
        let pos = items
            .iter()
            .position(|o| o["id"] == after)
            .ok_or_else(|| ApiError::not_found("object", after, "starting_after"))?;
        let rest: Vec<Value> = items.into_iter().skip(pos + 1).collect();
        let has_more = rest.len() > limit;
        (rest.into_iter().take(limit).collect::<Vec<_>>(), has_more)
    } else if let Some(before) = p_nonempty(p, "ending_before") {
        let pos = items
            .iter()
            .position(|o| o["id"] == before)
            .ok_or_else(|| ApiError::not_found("object", before, "ending_before"))?;
        let start = pos.saturating_sub(limit);
        let has_more = start > 0;
        (items[start..pos].to_vec(), has_more)
    } else {
        let has_more = items.len() > limit;
        (items.into_iter().take(limit).collect(), has_more)
    };
    Ok(json!({ "object": "list", "data": page, "has_more": has_more, "url": url }))
}

/// A list object holding every item (for embedded lists such as subscription items).
pub fn list_of(items: Vec<Value>, url: &str) -> Value {
    json!({ "object": "list", "data": items, "has_more": false, "total_count": null, "url": url })
}

/// Checks `created` filters: `created=N` or `created[gt|gte|lt|lte]=N`.
pub fn created_matches(p: &Value, key: &str, created: i64) -> ApiResult<bool> {
    match p.get(key) {
        None => Ok(true),
        Some(Value::String(_)) => Ok(p_i64(p, key)?.is_none_or(|t| t == created)),
        Some(f @ Value::Object(_)) => {
            let ok = p_i64(f, "gt")?.is_none_or(|t| created > t)
                && p_i64(f, "gte")?.is_none_or(|t| created >= t)
                && p_i64(f, "lt")?.is_none_or(|t| created < t)
                && p_i64(f, "lte")?.is_none_or(|t| created <= t);
            Ok(ok)
        }
        Some(_) => Ok(true),
    }
}

// ---------------------------------------------------------------------------------------------
// Expansion

/// Expands `paths` (`customer`, `data.customer`, `latest_invoice.payments`…) in `v`.
pub fn expand(cx: &Ctx, v: &mut Value, paths: &[String]) {
    add_includable(cx, v, paths);
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_path(cx, v, &parts, 0);
    }
}

/// Fields Stripe only includes when expanded: a session's `line_items`, a customer's
/// `subscriptions`.
fn add_includable(cx: &Ctx, v: &mut Value, paths: &[String]) {
    let wants = |name: &str| {
        paths.iter().any(|p| {
            p == name
                || p.starts_with(&format!("{name}."))
                || p == &format!("data.{name}")
                || p.starts_with(&format!("data.{name}."))
        })
    };
    let mut fill = |obj: &mut Value| {
        let id = obj["id"].as_str().unwrap_or_default().to_string();
        if obj["object"] == "checkout.session" && wants("line_items") {
            if let Some(cs) = cx.get("checkout.session", &id) {
                let items = cs["_sb_items"].as_array().cloned().unwrap_or_default();
                obj["line_items"] = list_of(items, &format!("/v1/checkout/sessions/{id}/line_items"));
            }
        }
        if obj["object"] == "customer" && wants("subscriptions") {
            let subs: Vec<Value> = cx
                .all("subscription")
                .into_iter()
                .filter(|s| s["customer"] == id.as_str() && s["status"] != "canceled")
                .map(public)
                .collect();
            obj["subscriptions"] = list_of(subs, &format!("/v1/customers/{id}/subscriptions"));
        }
    };
    let is_list = v["object"] == "list" || v["object"] == "search_result";
    match v["data"].as_array_mut() {
        Some(items) if is_list => items.iter_mut().for_each(&mut fill),
        _ => fill(v),
    }
}

fn expand_path(cx: &Ctx, v: &mut Value, parts: &[&str], depth: usize) {
    if depth > 4 {
        return;
    }
    let Some((first, rest)) = parts.split_first() else { return };
    match v {
        Value::Array(items) => {
            for item in items {
                expand_path(cx, item, parts, depth);
            }
        }
        Value::Object(map) => {
            let Some(child) = map.get_mut(*first) else { return };
            if let Value::String(id) = child {
                if let Some(obj) = cx.lookup_any(id, first) {
                    *child = obj;
                }
            } else if let Value::Array(items) = child {
                // e.g. `discounts`, `default_tax_rates`: arrays of ids.
                for item in items.iter_mut() {
                    if let Value::String(id) = item {
                        if let Some(obj) = cx.lookup_any(id, first) {
                            *item = obj;
                        }
                    }
                }
            }
            if !rest.is_empty() {
                expand_path(cx, child, rest, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(n: usize) -> Vec<Value> {
        (0..n).rev().map(|i| json!({"id": format!("o_{i}")})).collect()
    }

    fn ids(list: &Value) -> Vec<String> {
        list["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn pagination_walks_forward_and_back() {
        let items = objs(5); // o_4 … o_0, newest first
        let first = paginate(items.clone(), &json!({"limit": "2"}), "/v1/x").unwrap();
        assert_eq!(ids(&first), ["o_4", "o_3"]);
        assert_eq!(first["has_more"], true);
        let second = paginate(items.clone(), &json!({"limit": "2", "starting_after": "o_3"}), "/v1/x").unwrap();
        assert_eq!(ids(&second), ["o_2", "o_1"]);
        assert_eq!(second["has_more"], true);
        let last = paginate(items.clone(), &json!({"limit": "2", "starting_after": "o_1"}), "/v1/x").unwrap();
        assert_eq!(ids(&last), ["o_0"]);
        assert_eq!(last["has_more"], false);
        let back = paginate(items.clone(), &json!({"limit": "2", "ending_before": "o_1"}), "/v1/x").unwrap();
        assert_eq!(ids(&back), ["o_3", "o_2"]);
        assert_eq!(back["has_more"], true);
        assert_eq!(first["object"], "list");
        assert_eq!(first["url"], "/v1/x");
    }

    #[test]
    fn pagination_rejects_bad_limit_and_cursor() {
        assert_eq!(paginate(objs(1), &json!({"limit": "0"}), "/v1/x").unwrap_err().status, 400);
        assert_eq!(paginate(objs(1), &json!({"limit": "101"}), "/v1/x").unwrap_err().status, 400);
        assert_eq!(paginate(objs(1), &json!({"starting_after": "nope"}), "/v1/x").unwrap_err().status, 404);
    }

    #[test]
    fn metadata_merge_rules() {
        let cur = json!({"a": "1", "b": "2"});
        assert_eq!(
            merge_metadata(&cur, &json!({"metadata": {"a": "", "c": "3"}})).unwrap(),
            json!({"b": "2", "c": "3"})
        );
        assert_eq!(merge_metadata(&cur, &json!({"metadata": ""})).unwrap(), json!({}));
        assert_eq!(merge_metadata(&cur, &json!({})).unwrap(), cur);
    }

    #[test]
    fn created_filters() {
        let p = json!({"created": {"gt": "10", "lte": "20"}});
        assert!(!created_matches(&p, "created", 10).unwrap());
        assert!(created_matches(&p, "created", 11).unwrap());
        assert!(created_matches(&p, "created", 20).unwrap());
        assert!(!created_matches(&p, "created", 21).unwrap());
        assert!(created_matches(&json!({"created": "5"}), "created", 5).unwrap());
    }

    #[test]
    fn public_strips_private_fields() {
        let v = json!({"id": "x", "_sb_secret": "s", "nested": {"_sb_a": 1, "b": 2}});
        assert_eq!(public(&v), json!({"id": "x", "nested": {"b": 2}}));
    }

    #[test]
    fn expand_replaces_ids_in_lists_and_nested() {
        let mut st = State::default();
        let mut cx = Ctx::new(&mut st, PLATFORM, "http://x");
        cx.put("customer", json!({"id": "cus_1", "object": "customer", "_sb_x": 1}));
        cx.put("invoice", json!({"id": "in_1", "object": "invoice", "customer": "cus_1"}));
        let mut list =
            json!({"object": "list", "data": [{"id": "sub_1", "latest_invoice": "in_1", "customer": "cus_1"}]});
        expand(&cx, &mut list, &["data.latest_invoice.customer".to_string()]);
        assert_eq!(list["data"][0]["latest_invoice"]["customer"]["object"], "customer");
        assert!(list["data"][0]["latest_invoice"]["customer"].get("_sb_x").is_none());
        assert_eq!(list["data"][0]["customer"], "cus_1");
    }

    #[test]
    fn kinds_from_prefixes() {
        assert_eq!(kind_of_id("sub_sched_1"), Some("subscription_schedule"));
        assert_eq!(kind_of_id("sub_1"), Some("subscription"));
        assert_eq!(kind_of_id("cs_test_1"), Some("checkout.session"));
        assert_eq!(kind_of_id("gold"), None);
    }
}

/// `previous_attributes` for an update: the old values of the keys that changed (recursing
/// into nested objects, not into lists).
pub fn diff(old: &Value, new: &Value) -> Value {
    let mut out = Map::new();
    if let (Value::Object(o), Value::Object(n)) = (old, new) {
        for (k, nv) in n {
            if k.starts_with("_sb_") {
                continue;
            }
            let ov = o.get(k).unwrap_or(&Value::Null);
            if ov != nv {
                if ov.is_object() && nv.is_object() && k != "metadata" {
                    out.insert(k.clone(), diff(ov, nv));
                } else {
                    out.insert(k.clone(), public(ov));
                }
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    #[test]
    fn diff_reports_old_values() {
        let old = json!({"a": 1, "b": {"c": 1, "d": 2}, "metadata": {"x": "1"}, "same": true});
        let new = json!({"a": 2, "b": {"c": 1, "d": 3}, "metadata": {"x": "2"}, "same": true});
        assert_eq!(diff(&old, &new), json!({"a": 1, "b": {"d": 2}, "metadata": {"x": "1"}}));
    }
}
