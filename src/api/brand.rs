//! The operator's brand for the pages (name, logo, support address); the accent colour comes
//! as a stylesheet (`/brand.css`), so it applies before anything renders.

use leptos::prelude::*;

use crate::{domain::brand::Brand, views::AppError};

#[server(endpoint = "brand")]
pub async fn site_brand() -> Result<Brand, AppError> {
    use crate::server::http::context::RequestCtx;
    let ctx = RequestCtx::extract().await?;
    Ok(ctx.state.config.brand.clone())
}
