//! §3.3: GET and HEAD by id and by key, HEAD of a query.

use crate::support::{assert_group_view, id, Ctx};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_by_id_and_by_key() {
    let ctx = Ctx::new().await;
    let group = ctx.create("Gold", Some("gold-1_A")).await;
    let gid = id(&group);
    let (s, by_id) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!(s, 200);
    assert_group_view(&by_id, 1, Some(r#"gold-1_A"#), r#"Gold"#);
    assert_eq!(by_id, group);
    let (s, by_key) = ctx.get("/customer-groups/key=gold-1_A").await;
    assert_eq!((s, &by_key), (200, &group));
    // Upper-case ids are the same id.
    let (s, upper) = ctx.get(&format!("/customer-groups/{}", gid.to_uppercase())).await;
    assert_eq!((s, &upper), (200, &group));
    // Keys are exact.
    let (s, _) = ctx.get("/customer-groups/key=GOLD-1_A").await;
    assert_eq!(s, 404);
    // Both SDKs send a JSON content type on GET without a body.
    let resp = ctx
        .app
        .http
        .get(ctx.url(&format!("/customer-groups/{gid}")))
        .bearer_auth(&ctx.token)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    // A group without a key is found by id only.
    let plain = ctx.create("Plain", None).await;
    let (s, b) = ctx.get(&format!("/customer-groups/{}", id(&plain))).await;
    assert_eq!((s, b.get("key")), (200, None));
}

/// A path, its query pairs, and the status HEAD must answer.
type HeadCase = (String, Vec<(&'static str, &'static str)>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_the_status_without_a_body() {
    let ctx = Ctx::new().await;
    let (s, body) = ctx.head_q("/customer-groups", &[]).await;
    assert_eq!((s, body.as_str()), (404, ""), "no group at all");
    let group = ctx.create("Gold", Some("gold")).await;
    let gid = id(&group);
    let missing = "0190d7a0-0000-7000-8000-000000000001";
    let cases: Vec<HeadCase> = vec![
        (format!("/customer-groups/{gid}"), vec![], 200),
        ("/customer-groups/key=gold".into(), vec![], 200),
        (format!("/customer-groups/{missing}"), vec![], 404),
        ("/customer-groups/key=nope".into(), vec![], 404),
        ("/customer-groups/not-a-uuid".into(), vec![], 404),
        ("/customer-groups".into(), vec![], 200),
        ("/customer-groups".into(), vec![("where", "name = \"Gold\"")], 200),
        ("/customer-groups".into(), vec![("where", "key = \"gold\""), ("where", "version = 1")], 200),
        ("/customer-groups".into(), vec![("where", "name = \"Silver\"")], 404),
        ("/customer-groups".into(), vec![("where", "name = :n"), ("var.n", "Gold")], 200),
        // Paging parameters do not hide a match.
        ("/customer-groups".into(), vec![("where", "name = \"Gold\""), ("offset", "5"), ("limit", "0")], 200),
        ("/customer-groups".into(), vec![("where", "name = ")], 400),
        ("/customer-groups".into(), vec![("limit", "501")], 400),
    ];
    for (path, query, want) in cases {
        let (s, body) = ctx.head_q(&path, &query).await;
        assert_eq!((s, body.as_str()), (want, ""), "HEAD {path} {query:?}");
    }
    // Without a token or without a scope: the status only.
    let resp = ctx.app.http.head(ctx.url(&format!("/customer-groups/{gid}"))).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.text().await.unwrap_or_default(), "");
    let types = ctx.app.token_with_scopes("demo", &["view_types:demo"]).await;
    let resp = ctx.app.http.head(ctx.url(&format!("/customer-groups/{gid}"))).bearer_auth(&types).send().await;
    let resp = resp.expect("send");
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(resp.text().await.unwrap_or_default(), "");
    // HEAD changes nothing.
    let (s, b) = ctx.get(&format!("/customer-groups/{gid}")).await;
    assert_eq!((s, &b["version"]), (200, &json!(1)));
}
