//! §2 and §2.6: `GET /admin/customers` — totals, paging, filters in the `qs` forms of the admin
//! SDK, order, and stable pages while rows are inserted.

use crate::{customer_body, id_of, Ctx};
use serde_json::{json, Value};

async fn person(ctx: &Ctx, email: &str, first: &str, last: &str, company: &str) -> Value {
    let mut body = customer_body(email);
    body["first_name"] = json!(first);
    body["last_name"] = json!(last);
    body["company_name"] = json!(company);
    let (s, b) = ctx.post("/admin/customers", body).await;
    assert_eq!(s, 200, "{b}");
    // Distinct creation times, so time filters can split them.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    b["customer"].clone()
}

/// The emails of a list answer, in order.
fn emails(list: &Value) -> Vec<&str> {
    list["customers"].as_array().expect("customers").iter().map(|c| c["email"].as_str().unwrap_or_default()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_order_and_paging() {
    let ctx = Ctx::new().await;
    let alice = person(&ctx, "alice@shop.io", "Alice", "Martin", "Globex").await;
    let bob = person(&ctx, "bob@corp.io", "Bob", "Stone", "Initech").await;
    let carol = person(&ctx, "carol@corp.io", "Carol", "Alison", "Umbrella").await;
    let dave = person(&ctx, "dave@x.io", "Dave", "Brown", "Alistair Ltd").await;
    let gone = person(&ctx, "gone@corp.io", "Alina", "Gone", "Gone").await;
    assert_eq!(ctx.delete(&format!("/admin/customers/{}", id_of(&gone))).await.0, 200);
    let g1 = ctx.group("g1").await;
    let g2 = ctx.group("g2").await;
    for (customer, groups) in [(&alice, vec![&g1]), (&bob, vec![&g2]), (&carol, vec![&g1, &g2])] {
        let path = format!("/admin/customers/{}/customer-groups", id_of(customer));
        assert_eq!(ctx.post(&path, json!({"add": groups})).await.0, 200);
    }

    // Defaults: id order (= creation order), everything, count is the total.
    let (s, list) = ctx.get("/admin/customers").await;
    assert_eq!(s, 200);
    assert_eq!(emails(&list), ["alice@shop.io", "bob@corp.io", "carol@corp.io", "dave@x.io"]);
    assert_eq!((list["count"].clone(), list["offset"].clone(), list["limit"].clone()), (json!(4), json!(0), json!(50)));
    let keys: Vec<&String> = list.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["customers", "count", "offset", "limit"]);

    // Paging: count stays the total.
    let (_, page) = ctx.get("/admin/customers?limit=3&offset=2").await;
    assert_eq!(emails(&page), ["carol@corp.io", "dave@x.io"]);
    assert_eq!((page["count"].clone(), page["offset"].clone(), page["limit"].clone()), (json!(4), json!(2), json!(3)));
    let (_, page) = ctx.get("/admin/customers?limit=0").await;
    assert_eq!((emails(&page).len(), page["count"].clone()), (0, json!(4)));
    let (_, page) = ctx.get("/admin/customers?offset=10").await;
    assert_eq!((emails(&page).len(), page["count"].clone()), (0, json!(4)));
    assert_eq!(ctx.get("/admin/customers?limit=1000").await.0, 200);
    let bad = [
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "offset=-5",
        "has_account=yes",
        "order=password",
        "created_at[gte]=yesterday",
    ];
    let refused = ctx.invalid_gets(bad.map(|query| (query.to_owned(), format!("/admin/customers?{query}")))).await;
    insta::assert_json_snapshot!(refused, @r#"
        [
          [
            "limit=1001",
            "Invalid request: Field 'limit' must be at most 1000"
          ],
          [
            "limit=-1",
            "Invalid request: Field 'limit' must be a non-negative integer"
          ],
          [
            "limit=ten",
            "Invalid request: Field 'limit' must be a non-negative integer"
          ],
          [
            "offset=-5",
            "Invalid request: Field 'offset' must be a non-negative integer"
          ],
          [
            "has_account=yes",
            "Invalid request: Field 'has_account' must be 'true' or 'false'"
          ],
          [
            "order=password",
            "Invalid request: Invalid order field 'password'"
          ],
          [
            "created_at[gte]=yesterday",
            "Invalid request: Field 'created_at[gte]' must be an RFC 3339 date-time or a YYYY-MM-DD date, got: 'yesterday'"
          ]
        ]
        "#);

    // `q`: case-insensitive substring of email, first, last or company name.
    let (_, list) = ctx.get("/admin/customers?q=ALI").await;
    assert_eq!(emails(&list), ["alice@shop.io", "carol@corp.io", "dave@x.io"]);
    assert_eq!(list["count"], 3);
    let (_, list) = ctx.get("/admin/customers?q=corp").await;
    assert_eq!(emails(&list), ["bob@corp.io", "carol@corp.io"]);
    let (_, list) = ctx.get("/admin/customers?q=alistair+ltd").await;
    assert_eq!(emails(&list), ["dave@x.io"]);
    for literal in ["%25", "_", "%5C"] {
        let (_, list) = ctx.get(&format!("/admin/customers?q={literal}")).await;
        assert_eq!(list["count"], 0, "q={literal} is literal");
    }

    // `email`: exact (case-insensitive), one or many.
    let (_, list) = ctx.get("/admin/customers?email=bob%40corp.io").await;
    assert_eq!(emails(&list), ["bob@corp.io"]);
    let (_, list) = ctx.get("/admin/customers?email[]=BOB@corp.io&email[]=dave@x.io").await;
    assert_eq!(emails(&list), ["bob@corp.io", "dave@x.io"]);
    let (_, list) = ctx.get("/admin/customers?email=corp.io").await;
    assert_eq!(list["count"], 0);

    // `groups`, in all four `qs` list forms (and with encoded brackets).
    let (_, list) = ctx.get(&format!("/admin/customers?groups={g1}")).await;
    assert_eq!(emails(&list), ["alice@shop.io", "carol@corp.io"]);
    for form in [
        format!("groups={g1}&groups={g2}"),
        format!("groups[]={g1}&groups[]={g2}"),
        format!("groups[0]={g1}&groups[1]={g2}"),
        format!("groups%5B%5D={g1}&groups%5B%5D={g2}"),
        format!("groups%5B0%5D={g1}&groups%5B1%5D={g2}"),
    ] {
        let (s, list) = ctx.get(&format!("/admin/customers?{form}")).await;
        assert_eq!(s, 200, "{form}");
        assert_eq!(emails(&list), ["alice@shop.io", "bob@corp.io", "carol@corp.io"], "{form}");
        assert_eq!(list["count"], 3, "{form}: a customer in both groups counts once");
    }
    let (_, list) = ctx.get("/admin/customers?groups=not-a-uuid").await;
    assert_eq!(list["count"], 0);
    let (_, list) = ctx.get(&format!("/admin/customers?groups={g2}&q=carol")).await;
    assert_eq!(emails(&list), ["carol@corp.io"], "filters combine with AND");

    // `has_account`.
    let (_, list) = ctx.get("/admin/customers?has_account=false").await;
    assert_eq!(list["count"], 4);
    let (_, list) = ctx.get("/admin/customers?has_account=true").await;
    assert_eq!(list["count"], 0);
    // Customers with an account come from elsewhere (not this API): flip one in the database.
    let mut db = ctx.db().await;
    db.exec(&format!("UPDATE customers SET has_account = true WHERE id = '{}'", id_of(&bob))).await;
    let (_, list) = ctx.get("/admin/customers?has_account=true").await;
    assert_eq!(emails(&list), ["bob@corp.io"]);
    let (_, list) = ctx.get("/admin/customers?has_account=false&q=corp").await;
    assert_eq!(emails(&list), ["carol@corp.io"]);

    // `created_at[gte]` / `[lt]`, raw and percent-encoded.
    let at = carol["created_at"].as_str().expect("created_at").to_owned();
    let (_, list) = ctx.get(&format!("/admin/customers?created_at[gte]={at}")).await;
    assert_eq!(emails(&list), ["carol@corp.io", "dave@x.io"]);
    let encoded = at.replace(':', "%3A");
    let (_, list) = ctx.get(&format!("/admin/customers?created_at%5Bgte%5D={encoded}")).await;
    assert_eq!(emails(&list), ["carol@corp.io", "dave@x.io"]);
    let (_, list) = ctx.get(&format!("/admin/customers?created_at[lt]={at}")).await;
    assert_eq!(emails(&list), ["alice@shop.io", "bob@corp.io"]);
    let range = format!(
        "created_at[gte]={}&created_at[lt]={}",
        bob["created_at"].as_str().unwrap_or_default(),
        dave["created_at"].as_str().unwrap_or_default()
    );
    let (_, list) = ctx.get(&format!("/admin/customers?{range}")).await;
    assert_eq!(emails(&list), ["bob@corp.io", "carol@corp.io"]);

    // `order`.
    let (_, list) = ctx.get("/admin/customers?order=-email").await;
    assert_eq!(emails(&list), ["dave@x.io", "carol@corp.io", "bob@corp.io", "alice@shop.io"]);
    let (_, list) = ctx.get("/admin/customers?order=last_name&limit=2").await;
    assert_eq!((emails(&list), list["count"].clone()), (vec!["carol@corp.io", "dave@x.io"], json!(4)));
    let (_, list) = ctx.get("/admin/customers?order=-created_at&fields=email").await;
    assert_eq!(list["customers"][0], json!({"id": dave["id"], "email": "dave@x.io"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_stay_stable_while_customers_are_inserted() {
    let ctx = Ctx::new().await;
    let initial = ctx.customer_ids((0..30).map(|i| format!("c{i:02}@b.co"))).await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;

    // Another client keeps inserting (later ids) while we page.
    let inserter = {
        let (http, url, token) = (ctx.app.http.clone(), ctx.url("/admin/customers"), ctx.token.clone());
        tokio::spawn(async move {
            for i in 0..30 {
                let resp =
                    http.post(&url).bearer_auth(&token).json(&customer_body(&format!("late{i:02}@b.co"))).send().await;
                assert_eq!(resp.expect("send").status().as_u16(), 200);
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut offset = 0;
    loop {
        let (s, page) = ctx.get(&format!("/admin/customers?limit=7&offset={offset}&fields=email")).await;
        assert_eq!(s, 200);
        let ids: Vec<String> = page["customers"].as_array().expect("customers").iter().map(id_of).collect();
        assert!(page["count"].as_u64().is_some_and(|n| n >= 30));
        if ids.is_empty() {
            break;
        }
        offset += ids.len();
        seen.extend(ids);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    inserter.await.expect("inserter");

    assert!(seen.windows(2).all(|w| w[0] < w[1]), "strictly ascending ids: nothing repeated, nothing reordered");
    assert_eq!(seen[..30], initial[..], "the pages already seen stayed what they were");
    assert!(seen.len() >= 30);
    // Afterwards, everything is there once.
    let (_, all) = ctx.get("/admin/customers?limit=1000&fields=email").await;
    assert_eq!(all["count"], 60);
    let ids: Vec<String> = all["customers"].as_array().expect("customers").iter().map(id_of).collect();
    assert_eq!(ids[..seen.len()], seen[..]);
}
