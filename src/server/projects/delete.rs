//! Deleting one of the user's own projects.

use anyhow::Context;

use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db::users::User, state::AppState};

pub async fn delete(state: &AppState, user: &User, project_id: i64) -> Result<Next, FormError> {
    // Only the owner's: another user's id deletes nothing.
    let result = sqlx::query("DELETE FROM projects WHERE id = $1 AND user_id = $2")
        .bind(project_id)
        .bind(user.id)
        .execute(state.db.pool())
        .await
        .context("deleting the project")?;
    if result.rows_affected() == 0 {
        return Err(refused("That project does not exist."));
    }
    Ok(Next::Back("Project deleted.".to_string()))
}
