//! The webhook inbox page and "Replay" without JavaScript.

use sqlx::Row;

use crate::helpers::*;

#[tokio::test]
async fn the_inbox_lists_filters_redacts_and_replays_dead_events() {
    let app = spawn_app().await;
    dead_event(&app, "evt_dead1").await;
    app.log_in_as_admin().await;

    let html = app.page("/admin/events?status=dead").await;
    assert!(html.contains("evt_dead1"), "{html}");
    assert!(html.contains("stripe said no"));
    assert!(!html.contains("private@example.com"), "payloads are redacted");
    assert!(html.contains(r#"<label for="event-status">Status</label>"#));
    assert!(html.contains(">Replay</button>"));
    let processed = app.page("/admin/events?status=processed").await;
    assert!(!processed.contains("evt_dead1"), "the status filter applies");

    let res = app.submit("/admin/events?status=dead", "Replay", &[("event_id", "evt_dead1")]).await;
    assert_redirect(&res, "/admin/events?replayed=evt_dead1&outcome=queued");
    let html = app.page("/admin/events?replayed=evt_dead1&outcome=queued").await;
    assert!(html.contains("Event evt_dead1 is queued for replay."), "{html}");

    let status: String = sqlx::query_scalar("SELECT status FROM webhook_events WHERE id = 'evt_dead1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(status, "dead", "back in the queue (or already applied again)");
    let audit = sqlx::query("SELECT actor_email, action, customer_id, before_state FROM audit_log")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].get::<String, _>("actor_email"), ADMIN_EMAIL);
    assert_eq!(audit[0].get::<String, _>("action"), "webhook_event.replay");
    assert_eq!(audit[0].get::<Option<String>, _>("customer_id").as_deref(), Some("cus_dead1"));
    assert_eq!(audit[0].get::<Option<String>, _>("before_state").as_deref(), Some("dead"));
}
