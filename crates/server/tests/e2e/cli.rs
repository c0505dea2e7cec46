//! §5: the command line end to end, graceful shutdown on SIGTERM, and logs without secrets.

use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use xclade_testkit::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_xclade-customers");
const SECRET: &str = "cli-test-secret-cli-test-secret-cli-test";

fn run(db: &str, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("XCLADE_JWT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends a request and reads its JSON answer.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("send").json().await.expect("json")
}

fn parse(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_with_json_output() {
    let db = TestDb::new().await;
    let (code, out, err) = run(db.url(), &["projects", "create", "demo", "--name", "Demo shop", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let p = parse(&out);
    assert_eq!(p["key"], "demo");
    assert!(p["id"].as_str().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));

    let (code, _, err) = run(db.url(), &["projects", "create", "demo", "--json"], None);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");

    let (code, out, err) = run(db.url(), &["clients", "create", "--project", "demo", "--json"], None);
    assert_eq!(code, 0, "{err}");
    let c = parse(&out);
    assert_eq!(c["scopes"], serde_json::json!(["manage_project:demo"]));
    assert!(c["client_id"].as_str().is_some_and(|s| s.len() >= 16));
    assert!(c["client_secret"].as_str().is_some_and(|s| s.len() >= 32));

    let (code, out, _) = run(
        db.url(),
        &[
            "clients",
            "create",
            "--project",
            "demo",
            "--scope",
            "view_customers:demo",
            "--scope",
            "manage_customer_groups:demo",
            "--json",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(parse(&out)["scopes"], serde_json::json!(["view_customers:demo", "manage_customer_groups:demo"]));

    let (code, _, err) =
        run(db.url(), &["clients", "create", "--project", "demo", "--scope", "view_customers:other", "--json"], None);
    assert_ne!(code, 0, "a scope of another project is refused: {err}");
    let (code, _, err) =
        run(db.url(), &["clients", "create", "--project", "demo", "--scope", "no_such_scope", "--json"], None);
    assert_ne!(code, 0);
    assert!(err.contains("Invalid scope 'no_such_scope'"), "the rule in words, not a diagnostic: {err}");

    let (code, out, err) = run(
        db.url(),
        &["users", "create", "--project", "demo", "--email", "ops@demo.test", "--json"],
        Some("a long password\n"),
    );
    assert_eq!(code, 0, "{err}");
    let u = parse(&out);
    assert_eq!(u["email"], "ops@demo.test");
    assert!(u["id"].is_string());
}

#[test]
fn bad_configuration_is_one_line_and_non_zero() {
    let unreachable = "postgres://postgres@127.0.0.1:1/nothing";
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["serve"], vec![], "XCLADE_JWT_SECRET"),
        (vec!["serve"], vec![("XCLADE_JWT_SECRET", "short")], "at least 32 bytes"),
        (vec!["serve"], vec![("XCLADE_JWT_SECRET", SECRET)], "cannot reach the database"),
        (vec!["migrate"], vec![], "cannot reach the database"),
        (vec!["projects", "create", "demo"], vec![], "cannot reach the database"),
        (vec!["serve"], vec![("XCLADE_JWT_SECRET", SECRET), ("XCLADE_DB_POOL_SIZE", "many")], "XCLADE_DB_POOL_SIZE"),
    ];
    for (args, env, expected) in cases {
        let out = Command::new(BIN)
            .args(&args)
            .env("DATABASE_URL", unreachable)
            .env_remove("XCLADE_JWT_SECRET")
            .envs(env)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('{')).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(lines[0].contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
    let out = Command::new(BIN).arg("--no-such-flag").output().expect("run");
    assert!(!out.status.success());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

struct Served {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        // A server left running by a failed test is killed and reaped.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Served {
    async fn start(db: &str) -> Served {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("xclade-log-{}.txt", uuid::Uuid::now_v7()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", db)
            .env("XCLADE_JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn");
        let served = Served { child, port, log };
        for _ in 0..100 {
            if reqwest::get(format!("http://127.0.0.1:{port}/health/live")).await.is_ok() {
                return served;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&served.log).unwrap_or_default();
        drop(served);
        panic!("the server did not start: {log}");
    }

    fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    fn wait(&mut self) -> (std::process::ExitStatus, String) {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let _ = std::fs::remove_file(&self.log);
                return (status, log);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the server did not stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_request_finish() {
    let db = TestDb::new().await;
    let served = Served::start(db.url()).await;
    let body = r#"{"email":"nobody@x.io","password":"whatever1"}"#;
    let (head, tail) = body.split_at(10);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", served.port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    write!(stream, "POST /auth/user/emailpass HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}", body.len()).expect("write");
    stream.flush().expect("flush");
    tokio::time::sleep(Duration::from_millis(300)).await;
    served.sigterm();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(tail.as_bytes()).expect("the connection is still open");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 401"), "the in-flight request completed: {response:?}");
    let mut served = served;
    let (status, log) = served.wait();
    assert!(status.success(), "clean exit after SIGTERM: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_one_line_per_request_and_no_secrets() {
    let db = TestDb::new().await;
    let (_, out, _) = run(db.url(), &["projects", "create", "demo", "--json"], None);
    assert!(out.contains("demo"));
    let (_, out, _) = run(db.url(), &["clients", "create", "--project", "demo", "--json"], None);
    let client = parse(&out);
    let password = "very secret password 42";
    run(db.url(), &["users", "create", "--project", "demo", "--email", "ops@demo.test", "--json"], Some(password));
    let served = Served::start(db.url()).await;
    let base = format!("http://127.0.0.1:{}", served.port);
    let http = reqwest::Client::new();
    let secret = client["client_secret"].as_str().expect("secret");
    let token = json_of(
        http.post(format!("{base}/oauth/token"))
            .basic_auth(client["client_id"].as_str().unwrap_or_default(), Some(secret))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    let access = token["access_token"].as_str().expect("token").to_owned();
    let login = json_of(
        http.post(format!("{base}/auth/user/emailpass"))
            .json(&serde_json::json!({"email": "ops@demo.test", "password": password})),
    )
    .await;
    let user_token = login["token"].as_str().expect("token").to_owned();
    let resp = http
        .get(format!("{base}/admin/customers"))
        .bearer_auth(&access)
        .header("X-Correlation-ID", "corr-xyz")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    served.sigterm();
    let mut served = served;
    let (_, log) = served.wait();
    for needle in [secret, password, access.as_str(), user_token.as_str(), SECRET] {
        assert!(!log.contains(needle), "the log leaks a secret");
    }
    let access_lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request")
        .collect();
    assert!(access_lines.len() >= 3, "{log}");
    let line = access_lines
        .iter()
        .find(|v| v["fields"]["correlation_id"] == "corr-xyz")
        .expect("the request's line carries its correlation id");
    assert_eq!(line["fields"]["route"], "/admin/customers");
    assert_eq!(line["fields"]["method"], "GET");
    assert_eq!(line["fields"]["status"], 200);
    assert!(line["fields"]["latency_ms"].is_number());
}
