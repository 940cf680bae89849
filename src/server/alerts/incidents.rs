//! Incidents: a row per kind while it fires. Opening one and queueing its email to every admin
//! happen in one transaction, as do closing it and queueing the recovery email; the partial
//! unique index (one open row per kind) and the emails' cause keys (the incident's id) keep that
//! to once per incident across evaluations, instances and restarts.

use anyhow::Context;
use sqlx::AnyPool;

use super::{AlertKind, Reading};
use crate::server::{
    billing::emails::{self, Email, EmailKind},
    db::{begin_write, users},
    http::app_url::AppUrl,
};

/// What one evaluation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub opened: Vec<AlertKind>,
    pub resolved: Vec<AlertKind>,
}

/// Opens an incident for each firing reading without one, resolves the open incident of each
/// reading that no longer fires, and updates the value of those still open.
pub async fn apply(pool: &AnyPool, readings: &[Reading], app_url: &str, now: i64) -> anyhow::Result<Changes> {
    let app_url = AppUrl::new(app_url);
    let mut changes = Changes::default();
    // Resolving takes the write lock: only for kinds with something to resolve.
    let open_now = open_kinds(pool).await?;
    for reading in readings {
        if reading.firing {
            if open(pool, reading, &app_url, now).await? {
                changes.opened.push(reading.kind);
            }
        } else if open_now.iter().any(|k| k == reading.kind.name()) && resolve(pool, reading, &app_url, now).await? {
            changes.resolved.push(reading.kind);
        }
    }
    Ok(changes)
}

/// Opens the kind's incident unless one is open (then only its value is updated); true when
/// this call opened it.
async fn open(pool: &AnyPool, r: &Reading, app_url: &AppUrl, now: i64) -> anyhow::Result<bool> {
    let kind = r.kind.name();
    let mut tx = begin_write(pool).await.context("starting an alert transaction")?;
    let opened: Option<i64> = sqlx::query_scalar(
        "INSERT INTO alert_incidents (kind, opened_at, threshold, last_value, checked_at) \
         VALUES ($1, $2, $3, $4, $2) ON CONFLICT (kind) WHERE resolved_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(now)
    .bind(r.threshold)
    .bind(r.value)
    .fetch_optional(&mut *tx)
    .await
    .with_context(|| format!("opening the {kind} incident"))?;
    let Some(id) = opened else {
        sqlx::query(
            "UPDATE alert_incidents SET last_value = $1, checked_at = $2 WHERE kind = $3 AND resolved_at IS NULL",
        )
        .bind(r.value)
        .bind(now)
        .bind(kind)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("updating the {kind} incident"))?;
        tx.commit().await.context("committing the alert")?;
        return Ok(false);
    };
    notify_admins(&mut tx, id, alert_text(r, app_url), EmailKind::OpsAlert, now).await?;
    tx.commit().await.context("committing the alert")?;
    tracing::warn!(kind, value = r.value, threshold = r.threshold, "alert opened");
    Ok(true)
}

/// Resolves the kind's open incident, if any; true when this call resolved it.
async fn resolve(pool: &AnyPool, r: &Reading, app_url: &AppUrl, now: i64) -> anyhow::Result<bool> {
    let kind = r.kind.name();
    let mut tx = begin_write(pool).await.context("starting an alert transaction")?;
    let resolved: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE alert_incidents SET resolved_at = $1, last_value = $2, checked_at = $1 \
         WHERE kind = $3 AND resolved_at IS NULL RETURNING id, opened_at",
    )
    .bind(now)
    .bind(r.value)
    .bind(kind)
    .fetch_optional(&mut *tx)
    .await
    .with_context(|| format!("resolving the {kind} incident"))?;
    let Some((id, opened_at)) = resolved else {
        return Ok(false);
    };
    notify_admins(&mut tx, id, recovery_text(r, app_url, now - opened_at), EmailKind::OpsRecovered, now).await?;
    tx.commit().await.context("committing the recovery")?;
    tracing::info!(kind, value = r.value, "alert resolved");
    Ok(true)
}

