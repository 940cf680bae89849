//! `/v1/test_helpers/test_clocks`: clocks that customers (and their objects) live on.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{param_i64, param_nonempty, public, Ctx};
use crate::util::{new_id, DAY};

pub fn create_test_clock(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let frozen = param_i64(params, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    let now = ctx.now();
    let clock = json!({
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + 30 * DAY,
        "frozen_time": frozen,
        "livemode": false,
        "name": param_nonempty(params, "name"),
        "status": "ready",
        "status_details": {},
    });
    ctx.put("test_helpers.test_clock", clock.clone());
    ctx.emit("test_helpers.test_clock.created", &clock, None);
    Ok(public(&clock))
}

pub fn delete_test_clock(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let clock = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    // Deleting a clock deletes the customers on it (and their objects with them).
    let customers: Vec<String> = ctx
        .all("customer")
        .into_iter()
        .filter(|c| c["test_clock"] == id)
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    for c in customers {
        for kind in ["subscription", "invoice", "payment_method", "invoiceitem"] {
            let ids: Vec<String> = ctx
                .all(kind)
                .into_iter()
                .filter(|o| o["customer"] == c.as_str())
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect();
            for oid in ids {
                ctx.remove(kind, &oid);
            }
        }
        ctx.remove("customer", &c);
    }
    ctx.remove("test_helpers.test_clock", id);
    ctx.emit("test_helpers.test_clock.deleted", &clock, None);
    Ok(json!({"id": id, "object": "test_helpers.test_clock", "deleted": true}))
}

/// Advances a test clock: every renewal, retry and trial end up to `frozen_time` happens, in
/// order, before this returns (Stripe does it asynchronously; the response says `advancing`
/// like Stripe's, and the clock is `ready` on the next retrieve).
pub fn advance_test_clock(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let clock = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    let target = param_i64(params, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    let current = clock["frozen_time"].as_i64().unwrap_or(0);
    if target <= current {
        return Err(ApiError::invalid_value("frozen_time", "The test clock cannot be advanced to a time in the past.")
            .with_code("test_clock_invalid_frozen_time"));
    }
    let mut advancing = clock.clone();
    advancing["status"] = json!("advancing");
    advancing["status_details"] = json!({"advancing": {"target_frozen_time": target}});
    ctx.emit("test_helpers.test_clock.advancing", &advancing, None);
    crate::engine::run_until(ctx, Some(id), target);
    let mut done = ctx.find("test_helpers.test_clock", id, "test_clock")?;
    done["frozen_time"] = json!(target);
    done["status"] = json!("ready");
    done["status_details"] = json!({});
    ctx.put("test_helpers.test_clock", done.clone());
    ctx.emit("test_helpers.test_clock.ready", &done, None);
    Ok(public(&advancing))
}
