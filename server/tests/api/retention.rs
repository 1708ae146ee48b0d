//! Retention: finished deliveries, their events and attempts, statistics, usage, audit entries,
//! kept idempotent answers and expired sessions are deleted when their time is up, and nothing
//! that is still on its way. A pass is run with a `now` in the future instead of waiting.

use axum::http::StatusCode;
use integrations_hub::domain::retention::Purged;
use integrations_hub::{store, time};
use serde_json::json;

use crate::both;
use crate::helpers::{count, Backend, Receiver, TestApp};

const DAY: i64 = 24 * 3600 * 1000;

async fn event_status(app: &TestApp, tenant: &str, id: &str) -> StatusCode {
    app.get(&format!("/api/v1/tenants/{tenant}/events/{id}")).await.0
}

both!(finished_deliveries_go_with_their_events_and_nothing_in_flight_does, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.retention.delivery_days = Some(30);
        c.retention.audit_days = Some(60);
    })
    .await;
    let start = time::now_ms();
    let fine = Receiver::start().await;
    let failing = Receiver::start().await;
    let waiting = Receiver::start().await;
    failing.reply(500, &[]);
    waiting.reply(503, &[]);
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": fine.url, "events": ["ok.one", "replayed.one"] })).await;
    app.create_webhook(&tenant, json!({ "url": failing.url, "events": ["dead.one"], "max_attempts": 1 })).await;
    app.create_webhook(&tenant, json!({ "url": waiting.url, "events": ["later.one"], "backoff_base_seconds": 3600 }))
        .await;
    let id = |accepted: serde_json::Value| accepted["id"].as_str().unwrap().to_string();
    let delivered = id(app.publish(&tenant, "ok.one", json!({})).await);
    let dead = id(app.publish(&tenant, "dead.one", json!({})).await);
    let later = id(app.publish(&tenant, "later.one", json!({})).await);
    let unheard = id(app.publish(&tenant, "nobody.listens", json!({})).await);
    let replayed = app.publish(&tenant, "replayed.one", json!({})).await;

    // An API key's usage, a kept idempotent answer and a session: data of the other kinds.
    let (_, key) =
        app.post(&format!("/api/v1/tenants/{tenant}/api-keys"), json!({ "name": "k", "role": "admin" })).await;
    let key = key["key"].as_str().unwrap().to_string();
    let kept = app
        .http
        .post(format!("{}/api/v1/tenants/{tenant}/events", app.url))
        .bearer_auth(&key)
        .header("Idempotency-Key", "order-1")
        .json(&json!({ "event_type": "ok.one", "payload": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status().as_u16(), 202);
    app.hub.meters.flush(&app.hub.db, time::now_ms()).await.unwrap();
    let session = store::sessions::SessionRow {
        token_hash: "a-session".into(),
        actor: "operator".into(),
        tenant_id: None,
        created_at: start,
        expires_at: start + 12 * 3600 * 1000,
        operator_token_mark: None,
    };
    store::sessions::insert(&app.hub.db, &session).await.unwrap();
    app.drain().await;
    let original = replayed["deliveries"][0].as_str().unwrap();
    let (status, _) =
        app.post(&format!("/api/v1/tenants/{tenant}/webhook-deliveries/{original}/replay"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "the replay waits, undrained");
    let replayed = id(replayed);
    let audit_entries = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    assert!(audit_entries >= 6, "tenant, three endpoints, a key, a replay: {audit_entries}");

    // Within the day nothing goes; after it, the idempotent answer and the session do.
    assert_eq!(app.hub.purge_expired(time::now_ms()).await.unwrap(), Purged::default());
    let purged = app.hub.purge_expired(start + DAY + 3600 * 1000).await.unwrap();
    assert_eq!(purged, Purged { idempotency_keys: 1, sessions: 1, ..Purged::default() });

    // At 29 days every event is younger than its 30 days; the hourly statistics, added up into
    // daily ones first, have gone after their 8 days.
    let hourly = count(&app, "SELECT COUNT(*) FROM stats_hourly").await as u64;
    let purged = app.hub.purge_expired(start + 29 * DAY).await.unwrap();
    assert_eq!(purged, Purged { stats_rows: hourly, ..Purged::default() });
    assert!(count(&app, "SELECT COUNT(*) FROM stats_daily").await > 0);

    // At 31 days: the delivered, the dead-lettered and the unheard events go with their
    // deliveries and attempts (the idempotent publish's too); the failing one waiting for its
    // retry and the one whose replay is pending stay. The statistics and usage, all older than
    // 30 days by then, go; the audit log keeps its 60 days.
    // Candidates read before a replay gave them a new delivery are checked again as they are
    // deleted: these two, handed over as if stale, are not deleted.
    let stale = [later.clone(), replayed.clone()];
    let deleted = store::retention::delete_events(&app.hub.db, &stale, start + DAY).await.unwrap();
    assert_eq!(deleted, store::retention::EventsDeleted::default());

    // Five events: with the operational `delivery.dead_lettered` the dead letter raised (no
    // endpoint here subscribes to it by name, so it has no delivery).
    let announced = "SELECT COUNT(*) FROM events WHERE event_type = 'delivery.dead_lettered'";
    assert_eq!(count(&app, announced).await, 1);
    let purged = app.hub.purge_expired(start + 31 * DAY).await.unwrap();
    assert_eq!((purged.events, purged.deliveries, purged.attempts), (5, 3, 3), "{purged:?}");
    assert!(purged.stats_rows > 0 && purged.usage_rows > 0, "{purged:?}");
    assert_eq!(purged.audit_entries, 0);
    for gone in [&delivered, &dead, &unheard] {
        assert_eq!(event_status(&app, &tenant, gone).await, StatusCode::NOT_FOUND, "{gone}");
    }
    for kept in [&later, &replayed] {
        assert_eq!(event_status(&app, &tenant, kept).await, StatusCode::OK, "{kept}");
    }
    let (_, attempts) = app.get(&format!("/api/v1/tenants/{tenant}/events/{replayed}/attempts")).await;
    assert_eq!(attempts["data"].as_array().unwrap().len(), 1, "the kept event keeps its attempts: {attempts}");
    let (_, dead_letters) = app.get(&format!("/api/v1/tenants/{tenant}/dead-letters")).await;
    assert_eq!(dead_letters["data"], json!([]));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stats_daily").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM api_key_usage").await, 0);
    let (_, metrics) = app.get("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(metrics.contains("ih_retention_deleted_total{kind=\"events\"} 5"), "{metrics}");
    assert!(metrics.contains("ih_retention_deleted_total{kind=\"sessions\"} 1"), "{metrics}");

    // The waiting delivery finishes now: its event is kept for 30 days from *now*, not from
    // when it was published. Time must have moved on by more than a millisecond for the two
    // instants to be told apart; wait for the clock (not for the hub).
    let published_at = count(&app, "SELECT MIN(created_at) FROM events").await;
    while time::now_ms() <= published_at + 2 {
        tokio::task::yield_now().await;
    }
    app.make_retries_due().await;
    app.drain().await;
    let last_finish = "SELECT MAX(updated_at) AS f FROM deliveries GROUP BY event_id";
    let first_finished = count(&app, format!("SELECT MIN(f) FROM ({last_finish}) AS finishes")).await;
    let last_finished = count(&app, format!("SELECT MAX(f) FROM ({last_finish}) AS finishes")).await;
    assert!(first_finished > published_at + 1);
    let purged = app.hub.purge_expired(first_finished - 1 + 30 * DAY).await.unwrap();
    assert_eq!(purged.events, 0, "finished less than 30 days before: kept");
    let purged = app.hub.purge_expired(last_finished + 1 + 30 * DAY).await.unwrap();
    assert_eq!((purged.events, purged.deliveries, purged.attempts), (2, 3, 4), "{purged:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM attempts").await, 0);

    // The audit log goes after its own 60 days.
    let purged = app.hub.purge_expired(start + 61 * DAY).await.unwrap();
    assert_eq!(purged.audit_entries as i64, audit_entries, "the passes wrote no entry of their own");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, 0);
});

