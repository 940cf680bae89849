//! Billing meters, meter events, event summaries and adjustments, called through async-stripe
//! rc.10 where it has the request, and read with its types.

use std::collections::HashMap;

use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterDefaultAggregation, CreateBillingMeterDefaultAggregationFormula,
    DeactivateBillingMeter, ListBillingMeter, ReactivateBillingMeter, RetrieveBillingMeter, UpdateBillingMeter,
};
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::billing_meter_event_summary::ListIdBillingMeterEventSummary;
use stripe_billing::{
    BillingMeter, BillingMeterEventAdjustment, BillingMeterEventSummary,
    BillingMeterResourceAggregationSettingsFormula, BillingMeterStatus,
};

use serde_json::json;

use super::*;

/// A `sum` meter on `event_name`, through the SDK.
async fn sum_meter(c: &stripe::Client, event_name: &str) -> BillingMeter {
    let aggregation = CreateBillingMeterDefaultAggregation::new(CreateBillingMeterDefaultAggregationFormula::Sum);
    CreateBillingMeter::new(aggregation, "API calls", event_name).send(c).await.expect("meter created")
}

/// Records `value` for `customer` at `timestamp`; the raw answer.
async fn report(
    raw: &Raw,
    event_name: &str,
    customer: &str,
    value: &str,
    identifier: &str,
    timestamp: i64,
) -> (u16, Value) {
    let timestamp = timestamp.to_string();
    raw.post(
        "/v1/billing/meter_events",
        &[
            ("event_name", event_name),
            ("payload[stripe_customer_id]", customer),
            ("payload[value]", value),
            ("identifier", identifier),
            ("timestamp", &timestamp),
        ],
    )
    .await
}

async fn customer(raw: &Raw) -> String {
    raw.ok("/v1/customers", &[]).await["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn meters_are_created_listed_renamed_deactivated_and_reactivated_with_their_events() {
    let sb = sandbox().await;
    let c = client(&sb);
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let meter = sum_meter(&c, "api_call").await;
    assert!(meter.id.as_str().starts_with("mtr_"), "{}", meter.id);
    assert_eq!(meter.status, BillingMeterStatus::Active);
    assert_eq!(meter.default_aggregation.formula, BillingMeterResourceAggregationSettingsFormula::Sum);
    assert_eq!(meter.customer_mapping.event_payload_key, "stripe_customer_id");
    assert_eq!(meter.value_settings.event_payload_key, "value");
    assert!(meter.status_transitions.deactivated_at.is_none());

    // One active meter per event name, as Stripe.
    let (status, refused) = raw
        .post(
            "/v1/billing/meters",
            &[("display_name", "again"), ("event_name", "api_call"), ("default_aggregation[formula]", "count")],
        )
        .await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("event_name")), "{refused}");
    let (status, refused) = raw
        .post(
            "/v1/billing/meters",
            &[("display_name", "x"), ("event_name", "other"), ("default_aggregation[formula]", "median")],
        )
        .await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("default_aggregation[formula]")));
    let (status, refused) = raw.post("/v1/billing/meters", &[("display_name", "x"), ("event_name", "y")]).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("parameter_missing")), "{refused}");

    let custom = raw
        .ok(
            "/v1/billing/meters",
            &[
                ("display_name", "Tokens"),
                ("event_name", "tokens"),
                ("default_aggregation[formula]", "last"),
                ("customer_mapping[event_payload_key]", "account"),
                ("customer_mapping[type]", "by_id"),
                ("value_settings[event_payload_key]", "tokens"),
            ],
        )
        .await;
    let custom: BillingMeter = serde_json::from_value(custom).expect("async-stripe reads the meter");
    assert_eq!(custom.customer_mapping.event_payload_key, "account");
    assert_eq!(custom.value_settings.event_payload_key, "tokens");

    let listed = ListBillingMeter::new().limit(1).send(&c).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert!(listed.has_more);
    assert_eq!(listed.data[0].id, custom.id, "newest first");
    let rest = ListBillingMeter::new().starting_after(custom.id.as_str()).send(&c).await.unwrap();
    assert_eq!(rest.data.iter().map(|m| &m.id).collect::<Vec<_>>(), [&meter.id]);

    let renamed = UpdateBillingMeter::new(meter.id.clone()).display_name("Requests").send(&c).await.unwrap();
    assert_eq!(renamed.display_name, "Requests");
    assert_eq!(RetrieveBillingMeter::new(meter.id.clone()).send(&c).await.unwrap().display_name, "Requests");

    let off = DeactivateBillingMeter::new(meter.id.clone()).send(&c).await.unwrap();
    assert_eq!(off.status, BillingMeterStatus::Inactive);
    assert!(off.status_transitions.deactivated_at.is_some());
    let inactive = raw.get("/v1/billing/meters?status=inactive").await.1;
    assert_eq!(inactive["data"].as_array().unwrap().len(), 1, "{inactive}");
    // The event name is free while the meter is off: a new meter takes it and the old one cannot
    // come back on it.
    let replacement = sum_meter(&c, "api_call").await;
    let (status, refused) = raw.post(&format!("/v1/billing/meters/{}/reactivate", meter.id), &[]).await;
    assert_eq!(status, 400, "{refused}");
    DeactivateBillingMeter::new(replacement.id.clone()).send(&c).await.unwrap();
    let on = ReactivateBillingMeter::new(meter.id.clone()).send(&c).await.unwrap();
    assert_eq!(on.status, BillingMeterStatus::Active);
    assert!(on.status_transitions.deactivated_at.is_none());

    let events = raw.get("/v1/events?type=billing.meter.*&limit=100").await.1;
    let mut types: Vec<String> =
        events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
    types.reverse();
    assert_subsequence(
        &types,
        &[
            "billing.meter.created",
            "billing.meter.created",
            "billing.meter.updated",
            "billing.meter.deactivated",
            "billing.meter.created",
            "billing.meter.deactivated",
            "billing.meter.reactivated",
        ],
    );
    let updated = events["data"].as_array().unwrap().iter().find(|e| e["type"] == "billing.meter.updated").unwrap();
    assert_eq!(updated["data"]["previous_attributes"]["display_name"], "API calls");
    // Delivered, and read by async-stripe's typed events (data.object a BillingMeter).
    settle(&sb).await;
    assert_eq!(rx.types().await.iter().filter(|t| t.starts_with("billing.meter.")).count(), 7);
    rx.verify_all(&secret).await;
}

