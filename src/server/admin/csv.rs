//! `GET /admin/revenue/movements.csv?period=…`: the period's MRR movements as CSV. The route
//! guard covers `/admin…`; the handler checks the admin role again itself.

use anyhow::Context;
use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use sqlx::Row;
use tower_sessions::Session;

use crate::{
    server::{
        auth::{require_admin, GuardError},
        db,
        state::AppState,
    },
    views::admin::revenue::Period,
};

use super::snapshots::{day_start, DAY};

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    period: Option<String>,
}

pub async fn movements_csv(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ExportQuery>,
) -> Response {
    match require_admin(&state.db, &session).await {
        Ok(_) => {}
        Err(GuardError::Anonymous) => return Redirect::to("/login").into_response(),
        Err(GuardError::Forbidden) => return StatusCode::FORBIDDEN.into_response(),
        Err(GuardError::Unexpected(e)) => return internal(e),
    }
    let period = Period::from_param(query.period.as_deref());
    let since = day_start(db::now()) - (period.days() - 1) * DAY;
    match render(state.db.pool(), since).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"mrr-movements-{}.csv\"", period.param())),
            ],
            body,
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

fn internal(error: anyhow::Error) -> Response {
    tracing::error!(error = format!("{error:#}"), "movements export failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Amounts stay integer minor units, with the currency beside them.
pub async fn render(pool: &sqlx::AnyPool, since: i64) -> anyhow::Result<String> {
    let rows = sqlx::query(
        "SELECT occurred_at, customer_id, subscription_id, kind, mrr_before, mrr_after, delta, \
                currency, cause_key \
         FROM mrr_movements WHERE occurred_at >= $1 ORDER BY occurred_at, cause_key",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .context("reading movements for export")?;
    let mut out =
        String::from("occurred_at,customer_id,subscription_id,kind,mrr_before,mrr_after,delta,currency,cause_key\n");
    for row in rows {
        let fields = [
            row.try_get::<i64, _>("occurred_at")?.to_string(),
            field(row.try_get("customer_id")?),
            field(row.try_get("subscription_id")?),
            field(row.try_get("kind")?),
            row.try_get::<i64, _>("mrr_before")?.to_string(),
            row.try_get::<i64, _>("mrr_after")?.to_string(),
            row.try_get::<i64, _>("delta")?.to_string(),
            field(row.try_get("currency")?),
            field(row.try_get("cause_key")?),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// Quotes a text field when it needs it, and defuses spreadsheet formulas.
fn field(value: String) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("cus_1".into()), "cus_1");
        assert_eq!(field("a,b".into()), "\"a,b\"");
        assert_eq!(field("say \"hi\", ok".into()), "\"say \"\"hi\"\", ok\"");
        assert_eq!(field("=SUM(A1)".into()), "'=SUM(A1)");
    }
}
