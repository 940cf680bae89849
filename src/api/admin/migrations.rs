//! `/admin/migrations`: price migrations and their progress.

use leptos::prelude::*;

use crate::views::{admin::migrations::PriceMigrationView, AppError};

#[server(endpoint = "admin_migrations")]
pub async fn admin_migrations() -> Result<Vec<PriceMigrationView>, AppError> {
    use crate::server::{admin::migrations, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(migrations::list(ctx.state.db.pool()).await?)
}
