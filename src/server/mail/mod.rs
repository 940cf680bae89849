//! Drains the email outbox. With `SMTP_URL` set, emails go out through lettre; without it they
//! are kept as the dev mailbox (`/admin/mail`), marked `stored`, and nothing leaves the machine.

pub mod sender;
pub mod templates;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;

use crate::domain::brand::Brand;
use crate::server::billing::emails::ONE_TIME_LINK_KINDS;
use crate::server::instances::InstanceId;
use templates::Letterhead;

/// After this many failed sends an email is marked `failed` and left for a person to look at.
const MAX_SEND_ATTEMPTS: i64 = 8;
/// The wait after a first failed send; each later wait doubles, up to [`MAX_RETRY_WAIT_SECS`].
const FIRST_RETRY_SECS: i64 = 60;
const MAX_RETRY_WAIT_SECS: i64 = 3600;

/// Seconds to wait after `attempts` failed sends.
fn retry_wait_secs(attempts: i64) -> i64 {
    FIRST_RETRY_SECS.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1)).min(MAX_RETRY_WAIT_SECS)
}

pub enum Mailer {
    /// Keep emails in the database only.
    DevMailbox,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl Mailer {
    /// `smtp_url` is lettre's URL form, e.g. `smtps://user:pass@smtp.example.com:465`.
    pub fn from_config(smtp_url: Option<&SecretString>, from: &Mailbox) -> anyhow::Result<Self> {
        match smtp_url {
            None => Ok(Self::DevMailbox),
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL is not a valid SMTP URL")?
                    .build();
                Ok(Self::Smtp { transport, from: from.clone() })
            }
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub stored: usize,
    pub failed: usize,
}

/// A pending email in the outbox.
#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    kind: String,
    to_address: String,
    subject: String,
    body: String,
    /// The HTML alternative's body, when the kind has one (wrapped in the layout when sent).
    html_body: Option<String>,
    attempts: i64,
}

/// How long an instance's claim on an email lasts. Each email's claim is renewed just before it
/// is sent, so another instance can take it only when this one died or stalled for this long.
const CLAIM_SECS: i64 = 120;

/// Claims up to `limit` due emails for `owner` (emails no live claim of another instance holds).
async fn claim(pool: &AnyPool, owner: &InstanceId, now: i64, limit: i64) -> anyhow::Result<Vec<OutboxRow>> {
    let postgres = pool.connect_options().database_url.scheme() != "sqlite";
    // Postgres: rows another instance is marking are skipped, not waited for.
    let skip_locked = if postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let mut rows = sqlx::query_as::<_, OutboxRow>(&format!(
        "UPDATE emails SET claimed_by = $1, claimed_until = $2 WHERE id IN ( \
           SELECT id FROM emails WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until <= $3) \
           ORDER BY id LIMIT $4 {skip_locked}) \
         RETURNING id, kind, to_address, subject, body, html_body, attempts"
    ))
    .bind(owner.as_str())
    .bind(now + CLAIM_SECS)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("claiming emails from the outbox")?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// Renews `owner`'s claim on one email right before it goes out; false when the claim ran out
/// (another instance may hold it now: this one must not send).
async fn still_mine(pool: &AnyPool, owner: &InstanceId, id: i64, now: i64) -> anyhow::Result<bool> {
    let renewed =
        sqlx::query("UPDATE emails SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 AND claimed_until > $4")
            .bind(now + CLAIM_SECS)
            .bind(id)
            .bind(owner.as_str())
            .bind(now)
            .execute(pool)
            .await
            .with_context(|| format!("renewing the claim on email {id}"))?;
    Ok(renewed.rows_affected() == 1)
}

/// The lines every email ends with: who sent it and where to write back.
pub fn signature(brand: &Brand) -> String {
    match &brand.support_email {
        Some(support) => format!("\n--\n{}\nQuestions? Write to {support}\n", brand.name),
        None => format!("\n--\n{}\n", brand.name),
    }
}

/// Claims and sends (or stores) up to `limit` due emails as `owner`: whichever instance claims
/// an email sends it, once, signed with the letterhead's signature, its HTML (if any) wrapped in
/// the layout, as multipart/alternative (the stored bodies are what went out).
pub async fn drain(
    pool: &AnyPool,
    mailer: &Mailer,
    owner: &InstanceId,
    (now, limit): (i64, i64),
    letterhead: &Letterhead,
) -> anyhow::Result<SendReport> {
    let mut report = SendReport::default();
    let started = std::time::Instant::now();
    for row in claim(pool, owner, now, limit).await? {
        let id = row.id;
        // `now` is the batch's start; a slow mail server makes the batch long.
        let at = now + started.elapsed().as_secs() as i64;
        if !still_mine(pool, owner, id, at).await? {
            continue;
        }
        let body = format!("{}{}", row.body, letterhead.signature);
        let html = row.html_body.as_deref().map(|html| letterhead.wrap(&row.subject, html));
        let result = match mailer {
            Mailer::DevMailbox => Ok("stored"),
            Mailer::Smtp { transport, from } => {
                let bodies = (body.clone(), html.clone());
                send(transport, from, (row.to_address.as_str(), row.subject.as_str()), bodies).await.map(|()| "sent")
            }
        };
        match result {
            Ok(status) => {
                // A one-time link that has left is emptied from the outbox at once (kept while
                // `stored`: then the dev mailbox is how it is read).
                let empty = status == "sent" && ONE_TIME_LINK_KINDS.iter().any(|kind| kind.as_str() == row.kind);
                let purge = if empty { ", purged_at = $2" } else { "" };
                sqlx::query(&format!(
                    "UPDATE emails SET status = $1, sent_at = $2, attempts = attempts + 1, claimed_by = NULL, \
                     claimed_until = NULL, body = $4, html_body = $5{purge} WHERE id = $3"
                ))
                .bind(status)
                .bind(now)
                .bind(id)
                .bind(if empty { String::new() } else { body })
                .bind(if empty { None } else { html })
                .execute(pool)
                .await
                .with_context(|| format!("marking email {id} {status}"))?;
                if status == "sent" {
                    report.sent += 1;
                } else {
                    report.stored += 1;
                }
            }
            Err(err) => {
                let attempts = row.attempts + 1;
                let status = if attempts >= MAX_SEND_ATTEMPTS { "failed" } else { "pending" };
                tracing::warn!(email_id = id, attempts, error = %format!("{err:#}"), "sending email failed");
                sqlx::query(
                    "UPDATE emails SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4, \
                     claimed_by = NULL, claimed_until = NULL WHERE id = $5",
                )
                .bind(status)
                .bind(attempts)
                .bind(format!("{err:#}"))
                .bind(now + retry_wait_secs(attempts))
                .bind(id)
                .execute(pool)
                .await
                .with_context(|| format!("recording the failure of email {id}"))?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    (to, subject): (&str, &str),
    (text, html): (String, Option<String>),
) -> anyhow::Result<()> {
    let builder = Message::builder()
        .from(from.clone())
        .to(to.parse().with_context(|| format!("{to:?} is not a valid address"))?)
        .subject(subject);
    let message = match html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(text, html)),
        None => builder.body(text),
    }
    .context("building the email")?;
    transport.send(message).await.context("SMTP send")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::server::http::app_url::AppUrl;

    /// A letterhead that adds nothing.
    fn blank() -> Letterhead {
        Letterhead { name: String::new(), logo_url: None, signature: String::new() }
    }

    /// An SMTP server nobody listens on: every send fails at once.
    fn unreachable_mailer() -> Mailer {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(1).build();
        Mailer::Smtp { transport, from: "billing@example.com".parse().unwrap() }
    }

    /// A plain SMTP server on 127.0.0.1 that accepts every mail; answers its port.
    async fn accepting_smtp_server() -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 test ESMTP\r\n").await.ok()?;
                    let mut in_data = false;
                    while let Some(line) = lines.next_line().await.ok()? {
                        let reply: &[u8] = match (in_data, line.as_str()) {
                            (true, ".") => {
                                in_data = false;
                                b"250 queued\r\n"
                            }
                            (true, _) => continue,
                            (false, "DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            (false, "QUIT") => b"221 bye\r\n",
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(reply).await.ok()?;
                    }
                    Some(())
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn a_sent_one_time_link_leaves_no_copy_in_the_outbox() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        for (key, kind) in [("link", "password_reset"), ("receipt", "receipt")] {
            sqlx::query(
                "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
                 VALUES ($1, $2, 'jo@example.com', 'Subject', 'https://x/reset-password?token=secret', 'pending', 1000)",
            )
            .bind(key)
            .bind(kind)
            .execute(pool)
            .await
            .unwrap();
        }
        let port = accepting_smtp_server().await;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build();
        let mailer = Mailer::Smtp { transport, from: "billing@example.com".parse().unwrap() };
        assert_eq!(drain(pool, &mailer, &InstanceId::named("a"), (1_000, 10), &blank()).await.unwrap().sent, 2);
        let bodies: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, body FROM emails ORDER BY cause_key").fetch_all(pool).await.unwrap();
        assert_eq!(bodies[0], ("password_reset".to_owned(), String::new()), "the link is gone once sent");
        assert!(bodies[1].1.contains("token=secret"), "other mail keeps its body until retention: {bodies:?}");
    }

    #[test]
    fn waits_double_from_a_minute_up_to_an_hour() {
        let waits: Vec<i64> = (1..=8).map(retry_wait_secs).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[tokio::test]
    async fn a_failed_send_waits_its_backoff_before_the_next_try() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        sqlx::query(
            "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
             VALUES ('k', 'receipt', 'jo@example.com', 'Receipt', 'Dear Jo', 'pending', 1000)",
        )
        .execute(pool)
        .await
        .unwrap();
        let mailer = unreachable_mailer();
        let me = InstanceId::named("a");
        assert_eq!(drain(pool, &mailer, &me, (1_000, 10), &blank()).await.unwrap().failed, 1);
        assert_eq!(
            drain(pool, &mailer, &me, (1_059, 10), &blank()).await.unwrap(),
            SendReport::default(),
            "not before a minute"
        );
        assert_eq!(drain(pool, &mailer, &me, (1_060, 10), &blank()).await.unwrap().failed, 1);
        assert_eq!(
            drain(pool, &mailer, &me, (1_060 + 119, 10), &blank()).await.unwrap(),
            SendReport::default(),
            "then two"
        );
        let (attempts, status): (i64, String) =
            sqlx::query_as("SELECT attempts, status FROM emails").fetch_one(pool).await.unwrap();
        assert_eq!((attempts, status.as_str()), (2, "pending"));
    }

    #[tokio::test]
    async fn every_email_is_signed_with_the_brand_and_stored_as_sent() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        queue(pool, "k").await;
        let brand =
            Brand { name: "Acme Cloud".into(), support_email: Some("help@acme.test".into()), ..Brand::default() };
        let letterhead = Letterhead::new(&brand, &AppUrl::new("http://x"));
        let signature = letterhead.signature.clone();
        assert_eq!(signature, "\n--\nAcme Cloud\nQuestions? Write to help@acme.test\n");
        let me = InstanceId::named("a");
        assert_eq!(drain(pool, &Mailer::DevMailbox, &me, (10, 10), &letterhead).await.unwrap().stored, 1);
        let body: String = sqlx::query_scalar("SELECT body FROM emails").fetch_one(pool).await.unwrap();
        assert_eq!(body, format!("Dear Jo{signature}"));
        assert_eq!(super::signature(&Brand::default()), "\n--\ntollgate\n");
    }

    async fn queue(pool: &AnyPool, key: &str) {
        sqlx::query(
            "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
             VALUES ($1, 'receipt', 'jo@example.com', 'Receipt', 'Dear Jo', 'pending', 0)",
        )
        .bind(key)
        .execute(pool)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn instances_draining_at_once_send_each_email_once() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        for n in 0..30 {
            queue(pool, &format!("k{n}")).await;
        }
        let (mailer, blank) = (Mailer::DevMailbox, blank());
        let instances: Vec<InstanceId> = (0..3).map(|n| InstanceId::named(&format!("i{n}"))).collect();
        let reports =
            futures::future::join_all(instances.iter().map(|me| drain(pool, &mailer, me, (10, 7), &blank))).await;
        let stored: usize = reports.into_iter().map(|r| r.unwrap().stored).sum();
        assert_eq!(stored, 21, "three claims of seven, no email in two of them");
        let again: usize =
            futures::future::join_all(instances.iter().map(|me| drain(pool, &mailer, me, (11, 100), &blank)))
                .await
                .into_iter()
                .map(|r| r.unwrap().stored)
                .sum();
        assert_eq!(again, 9, "the rest, once");
        let attempts: i64 =
            sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM emails").fetch_one(pool).await.unwrap();
        assert_eq!(attempts, 30, "each email went out exactly once");
    }

    #[tokio::test]
    async fn an_email_claimed_by_a_live_instance_is_left_alone_and_a_dead_ones_claim_is_taken() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        queue(pool, "k").await;
        let (a, b) = (InstanceId::named("a"), InstanceId::named("b"));
        assert_eq!(claim(pool, &a, 100, 10).await.unwrap().len(), 1, "a claims, then dies before sending");
        let mailer = Mailer::DevMailbox;
        assert_eq!(
            drain(pool, &mailer, &b, (100 + CLAIM_SECS - 1, 10), &blank()).await.unwrap().stored,
            0,
            "a's claim holds"
        );
        assert_eq!(
            drain(pool, &mailer, &b, (100 + CLAIM_SECS, 10), &blank()).await.unwrap().stored,
            1,
            "ran out: b sends it"
        );
        assert!(!still_mine(pool, &a, 1, 100).await.unwrap(), "a, back, must not send it again");
    }
}
