//! Bounded password hashing under a login flood.

use crate::parts;
use xclade_testkit::TestApp;

/// §4.1: past the bounded hashing queue the answer is 503 with `Retry-After: 1` — the admin
/// 503 body for the login, `General` for `/oauth/token` — and never anything else; what is
/// queued is answered (401 for the wrong password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_answered_401_or_503_with_retry_after() {
    let app = TestApp::spawn().await;
    let p = app.project("flood").await;
    // More concurrent failed logins than the hashing threads and their queue hold
    // (one thread per core, 32 places each).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let n = cores * 32 + 100;
    let login = |i: usize| {
        let body = serde_json::json!({"email": p.admin_email, "password": format!("wrong-{i}")});
        app.http.post(app.url("/auth/user/emailpass")).json(&body).send()
    };
    let token = |i: usize| {
        app.http
            .post(app.url("/oauth/token"))
            .basic_auth(&p.client_id, Some(format!("wrong-{i}")))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let logins = futures::future::join_all((0..n).map(login));
    let tokens = futures::future::join_all((0..n).map(token));
    let (logins, tokens) = tokio::join!(logins, tokens);

    let (mut unauthorized, mut busy) = (0, 0);
    for resp in logins {
        let (status, headers, body) = parts(resp.expect("login")).await;
        match status {
            401 => {
                unauthorized += 1;
                assert_eq!(body["message"], "Invalid email or password");
            }
            503 => {
                busy += 1;
                assert_eq!(headers["retry-after"], "1");
                assert_eq!(body["type"], "database_error", "{body}");
                assert_eq!(body["code"], "api_error", "{body}");
            }
            other => panic!("login answered {other}: {body}"),
        }
    }
    for resp in tokens {
        let (status, headers, body) = parts(resp.expect("token")).await;
        match status {
            401 => unauthorized += 1,
            503 => {
                busy += 1;
                assert_eq!(headers["retry-after"], "1");
                assert_eq!(body["errors"][0]["code"], "General", "{body}");
            }
            other => panic!("token answered {other}: {body}"),
        }
    }
    assert!(unauthorized >= cores, "{unauthorized} × 401");
    assert!(busy > 0, "no 503 for {} concurrent hashes", 2 * n);

    // The flood over, the right password works again (the fixture's login panics without a token).
    assert!(!app.admin_token(&p).await.is_empty());
}
