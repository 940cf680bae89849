//! Whom an API request acts for: a customer key's own user, or the customer a platform key names
//! (a `cus_…` id or an email). One rule for every `/api/v1` route that works on a customer.

use axum::http::StatusCode;
use sqlx::AnyPool;

use super::{bearer::ApiCaller, KeyScope};
use crate::domain::Email;
use crate::server::{db::users, http::api_error::ApiError};

/// The user `caller` acts for; `named` is the customer the request names, if any.
pub async fn user_acting_for(pool: &AnyPool, caller: ApiCaller, named: Option<&str>) -> Result<users::User, ApiError> {
    let found = match (caller.scope, named) {
        (KeyScope::Customer(id), None) => users::find_by_id(pool, id).await,
        (KeyScope::Customer(id), Some(named)) => {
            let user = lookup(pool, named).await.map_err(|e| ApiError::internal(&e))?;
            if user.as_ref().is_none_or(|u| u.id != id) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "This key acts for its own customer only.",
                ));
            }
            Ok(user)
        }
        (KeyScope::Platform, Some(named)) => lookup(pool, named).await,
        (KeyScope::Platform, None) => {
            return Err(ApiError::invalid("A platform key must name the customer (a cus_… id or an email)."))
        }
    };
    found
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_customer", "No such customer."))
}

async fn lookup(pool: &AnyPool, named: &str) -> anyhow::Result<Option<users::User>> {
    if named.starts_with("cus_") {
        users::find_by_stripe_customer(pool, named).await
    } else {
        match Email::parse(named) {
            Ok(email) => users::find_by_email(pool, &email).await,
            Err(_) => Ok(None),
        }
    }
}
