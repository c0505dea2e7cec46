//! `xclade-customers events tail` prints a project's events as JSON lines.

use super::*;
use serde_json::json;
use std::io::{BufRead, BufReader};

fn first_lines(mut child: std::process::Child, n: usize) -> Vec<Value> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    while out.len() < n {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else { break };
        out.push(serde_json::from_str(&line).expect("a JSON line"));
    }
    let _ = child.kill();
    let _ = child.wait();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_tail_prints_the_projects_events_as_json_lines() {
    let nats = PrivateNats::start().await;
    let app = TestApp::spawn_with(with_relay(&nats)).await;
    let p = app.project("acme").await;
    let client = app.client_token(&p.client_id, &p.client_secret, None).await;
    let admin = app.admin_token(&p).await;
    let (s, _) =
        send(app.http.post(app.url("/acme/customer-groups")).bearer_auth(&client).json(&json!({"groupName": "Gold"})))
            .await;
    assert_eq!(s, 201);
    let (s, _) = send(
        app.http.post(app.url("/admin/customers")).bearer_auth(&admin).json(&json!({
        "email": "t@example.com", "company_name": "", "first_name": "", "last_name": "", "phone": "", "metadata": {}})),
    )
    .await;
    assert_eq!(s, 200);
    let mut conn = db(&app).await;
    drained(&mut conn, Duration::from_secs(20)).await;

    let tail = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xclade-customers"))
            .args(["events", "tail", "--project", "acme"])
            .args(args)
            .env("XCLADE_NATS_URL", nats.url())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("events tail")
    };
    let all = first_lines(tail(&["--from-start"]), 2);
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["customer-group.created", "customer.created"]);
    let only = first_lines(tail(&["--from-start", "--type", "customer.created"]), 1);
    assert_eq!(only[0]["type"], "customer.created");
    assert_eq!(only[0]["data"]["resource"]["email"], "t@example.com");
    app.stop().await;
}
