//! Radar: early fraud warnings (`/v1/radar/early_fraud_warnings`, read only, as on Stripe) and
//! reviews (`/v1/reviews`, approved by `POST /v1/reviews/{id}/approve`).

use serde_json::Value;

use crate::engine::radar;
use crate::error::ApiResult;
use crate::store::{created_matches, paginate, public, Ctx};

/// `GET /v1/radar/early_fraud_warnings`, optionally of one `charge` or `payment_intent`.
pub fn list_early_fraud_warnings(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    super::payments::list_about_charges(ctx, "radar.early_fraud_warning", params, "/v1/radar/early_fraud_warnings")
}

pub fn retrieve_early_fraud_warning(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find("radar.early_fraud_warning", id, "early_fraud_warning").map(|warning| public(&warning))
}

/// `GET /v1/reviews`: every review, open or closed.
pub fn list_reviews(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mut items = Vec::new();
    for review in ctx.all("review") {
        if created_matches(params, "created", review["created"].as_i64().unwrap_or(0))? {
            items.push(public(review));
        }
    }
    paginate(items, params, "/v1/reviews")
}

pub fn retrieve_review(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find("review", id, "review").map(|review| public(&review))
}

/// `POST /v1/reviews/{id}/approve`: an open review closes as `approved`.
pub fn approve_review(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    radar::close_review(ctx, id, "approved")
}