/// The opening email's subject and body.
fn alert_text(r: &Reading, app_url: &AppUrl) -> (String, String) {
    let (title, unit) = (r.kind.title(), r.kind.unit());
    let subject = format!("Alert: {title} at {}", unit.describe(r.value));
    let body = format!(
        "{title} is {} (alert at {} or more).\n{}\nLook here: {}\n\nYou will get one more email when it is back under.\n",
        unit.describe(r.value),
        unit.describe(r.threshold),
        r.kind.advice(),
        app_url.join(r.kind.page()),
    );
    (subject, body)
}

/// The recovery email's subject and body; the incident lasted `lasted` seconds.
fn recovery_text(r: &Reading, app_url: &AppUrl, lasted: i64) -> (String, String) {
    let (title, unit) = (r.kind.title(), r.kind.unit());
    let subject = format!("Recovered: {title} back to {}", unit.describe(r.value));
    let body = format!(
        "{title} is back under its alert level ({} now, alert at {}), after {}.\n{}\n",
        unit.describe(r.value),
        unit.describe(r.threshold),
        crate::views::format::duration(lasted),
        app_url.join(r.kind.page()),
    );
    (subject, body)
}

/// Queues one email per admin, under a cause key naming the incident and what happened to it.
async fn notify_admins(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    incident: i64,
    (subject, body): (String, String),
    kind: EmailKind,
    now: i64,
) -> anyhow::Result<()> {
    for to in users::admin_emails(tx).await? {
        let email = Email {
            cause_key: format!("{}:{incident}:{to}", kind.as_str()),
            kind,
            to,
            subject: subject.clone(),
            body: body.clone(),
            html_body: None,
        };
        emails::enqueue(tx, &email, now).await?;
    }
    Ok(())
}

/// The kinds with an open incident.
pub async fn open_kinds(pool: &AnyPool) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT kind FROM alert_incidents WHERE resolved_at IS NULL")
        .fetch_all(pool)
        .await
        .context("reading open incidents")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(value: i64) -> Reading {
        Reading { kind: AlertKind::DeadLetters, value, threshold: 1, firing: value >= 1 }
    }

    async fn mails(pool: &AnyPool) -> Vec<(String, String)> {
        sqlx::query_as("SELECT kind, to_address FROM emails ORDER BY id").fetch_all(pool).await.unwrap()
    }

    #[tokio::test]
    async fn an_incident_mails_each_admin_once_when_it_opens_and_once_when_it_resolves() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        for (email, role) in [("a@example.com", "admin"), ("b@example.com", "admin"), ("c@example.com", "customer")] {
            sqlx::query(
                "INSERT INTO users (email, password_hash, role, created_at, updated_at) VALUES ($1, 'x', $2, 0, 0)",
            )
            .bind(email)
            .bind(role)
            .execute(pool)
            .await
            .unwrap();
        }
        let url = "https://billing.example.com";
        assert_eq!(apply(pool, &[reading(0)], url, 100).await.unwrap(), Changes::default(), "nothing to resolve");
        let opened = apply(pool, &[reading(2)], url, 110).await.unwrap();
        assert_eq!(opened.opened, [AlertKind::DeadLetters]);
        for at in 120..125 {
            assert_eq!(apply(pool, &[reading(3)], url, at).await.unwrap(), Changes::default(), "still the same one");
        }
        let last: i64 = sqlx::query_scalar("SELECT last_value FROM alert_incidents").fetch_one(pool).await.unwrap();
        assert_eq!(last, 3, "the open incident follows the value");
        assert_eq!(apply(pool, &[reading(0)], url, 200).await.unwrap().resolved, [AlertKind::DeadLetters]);
        assert_eq!(apply(pool, &[reading(0)], url, 210).await.unwrap(), Changes::default());
        let sent = mails(pool).await;
        let expected: Vec<(String, String)> = [
            ("ops_alert", "a@example.com"),
            ("ops_alert", "b@example.com"),
            ("ops_recovered", "a@example.com"),
            ("ops_recovered", "b@example.com"),
        ]
        .iter()
        .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
        .collect();
        assert_eq!(sent, expected);
        assert_eq!(apply(pool, &[reading(5)], url, 300).await.unwrap().opened, [AlertKind::DeadLetters], "a new one");
        assert_eq!(mails(pool).await.len(), 6);
    }
}
