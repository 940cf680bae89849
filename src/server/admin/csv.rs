//! CSV downloads for the admin: `GET /admin/revenue/movements.csv?period=…` (the period's MRR
//! movements) here, and the helpers other exports share (`/admin/orders.csv`). The route guard
//! covers `/admin…`; each handler checks the admin role again itself.

use std::future::Future;

use anyhow::Context;
use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
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
    let period = Period::from_param(query.period.as_deref());
    let since = day_start(db::now()) - (period.days() - 1) * DAY;
    let filename = format!("mrr-movements-{}.csv", period.param());
    admin_download(&state, &session, &filename, || render(state.db.pool(), since)).await
}

/// An admin's CSV download named `filename`, with the body `render` makes; log-in for the
/// anonymous, 403 for everyone else (nothing is read for them).
pub async fn admin_download<F, Fut>(state: &AppState, session: &Session, filename: &str, render: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    match require_admin(&state.db, session).await {
        Ok(_) => {}
        Err(GuardError::Anonymous) => return Redirect::to("/login").into_response(),
        Err(GuardError::Forbidden) => return StatusCode::FORBIDDEN.into_response(),
        Err(GuardError::Unexpected(e)) => return internal(e),
    }
    match render().await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            ],
            body,
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

fn internal(error: anyhow::Error) -> Response {
    tracing::error!(error = format!("{error:#}"), "CSV export failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

#[derive(sqlx::FromRow)]
struct MovementRow {
    occurred_at: i64,
    customer_id: String,
    subscription_id: String,
    kind: String,
    mrr_before: i64,
    mrr_after: i64,
    delta: i64,
    currency: String,
    cause_key: String,
}

impl MovementRow {
    /// The CSV line's fields, in the header's order.
    fn fields(self) -> [String; 9] {
        [
            self.occurred_at.to_string(),
            field(self.customer_id),
            field(self.subscription_id),
            field(self.kind),
            self.mrr_before.to_string(),
            self.mrr_after.to_string(),
            self.delta.to_string(),
            field(self.currency),
            field(self.cause_key),
        ]
    }
}

/// Amounts stay integer minor units, with the currency beside them.
pub async fn render(pool: &sqlx::AnyPool, since: i64) -> anyhow::Result<String> {
    let rows = sqlx::query_as::<_, MovementRow>(
        "SELECT occurred_at, customer_id, subscription_id, kind, mrr_before, mrr_after, delta, \
                currency, cause_key \
         FROM mrr_movements WHERE occurred_at >= $1 ORDER BY occurred_at, cause_key",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .context("reading movements for export")?;
    let header = [
        "occurred_at",
        "customer_id",
        "subscription_id",
        "kind",
        "mrr_before",
        "mrr_after",
        "delta",
        "currency",
        "cause_key",
    ];
    Ok(document(header, rows.into_iter().map(MovementRow::fields)))
}

/// A CSV document: the header line, then one line per row (fields already made safe by
/// [`field`] where they are text), as many fields in each as in the header.
pub fn document<const N: usize>(header: [&str; N], rows: impl IntoIterator<Item = [String; N]>) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Quotes a text field when it needs it, and defuses spreadsheet formulas.
pub fn field(value: String) -> String {
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
