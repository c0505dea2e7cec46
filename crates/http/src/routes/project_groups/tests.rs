//! In-process tests of the routes: routing, auth order, HEAD, bodies and the error envelope,
//! over mocked ports (the real database is covered by the end-to-end suite).

use crate::middleware::observe;
use crate::state::{AppState, HttpConfig};
use crate::Metrics;
use actix_web::http::{header, Method, StatusCode};
use actix_web::test as atest;
use actix_web::{middleware::from_fn, web, App};
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use xclade_domain::auth::{Actor, TokenClaims};
use xclade_domain::customer_group::{CustomerGroup, ExpectedVersion, GroupName, Version};
use xclade_domain::metadata::Metadata;
use xclade_domain::paging::QueryPage;
use xclade_domain::ports::{
    MockClock, MockCustomerGroupRepository, MockCustomerRepository, MockHealthCheck, MockIdGenerator,
    MockPasswordHasher, MockProjectRepository, MockTokenSigner, MockTypeRepository, TokenRejection,
};
use xclade_domain::services::{AuthService, CustomerService, GroupService, TypeService};
use xclade_domain::{DomainError, GroupId, ProjectId};

const GID: &str = "00000000-0000-0000-0000-000000000007";

fn group(version: i64) -> CustomerGroup {
    let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap_or_default();
    CustomerGroup::from_parts(xclade_domain::customer_group::CustomerGroupParts {
        id: GroupId(uuid::Uuid::from_u128(7)),
        version: Version::new(version).unwrap(),
        key: None,
        name: GroupName::parse("name", "Gold").expect("valid"),
        custom: None,
        metadata: Metadata::default(),
        created_at: t,
        created_by: Some(Actor::Client("cli".into())),
        last_modified_at: t,
        last_modified_by: Some(Actor::Client("cli".into())),
    })
}

fn state(repo: MockCustomerGroupRepository) -> AppState {
    let clock = || {
        let mut c = MockClock::new();
        c.expect_now().returning(Utc::now);
        Arc::new(c)
    };
    let ids = || {
        let mut i = MockIdGenerator::new();
        i.expect_new_id().returning(uuid::Uuid::now_v7);
        Arc::new(i)
    };
    let mut signer = MockTokenSigner::new();
    signer.expect_verify().returning(|token| {
        let scope = match token {
            "manage" => "manage_customer_groups:demo",
            "view" => "view_customer_groups:demo",
            _ => return Err(TokenRejection::Invalid),
        };
        Ok(TokenClaims {
            sub: "cli".into(),
            kind: "client".into(),
            project: "demo".into(),
            pid: uuid::Uuid::nil(),
            scope: scope.into(),
            iat: 0,
            exp: i64::MAX,
        })
    });
    let auth = AuthService::new(
        Arc::new(MockProjectRepository::new()),
        Arc::new(MockPasswordHasher::new()),
        Arc::new(signer),
        clock(),
        3600,
    );
    AppState {
        auth,
        customers: CustomerService::new(Arc::new(MockCustomerRepository::new()), clock(), ids()),
        groups: GroupService::new(Arc::new(repo), Arc::new(MockTypeRepository::new()), clock(), ids(), 1000),
        types: TypeService::new(Arc::new(MockTypeRepository::new()), clock(), ids()),
        health: Arc::new(MockHealthCheck::new()),
        metrics: Arc::new(Metrics::new()),
        pool_stats: None,
        events: None,
        config: HttpConfig::default(),
    }
}

/// Sends one request; returns the status and the body (JSON, or `Null` when empty).
async fn call(
    repo: MockCustomerGroupRepository,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let app = atest::init_service(
        App::new().app_data(web::Data::new(state(repo))).wrap(from_fn(observe)).configure(crate::routes::project),
    )
    .await;
    // Both SDKs send a JSON content type even without a body.
    let mut req =
        atest::TestRequest::default().method(method).uri(uri).insert_header((header::CONTENT_TYPE, "application/json"));
    if let Some(token) = token {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    }
    if let Some(body) = body {
        req = req.set_payload(body.to_string());
    }
    let resp = atest::call_service(&app, req.to_request()).await;
    let status = resp.status();
    let bytes = atest::read_body(resp).await;
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    (status, value)
}

fn first_error(body: &Value) -> (&str, &str) {
    (body["errors"][0]["code"].as_str().unwrap_or_default(), body["errors"][0]["message"].as_str().unwrap_or_default())
}

#[actix_web::test]
async fn get_by_key_is_not_taken_for_an_id() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get_by_key().withf(|_, key| key == "gold").returning(|_, _| Ok(group(1)));
    repo.expect_get().never();
    let (status, body) = call(repo, Method::GET, "/demo/customer-groups/key=gold", Some("view"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], json!(GID));
    assert_eq!(body["createdAt"], json!("2024-05-01T12:00:00.000Z"));
    assert_eq!(body["createdBy"], json!({"clientId": "cli"}));
    assert!(body.get("key").is_none() && body.get("metadata").is_none());
}

