//! What the session holds about authentication.

use anyhow::Context;
use tower_sessions::Session;

const USER_ID: &str = "auth.user_id";
const EPOCH: &str = "auth.epoch";
const LOGGED_IN_AT: &str = "auth.logged_in_at";

/// How long a log-in lasts, however active the session (the idle expiry is shorter).
pub const MAX_SESSION_AGE_SECS: i64 = 30 * 86_400;

/// Who a session belongs to, since when, under which of the user's epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionAuth {
    pub user_id: i64,
    pub epoch: i64,
    pub logged_in_at: i64,
}

impl SessionAuth {
    /// Still valid at `now` for a user whose epoch is `current_epoch`.
    pub fn valid(&self, current_epoch: i64, now: i64) -> bool {
        self.epoch == current_epoch && now - self.logged_in_at <= MAX_SESSION_AGE_SECS
    }
}

/// Marks the session as belonging to `user_id` (whose epoch is `epoch`) from `now`, under a
/// fresh session id (an id known before log-in is useless after it).
pub async fn log_in(session: &Session, user_id: i64, epoch: i64, now: i64) -> anyhow::Result<()> {
    session.cycle_id().await.context("cycling the session id")?;
    session.insert(USER_ID, user_id).await.context("storing the session user")?;
    session.insert(EPOCH, epoch).await.context("storing the session epoch")?;
    session.insert(LOGGED_IN_AT, now).await.context("storing the log-in time")?;
    Ok(())
}

/// The session's log-in, if it holds a complete one.
pub async fn auth(session: &Session) -> anyhow::Result<Option<SessionAuth>> {
    let user_id: Option<i64> = session.get(USER_ID).await.context("reading the session user")?;
    let epoch: Option<i64> = session.get(EPOCH).await.context("reading the session epoch")?;
    let logged_in_at: Option<i64> = session.get(LOGGED_IN_AT).await.context("reading the log-in time")?;
    Ok(match (user_id, epoch, logged_in_at) {
        (Some(user_id), Some(epoch), Some(logged_in_at)) => Some(SessionAuth { user_id, epoch, logged_in_at }),
        _ => None,
    })
}

/// Ends the session: its record is deleted and the cookie cleared.
pub async fn log_out(session: &Session) -> anyhow::Result<()> {
    session.flush().await.context("flushing the session")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_in_ends_with_a_new_epoch_or_after_thirty_days() {
        let auth = SessionAuth { user_id: 1, epoch: 3, logged_in_at: 1_000 };
        assert!(auth.valid(3, 1_000 + MAX_SESSION_AGE_SECS));
        assert!(!auth.valid(3, 1_001 + MAX_SESSION_AGE_SECS), "absolute lifetime");
        assert!(!auth.valid(4, 1_000), "the user's role or password changed");
    }
}
