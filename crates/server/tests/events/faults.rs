//! NATS stopped during a write load; a relay killed with SIGKILL mid-batch.

use super::*;
use serde_json::json;
use std::collections::HashMap;

fn assert_customer_order(messages: &[StoredEvent]) {
    let mut last: HashMap<String, i64> = HashMap::new();
    for m in messages {
        let d = &m.body["data"]["resource"];
        let n = d["metadata"]["n"].as_i64().unwrap_or(0);
        if let Some(before) = last.insert(d["id"].as_str().unwrap().to_owned(), n) {
            assert!(n > before, "out of order: {n} after {before}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_down_for_10_s_fails_no_write_and_the_backlog_drains_in_order() {
    let nats = PrivateNats::start().await;
    let app = TestApp::spawn_with(with_relay(&nats)).await;
    let p = app.project("acme").await;
    let admin = app.admin_token(&p).await;
    let http = app.http.clone();
    let (s, b) = send(http.post(app.url("/admin/customers")).bearer_auth(&admin).json(&json!({
        "email": "load@example.com", "company_name": "", "first_name": "", "last_name": "", "phone": "", "metadata": {}}))).await;
    assert_eq!(s, 200, "{b}");
    let id = b["customer"]["id"].as_str().unwrap().to_owned();

    // A steady write load for ~16 s; NATS goes away from second 2 to second 12.
    let load = {
        let (http, admin, url) = (http.clone(), admin.clone(), app.url(&format!("/admin/customers/{id}")));
        tokio::spawn(async move {
            let started = Instant::now();
            let (mut n, mut slowest) = (0i64, Duration::ZERO);
            while started.elapsed() < Duration::from_secs(16) {
                n += 1;
                let t = Instant::now();
                let (s, b) = send(http.post(&url).bearer_auth(&admin).json(&json!({"metadata": {"n": n}}))).await;
                assert_eq!(s, 200, "write {n} failed while NATS was away: {b}");
                slowest = slowest.max(t.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (n, slowest)
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.stop();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let metrics = http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let pending: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("outbox_pending "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no outbox_pending in {metrics}"));
    assert!(pending > 0, "the backlog is visible while NATS is away");
    let (s, ready) = send(http.get(app.url("/health/ready"))).await;
    assert_eq!(s, 200, "ready while NATS is down: {ready}");
    assert_eq!(ready["relay"], "nats_unavailable");
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.restart().await;
    let (writes, slowest) = load.await.unwrap();
    assert!(slowest < Duration::from_secs(1), "a write took {slowest:?}");

    let mut conn = db(&app).await;
    drained(&mut conn, Duration::from_secs(60)).await;
    let rows = outbox(&mut conn).await;
    assert_eq!(rows.len() as i64, writes + 1);
    let messages = stream(&nats).await;
    assert_exactly_once(&rows, &messages);
    assert_customer_order(&messages);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_killed_mid_batch_loses_and_duplicates_nothing() {
    let nats = PrivateNats::start().await;
    // The API without a relay: events wait in the outbox.
    let app = TestApp::spawn().await;
    let p = app.project("acme").await;
    let admin = app.admin_token(&p).await;
    let http = app.http.clone();
    for i in 0..40 {
        let (s, b) = send(http.post(app.url("/admin/customers")).bearer_auth(&admin).json(&json!({
            "email": format!("k{i}@example.com"), "company_name": "", "first_name": "", "last_name": "", "phone": "", "metadata": {}}))).await;
        assert_eq!(s, 200, "{b}");
        let id = b["customer"]["id"].as_str().unwrap().to_owned();
        for n in 1..=50 {
            let (s, _) = send(
                http.post(app.url(&format!("/admin/customers/{id}")))
                    .bearer_auth(&admin)
                    .json(&json!({"metadata": {"n": n}})),
            )
            .await;
            assert_eq!(s, 200);
        }
    }
    let mut conn = db(&app).await;
    let relay = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_xclade-customers"))
            .arg("relay")
            .env("DATABASE_URL", app.db.url())
            .env("XCLADE_NATS_URL", nats.url())
            .env("RUST_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the relay")
    };
    let mut first = relay();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let published = count(&mut conn, "SELECT count(*) AS n FROM published_events").await;
        if published >= 300 {
            break;
        }
        assert!(Instant::now() < deadline, "the relay published only {published}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    first.wait().unwrap();
    let pending = count(&mut conn, "SELECT count(*) AS n FROM events WHERE published_at IS NULL").await;
    assert!(pending > 0, "killed before the end");
    let mut second = relay();
    drained(&mut conn, Duration::from_secs(60)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let rows = outbox(&mut conn).await;
    assert_eq!(rows.len(), 40 * 51);
    let messages = stream(&nats).await;
    assert_exactly_once(&rows, &messages);
    assert_customer_order(&messages);
    app.stop().await;
}
