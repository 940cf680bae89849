//! `/admin/status`: the integration at a glance and the go-live checklist (`tollgate doctor`
//! prints the same checklist).

use leptos::prelude::*;

use crate::views::{admin::status::StatusReport, AppError};

#[server(endpoint = "admin_status")]
pub async fn admin_status() -> Result<StatusReport, AppError> {
    use crate::server::{admin::status, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let state = &ctx.state;
    let prices_loaded = Some(state.prices.current().is_resolved());
    Ok(status::report(&state.config, &state.db, Some(&state.stripe_client), prices_loaded, crate::server::db::now())
        .await?)
}
