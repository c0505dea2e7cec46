//! Every input is total: odd bytes and NUL anywhere get the family's 4xx, framework-made
//! errors speak the family's JSON, slow bodies are cut, tokens from the future are refused.

use crate::{customer, parts};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use xclade_testkit::TestApp;

/// The three measured NUL → 500 paths of the hardening issue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_in_additional_data_login_email_and_client_id_is_a_4xx() {
    let app = TestApp::spawn().await;
    let p = app.project("nul").await;
    let token = app.admin_token(&p).await;
    let mut body = customer("nul@x.io");
    body["additional_data"] = json!({"k": "a\u{0}b"});
    let resp = app.http.post(app.url("/admin/customers")).bearer_auth(&token).json(&body).send().await.expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!((status, body["type"].as_str()), (400, Some("invalid_data")), "{body}");

    let login = json!({"email": format!("{}\u{0}", p.admin_email), "password": p.admin_password});
    let resp = app.http.post(app.url("/auth/user/emailpass")).json(&login).send().await.expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!((status, body["message"].as_str()), (401, Some("Invalid email or password")), "{body}");

    let resp = app
        .http
        .post(app.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=a%00&client_secret=b")
        .send()
        .await
        .expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
}

/// Numbers at the edges of f64 survive the round trip through jsonb: PostgreSQL prints
/// -1.7976931348623157e308 as a 309-digit integer, which serde_json's fast float parser rounded
/// past f64::MAX, so the stored group could no longer be read (500, found by tests/fuzz).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_numbers_in_metadata_read_back() {
    let app = TestApp::spawn().await;
    let p = app.project("floats").await;
    let token = app.admin_token(&p).await;
    let metadata = json!({
        "min": -1.7976931348623157e308, "max": 1.7976931348623157e308, "tiny": 5e-324,
        "small": 6.91271911353468e-237, "nested": [{"x": -1.7976931348623157e308}], "tenth": 0.1
    });
    let resp = app
        .http
        .post(app.url("/admin/customer-groups"))
        .bearer_auth(&token)
        .json(&json!({"name": "Edges", "metadata": metadata}))
        .send()
        .await
        .expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!(status, 200, "{body}");
    let id = body["customer_group"]["id"].as_str().expect("id").to_owned();
    let url = app.url(&format!("/admin/customer-groups/{id}"));
    let resp = app.http.post(&url).bearer_auth(&token).json(&json!({"name": "Edges 2"})).send().await.expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!(status, 200, "{body}");
    let resp = app.http.get(&url).bearer_auth(&token).send().await.expect("send");
    let (status, _, body) = parts(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["customer_group"]["metadata"], metadata);
}

/// Strings with NUL, other control characters, lone surrogates' replacement, quotes and
/// multi-byte characters.
fn odd_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{0}".to_owned()),
        Just("\u{1}\u{7f}".to_owned()),
        Just("'\"\\%_*".to_owned()),
        Just("é€😀".to_owned()),
        Just(" and (x = 1)".to_owned()),
        "[a-z0-9@.]{0,6}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// A property over the whole surface that reads client strings: bodies (admin and project,
