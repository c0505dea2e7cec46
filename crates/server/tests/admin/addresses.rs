//! §2.2 and §2.6: a customer's addresses and its default billing/shipping address.

use crate::{assert_answer, id_of, redact_ids, Ctx, UNKNOWN_ID};
use serde_json::{json, Value};

fn address<'a>(customer: &'a Value, id: &str) -> &'a Value {
    customer["addresses"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["id"] == json!(id)))
        .unwrap_or_else(|| panic!("no address {id} in {customer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete_and_defaults() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("a@b.co").await;
    let base = format!("/admin/customers/{customer}/addresses");

    let (s, b) = ctx
        .post(
            &base,
            json!({
                "address_name": "Home", "company": "Acme", "first_name": "Jane", "last_name": "Doe",
                "address_1": "1 Main St", "address_2": "Apt 2", "city": "San Francisco",
                "country_code": "US", "province": "US-CA", "postal_code": "94105", "phone": "555",
                "metadata": {"door": "blue"}, "is_default_billing": true,
            }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let first = id_of(&b["customer"]["addresses"][0]);
    assert_eq!(b["customer"]["default_billing_address_id"], json!(first));
    assert_eq!(b["customer"]["default_shipping_address_id"], Value::Null);
    insta::assert_json_snapshot!(b["customer"]["addresses"], {
        "[].id" => "[address id]",
        "[].customer_id" => "[customer id]",
        "[].created_at" => "[ts]",
        "[].updated_at" => "[ts]",
    }, @r#"
        [
          {
            "id": "[address id]",
            "address_name": "Home",
            "is_default_shipping": false,
            "is_default_billing": true,
            "customer_id": "[customer id]",
            "company": "Acme",
            "first_name": "Jane",
            "last_name": "Doe",
            "address_1": "1 Main St",
            "address_2": "Apt 2",
            "city": "San Francisco",
            "country_code": "us",
            "province": "us-ca",
            "postal_code": "94105",
            "phone": "555",
            "metadata": {
              "door": "blue"
            },
            "created_at": "[ts]",
            "updated_at": "[ts]"
          }
        ]
        "#);
    assert_eq!(b["customer"]["addresses"][0]["customer_id"], json!(customer));

    // A second default billing address clears the first; it may also be the shipping one.
    let (s, b) =
        ctx.post(&base, json!({"city": "Lyon", "is_default_billing": true, "is_default_shipping": true})).await;
    assert_eq!(s, 200, "{b}");
    let c = &b["customer"];
    let second =
        c["addresses"].as_array().expect("addresses").iter().map(id_of).find(|id| *id != first).expect("second");
    assert_eq!(c["default_billing_address_id"], json!(second));
    assert_eq!(c["default_shipping_address_id"], json!(second));
    assert_eq!(address(c, &first)["is_default_billing"], false);
    assert_eq!(address(c, &second)["is_default_billing"], true);
    assert_eq!(address(c, &second)["is_default_shipping"], true);
    let (_, read) = ctx.get(&format!("{base}/{first}")).await;
    assert_eq!(read["address"]["is_default_billing"], false);

    // Update: only the given fields; the first becomes the default shipping address again.
    let (s, b) = ctx
        .post(&format!("{base}/{first}"), json!({"city": "Oakland", "address_2": null, "is_default_shipping": true}))
        .await;
    assert_eq!(s, 200, "{b}");
    let c = &b["customer"];
    let a = address(c, &first);
    assert_eq!(
        (a["city"].clone(), a["address_2"].clone(), a["address_1"].clone()),
        (json!("Oakland"), Value::Null, json!("1 Main St"))
    );
    assert_eq!(c["default_shipping_address_id"], json!(first));
    assert_eq!(c["default_billing_address_id"], json!(second));
    assert_eq!(address(c, &second)["is_default_shipping"], false);
    // `false` on the current default clears it.
    let (_, b) = ctx.post(&format!("{base}/{second}"), json!({"is_default_billing": false})).await;
    assert_eq!(b["customer"]["default_billing_address_id"], Value::Null);
    let (_, b) = ctx.post(&format!("{base}/{second}"), json!({"is_default_billing": true})).await;
    assert_eq!(b["customer"]["default_billing_address_id"], json!(second));

    // List and read.
    let (s, list) = ctx.get(&base).await;
    assert_eq!(s, 200);
    assert_eq!((list["count"].clone(), list["offset"].clone(), list["limit"].clone()), (json!(2), json!(0), json!(50)));
    let ids: Vec<String> = list["addresses"].as_array().expect("addresses").iter().map(id_of).collect();
    assert_eq!(ids, [first.clone(), second.clone()], "id order");
    let (s, one) = ctx.get(&format!("{base}/{second}")).await;
    assert_eq!((s, &one["address"]), (200, address(&b["customer"], &second)));

    // Delete the default billing address: the default is cleared. The answer names the address
    // and carries its customer as a read shows it now.
    let (s, b) = ctx.delete(&format!("{base}/{second}")).await;
    let (_, now) = ctx.get(&format!("/admin/customers/{customer}")).await;
    let deleted = json!({"id": second, "object": "customer_address", "deleted": true, "parent": now["customer"]});
    assert_answer(&(s, b.clone()), 200, &deleted);
    let parent = &b["parent"];
    assert_eq!(parent["id"], json!(customer));
    assert_eq!(parent["default_shipping_address_id"], json!(first));
    assert_eq!(parent["default_billing_address_id"], Value::Null);
    let kept = parent["addresses"].as_array().expect("addresses");
    assert_eq!(kept.iter().map(id_of).collect::<Vec<_>>(), std::slice::from_ref(&first));
    let kept = &kept[0];
    assert_eq!((&kept["is_default_shipping"], &kept["is_default_billing"]), (&json!(true), &json!(false)));
    assert_eq!(
        (&kept["city"], &kept["address_2"], &kept["metadata"]),
        (&json!("Oakland"), &Value::Null, &json!({"door": "blue"}))
    );
    assert_eq!(ctx.get(&format!("{base}/{second}")).await.0, 404);
    assert_eq!(ctx.delete(&format!("{base}/{second}")).await.0, 404);
    let (_, b) = ctx.delete(&format!("{base}/{first}")).await;
    assert_eq!(b["parent"]["default_shipping_address_id"], Value::Null);
    assert_eq!(b["parent"]["addresses"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_of_another_customer_is_404() {
    let ctx = Ctx::new().await;
    let mine = ctx.customer_id("a@b.co").await;
    let theirs = ctx.customer_id("b@b.co").await;
    let (_, b) = ctx
        .post(&format!("/admin/customers/{theirs}/addresses"), json!({"city": "Paris", "is_default_billing": true}))
        .await;
    let address = id_of(&b["customer"]["addresses"][0]);
    let path = format!("/admin/customers/{mine}/addresses/{address}");

    let (s, b) = ctx.get(&path).await;
    assert_eq!(s, 404);
    insta::assert_json_snapshot!(redact_ids(&b, &[(&address, "[address id]")]), @r#"
        {
          "type": "not_found",
          "message": "Customer address with id: [address id] was not found"
        }
        "#);
    assert_eq!(ctx.post(&path, json!({"city": "Nice"})).await.0, 404);
    assert_eq!(ctx.delete(&path).await.0, 404);
    // Making another customer's address my default is refused too.
    assert_eq!(ctx.post(&path, json!({"is_default_billing": true})).await.0, 404);

    let (_, them) = ctx.get(&format!("/admin/customers/{theirs}")).await;
    assert_eq!(them["customer"]["addresses"][0]["city"], "Paris");
    assert_eq!(them["customer"]["default_billing_address_id"], json!(address));
    let (_, me) = ctx.get(&format!("/admin/customers/{mine}")).await;
    assert_eq!(me["customer"]["default_billing_address_id"], Value::Null);

    // Unknown customer, unknown or malformed address id.
    let (s, b) = ctx.get(&format!("/admin/customers/{UNKNOWN_ID}/addresses")).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (404, Some(format!("Customer with id: {UNKNOWN_ID} was not found").as_str()))
    );
    assert_eq!(ctx.get(&format!("/admin/customers/{mine}/addresses/{UNKNOWN_ID}")).await.0, 404);
    assert_eq!(ctx.get(&format!("/admin/customers/{mine}/addresses/nope")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_bodies_are_strict() {
    let ctx = Ctx::new().await;
    let customer = ctx.customer_id("a@b.co").await;
    let base = format!("/admin/customers/{customer}/addresses");
    let (s, b) = ctx.post(&base, json!({"street": "x"})).await;
    assert_eq!(
        (s, b),
        (400, json!({"type": "invalid_data", "message": "Invalid request: Unrecognized fields: 'street'"}))
    );
    let (s, b) = ctx.post(&base, json!({"city": 1})).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"type": "invalid_data", "message": "Invalid request: Expected type: 'string' for field 'city', got: 'number'"})
        )
    );
    let (s, b) = ctx.post(&base, json!({"is_default_billing": "yes"})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")));
    let (s, b) = ctx.post(&base, json!({"city": "x".repeat(256)})).await;
    assert_eq!((s, b["type"].as_str()), (400, Some("invalid_data")));
    let mut db = ctx.db().await;
    assert_eq!(db.rows("customer_addresses").await, 0);
}
