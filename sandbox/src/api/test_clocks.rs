//! `/v1/test_helpers/test_clocks`: clocks that customers (and their objects) live on.
//! Parameters read here; clocks created, deleted and advanced by `engine::test_clocks`.

use serde_json::Value;

use crate::engine::test_clocks;
use crate::error::{ApiError, ApiResult};
use crate::store::{param_i64, param_nonempty, Ctx};

pub fn create_test_clock(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let frozen_time = param_i64(params, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    Ok(test_clocks::create(ctx, frozen_time, param_nonempty(params, "name")))
}

pub fn delete_test_clock(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    test_clocks::delete(ctx, id)
}

pub fn advance_test_clock(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let target = param_i64(params, "frozen_time")?.ok_or_else(|| ApiError::missing("frozen_time"))?;
    test_clocks::advance(ctx, id, target)
}