/// strings and JSON keys), query parameters, headers, form fields and path segments. No
/// input may give a 5xx (the database is up, so 503 would be a bug too).
#[test]
fn no_input_gives_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (app, admin, client) = rt.block_on(async {
        let app = TestApp::spawn().await;
        let p = app.project("odd").await;
        let admin = app.admin_token(&p).await;
        let client = app.client_token(&p.client_id, &p.client_secret, None).await;
        (app, admin, client)
    });
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(odd_string(), odd_string(), 0usize..14), |(a, b, route)| {
        rt.block_on(async {
            let http = &app.http;
            let u = |path: &str| app.url(path);
            let request = match route {
                0 => {
                    let mut body = customer(&format!("{}@x.io", enc(&a)));
                    body["first_name"] = json!(a);
                    body["company_name"] = json!(b);
                    body["metadata"] = json!({ a.clone(): b.clone() });
                    body["additional_data"] = json!({ b.clone(): [a.clone()] });
                    http.post(u("/admin/customers")).bearer_auth(&admin).json(&body)
                }
                1 => http.post(u("/admin/customers")).bearer_auth(&admin).json(&customer(&a)),
                2 => http
                    .get(u(&format!(
                        "/admin/customers?q={}&email={}&groups={}&order={}&fields={}&created_at[gte]={}",
                        enc(&a),
                        enc(&b),
                        enc(&a),
                        enc(&b),
                        enc(&a),
                        enc(&b)
                    )))
                    .bearer_auth(&admin),
                3 => http.get(u(&format!("/admin/customers/{}", enc(&a)))).bearer_auth(&admin),
                4 => http.post(u("/auth/user/emailpass")).json(&json!({"email": a, "password": b})),
                5 => http.post(u("/oauth/token")).header("content-type", "application/x-www-form-urlencoded").body(
                    format!(
                        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                        enc(&a),
                        enc(&b),
                        enc(&a)
                    ),
                ),
                6 => http.post(u("/odd/customer-groups")).bearer_auth(&client).json(&json!({"groupName": a, "key": b})),
                7 => http
                    .get(u(&format!(
                        "/odd/customer-groups?where={}&sort={}&var.{}={}",
                        enc(&format!("name = \"{a}\"")),
                        enc(&b),
                        enc(&a),
                        enc(&b)
                    )))
                    .bearer_auth(&client),
                8 => http.get(u(&format!("/odd/customer-groups?where={}", enc(&a)))).bearer_auth(&client),
                9 => http.get(u(&format!("/odd/customer-groups/key={}", enc(&a)))).bearer_auth(&client),
                10 => http
                    .post(u(&format!("/odd/customer-groups/key={}", enc(&a))))
                    .bearer_auth(&client)
                    .json(&json!({"version": 1, "actions": [{"action": "changeName", "name": b}]})),
                11 => http
                    .post(u("/admin/customer-groups"))
                    .bearer_auth(&admin)
                    .json(&json!({"name": a, "metadata": {"k": b}})),
                12 => http.post(u("/odd/types")).bearer_auth(&client).json(&json!({
                    "key": a, "name": {"en": b}, "resourceTypeIds": ["customer-group"],
                    "fieldDefinitions": [{"name": b, "type": {"name": "String"}, "required": false, "label": {"en": a}}]
                })),
                _ => http
                    .get(u("/admin/customers"))
                    .header("x-correlation-id", a.replace(['\r', '\n'], ""))
                    .header("authorization", format!("Bearer {}", b.replace(['\r', '\n'], ""))),
            };
            let resp = match request.send().await {
                Ok(resp) => resp,
                // reqwest refuses some header values itself; nothing reached the server.
                Err(e) if e.is_builder() => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(format!("route {route}: {e}"))),
            };
            let status = resp.status().as_u16();
            let correlated = resp.headers().contains_key("x-correlation-id");
            let text = resp.text().await.unwrap_or_default();
            prop_assert!(status < 500, "route {route} with {a:?} / {b:?} → {status}: {text}");
            prop_assert!(correlated, "route {route}: no X-Correlation-ID");
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Sends raw bytes and reads the answer until the server closes or 5 s pass.
fn raw(port: u16, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn body_of(answer: &str) -> Value {
    answer.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null)
}

/// §4.1: errors the HTTP layer raises itself speak the family's JSON, carry
/// `X-Correlation-ID` and are counted like any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_errors_are_in_the_family_format() {
    let app = TestApp::spawn().await;
    let port = app.port;
    let (long_uri, big_head, broken) = tokio::task::spawn_blocking(move || {
        let mut long = b"GET /acme/customer-groups?x=".to_vec();
        long.extend(std::iter::repeat_n(b'a', 66_000));
        long.extend_from_slice(b" HTTP/1.1\r\nhost: x\r\n\r\n");
        let mut big = b"GET /admin/customers HTTP/1.1\r\nhost: x\r\n".to_vec();
        for i in 0..140 {
            big.extend_from_slice(format!("x-h{i}: {}\r\n", "b".repeat(1000)).as_bytes());
        }
        big.extend_from_slice(b"\r\n");
        (raw(port, &long), raw(port, &big), raw(port, b"GET /admin/customers HTTP/1.1\r\nhost x\r\n\r\n"))
    })
    .await
    .expect("raw");

    assert!(long_uri.starts_with("HTTP/1.1 414 "), "{long_uri}");
    assert!(long_uri.to_ascii_lowercase().contains("x-correlation-id: "), "{long_uri}");
    let body = body_of(&long_uri);
    assert_eq!((body["statusCode"].as_u64(), body["errors"][0]["code"].as_str()), (Some(414), Some("InvalidInput")));

    assert!(big_head.starts_with("HTTP/1.1 431 "), "{big_head}");
    assert!(big_head.contains("content-type: application/json"), "{big_head}");
    assert_eq!(body_of(&big_head)["type"], "invalid_data");

    assert!(broken.starts_with("HTTP/1.1 400 "), "{broken}");
    assert_eq!(body_of(&broken)["type"], "invalid_data");

    // An unknown method on a known path.
    let resp = app.http.request(reqwest::Method::PATCH, app.url("/odd/customer-groups")).send().await.expect("send");
    assert!(resp.headers().contains_key("x-correlation-id"));
    let (status, _, body) = parts(resp).await;
    assert!(status == 405 || status == 401, "{status}");
    assert!(body.is_object(), "{body}");

    // Counted (and logged) like every other request.
    let metrics = app.http.get(app.url("/metrics")).send().await.expect("send").text().await.unwrap_or_default();
    assert!(metrics.contains("unparsed") && metrics.contains("414"), "{metrics}");
}

/// §4.1: a body that trickles is cut after 30 s with 408 in the family's format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_with_408() {
    let app = TestApp::spawn().await;
    let p = app.project("slow").await;
    let token = app.admin_token(&p).await;
    let port = app.port;
    let (answer, took) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        let head = format!(
            "POST /admin/customers HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).expect("head");
        let started = Instant::now();
        let mut out = Vec::new();
        while started.elapsed() < Duration::from_secs(45) {
            let _ = stream.write_all(b" ");
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            if out.windows(4).any(|w| w == b"\r\n\r\n") && !out.is_empty() && out.ends_with(b"}") {
                break;
            }
            std::thread::sleep(Duration::from_millis(900));
        }
        (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
    })
    .await
    .expect("trickle");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(took >= Duration::from_secs(29) && took < Duration::from_secs(40), "cut after {took:?}");
    assert_eq!(body_of(&answer)["type"], "invalid_data");
}

