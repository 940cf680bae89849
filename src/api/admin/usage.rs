//! `/admin/usage`: the page's data, and issuing and revoking API keys (audited).

use leptos::prelude::*;

use crate::views::{admin::usage::AdminUsage, AppError};

#[server(endpoint = "admin_usage")]
pub async fn admin_usage_page() -> Result<AdminUsage, AppError> {
    use crate::server::{db, http::context::RequestCtx, usage::admin};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(admin::page(ctx.state.db.pool(), db::now()).await?)
}

/// Issues a key: a platform key when `customer` is empty, else a key for that user. The key is
/// shown once, in the notice the page shows next.
#[server(endpoint = "admin_issue_api_key")]
pub async fn issue_api_key(label: String, customer: Option<String>) -> Result<(), AppError> {
    use crate::server::{
        api_keys::{issue::issue, mode_for, KeyScope},
        db,
        http::{
            context::RequestCtx,
            outcome::{refused, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = async {
        let label = label.trim();
        if label.is_empty() || label.len() > 100 {
            return Err(refused("Give the key a label (up to 100 characters) saying what uses it."));
        }
        let scope = match customer.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => KeyScope::Platform,
            Some(id) => KeyScope::Customer(id.parse().map_err(|_| refused("Choose a customer from the list."))?),
        };
        let mode = mode_for(ctx.state.stripe.mode);
        let issued = issue(ctx.state.db.pool(), &actor, scope, label, mode, db::now()).await?;
        Ok(Next::Back(format!("New API key (copy it now, it is shown only once): {}", issued.key)))
    }
    .await;
    ctx.finish(outcome, "/admin/usage").await
}

#[server(endpoint = "admin_revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use crate::server::{
        api_keys::revoke::revoke,
        db,
        http::{
            context::RequestCtx,
            outcome::{refused, Next},
        },
    };
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = match revoke(ctx.state.db.pool(), &actor, id, db::now()).await {
        Ok(true) => Ok(Next::Back("The key is revoked: requests with it are refused from now on.".into())),
        Ok(false) => Err(refused("No such active key.")),
        Err(e) => Err(e.into()),
    };
    ctx.finish(outcome, "/admin/usage").await
}