#[tokio::test]
async fn meter_events_are_summarised_per_customer_and_window() {
    let sb = sandbox().await;
    let c = client(&sb);
    let raw = Raw::new(&sb);
    let meter = sum_meter(&c, "api_call").await;
    let (ada, bob) = (customer(&raw).await, customer(&raw).await);
    // An hour-aligned range that ended a little while ago.
    let start = (sb.now() - 5 * 3600) / 3600 * 3600;
    let payload = HashMap::from([("stripe_customer_id".to_string(), ada.clone()), ("value".to_string(), "7".into())]);
    let recorded = CreateBillingMeterEvent::new("api_call", payload)
        .identifier("ev-1")
        .timestamp(start + 10)
        .send(&c)
        .await
        .expect("event recorded");
    assert_eq!((recorded.identifier.as_str(), recorded.timestamp), ("ev-1", start + 10));
    assert_eq!(recorded.payload["value"], "7");
    assert_eq!(report(&raw, "api_call", &ada, "5", "ev-2", start + 3600 + 1).await.0, 200);
    assert_eq!(report(&raw, "api_call", &bob, "1000", "ev-3", start + 20).await.0, 200);
    // Values stay exact integers, however large.
    assert_eq!(report(&raw, "api_call", &ada, "9007199254740993", "ev-big", start + 7200).await.0, 200);

    let whole = ListIdBillingMeterEventSummary::new(meter.id.clone(), ada.as_str(), start + 7200, start)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(whole.data.len(), 1);
    let summary: &BillingMeterEventSummary = &whole.data[0];
    assert_eq!((summary.aggregated_value, summary.start_time, summary.end_time), (12.0, start, start + 7200));
    assert!(summary.id.as_str().starts_with("mtrusg_"));

    let hourly = raw
        .get(&format!(
            "/v1/billing/meters/{}/event_summaries?customer={ada}&start_time={start}&end_time={}&value_grouping_window=hour",
            meter.id,
            start + 3 * 3600
        ))
        .await
        .1;
    let values: Vec<Value> = hourly["data"].as_array().unwrap().iter().map(|s| s["aggregated_value"].clone()).collect();
    assert_eq!(values, [json!(9007199254740993_i64), json!(5), json!(7)], "newest window first: {hourly}");
    assert_eq!(hourly["url"], format!("/v1/billing/meters/{}/event_summaries", meter.id));

    // Misaligned ranges are refused.
    let path = format!("/v1/billing/meters/{}/event_summaries?customer={ada}", meter.id);
    let (status, refused) = raw.get(&format!("{path}&start_time={}&end_time={}", start + 1, start + 60)).await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("start_time")), "{refused}");
    let (status, _) =
        raw.get(&format!("{path}&start_time={start}&end_time={}&value_grouping_window=hour", start + 60)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn meter_events_are_refused_as_stripe_reports_them() {
    let sb = sandbox().await;
    let c = client(&sb);
    let raw = Raw::new(&sb);
    let meter = sum_meter(&c, "api_call").await;
    let ada = customer(&raw).await;
    let now = sb.now();
    assert_eq!(report(&raw, "api_call", &ada, "1", "dup", now).await.0, 200);
    let (status, refused) = report(&raw, "api_call", &ada, "1", "dup", now).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["message"], "An event already exists with identifier dup.");
    let cases = [
        ("nothing_listens", ada.as_str(), "1", now, "no_meter"),
        ("api_call", "cus_nobody", "1", now, "meter_event_customer_not_found"),
        ("api_call", ada.as_str(), "1.5", now, "meter_event_invalid_value"),
        ("api_call", ada.as_str(), "1", now - 36 * 86_400, "timestamp_too_far_in_past"),
        ("api_call", ada.as_str(), "1", now + 600, "timestamp_in_future"),
    ];
    for (i, (event_name, customer, value, timestamp, code)) in cases.into_iter().enumerate() {
        let (status, refused) = report(&raw, event_name, customer, value, &format!("bad-{i}"), timestamp).await;
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some(code)), "{refused}");
        assert_eq!(refused["error"]["type"], "invalid_request_error");
    }
    // Up to 5 minutes ahead and 35 days back are fine.
    assert_eq!(report(&raw, "api_call", &ada, "1", "ahead", now + 290).await.0, 200);
    assert_eq!(report(&raw, "api_call", &ada, "1", "back", now - 34 * 86_400).await.0, 200);
    let (status, refused) = raw
        .post("/v1/billing/meter_events", &[("event_name", "api_call"), ("payload[stripe_customer_id]", &ada)])
        .await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("meter_event_value_not_found")));

    DeactivateBillingMeter::new(meter.id.clone()).send(&c).await.unwrap();
    let (status, refused) = report(&raw, "api_call", &ada, "1", "late", now).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("archived_meter")), "{refused}");
}

