//! Admin server functions. Every one starts with the admin guard.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSummary {
    pub admin_email: String,
    pub users: i64,
}

#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<AdminSummary, AppError> {
    use crate::server::{db::users, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let admin = ctx.require_admin().await?;
    let users = users::count(ctx.state.db.pool()).await?;
    Ok(AdminSummary { admin_email: admin.email.to_string(), users })
}