/// §4.1: a token whose `iat` lies more than 60 s ahead is refused, in both families.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_issued_in_the_future_are_refused() {
    use xclade_domain::auth::TokenClaims;
    use xclade_domain::ports::TokenSigner;
    let app = TestApp::spawn().await;
    let p = app.project("future").await;
    let admin_token = app.admin_token(&p).await;
    let project_id = app.services.auth.authenticate(&admin_token).expect("valid").project_id.0;
    let signer = xclade_server::adapters::JwtSigner::new(xclade_testkit::app::TEST_JWT_SECRET.as_bytes());
    let now = chrono::Utc::now().timestamp();
    let sign = |iat: i64| {
        signer
            .sign(&TokenClaims {
                sub: p.client_id.clone(),
                kind: "client".into(),
                project: "future".into(),
                pid: project_id,
                scope: "manage_project:future".into(),
                iat,
                exp: iat + 400 * 86_400,
            })
            .expect("sign")
    };
    let (now_token, ahead) = (sign(now), sign(now + 365 * 86_400));
    let admin = |t: &str| app.http.get(app.url("/admin/customers")).bearer_auth(t.to_owned()).send();
    let project = |t: &str| app.http.get(app.url("/future/customer-groups")).bearer_auth(t.to_owned()).send();
    assert_eq!(admin(&now_token).await.expect("send").status(), 200);
    assert_eq!(admin(&ahead).await.expect("send").status(), 401);
    assert_eq!(project(&now_token).await.expect("send").status(), 200);
    let (status, _, body) = parts(project(&ahead).await.expect("send")).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (401, Some("invalid_token")));
}

/// The API reference's address in the contract and the start-up banner is `/docs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_answers_at_its_address() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/docs")).send().await.expect("send");
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "/docs/");
    let page = app.http.get(app.url("/docs/")).send().await.expect("send");
    assert_eq!(page.status(), 200);
}
