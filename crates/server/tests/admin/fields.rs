//! §2.5: the `fields` query parameter, exactly as clients send it on the wire.

use crate::{customer_body, id_of, json, Ctx};
use serde_json::{json, Value};

/// The keys of a JSON object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// A customer with one group and one address.
async fn setup(ctx: &Ctx) -> String {
    let customer = ctx.customer_id("a@b.co").await;
    let gold = ctx.group("gold").await;
    let path = format!("/admin/customers/{customer}");
    assert_eq!(ctx.post(&format!("{path}/customer-groups"), json!({"add": [gold]})).await.0, 200);
    assert_eq!(ctx.post(&format!("{path}/addresses"), json!({"city": "Paris"})).await.0, 200);
    customer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selections() {
    let ctx = Ctx::new().await;
    let customer = setup(&ctx).await;
    let get = |fields: &str| {
        let fields = fields.to_owned();
        let url = ctx.url(&format!("/admin/customers/{customer}?fields={fields}"));
        let req = ctx.app.http.get(url).bearer_auth(&ctx.token);
        async move {
            let (s, b) = json(req.send().await.expect("send")).await;
            assert_eq!(s, 200, "fields={fields}: {b}");
            b["customer"].clone()
        }
    };
    let (_, full) = ctx.get(&format!("/admin/customers/{customer}")).await;
    let full = full["customer"].clone();
    // The defaults are what a create answers (its keys are pinned in `customers.rs`): every
    // scalar, groups and addresses.
    let created = ctx.customer("keys@b.co").await;
    let all_keys = keys(&created);
    assert_eq!(keys(&full), all_keys, "defaults: every scalar, groups and addresses");
    assert_eq!((all_keys.len(), all_keys.iter().filter(|k| ["groups", "addresses"].contains(k)).count()), (16, 2));
    assert_eq!(keys(&full["groups"][0]), ["id", "name", "metadata", "created_at", "updated_at"]);
    assert_eq!(keys(&full["addresses"][0]).len(), 18);

    // A plain list replaces the defaults; `id` is always there.
    let c = get("email,first_name").await;
    assert_eq!(c, json!({"id": customer, "email": "a@b.co", "first_name": "Jane"}));
    let c = get("email").await;
    assert_eq!(keys(&c), ["id", "email"]);

    // `+` as sent unencoded (decoded to a space by form rules), `%2B`, and `%20` all add.
    for plus in ["+phone", "%2Bphone", "%20phone", "+phone,+email"] {
        assert_eq!(get(plus).await, full, "fields={plus}");
    }
    // `-` removes.
    let c = get("-phone").await;
    let mut expected = full.clone();
    expected.as_object_mut().expect("object").remove("phone");
    assert_eq!(c, expected);
    // Percent-encoded separators: `-phone,+groups.id`.
    assert_eq!(get("-phone%2C%2Bgroups.id").await, expected);
    let c = get("-groups,-addresses").await;
    assert_eq!(keys(&c).len(), all_keys.len() - 2);
    assert!(c.get("groups").is_none() && c.get("addresses").is_none());
    let c = get("-groups.name").await;
    assert_eq!(keys(&c["groups"][0]), ["id", "metadata", "created_at", "updated_at"]);
    assert_eq!(get("-id").await["id"], json!(customer), "id cannot be removed");

    // `*groups` alone is the defaults plus all of groups; with a plain item it adds the relation.
    assert_eq!(get("*groups").await, full);
    let c = get("email,*groups").await;
    assert_eq!(c, json!({"id": customer, "email": "a@b.co", "groups": full["groups"]}));
    let c = get("-groups,*groups").await;
    assert_eq!(c, full);

    // `groups.id` and `groups.*` are plain items.
    let c = get("groups.id").await;
    assert_eq!(c, json!({"id": customer, "groups": [{"id": full["groups"][0]["id"]}]}));
    let c = get("groups.*").await;
    assert_eq!(c, json!({"id": customer, "groups": full["groups"]}));
    let c = get("groups.name,addresses.city").await;
    insta::assert_json_snapshot!(c, {".**.id" => "[id]"}, @r#"
        {
          "id": "[id]",
          "groups": [
            {
              "id": "[id]",
              "name": "gold"
            }
          ],
          "addresses": [
            {
              "id": "[id]",
              "city": "Paris"
            }
          ]
        }
        "#);
    let c = get("email,groups.name,-email").await;
    assert_eq!(keys(&c), ["id", "groups"]);
    let c = get("%20email,first_name").await;
    assert_eq!(keys(&c), ["id", "email", "first_name"], "a plain item makes it a replacement");
    let c = get("addresses").await;
    assert_eq!(c, json!({"id": customer, "addresses": full["addresses"]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_lists_are_400_naming_exactly_the_bad_items() {
    let ctx = Ctx::new().await;
    let customer = setup(&ctx).await;
    let cases = [
        "foo,bar",
        "email,foo,bar",
        "+foo,-bar",
        "%2Bfoo%2C-bar",
        "foo,bar,foo",
        "groups.foo",
        "*email",
        "addresses.customer",
        "password_hash",
        "groups.customers",
    ];
    let on = |path: String| cases.iter().map(move |fields| (fields.to_string(), format!("{path}?fields={fields}")));
    let on_the_customer = ctx.invalid_gets(on(format!("/admin/customers/{customer}"))).await;
    let on_the_list = ctx.invalid_gets(on("/admin/customers".to_owned())).await;
    assert_eq!(on_the_customer, on_the_list, "the same message on both routes");
    insta::assert_json_snapshot!(on_the_list, @r#"
        [
          [
            "foo,bar",
            "Requested fields [foo, bar] are not valid"
          ],
          [
            "email,foo,bar",
            "Requested fields [foo, bar] are not valid"
          ],
          [
            "+foo,-bar",
            "Requested fields [foo, bar] are not valid"
          ],
          [
            "%2Bfoo%2C-bar",
            "Requested fields [foo, bar] are not valid"
          ],
          [
            "foo,bar,foo",
            "Requested fields [foo, bar] are not valid"
          ],
          [
            "groups.foo",
            "Requested fields [groups.foo] are not valid"
          ],
          [
            "*email",
            "Requested fields [*email] are not valid"
          ],
          [
            "addresses.customer",
            "Requested fields [addresses.customer] are not valid"
          ],
          [
            "password_hash",
            "Requested fields [password_hash] are not valid"
          ],
          [
            "groups.customers",
            "Requested fields [groups.customers] are not valid"
          ]
        ]
        "#);
    let (s, b) = ctx.get("/admin/customers?fields=foo,bar").await;
    assert_eq!((s, b), (400, json!({"type": "invalid_data", "message": "Requested fields [foo, bar] are not valid"})));

    // Bad `fields` on a write is refused before anything is written.
    let (s, _) = ctx.post("/admin/customers?fields=foo", customer_body("new@b.co")).await;
    assert_eq!(s, 400);
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customers").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_shape_every_customer_answer() {
    let ctx = Ctx::new().await;
    let customer = setup(&ctx).await;
    let path = format!("/admin/customers/{customer}");
    let (s, b) = ctx.post("/admin/customers?fields=email", customer_body("b@b.co")).await;
    assert_eq!((s, keys(&b["customer"])), (200, vec!["id", "email"]));
    let (s, b) = ctx.post(&format!("{path}?fields=first_name"), json!({"first_name": "Jo"})).await;
    assert_eq!((s, b["customer"].clone()), (200, json!({"id": customer, "first_name": "Jo"})));
    let (s, b) = ctx.post(&format!("{path}/addresses?fields=addresses.city"), json!({"city": "Lyon"})).await;
    assert_eq!(s, 200);
    let cities: Vec<&Value> =
        b["customer"]["addresses"].as_array().expect("addresses").iter().map(|a| &a["city"]).collect();
    assert_eq!(cities, [&json!("Paris"), &json!("Lyon")]);
    assert_eq!(keys(&b["customer"]["addresses"][0]), ["id", "city"]);
    let address = id_of(&b["customer"]["addresses"][1]);
    let (s, b) = ctx.delete(&format!("{path}/addresses/{address}?fields=email")).await;
    assert_eq!((s, b["parent"].clone()), (200, json!({"id": customer, "email": "a@b.co"})));
    let (s, b) = ctx.get("/admin/customers?fields=email&order=email").await;
    assert_eq!(s, 200);
    assert_eq!(b["customers"][0], json!({"id": customer, "email": "a@b.co"}));
    assert_eq!(keys(&b["customers"][1]), ["id", "email"]);
}