both!(statistics_outlive_a_short_retention_and_zero_keeps_for_ever, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.retention.delivery_days = Some(1)).await;
    let start = time::now_ms();
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    app.publish(&tenant, "ok.one", json!({})).await;
    app.drain().await;
    let purged = app.hub.purge_expired(start + 2 * DAY).await.unwrap();
    assert_eq!((purged.events, purged.stats_rows), (1, 0), "statistics are kept 7 days: {purged:?}");
    let purged = app.hub.purge_expired(start + 8 * DAY).await.unwrap();
    assert!(purged.stats_rows > 0, "{purged:?}");

    let app = TestApp::spawn_with(backend, |c| {
        c.retention.delivery_days = None;
        c.retention.audit_days = None;
    })
    .await;
    let tenant = app.create_tenant("Acme").await;
    app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    app.publish(&tenant, "ok.one", json!({})).await;
    app.drain().await;
    let hourly = count(&app, "SELECT COUNT(*) FROM stats_hourly").await as u64;
    let purged = app.hub.purge_expired(start + 3650 * DAY).await.unwrap();
    let only_hours = Purged { stats_rows: hourly, ..Purged::default() };
    assert_eq!(purged, only_hours, "in ten years only the hourly statistics go, added up into daily ones first");
    assert!(count(&app, "SELECT COUNT(*) FROM stats_daily").await > 0, "kept for ever");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 1);
});

