//! Projects server functions: the page's list, and creating and deleting a project. Plain HTML
//! forms post to them, with or without JavaScript; each ends in a redirect back to /projects
//! with a notice (why it was refused, when the plan's limit is reached).

use leptos::prelude::*;

use crate::views::{projects::ProjectsView, AppError};

#[server(endpoint = "projects/list")]
pub async fn projects_page() -> Result<Option<ProjectsView>, AppError> {
    use crate::server::{http::context::RequestCtx, projects};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(Some(projects::page(&ctx.state, &user).await?))
}

#[server(endpoint = "projects/create")]
pub async fn create_project(name: String) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, projects};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = projects::create::create(&ctx.state, &user, &name).await;
    ctx.finish(outcome, "/projects").await
}

#[server(endpoint = "projects/delete")]
pub async fn delete_project(id: i64) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, projects};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = projects::delete::delete(&ctx.state, &user, id).await;
    ctx.finish(outcome, "/projects").await
}

#[server(endpoint = "projects/call_api")]
pub async fn call_demo_api() -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, projects};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = projects::api_call::call(&ctx.state, &user).await;
    ctx.finish(outcome, "/projects").await
}
