//! The guards every protected route and server function goes through.

use tower_sessions::Session;

use crate::{
    domain::Role,
    server::db::{
        users::{self, User},
        Db,
    },
};

use super::session;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// Nobody is logged in: send them to /login.
    #[error("log-in required")]
    Anonymous,
    /// Logged in, but not allowed: 403.
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The logged-in user, or `Anonymous` (also when the user no longer exists).
pub async fn require_user(db: &Db, session: &Session) -> Result<User, GuardError> {
    let Some(id) = session::user_id(session).await? else {
        return Err(GuardError::Anonymous);
    };
    users::find_by_id(db.pool(), id).await?.ok_or(GuardError::Anonymous)
}

/// The logged-in admin; `Anonymous` or `Forbidden` otherwise.
pub async fn require_admin(db: &Db, session: &Session) -> Result<User, GuardError> {
    let user = require_user(db, session).await?;
    if user.role == Role::Admin {
        Ok(user)
    } else {
        Err(GuardError::Forbidden)
    }
}