#[tokio::test]
async fn a_cancelled_event_no_longer_counts() {
    let sb = sandbox().await;
    let c = client(&sb);
    let raw = Raw::new(&sb);
    let meter = sum_meter(&c, "api_call").await;
    let ada = customer(&raw).await;
    let start = sb.now() / 60 * 60 - 600;
    report(&raw, "api_call", &ada, "3", "keep", start + 1).await;
    report(&raw, "api_call", &ada, "40", "oops", start + 2).await;
    let adjustment = raw
        .ok(
            "/v1/billing/meter_event_adjustments",
            &[("event_name", "api_call"), ("type", "cancel"), ("cancel[identifier]", "oops")],
        )
        .await;
    let parsed: BillingMeterEventAdjustment =
        serde_json::from_value(adjustment.clone()).expect("async-stripe reads it");
    assert_eq!(parsed.cancel.and_then(|c| c.identifier).as_deref(), Some("oops"));
    assert_eq!(adjustment["status"], "complete");
    let path = format!(
        "/v1/billing/meters/{}/event_summaries?customer={ada}&start_time={start}&end_time={}",
        meter.id,
        start + 600
    );
    assert_eq!(raw.get(&path).await.1["data"][0]["aggregated_value"], 3);
    let (status, _) = raw
        .post("/v1/billing/meter_event_adjustments", &[("event_name", "api_call"), ("cancel[identifier]", "never")])
        .await;
    assert_eq!(status, 400);
    // The identifier stays taken: a cancelled event cannot be sent again under it.
    assert_eq!(report(&raw, "api_call", &ada, "40", "oops", start + 3).await.0, 400);
}

#[tokio::test]
async fn count_and_last_meters_aggregate_as_their_formula_says() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    for formula in ["count", "last"] {
        raw.ok(
            "/v1/billing/meters",
            &[("display_name", formula), ("event_name", formula), ("default_aggregation[formula]", formula)],
        )
        .await;
    }
    let meters = raw.get("/v1/billing/meters").await.1;
    let id_of = |name: &str| {
        meters["data"].as_array().unwrap().iter().find(|m| m["event_name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let ada = customer(&raw).await;
    let start = sb.now() / 60 * 60 - 600;
    for (i, (value, offset)) in [("4", 30), ("9", 10), ("2", 20)].into_iter().enumerate() {
        for formula in ["count", "last"] {
            let identifier = format!("{formula}-{i}");
            assert_eq!(report(&raw, formula, &ada, value, &identifier, start + offset).await.0, 200);
        }
    }
    let summary = |id: String| {
        let raw = &raw;
        let ada = ada.clone();
        async move {
            let path = format!(
                "/v1/billing/meters/{id}/event_summaries?customer={ada}&start_time={start}&end_time={}",
                start + 600
            );
            raw.get(&path).await.1["data"][0]["aggregated_value"].clone()
        }
    };
    assert_eq!(summary(id_of("count")).await, 3);
    assert_eq!(summary(id_of("last")).await, 4, "the latest timestamp, not the latest received");
}