#[actix_web::test]
async fn get_and_head_by_id() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get().returning(|_, _| Ok(group(2)));
    let (status, body) = call(repo, Method::GET, &format!("/demo/customer-groups/{GID}"), Some("view"), None).await;
    assert_eq!((status, body["version"].clone()), (StatusCode::OK, json!(2)));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get().returning(|_, _| Ok(group(2)));
    let (status, body) = call(repo, Method::HEAD, &format!("/demo/customer-groups/{GID}"), Some("view"), None).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get_by_key()
        .returning(|_, key| Err(DomainError::not_found_key(xclade_domain::Resource::CustomerGroup, key)));
    let (status, body) = call(repo, Method::HEAD, "/demo/customer-groups/key=nope", Some("view"), None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, Value::Null));

    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::HEAD, &format!("/demo/customer-groups/{GID}"), None, None)
            .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::Null));
    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::HEAD, "/demo/customer-groups?limit=x", Some("view"), None)
            .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, Value::Null));
}

#[actix_web::test]
async fn a_non_uuid_id_is_not_found() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get().never();
    let (status, body) = call(repo, Method::GET, "/demo/customer-groups/abc", Some("view"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(first_error(&body), ("ResourceNotFound", "The Resource with ID 'abc' was not found."));
    assert_eq!(body["statusCode"], json!(404));
}

#[actix_web::test]
async fn token_then_scope_then_body() {
    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::POST, "/demo/customer-groups", None, Some(json!({}))).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_token")));
    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::POST, "/demo/customer-groups", Some("bad"), None).await;
    assert_eq!((status, first_error(&body).0), (StatusCode::UNAUTHORIZED, "invalid_token"));
    // A malformed body does not matter before the scope is checked.
    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::POST, "/demo/customer-groups", Some("view"), Some(json!([1])))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        first_error(&body),
        (
            "insufficient_scope",
            "Insufficient scope. One of the following scopes is missing: manage_customer_groups, manage_customers."
        )
    );
    // Another project's key is a 403 too.
    let (status, _) =
        call(MockCustomerGroupRepository::new(), Method::GET, "/other/customer-groups", Some("manage"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn create() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_create()
        .withf(|_, g, max, checked| {
            g.name().as_str() == "Gold" && g.key().is_none() && *max == 1000 && checked.is_none()
        })
        .returning(|_, g, _, _| Ok(g.clone()));
    let (status, body) =
        call(repo, Method::POST, "/demo/customer-groups", Some("manage"), Some(json!({"groupName": "Gold"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((body["name"].clone(), body["version"].clone()), (json!("Gold"), json!(1)));

    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::POST,
        "/demo/customer-groups",
        Some("manage"),
        Some(json!({"key": "gold"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error(&body), ("InvalidJsonInput", "Request body does not contain valid JSON."));
    assert_eq!(body["errors"][0]["detailedErrorMessage"], json!("groupName: Missing required value"));

    let (status, body) =
        call(MockCustomerGroupRepository::new(), Method::POST, "/demo/customer-groups", Some("manage"), None).await;
    assert_eq!((status, first_error(&body).0), (StatusCode::BAD_REQUEST, "InvalidJsonInput"));

    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::POST,
        "/demo/customer-groups",
        Some("manage"),
        Some(json!({"groupName": "G", "key": "a b"})),
    )
    .await;
    assert_eq!((status, first_error(&body).0), (StatusCode::BAD_REQUEST, "InvalidInput"));
}

#[actix_web::test]
async fn update() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get().returning(|_, _| Ok(group(1)));
    repo.expect_save()
        .withf(|_, g, expected, checked| {
            g.name().as_str() == "Silver"
                && g.version() == Version::new(2).unwrap()
                && *expected == Version::new(1).unwrap()
                && checked.is_none()
        })
        .returning(|_, g, _, _| Ok(g.clone()));
    let body = json!({"version": 1, "actions": [{"action": "changeName", "name": "Silver"}]});
    let (status, body) =
        call(repo, Method::POST, &format!("/demo/customer-groups/{GID}"), Some("manage"), Some(body)).await;
    assert_eq!((status, body["version"].clone(), body["name"].clone()), (StatusCode::OK, json!(2), json!("Silver")));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get_by_key().returning(|_, _| Ok(group(3)));
    let body = json!({"version": 1, "actions": []});
    let (status, body) = call(repo, Method::POST, "/demo/customer-groups/key=gold", Some("manage"), Some(body)).await;
    assert_eq!(
        (status, first_error(&body).0, body["errors"][0]["currentVersion"].clone()),
        (StatusCode::CONFLICT, "ConcurrentModification", json!(3))
    );

    let body = json!({"version": 1, "actions": [{"action": "foo"}]});
    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::POST,
        &format!("/demo/customer-groups/{GID}"),
        Some("manage"),
        Some(body),
    )
    .await;
    assert_eq!((status, first_error(&body)), (StatusCode::BAD_REQUEST, ("InvalidInput", "Invalid action foo")));

    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::POST,
        &format!("/demo/customer-groups/{GID}"),
        Some("manage"),
        Some(json!({"actions": []})),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["detailedErrorMessage"].clone()),
        (StatusCode::BAD_REQUEST, json!("version: Missing required value"))
    );
}

#[actix_web::test]
async fn delete() {
    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::DELETE,
        &format!("/demo/customer-groups/{GID}"),
        Some("manage"),
        None,
    )
    .await;
    assert_eq!((status, first_error(&body)), (StatusCode::BAD_REQUEST, ("InvalidOperation", "Missing version number")));
    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::DELETE,
        &format!("/demo/customer-groups/{GID}?version=x"),
        Some("manage"),
        None,
    )
    .await;
    assert_eq!((status, first_error(&body).0), (StatusCode::BAD_REQUEST, "InvalidInput"));
    assert!(first_error(&body).1.starts_with("Malformed parameter: version: "));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_delete()
        .withf(|_, id, v| *id == GroupId(uuid::Uuid::from_u128(7)) && *v == Some(ExpectedVersion::new(3)))
        .returning(|_, _, _| Ok(group(3)));
    let (status, body) =
        call(repo, Method::DELETE, &format!("/demo/customer-groups/{GID}?version=3"), Some("manage"), None).await;
    assert_eq!((status, body["id"].clone()), (StatusCode::OK, json!(GID)));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_get_by_key().returning(|_, _| Ok(group(3)));
    repo.expect_delete()
        .returning(|_, _, _| Err(DomainError::VersionConflict { id: GID.into(), expected: 2, current: 3 }));
    let (status, _) =
        call(repo, Method::DELETE, "/demo/customer-groups/key=gold?version=2", Some("manage"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[actix_web::test]
async fn query_and_head_query() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_query()
        .withf(|p, q| {
            *p == ProjectId(uuid::Uuid::nil())
                && q.limit == 5
                && q.offset == 1
                && !q.with_total
                && q.predicate.is_some()
                && q.sort.len() == 1
        })
        .returning(|_, _| Ok(QueryPage { results: vec![group(1)], total: None }));
    let uri = "/demo/customer-groups?where=name%3D%22Gold%22&sort=name+desc&limit=5&offset=1&withTotal=false&expand=x";
    let (status, body) = call(repo, Method::GET, uri, Some("view"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["limit"].clone(), body["offset"].clone(), body["count"].clone()), (json!(5), json!(1), json!(1)));
    assert!(body.get("total").is_none());

    let (status, body) = call(
        MockCustomerGroupRepository::new(),
        Method::GET,
        "/demo/customer-groups?where=foo%3D1",
        Some("view"),
        None,
    )
    .await;
    assert_eq!(
        (status, first_error(&body)),
        (StatusCode::BAD_REQUEST, ("InvalidInput", "Malformed parameter: where: The field 'foo' does not exist."))
    );

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_query()
        .withf(|_, q| q.limit == 1 && !q.with_total)
        .returning(|_, _| Ok(QueryPage { results: vec![], total: None }));
    let (status, body) =
        call(repo, Method::HEAD, "/demo/customer-groups?where=name%3D%22x%22", Some("view"), None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, Value::Null));

    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_query().returning(|_, _| Ok(QueryPage { results: vec![group(1)], total: None }));
    let (status, _) =
        call(repo, Method::HEAD, "/demo/customer-groups?where=name%3D%22Gold%22", Some("view"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn unavailable_database_is_a_general_503() {
    let mut repo = MockCustomerGroupRepository::new();
    repo.expect_query().returning(|_, _| Err(DomainError::Unavailable("down".into())));
    let (status, body) = call(repo, Method::GET, "/demo/customer-groups", Some("view"), None).await;
    assert_eq!((status, first_error(&body).0), (StatusCode::SERVICE_UNAVAILABLE, "General"));
}

#[test]
fn openapi_lists_every_route() {
    let doc = serde_json::to_value(crate::openapi::document()).unwrap_or_default();
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/{projectKey}/customer-groups", &["post", "get", "head"][..]),
        ("/{projectKey}/customer-groups/{id}", &["get", "head", "post", "delete"][..]),
        ("/{projectKey}/customer-groups/key={key}", &["get", "head", "post", "delete"][..]),
    ] {
        for method in methods {
            let op = &paths[path][*method];
            assert!(op.is_object(), "{method} {path}");
            assert_eq!(op["tags"], json!(["customer groups"]), "{method} {path}");
            assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
        }
    }
    for schema in [
        "CustomerGroup",
        "CustomerGroupDraft",
        "CustomerGroupUpdate",
        "CustomerGroupUpdateAction",
        "ProjectErrorResponse",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
