//! `/admin/status`: the integration at a glance and the go-live checklist (`tollgate doctor`
//! prints the same checklist).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What to do when it is not ok.
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub mode: String,
    pub api_version: String,
    pub products: usize,
    pub prices: usize,
    pub webhook_endpoint: String,
    pub last_delivery: Option<i64>,
    pub dead_events: i64,
    /// A default Customer Portal configuration in Stripe (None: not checked).
    pub portal_configured: Option<bool>,
    pub checks: Vec<Check>,
}

impl StatusReport {
    /// (passed, total).
    pub fn score(&self) -> (usize, usize) {
        (self.checks.iter().filter(|c| c.ok).count(), self.checks.len())
    }
}

#[server(endpoint = "admin_status")]
pub async fn admin_status() -> Result<StatusReport, AppError> {
    use crate::server::{admin::status, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(status::report(&ctx.state.config, &ctx.state.db, ctx.state.portal_configured, crate::server::db::now()).await?)
}
