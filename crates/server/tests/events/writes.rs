//! Every kind of write yields exactly one message with the right subject, fields and data;
//! rolled-back writes yield none.

use super::*;
use serde_json::json;

#[tokio::test]
async fn every_write_yields_exactly_one_message_and_rolled_back_writes_none() {
    let nats = PrivateNats::start().await;
    let app = TestApp::spawn_with(|s| {
        with_relay(&nats)(s);
        s.max_customer_groups = 2;
    })
    .await;
    let p = app.project("acme").await;
    let admin = app.admin_token(&p).await;
    let client = app.client_token(&p.client_id, &p.client_secret, None).await;
    let http = &app.http;
    let a = |path: &str| app.url(path);

    // customer.created with additional_data
    let (s, b) = send(http.post(a("/admin/customers")).bearer_auth(&admin).json(&json!({
        "email": "jane@example.com", "company_name": "Acme", "first_name": "Jane", "last_name": "Doe",
        "phone": "+1", "metadata": {}, "additional_data": {"source": "crm"}})))
    .await;
    assert_eq!(s, 200, "{b}");
    let customer = b["customer"]["id"].as_str().unwrap().to_owned();
    // rolled back: duplicate email
    let (s, _) = send(http.post(a("/admin/customers")).bearer_auth(&admin).json(&json!({
        "email": "JANE@example.com", "company_name": "", "first_name": "", "last_name": "", "phone": "", "metadata": {}}))).await;
    assert_eq!(s, 422);
    // customer.updated
    let (s, _) = send(
        http.post(a(&format!("/admin/customers/{customer}"))).bearer_auth(&admin).json(&json!({"first_name": "Janet"})),
    )
    .await;
    assert_eq!(s, 200);
    // customer-group.created (project family), twice; the third is refused by the limit
    let (s, g) = send(
        http.post(a("/acme/customer-groups")).bearer_auth(&client).json(&json!({"groupName": "Gold", "key": "gold"})),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let gold = g["id"].as_str().unwrap().to_owned();
    let (s, _) =
        send(http.post(a("/acme/customer-groups")).bearer_auth(&client).json(&json!({"groupName": "Silver"}))).await;
    assert_eq!(s, 201);
    let (s, _) =
        send(http.post(a("/acme/customer-groups")).bearer_auth(&client).json(&json!({"groupName": "Bronze"}))).await;
    assert_eq!(s, 400, "the group limit refuses the third");
    // customer-group.updated; a version conflict is refused
    for (name, status) in [("Golden", 200), ("Late", 409)] {
        let body = json!({"version": 1, "actions": [{"action": "changeName", "name": name}]});
        let (s, _) =
            send(http.post(a(&format!("/acme/customer-groups/{gold}"))).bearer_auth(&client).json(&body)).await;
        assert_eq!(s, status, "{name}");
    }
    // customer.groups_changed
    let (s, _) = send(
        http.post(a(&format!("/admin/customers/{customer}/customer-groups")))
            .bearer_auth(&admin)
            .json(&json!({"add": [gold]})),
    )
    .await;
    assert_eq!(s, 200);
    // customer.updated by an address
    let (s, _) = send(
        http.post(a(&format!("/admin/customers/{customer}/addresses")))
            .bearer_auth(&admin)
            .json(&json!({"city": "Berlin", "country_code": "de"})),
    )
    .await;
    assert_eq!(s, 200);
    // customer.deleted, customer-group.deleted
    let (s, _) = send(http.delete(a(&format!("/admin/customers/{customer}"))).bearer_auth(&admin)).await;
    assert_eq!(s, 200);
    let (_, g) = send(http.get(a(&format!("/acme/customer-groups/{gold}"))).bearer_auth(&client)).await;
    let version = g["version"].as_i64().unwrap();
    let (s, _) =
        send(http.delete(a(&format!("/acme/customer-groups/{gold}?version={version}"))).bearer_auth(&client)).await;
    assert_eq!(s, 200);

    let mut conn = db(&app).await;
    drained(&mut conn, Duration::from_secs(20)).await;
    let rows = outbox(&mut conn).await;
    let messages = stream(&nats).await;
    assert_exactly_once(&rows, &messages);
    let kinds: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    for kind in [
        "customer.created",
        "customer.updated",
        "customer.groups_changed",
        "customer.deleted",
        "customer-group.created",
        "customer-group.updated",
        "customer-group.deleted",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "customer-group.created").count(), 2, "the refused create has no event");
    assert_eq!(kinds.iter().filter(|k| **k == "customer.created").count(), 1, "the duplicate has no event");
    assert_eq!(kinds.iter().filter(|k| **k == "customer-group.updated").count(), 1, "the conflict has no event");

    // Stream order is write order here (one writer), and every field is right.
    let by_id = |id: &str| messages.iter().find(|m| m.body["id"] == id).unwrap().clone();
    for (id, kind, resource) in &rows {
        let m = by_id(id);
        assert_eq!(m.subject, format!("xclade.events.acme.{kind}"));
        let e = &m.body;
        assert_eq!(e["specversion"], "1.0");
        assert_eq!(e["type"], kind.as_str());
        assert_eq!(e["source"], "/projects/acme");
        assert_eq!(e["subject"], resource.as_str());
        assert_eq!(e["datacontenttype"], "application/json");
        assert!(chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).is_ok());
        assert_eq!(e["data"]["resource"]["id"], resource.as_str());
        assert!(e["data"]["actor"]["clientId"].is_string() || e["data"]["actor"]["userId"].is_string(), "{e}");
    }
    let created = messages.iter().find(|m| m.body["type"] == "customer.created").unwrap();
    assert_eq!(created.body["data"]["additional_data"], json!({"source": "crm"}));
    assert_eq!(created.body["data"]["resource"]["email"], "jane@example.com");
    assert!(created.body["data"]["resource"]["groups"].is_array(), "admin family JSON");
    let group = messages.iter().find(|m| m.body["type"] == "customer-group.updated").unwrap();
    assert_eq!(group.body["data"]["resource"]["version"], 2);
    assert_eq!(group.body["data"]["resource"]["name"], "Golden");
    assert!(group.body["data"]["resource"]["lastModifiedAt"].is_string(), "project family JSON");
    assert!(group.body["data"]["actor"]["clientId"].is_string());
    let changed = messages.iter().find(|m| m.body["type"] == "customer.groups_changed").unwrap();
    assert_eq!(changed.body["data"]["added"], json!([gold]));
    assert_eq!(changed.body["data"]["removed"], json!([]));
    assert_eq!(changed.body["data"]["resource"]["groups"][0]["id"], gold.as_str());
    assert!(changed.body["data"]["actor"]["userId"].is_string());
    let deleted = messages.iter().find(|m| m.body["type"] == "customer.deleted").unwrap();
    assert!(deleted.body["data"]["resource"]["deleted_at"].is_string(), "the last state");
    assert_eq!(deleted.body["data"]["resource"]["first_name"], "Janet");

    // Operations: ready names the relay, metrics show the outbox.
    let (s, ready) = send(http.get(a("/health/ready"))).await;
    assert_eq!((s, ready["relay"].as_str()), (200, Some("running")), "{ready}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let metrics = http.get(a("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("outbox_pending 0"), "{metrics}");
    assert!(metrics.contains("events_publish_errors_total"), "{metrics}");
    app.stop().await;
}
