//! What the session holds about authentication.

use anyhow::Context;
use tower_sessions::Session;

const USER_ID: &str = "auth.user_id";

/// Marks the session as belonging to `user_id`, under a fresh session id
/// (an id known before log-in is useless after it).
pub async fn log_in(session: &Session, user_id: i64) -> anyhow::Result<()> {
    session.cycle_id().await.context("cycling the session id")?;
    session.insert(USER_ID, user_id).await.context("storing the session user")?;
    Ok(())
}

/// Ends the session: its record is deleted and the cookie cleared.
pub async fn log_out(session: &Session) -> anyhow::Result<()> {
    session.flush().await.context("flushing the session")
}

pub async fn user_id(session: &Session) -> anyhow::Result<Option<i64>> {
    session.get(USER_ID).await.context("reading the session user")
}
