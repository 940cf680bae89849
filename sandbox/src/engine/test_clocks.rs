//! Test clocks: created, deleted with their customers, and advanced (everything due on the
//! clock happens on the way, see `run_until`).

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
use crate::util::{new_id, DAY};

/// Creates a test clock at `frozen_time`; emits `test_helpers.test_clock.created`.
pub fn create(ctx: &mut Ctx, frozen_time: i64, name: Option<&str>) -> Value {
    let now = ctx.now();
    let clock = json!({
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + 30 * DAY,
        "frozen_time": frozen_time,
        "livemode": false,
        "name": name,
        "status": "ready",
        "status_details": {},
    });
    ctx.put("test_helpers.test_clock", clock.clone());
    ctx.emit("test_helpers.test_clock.created", &clock, None);
    public(&clock)
}

/// Deletes a clock and the customers on it (and their objects with them); emits
/// `test_helpers.test_clock.deleted`.
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let clock = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    let customers: Vec<String> = ctx
        .all("customer")
        .into_iter()
        .filter(|customer| customer["test_clock"] == id)
        .filter_map(|customer| customer["id"].as_str().map(str::to_string))
        .collect();
    for customer in customers {
        for kind in ["subscription", "invoice", "payment_method", "invoiceitem"] {
            let ids: Vec<String> = ctx
                .all(kind)
                .into_iter()
                .filter(|object| object["customer"] == customer.as_str())
                .filter_map(|object| object["id"].as_str().map(str::to_string))
                .collect();
            for object_id in ids {
                ctx.remove(kind, &object_id);
            }
        }
        ctx.remove("customer", &customer);
    }
    ctx.remove("test_helpers.test_clock", id);
    ctx.emit("test_helpers.test_clock.deleted", &clock, None);
    Ok(json!({"id": id, "object": "test_helpers.test_clock", "deleted": true}))
}

/// Advances a test clock to `target`: every renewal, retry and trial end up to then happens, in
/// order, before this returns (Stripe does it asynchronously; the answer says `advancing` like
/// Stripe's, and the clock is `ready` on the next retrieve). Emits
/// `test_helpers.test_clock.advancing` and `test_helpers.test_clock.ready`.
pub fn advance(ctx: &mut Ctx, id: &str, target: i64) -> ApiResult<Value> {
    let clock = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    let current = clock["frozen_time"].as_i64().unwrap_or(0);
    if target <= current {
        return Err(ApiError::invalid_value("frozen_time", "The test clock cannot be advanced to a time in the past.")
            .with_code("test_clock_invalid_frozen_time"));
    }
    let mut advancing = clock.clone();
    advancing["status"] = json!("advancing");
    advancing["status_details"] = json!({"advancing": {"target_frozen_time": target}});
    ctx.emit("test_helpers.test_clock.advancing", &advancing, None);
    super::run_until(ctx, Some(id), target);
    let mut done = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    done["frozen_time"] = json!(target);
    done["status"] = json!("ready");
    done["status_details"] = json!({});
    ctx.put("test_helpers.test_clock", done.clone());
    ctx.emit("test_helpers.test_clock.ready", &done, None);
    Ok(public(&advancing))
}
