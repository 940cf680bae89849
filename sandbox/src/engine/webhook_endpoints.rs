//! Webhook endpoints: created (with their signing secret), changed and deleted. Delivery is in
//! `crate::delivery`.

use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::store::{apply_metadata, public, Ctx};
use crate::util::{new_id, random_str};

/// An endpoint to create.
pub struct NewEndpoint {
    pub url: String,
    pub enabled_events: Vec<String>,
    pub api_version: String,
    pub description: Option<String>,
    pub metadata: Value,
    /// Receives the events of connected accounts.
    pub connect: bool,
}

/// Stores an endpoint (no event); the answer carries its secret, the only time it is shown.
pub fn create(ctx: &mut Ctx, new_endpoint: NewEndpoint) -> Value {
    let secret = format!("whsec_{}", random_str(32));
    let endpoint = json!({
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": new_endpoint.api_version,
        "application": null,
        "created": ctx.now(),
        "description": new_endpoint.description,
        "enabled_events": new_endpoint.enabled_events,
        "livemode": false,
        "metadata": new_endpoint.metadata,
        "status": "enabled",
        "url": new_endpoint.url,
        "_sb_secret": secret,
        "_sb_connect": new_endpoint.connect,
    });
    ctx.put("webhook_endpoint", endpoint.clone());
    let mut shown = public(&endpoint);
    shown["secret"] = json!(secret);
    shown
}

/// A requested endpoint change; `None` (or no events) leaves a field alone.
#[derive(Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub enabled_events: Vec<String>,
    pub disabled: Option<bool>,
    /// `null` clears.
    pub description: Option<Value>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
}

/// Changes an endpoint (no event).
pub fn update(ctx: &mut Ctx, id: &str, change: EndpointUpdate) -> ApiResult<Value> {
    let old = ctx.find("webhook_endpoint", id, "id")?;
    let mut endpoint = old.clone();
    if let Some(url) = change.url {
        endpoint["url"] = json!(url);
    }
    if !change.enabled_events.is_empty() {
        endpoint["enabled_events"] = json!(change.enabled_events);
    }
    if let Some(disabled) = change.disabled {
        endpoint["status"] = json!(if disabled { "disabled" } else { "enabled" });
    }
    if let Some(description) = change.description {
        endpoint["description"] = description;
    }
    if let Some(metadata) = &change.metadata {
        endpoint["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    ctx.put("webhook_endpoint", endpoint.clone());
    Ok(public(&endpoint))
}

/// Deletes an endpoint (no event).
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find("webhook_endpoint", id, "id")?;
    ctx.remove("webhook_endpoint", id);
    Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
}
