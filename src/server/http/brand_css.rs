//! `GET /brand.css`: the brand's accent as the stylesheet's custom property. A stylesheet, not
//! an inline style: the pages' CSP allows styles from this origin only, and the head loads it
//! before the first paint (no flash of the default colour).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::server::state::AppState;

pub async fn brand_css(State(state): State<AppState>) -> impl IntoResponse {
    let accent = state.config.brand.accent.as_str();
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], format!(":root {{\n  --accent: {accent};\n}}\n"))
}
