//! The worker's batches, lanes, savepoints and retries, against a real database.

use sqlx::AnyPool;

use super::lanes::lane_key;
use super::*;
use crate::server::db::test_db;
use crate::server::instances::InstanceId;
use crate::server::webhooks::inbox;
use crate::server::webhooks::inbox::{record, replay, InboxEvent, Recorded, Source};

fn instance() -> InstanceId {
    InstanceId::named("test-instance")
}

fn event(id: &str, created: i64, object: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","object":"event","type":"customer.subscription.updated","created":{created},"livemode":false,"data":{{"object":{{"id":"{object}","object":"subscription"}}}}}}"#
    )
    .into_bytes()
}

async fn status_of(pool: &AnyPool, id: &str) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM webhook_events WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_duplicate_delivery_is_stored_once() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    assert_eq!(record(&pool, &event("evt_1", 10, "sub_1"), Source::Webhook, 100).await.unwrap(), Recorded::New);
    assert_eq!(record(&pool, &event("evt_1", 10, "sub_1"), Source::Reconcile, 101).await.unwrap(), Recorded::Duplicate);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn events_are_applied_oldest_stripe_time_first() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    for (id, created) in [("evt_c", 30), ("evt_a", 10), ("evt_b", 20)] {
        record(&pool, &event(id, created, "sub_1"), Source::Webhook, 100).await.unwrap();
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let report = run_batch(&pool, 100, 10, |e| {
        seen.lock().unwrap().push(e.id.clone());
        async { Ok(Outcome::Applied) }
    })
    .await
    .unwrap();
    assert_eq!(*seen.lock().unwrap(), ["evt_a", "evt_b", "evt_c"]);
    assert_eq!(report.applied, 3);
    assert_eq!(status_of(&pool, "evt_a").await.0, "processed");
    // Nothing is due any more.
    let again = run_batch(&pool, 1_000, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
    assert_eq!(again.total(), 0);
}

#[tokio::test]
async fn a_configured_policy_dead_letters_sooner_after_shorter_waits() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    let policy = RetryPolicy { max_attempts: 2, first_retry_secs: 1 };
    record(&pool, &event("evt_q", 1, "sub_1"), Source::Webhook, 0).await.unwrap();
    let fail = |_: InboxEvent| async { Err::<Outcome, _>(anyhow::anyhow!("stripe down")) };
    let first = run_batch_with(&pool, 0, 10, policy, fail).await.unwrap();
    assert_eq!(first.retrying, 1);
    assert_eq!(run_batch_with(&pool, 0, 10, policy, fail).await.unwrap().total(), 0, "not due before 1 s");
    let second = run_batch_with(&pool, 1, 10, policy, fail).await.unwrap();
    assert_eq!(second.dead, 1, "dead after the second attempt");
    assert_eq!(status_of(&pool, "evt_q").await.0, "dead");
    assert_eq!(policy.backoff_secs(3), 4);
}

#[tokio::test]
async fn failures_retry_with_backoff_then_go_dead_and_can_be_replayed() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    record(&pool, &event("evt_x", 1, "sub_1"), Source::Webhook, 0).await.unwrap();
    let mut now = 0;
    for attempt in 1..=MAX_ATTEMPTS {
        let report = run_batch(&pool, now, 10, |_| async { anyhow::bail!("stripe down") }).await.unwrap();
        let (status, attempts, error) = status_of(&pool, "evt_x").await;
        assert_eq!(attempts, attempt);
        assert_eq!(error.as_deref(), Some("stripe down"));
        if attempt < MAX_ATTEMPTS {
            assert_eq!((status.as_str(), report.retrying), ("retrying", 1));
            // Not due before its backoff has passed.
            let early = run_batch(&pool, now + backoff_secs(attempt) - 1, 10, |_| async { Ok(Outcome::Applied) })
                .await
                .unwrap();
            assert_eq!(early.total(), 0);
            now += backoff_secs(attempt);
        } else {
            assert_eq!((status.as_str(), report.dead), ("dead", 1));
        }
    }
    // Dead events are not picked up again…
    let later = run_batch(&pool, now + 1_000_000, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
    assert_eq!(later.total(), 0);
    // …until replayed.
    assert!(replay(&pool, "evt_x", now).await.unwrap());
    let replayed = run_batch(&pool, now, 10, |_| async { Ok(Outcome::Applied) }).await.unwrap();
    assert_eq!(replayed.applied, 1);
    assert_eq!(status_of(&pool, "evt_x").await, ("processed".to_string(), 1, None));
    assert!(!replay(&pool, "evt_missing", now).await.unwrap());
}

