//! Three replicas on one database, each running its relay.

use super::*;
use futures::stream::{self, StreamExt};
use serde_json::json;
use std::collections::HashMap;

const CUSTOMERS: usize = 200;
const UPDATES_PER_CUSTOMER: usize = 8;
const GROUPS: usize = 20;
const RENAMES_PER_GROUP: usize = 9;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_publish_2000_writes_exactly_once_in_resource_order() {
    let nats = PrivateNats::start().await;
    let app = TestApp::spawn_with(with_relay(&nats)).await;
    let (r2, h2) = app.replica(with_relay(&nats)).await;
    let (r3, h3) = app.replica(with_relay(&nats)).await;
    let bases = [app.base_url.clone(), r2, r3];
    let p = app.project("acme").await;
    let admin = app.admin_token(&p).await;
    let client = app.client_token(&p.client_id, &p.client_secret, None).await;
    let http = app.http.clone();

    // Creates, spread over the replicas.
    let customers: Vec<String> = stream::iter(0..CUSTOMERS)
        .map(|i| {
            let (http, admin, base) = (http.clone(), admin.clone(), bases[i % 3].clone());
            async move {
                let (s, b) = send(http.post(format!("{base}/admin/customers")).bearer_auth(&admin).json(&json!({
                    "email": format!("c{i}@example.com"), "company_name": "", "first_name": "", "last_name": "",
                    "phone": "", "metadata": {}})))
                .await;
                assert_eq!(s, 200, "{b}");
                b["customer"]["id"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let groups: Vec<String> = stream::iter(0..GROUPS)
        .map(|i| {
            let (http, client, base) = (http.clone(), client.clone(), bases[i % 3].clone());
            async move {
                let (s, b) = send(
                    http.post(format!("{base}/acme/customer-groups"))
                        .bearer_auth(&client)
                        .json(&json!({"groupName": format!("g{i}")})),
                )
                .await;
                assert_eq!(s, 201, "{b}");
                b["id"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    // Each resource's writes one after the other, each to the next replica; resources in parallel.
    let customer_writes = stream::iter(customers.clone()).map(|id| {
        let (http, admin, bases) = (http.clone(), admin.clone(), bases.clone());
        async move {
            for n in 1..=UPDATES_PER_CUSTOMER {
                let base = &bases[n % 3];
                let (s, b) = send(
                    http.post(format!("{base}/admin/customers/{id}"))
                        .bearer_auth(&admin)
                        .json(&json!({"metadata": {"n": n}})),
                )
                .await;
                assert_eq!(s, 200, "{b}");
            }
        }
    });
    let group_writes = stream::iter(groups.clone()).map(|id| {
        let (http, client, bases) = (http.clone(), client.clone(), bases.clone());
        async move {
            for n in 1..=RENAMES_PER_GROUP {
                let base = &bases[n % 3];
                let (s, b) =
                    send(http.post(format!("{base}/acme/customer-groups/{id}")).bearer_auth(&client).json(
                        &json!({"version": n, "actions": [{"action": "changeName", "name": format!("{id}-{n}")}]}),
                    ))
                    .await;
                assert_eq!(s, 200, "{b}");
            }
        }
    });
    futures::join!(
        customer_writes.buffer_unordered(16).collect::<Vec<()>>(),
        group_writes.buffer_unordered(4).collect::<Vec<()>>()
    );

    let total = CUSTOMERS * (1 + UPDATES_PER_CUSTOMER) + GROUPS * (1 + RENAMES_PER_GROUP);
    assert_eq!(total, 2000);
    let mut conn = db(&app).await;
    drained(&mut conn, Duration::from_secs(120)).await;
    let rows = outbox(&mut conn).await;
    assert_eq!(rows.len(), total);
    let messages = stream(&nats).await;
    assert_eq!(messages.len(), total, "2 000 messages");
    assert_exactly_once(&rows, &messages);

    // Every resource's events in the order of its writes.
    let mut last: HashMap<String, i64> = HashMap::new();
    for m in &messages {
        let d = &m.body["data"]["resource"];
        let (resource, order) = match m.body["type"].as_str().unwrap() {
            "customer.created" => (d["id"].as_str().unwrap(), 0),
            "customer.updated" => (d["id"].as_str().unwrap(), d["metadata"]["n"].as_i64().unwrap()),
            _ => (d["id"].as_str().unwrap(), d["version"].as_i64().unwrap()),
        };
        let before = last.insert(resource.to_owned(), order);
        if let Some(before) = before {
            assert!(order > before, "{resource}: {order} after {before}");
        }
    }
    h2.stop(true).await;
    h3.stop(true).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_keep_the_group_limit_exact_and_idempotent_creates_single() {
    let nats = PrivateNats::start().await;
    let limit = |s: &mut Settings| {
        with_relay(&nats)(s);
        s.max_customer_groups = 5;
    };
    let app = TestApp::spawn_with(limit).await;
    let (r2, h2) = app.replica(limit).await;
    let (r3, h3) = app.replica(limit).await;
    let bases = [app.base_url.clone(), r2, r3];
    let p = app.project("acme").await;
    let admin = app.admin_token(&p).await;
    let client = app.client_token(&p.client_id, &p.client_secret, None).await;
    let http = app.http.clone();

    let statuses: Vec<u16> = stream::iter(0..30)
        .map(|i| {
            let (http, client, base) = (http.clone(), client.clone(), bases[i % 3].clone());
            async move {
                send(
                    http.post(format!("{base}/acme/customer-groups"))
                        .bearer_auth(&client)
                        .json(&json!({"groupName": format!("g{i}")})),
                )
                .await
                .0
            }
        })
        .buffer_unordered(30)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");

    let body = json!({"email": "once@example.com", "company_name": "", "first_name": "", "last_name": "", "phone": "", "metadata": {}});
    let answers: Vec<(u16, Value)> = stream::iter(0..12)
        .map(|i| {
            let (http, admin, base, body) = (http.clone(), admin.clone(), bases[i % 3].clone(), body.clone());
            async move {
                send(
                    http.post(format!("{base}/admin/customers"))
                        .bearer_auth(&admin)
                        .header("Idempotency-Key", "k-1")
                        .json(&body),
                )
                .await
            }
        })
        .buffer_unordered(12)
        .collect()
        .await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b["customer"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 409), "{answers:?}");

    let mut conn = db(&app).await;
    drained(&mut conn, Duration::from_secs(30)).await;
    let rows = outbox(&mut conn).await;
    assert_eq!(rows.iter().filter(|r| r.1 == "customer.created").count(), 1);
    assert_eq!(rows.iter().filter(|r| r.1 == "customer-group.created").count(), 5);
    assert_exactly_once(&rows, &stream(&nats).await);
    h2.stop(true).await;
    h3.stop(true).await;
    app.stop().await;
}