both!(a_pass_deletes_more_than_one_chunk, |backend: Backend| async move {
    let app = TestApp::spawn_with(backend, |c| c.retention.delivery_days = Some(30)).await;
    let start = time::now_ms();
    let tenant = app.create_tenant("Acme").await;
    let n = store::retention::CHUNK as usize + 1;
    let mut publishing = tokio::task::JoinSet::new();
    for i in 0..n {
        let (http, url) = (app.http.clone(), format!("{}/api/v1/tenants/{tenant}/events", app.url));
        publishing.spawn(async move {
            let sent = http
                .post(url)
                .bearer_auth(crate::helpers::OPERATOR)
                .json(&json!({ "event_type": "unheard", "payload": { "i": i } }));
            sent.send().await.unwrap().status().as_u16()
        });
    }
    while let Some(status) = publishing.join_next().await {
        assert_eq!(status.unwrap(), 202);
    }
    for i in 0..n {
        let session = store::sessions::SessionRow {
            token_hash: format!("session-{i}"),
            actor: "operator".into(),
            tenant_id: None,
            created_at: start,
            expires_at: start + 1000,
            operator_token_mark: None,
        };
        store::sessions::insert(&app.hub.db, &session).await.unwrap();
    }
    let purged = app.hub.purge_expired(start + 31 * DAY).await.unwrap();
    assert_eq!((purged.events as usize, purged.sessions as usize), (n, n), "{purged:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM events").await, 0);
});

both!(a_write_that_refers_to_a_deleted_event_is_a_conflict_not_a_500, |backend: Backend| async move {
    // What a replay racing the pass that deletes its event meets: the insert of its delivery
    // finds the event gone. Done here directly, as the race cannot be timed from outside.
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start().await;
    let tenant = app.create_tenant("Acme").await;
    let webhook = app.create_webhook(&tenant, json!({ "url": receiver.url, "events": ["*"] })).await;
    let gone = store::deliveries::NewDelivery {
        id: integrations_hub::ids::new_id(integrations_hub::ids::DELIVERY),
        tenant_id: tenant.clone(),
        event_id: integrations_hub::ids::new_id(integrations_hub::ids::EVENT),
        webhook_id: webhook["id"].as_str().unwrap().to_string(),
        event_type: "new_lead".into(),
        replay_of: None,
        replayed_by: None,
        created_at: time::now_ms(),
    };
    let mut tx = app.hub.db.begin().await.unwrap();
    let inserted = async {
        store::deliveries::insert_many(&mut tx, std::slice::from_ref(&gone)).await?;
        tx.commit().await
    }
    .await;
    let problem = inserted.expect_err("the event does not exist").problem();
    assert_eq!(problem.status, 409, "{problem:?}");
    assert!(problem.detail.contains("deleted meanwhile"), "{problem:?}");
});

// Why: retention deleted rows, but SQLite's file kept its largest size for ever (the space was
// reused for new rows, never given back to the disk). SQLite only: PostgreSQL's autovacuum and
// its own files are PostgreSQL's business.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_gives_the_space_of_deleted_rows_back_to_the_disk() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.retention.delivery_days = Some(30)).await;
    let file = std::path::PathBuf::from(app.database_url.strip_prefix("sqlite://").unwrap());
    let on_disk = || {
        let wal = file.with_extension("db-wal");
        std::fs::metadata(&file).unwrap().len() + std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    let tenant = app.create_tenant("Acme").await;
    let big = "x".repeat(100_000);
    for _ in 0..100 {
        app.publish(&tenant, "unheard", json!({ "big": big })).await;
    }
    let full = on_disk();
    assert!(full > 10_000_000, "100 events of 100 kB take {full} bytes");
    let purged = app.hub.purge_expired(time::now_ms() + 31 * DAY).await.unwrap();
    assert_eq!(purged.events, 100, "{purged:?}");
    let left = on_disk();
    assert!(left < full / 10, "{full} bytes before the purge, {left} after");
}