#[tokio::test]
async fn unknown_types_are_marked_ignored() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    record(&pool, &event("evt_i", 1, "x_1"), Source::Webhook, 0).await.unwrap();
    let report = run_batch(&pool, 0, 10, |_| async { Ok(Outcome::Ignored) }).await.unwrap();
    assert_eq!(report.ignored, 1);
    assert_eq!(status_of(&pool, "evt_i").await.0, "ignored");
}

#[tokio::test]
async fn skipped_events_are_ignored_with_their_reason() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    record(&pool, &event("evt_s", 1, "cus_gone"), Source::Webhook, 0).await.unwrap();
    let report = run_batch(&pool, 0, 10, |_| async { Ok(Outcome::Skipped("customer cus_gone is not ours".into())) })
        .await
        .unwrap();
    assert_eq!(report.ignored, 1);
    let note: Option<String> =
        sqlx::query_scalar("SELECT note FROM webhook_events WHERE id = 'evt_s'").fetch_one(&pool).await.unwrap();
    assert_eq!(note.as_deref(), Some("customer cus_gone is not ours"));
    assert_eq!(status_of(&pool, "evt_s").await.0, "ignored");
}

#[test]
fn lanes_follow_the_customer_then_the_object() {
    let ev = |object: &str, lane: Option<&str>| {
        let payload = format!(r#"{{"id":"evt_1","type":"x.y","created":1,"data":{{"object":{object}}}}}"#);
        InboxEvent {
            id: "evt_1".into(),
            event_type: "x.y".into(),
            object_id: None,
            payload,
            attempts: 0,
            lane: lane.map(str::to_string),
            account: None,
        }
    };
    let sub = r#"{"id":"sub_1","object":"subscription","customer":"cus_9"}"#;
    let expanded = r#"{"id":"in_1","object":"invoice","customer":{"id":"cus_9","object":"customer"}}"#;
    let cus = r#"{"id":"cus_9","object":"customer"}"#;
    let dispute = r#"{"id":"du_1","object":"dispute","customer":null}"#;
    assert_eq!(lane_key(&ev(sub, None)), "cus:cus_9");
    assert_eq!(lane_key(&ev(expanded, None)), "cus:cus_9");
    assert_eq!(lane_key(&ev(cus, None)), "cus:cus_9");
    assert_eq!(lane_key(&ev(dispute, None)), "obj:du_1");
    assert_eq!(lane_key(&ev(r#"{"object":"balance"}"#, None)), "");
    assert_eq!(lane_key(&ev(sub, Some("cus:stored"))), "cus:stored", "the stored lane wins");
}

#[tokio::test]
async fn a_lane_keeps_its_order_while_lanes_overlap() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    let body = |id: &str, created: i64, customer: &str| {
        format!(
            r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":{created},"livemode":false,"data":{{"object":{{"id":"in_{id}","object":"invoice","customer":"{customer}"}}}}}}"#
        )
        .into_bytes()
    };
    for (id, created, customer) in
        [("evt_1", 1, "cus_a"), ("evt_2", 2, "cus_b"), ("evt_3", 3, "cus_a"), ("evt_4", 4, "cus_a")]
    {
        record(&pool, &body(id, created, customer), Source::Webhook, 0).await.unwrap();
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let report = run_batch(&pool, 0, 10, |e| {
        let seen = &seen;
        async move {
            // The first event of a lane is slow: the other lane may finish meanwhile.
            if e.id == "evt_1" {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            seen.lock().unwrap().push(e.id);
            Ok(Outcome::Applied)
        }
    })
    .await
    .unwrap();
    assert_eq!(report.applied, 4);
    let seen = seen.into_inner().unwrap();
    let lane_a: Vec<_> = seen.iter().filter(|id| *id != "evt_2").cloned().collect();
    assert_eq!(lane_a, ["evt_1", "evt_3", "evt_4"]);
    assert_eq!(seen[0], "evt_2", "the other customer's lane did not wait: {seen:?}");
}

/// A deferred write that stores a customer row named after the event's object.
fn store_customer(fail: bool) -> Prepared {
    Prepared::write(move |tx| {
        Box::pin(async move {
            let id: String =
                sqlx::query_scalar("SELECT 'cus_written_' || COUNT(*) FROM customers").fetch_one(&mut **tx).await?;
            sqlx::query("INSERT INTO customers (id, deleted, synced_at) VALUES ($1, FALSE, 0)")
                .bind(&id)
                .execute(&mut **tx)
                .await?;
            if fail {
                anyhow::bail!("write failed after storing {id}");
            }
            Ok(Outcome::Applied)
        })
    })
}

async fn customer_ids(pool: &AnyPool) -> Vec<String> {
    sqlx::query_scalar("SELECT id FROM customers ORDER BY id").fetch_all(pool).await.unwrap()
}

#[tokio::test]
async fn a_failed_write_is_rolled_back_alone_and_retried_while_its_neighbours_commit() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    for (id, created, object) in [("evt_1", 1, "sub_1"), ("evt_2", 2, "sub_2"), ("evt_3", 3, "sub_3")] {
        record(&pool, &event(id, created, object), Source::Webhook, 0).await.unwrap();
    }
    let report = run_batch_prepared(
        &pool,
        &instance(),
        0,
        10,
        RetryPolicy::default(),
        |_| false,
        |e| async move { Ok(store_customer(e.id == "evt_2")) },
    )
    .await
    .unwrap();
    assert_eq!((report.applied, report.retrying), (2, 1));
    // evt_2's row was rolled back with its savepoint; the other two rows are in.
    assert_eq!(customer_ids(&pool).await.len(), 2);
    assert_eq!(status_of(&pool, "evt_1").await.0, "processed");
    assert_eq!(status_of(&pool, "evt_3").await.0, "processed");
    let (status, attempts, error) = status_of(&pool, "evt_2").await;
    assert_eq!((status.as_str(), attempts), ("retrying", 1));
    assert!(error.unwrap().starts_with("write failed after storing cus_written_"));
    // Retried alone once due: it stores its row this time.
    let retry = run_batch_prepared(
        &pool,
        &instance(),
        backoff_secs(1),
        10,
        RetryPolicy::default(),
        |_| false,
        |_| async { Ok(store_customer(false)) },
    )
    .await
    .unwrap();
    assert_eq!((retry.applied, retry.total()), (1, 1));
    assert_eq!(customer_ids(&pool).await.len(), 3);
    assert_eq!(status_of(&pool, "evt_2").await.0, "processed");
}

#[tokio::test]
async fn a_handler_that_writes_itself_sees_its_lanes_earlier_writes() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    // One object, so one lane: the deferred write of evt_1 comes before evt_2's own work.
    for (id, created) in [("evt_1", 1), ("evt_2", 2)] {
        record(&pool, &event(id, created, "sub_1"), Source::Webhook, 0).await.unwrap();
    }
    let seen = std::sync::Mutex::new(None);
    let report = run_batch_prepared(
        &pool,
        &instance(),
        0,
        10,
        RetryPolicy::default(),
        |e| e.id == "evt_2",
        |e| {
            let (pool, seen) = (&pool, &seen);
            async move {
                if e.id == "evt_1" {
                    return Ok(store_customer(false));
                }
                *seen.lock().unwrap() = Some(customer_ids(pool).await);
                Ok(Prepared::Done(Outcome::Applied))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(report.applied, 2);
    assert_eq!(seen.into_inner().unwrap(), Some(vec!["cus_written_0".to_string()]));
    assert_eq!(status_of(&pool, "evt_1").await.0, "processed");
    assert_eq!(status_of(&pool, "evt_2").await.0, "processed");
}

#[test]
fn backoff_doubles_from_a_minute_up_to_six_hours() {
    assert_eq!(backoff_secs(1), 60);
    assert_eq!(backoff_secs(2), 120);
    assert_eq!(backoff_secs(3), 240);
    assert_eq!(backoff_secs(9), 60 * 256);
    assert_eq!(backoff_secs(10), 6 * 3600, "capped");
    assert_eq!(backoff_secs(MAX_ATTEMPTS), 6 * 3600);
    assert_eq!(backoff_secs(0), 60);
}

fn invoice_event(id: &str, created: i64, customer: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":{created},"livemode":false,"data":{{"object":{{"id":"in_{id}","object":"invoice","customer":"{customer}"}}}}}}"#
    )
    .into_bytes()
}

fn ids(events: &[InboxEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

#[tokio::test]
async fn two_instances_never_hold_the_same_event_or_the_same_lane() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    for (id, created, customer) in
        [("evt_1", 1, "cus_a"), ("evt_2", 2, "cus_b"), ("evt_3", 3, "cus_a"), ("evt_4", 4, "cus_c")]
    {
        record(&pool, &invoice_event(id, created, customer), Source::Webhook, 0).await.unwrap();
    }
    let (a, b) = (InstanceId::named("a"), InstanceId::named("b"));
    // The two oldest, and the rest of their lanes: cus_a's later evt_3 comes along.
    let first = inbox::claim(&pool, &a, 10, 2).await.unwrap();
    assert_eq!(ids(&first), ["evt_1", "evt_2", "evt_3"]);
    // b takes only cus_c's event: the other lanes are a's.
    let second = inbox::claim(&pool, &b, 10, 10).await.unwrap();
    assert_eq!(ids(&second), ["evt_4"]);
    assert_eq!(ids(&inbox::claim(&pool, &b, 11, 10).await.unwrap()), ["evt_4"], "nothing new for b: its own again");
    // a may go on with its own lanes.
    assert_eq!(ids(&inbox::claim(&pool, &a, 12, 10).await.unwrap()), ["evt_1", "evt_2", "evt_3"]);
}

#[tokio::test]
async fn a_claim_kept_alive_by_renewal_is_not_taken_and_a_dead_ones_is() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    record(&pool, &invoice_event("evt_1", 1, "cus_a"), Source::Webhook, 0).await.unwrap();
    let (a, b) = (InstanceId::named("a"), InstanceId::named("b"));
    assert_eq!(inbox::claim(&pool, &a, 0, 10).await.unwrap().len(), 1);
    assert_eq!(inbox::renew_claims(&pool, &a, inbox::CLAIM_SECS - 1).await.unwrap(), 1);
    assert!(inbox::claim(&pool, &b, inbox::CLAIM_SECS + 1, 10).await.unwrap().is_empty(), "renewed: still a's");
    // a stops renewing (killed): once its claim runs out, b takes the event.
    let later = 2 * inbox::CLAIM_SECS;
    assert_eq!(ids(&inbox::claim(&pool, &b, later, 10).await.unwrap()), ["evt_1"]);
}

/// An instance that stalls past its claim (a long GC pause, a frozen VM) comes back after
/// another instance applied the event: its own writes are undone, so the effect happens once.
#[tokio::test]
async fn an_instance_that_lost_its_claim_keeps_nothing_of_what_it_wrote() {
    let (_dir, db) = test_db(true).await;
    let pool = db.pool().clone();
    record(&pool, &event("evt_1", 1, "sub_1"), Source::Webhook, 0).await.unwrap();
    let (stalled, resumed) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
    let slow_instance = InstanceId::named("slow");
    let slow = run_batch_prepared(
        &pool,
        &slow_instance,
        0,
        10,
        RetryPolicy::default(),
        |_| false,
        |_| {
            let (stalled, resumed) = (&stalled, &resumed);
            async move {
                stalled.notify_one();
                resumed.notified().await;
                Ok(store_customer(false))
            }
        },
    );
    let other = async {
        stalled.notified().await;
        let report = run_batch_prepared(
            &pool,
            &InstanceId::named("other"),
            inbox::CLAIM_SECS + 1,
            10,
            RetryPolicy::default(),
            |_| false,
            |_| async { Ok(store_customer(false)) },
        )
        .await
        .unwrap();
        resumed.notify_one();
        report
    };
    let (slow, other) = tokio::join!(slow, other);
    assert_eq!(other.applied, 1, "the other instance took the expired claim and applied it");
    assert_eq!((slow.unwrap().lost, customer_ids(&pool).await.len()), (1, 1), "applied once, not twice");
    assert_eq!(status_of(&pool, "evt_1").await.0, "processed");
}
