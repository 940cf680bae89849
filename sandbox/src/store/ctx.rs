//! The context of one request or engine run ([`Ctx`]): account, request info, clocks, and the
//! events it produces, stored and turned into webhook deliveries when it ends.

use serde_json::{json, Value};

use super::{diff, public, render_event, State, API_VERSION, PLATFORM};
use crate::util::new_id;

/// An event waiting to be stored and delivered when the request or engine step ends.
pub struct PendingEvent {
    /// The account the event belongs to (a connected account's events are Connect events).
    pub account: String,
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

/// An endpoint an event goes to.
struct Target {
    endpoint_id: String,
    url: String,
    secret: String,
    api_version: String,
}

/// The context of one request (or one engine run): state, account, request info, and the
/// events produced so far.
pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub account: String,
    pub base_url: String,
    pub request_id: Option<String>,
    pub idem_key: Option<String>,
    /// The request's API key (for Stripe's messages that quote it, redacted).
    pub api_key: String,
    pub events: Vec<PendingEvent>,
}

impl<'a> Ctx<'a> {
    pub fn new(state: &'a mut State, account: &str, base_url: &str) -> Self {
        Ctx {
            state,
            account: account.to_string(),
            base_url: base_url.to_string(),
            request_id: None,
            idem_key: None,
            api_key: String::new(),
            events: Vec::new(),
        }
    }

    pub fn now(&self) -> i64 {
        self.state.now()
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
        let customer = match &obj["customer"] {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("id").and_then(Value::as_str),
            _ => None,
        };
        self.now_for_customer(customer)
    }

    /// Records an event; it is stored and delivered when the request ends.
    pub fn emit(&mut self, kind: &str, object: &Value, previous: Option<Value>) {
        let created = self.now_for(object);
        let account = self.account.clone();
        self.events.push(PendingEvent { account, kind: kind.to_string(), object: public(object), previous, created });
    }

    /// Runs `f` with the context switched to `account` (objects read and written there, events
    /// emitted there), then switches back.
    pub fn in_account<R>(&mut self, account: &str, f: impl FnOnce(&mut Ctx) -> R) -> R {
        let saved = std::mem::replace(&mut self.account, account.to_string());
        let result = f(self);
        self.account = saved;
        result
    }

    /// Stores pending events and returns the webhook deliveries they cause.
    pub fn flush_events(&mut self) -> Vec<Delivery> {
        let pending = std::mem::take(&mut self.events);
        let mut deliveries = Vec::new();
        for pending_event in pending {
            let id = new_id("evt");
            // Endpoints in this account, and Connect endpoints on the platform for connected accounts.
            let mut targets: Vec<Target> = Vec::new();
            let event_account = pending_event.account.clone();
            let connected = event_account != PLATFORM;
            let sources: Vec<(&str, bool)> = if connected { vec![(PLATFORM, true)] } else { vec![(PLATFORM, false)] };
            for (account, want_connect) in sources {
                if let Some(collection) =
                    self.state.accounts.get(account).and_then(|a| a.collections.get("webhook_endpoint"))
                {
                    for endpoint_id in &collection.order {
                        let endpoint = &collection.map[endpoint_id];
                        if endpoint["status"] != "enabled"
                            || endpoint["_sb_connect"].as_bool().unwrap_or(false) != want_connect
                        {
                            continue;
                        }
                        let enabled = endpoint["enabled_events"].as_array().cloned().unwrap_or_default();
                        if enabled.iter().any(|e| e == "*" || e.as_str() == Some(pending_event.kind.as_str())) {
                            targets.push(Target {
                                endpoint_id: endpoint_id.clone(),
                                url: endpoint["url"].as_str().unwrap_or_default().to_string(),
                                secret: endpoint["_sb_secret"].as_str().unwrap_or_default().to_string(),
                                api_version: endpoint["api_version"].as_str().unwrap_or(API_VERSION).to_string(),
                            });
                        }
                    }
                }
            }
            let mut object = pending_event.object;
            render_event(self, &mut object);
            let mut data = json!({ "object": object });
            if let Some(prev) = pending_event.previous {
                data["previous_attributes"] = prev;
            }
            let mut event = json!({
                "id": id,
                "object": "event",
                "api_version": API_VERSION,
                "created": pending_event.created,
                "data": data,
                "livemode": false,
                "pending_webhooks": targets.len(),
                "request": { "id": self.request_id, "idempotency_key": self.idem_key },
                "type": pending_event.kind,
            });
            if connected {
                event["account"] = json!(event_account);
            }
            for target in targets {
                // Each endpoint gets the event in its own API version.
                let mut sent = event.clone();
                sent["api_version"] = json!(target.api_version);
                deliveries.push(Delivery {
                    account: event_account.clone(),
                    endpoint_id: target.endpoint_id,
                    url: target.url,
                    secret: target.secret,
                    event_id: id.clone(),
                    event_type: pending_event.kind.clone(),
                    payload: serde_json::to_string(&sent).expect("json"),
                    attempt: 1,
                });
            }
            self.in_account(&event_account, |ctx| ctx.put("event", event));
        }
        deliveries
    }

    /// Replaces an object, emitting `{kind}.updated` with `previous_attributes` when it changed.
    pub fn save_updated(&mut self, kind: &str, event: &str, old: &Value, new: Value) -> Value {
        let previous = diff(old, &new);
        self.put(kind, new.clone());
        if previous.as_object().is_some_and(|m| !m.is_empty()) {
            self.emit(event, &new, Some(previous));
        }
        public(&new)
    }
}
