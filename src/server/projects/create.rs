//! Creating a project, within the plan's `projects` limit.

use anyhow::Context;

use super::{count, LIMIT};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db, db::users::User, entitlements, state::AppState};

/// The longest project name kept.
pub const MAX_NAME_CHARS: usize = 80;

/// Creates a project named `name`, or refuses with what the plan allows.
pub async fn create(state: &AppState, user: &User, name: &str) -> Result<Next, FormError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(refused("Give the project a name."));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(refused(format!("A project name has at most {MAX_NAME_CHARS} characters.")));
    }
    let entitlements = entitlements::of_user(state, user).await?;
    let limit = entitlements.limit(LIMIT).unwrap_or(0);
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    // Two tabs creating at once must not both pass the count.
    db::lock_key(&mut tx, &format!("projects:{}", user.id)).await.context("locking the user's projects")?;
    let used = count(&mut *tx, user.id).await?;
    if used >= limit {
        return Err(refused(at_limit_message(&entitlements.plan_name(), limit, used)));
    }
    sqlx::query("INSERT INTO projects (user_id, name, created_at) VALUES ($1, $2, $3)")
        .bind(user.id)
        .bind(name)
        .bind(db::now())
        .execute(&mut *tx)
        .await
        .context("storing the project")?;
    tx.commit().await.context("committing the project")?;
    Ok(Next::Back(format!("Project “{name}” created.")))
}

/// What a user at (or, after a downgrade, over) the limit is told.
pub fn at_limit_message(plan_name: &str, limit: u64, used: u64) -> String {
    format!(
        "Your {plan_name} plan allows {} and you have {used}. Upgrade your plan to create more, or delete one.",
        crate::views::projects::projects(limit)
    )
}
