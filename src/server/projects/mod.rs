//! Projects: the demo of gating in the app itself. A signed-in user creates and deletes
//! projects, as many as the plan's `projects` limit allows (`entitlements::limit`), checked on
//! the server when one is created. A downgrade keeps existing projects; creating more waits
//! until there are fewer than the new limit. [`api_call`] is the other half of the demo: an API
//! call the plan must include (`entitlements::check`), counted as usage on the plan's meter.

pub mod api_call;
pub mod create;
pub mod delete;

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::{db::users::User, entitlements, state::AppState};
use crate::views::format::day;
use crate::views::projects::{ApiCallsView, ProjectView, ProjectsView};

/// The plan limit projects count against.
pub const LIMIT: &str = "projects";

/// How many projects the user has.
pub async fn count<'c, E>(executor: E, user_id: i64) -> anyhow::Result<u64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(executor)
        .await
        .context("counting the user's projects")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn list(pool: &AnyPool, user_id: i64) -> anyhow::Result<Vec<ProjectView>> {
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, name, created_at FROM projects WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(pool)
            .await
            .context("listing the user's projects")?;
    Ok(rows.into_iter().map(|(id, name, created_at)| ProjectView { id, name, created_on: day(created_at) }).collect())
}

/// What the Projects page shows.
pub async fn page(state: &AppState, user: &User) -> anyhow::Result<ProjectsView> {
    let entitlements = entitlements::of_user(state, user).await?;
    let projects = list(state.db.pool(), user.id).await?;
    let limit = entitlements.limit(LIMIT).unwrap_or(0);
    let metered = entitlements::metered_usage(state, user, &entitlements).await?.remove(api_call::METER);
    let api = ApiCallsView { allowed: entitlements.allows(api_call::FEATURE), metered };
    Ok(ProjectsView {
        plan_name: entitlements.plan_name(),
        limit,
        at_limit: projects.len() as u64 >= limit,
        projects,
        api,
    })
}
