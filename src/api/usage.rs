//! The customer's usage on `/account`, and their spend cap.

use leptos::prelude::*;

use crate::views::{usage::AccountUsage, AppError};

#[server(endpoint = "usage/account")]
pub async fn load_account_usage() -> Result<Option<AccountUsage>, AppError> {
    use crate::server::{db, http::context::RequestCtx, usage::account};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(account::account_usage(&ctx.state, &user, db::now()).await?)
}

/// Sets the spend cap from an amount like `25.00` in the catalog's currency; empty removes it.
#[server(endpoint = "usage/spend_cap")]
pub async fn set_spend_cap(cap: String) -> Result<(), AppError> {
    use crate::domain::money::Money;
    use crate::server::{
        db,
        http::{
            context::RequestCtx,
            outcome::{refused, Next},
        },
        usage::spend_cap,
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = async {
        let currency = ctx.state.prices.current().catalog.currency;
        let cap = match cap.trim() {
            "" => None,
            text => {
                let money = Money::parse_major(text, currency).map_err(|e| refused(e.to_string()))?;
                if money.minor() < 0 {
                    return Err(refused("A spend cap cannot be negative."));
                }
                Some(money.minor())
            }
        };
        spend_cap::set(ctx.state.db.pool(), user.id, cap, db::now()).await?;
        Ok(Next::Back(match cap {
            Some(minor) => format!("Spend cap set to {}.", crate::views::format::money(minor, currency.as_str())),
            None => "Spend cap removed.".to_owned(),
        }))
    }
    .await;
    ctx.finish(outcome, "/account").await
}
