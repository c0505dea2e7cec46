//! Events end to end (§6): real PostgreSQL, a real (private) NATS JetStream server, the relay
//! of real servers. Every test starts its own `nats-server -js` (never the shared one), so
//! tests can stop it and streams never overlap.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

mod faults;
mod replicas;
mod tail;
mod writes;

use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use std::time::{Duration, Instant};
use xclade_server::config::EventsSettings;
use xclade_server::Settings;
use xclade_testkit::{read_stream, PrivateNats, StoredEvent, TestApp};

pub const STREAM: &str = "XCLADE_EVENTS";

/// Settings that run the relay against `nats`.
pub fn with_relay(nats: &PrivateNats) -> impl FnOnce(&mut Settings) + '_ {
    move |s: &mut Settings| {
        s.events = Some(EventsSettings {
            nats_url: nats.url(),
            stream: STREAM.into(),
            retention: Duration::from_secs(7 * 86_400),
            relay: true,
        });
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    resource_id: String,
}

pub async fn db(app: &TestApp) -> AsyncPgConnection {
    app.db.connect().await
}

pub async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    xclade_testkit::db::count(conn, sql).await
}

/// (id, kind, resource id) of every event written, pending or published, in write order.
pub async fn outbox(conn: &mut AsyncPgConnection) -> Vec<(String, String, String)> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT id::text AS id, kind, resource_id::text AS resource_id FROM \
         (SELECT id, kind, resource_id, seq FROM events UNION ALL \
          SELECT id, kind, resource_id, seq FROM published_events) AS written ORDER BY seq",
    )
    .load(conn)
    .await
    .expect("outbox rows");
    rows.into_iter().map(|r| (r.id, r.kind, r.resource_id)).collect()
}

/// Waits until the outbox has nothing pending (at most `within`).
pub async fn drained(conn: &mut AsyncPgConnection, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let pending = count(conn, "SELECT count(*) AS n FROM events WHERE published_at IS NULL").await;
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{pending} events still pending after {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message of the stream.
pub async fn stream(nats: &PrivateNats) -> Vec<StoredEvent> {
    read_stream(&nats.url(), STREAM, "").await
}

/// Asserts the stream holds exactly the outbox: one message per row, no duplicate, the
/// message id the event id.
pub fn assert_exactly_once(rows: &[(String, String, String)], messages: &[StoredEvent]) {
    let mut ids: Vec<&str> = messages.iter().map(|m| m.body["id"].as_str().expect("id")).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicated messages in the stream");
    let mut expected: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "the stream holds exactly the outbox's events");
    for m in messages {
        assert_eq!(m.msg_id.as_deref(), m.body["id"].as_str(), "Nats-Msg-Id is the event id");
    }
}

/// Status and JSON body.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
