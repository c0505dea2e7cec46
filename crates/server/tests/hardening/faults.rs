//! A database that does not answer, and plans made while tables were empty.

use crate::{customer, parts};
use std::time::{Duration, Instant};
use xclade_testkit::{PrivatePg, TestApp, TestDb};

/// §4.1: a frozen database (postmaster and every backend stopped) is the same as one that is
/// down: data requests and readiness answer 503 within 5 s, liveness stays 200, and the
/// service recovers by itself when the database thaws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_database_answers_503_within_5_s() {
    let pg = PrivatePg::start(&[]).await;
    let app = TestApp::spawn_on(TestDb::on_private(&pg).await, |_| {}).await;
    let p = app.project("frozen").await;
    let token = app.admin_token(&p).await;
    let read = || app.http.get(app.url("/admin/customers?limit=1")).bearer_auth(&token).send();
    assert_eq!(read().await.expect("send").status(), 200);
    let created = app.http.post(app.url("/admin/customers")).bearer_auth(&token).json(&customer("one@x.io"));
    let (status, _, body) = parts(created.send().await.expect("send")).await;
    assert_eq!(status, 200, "{body}");
    let id = body["customer"]["id"].as_str().expect("id").to_owned();
    // A point read goes to the connection the worker's short reads share (not a list's own).
    let point_read = || app.http.get(app.url(&format!("/admin/customers/{id}"))).bearer_auth(&token).send();
    assert_eq!(point_read().await.expect("send").status(), 200);
    // Let the pooled connections go idle (their next checkout is then checked, too).
    tokio::time::sleep(Duration::from_millis(2500)).await;

    pg.freeze();
    let started = Instant::now();
    let project_read = app.http.get(app.url("/frozen/customer-groups")).bearer_auth(&token).send();
    let ready = app.http.get(app.url("/health/ready")).send();
    let live = async {
        let t = Instant::now();
        let status = app.http.get(app.url("/health/live")).send().await.expect("live").status();
        (status, t.elapsed())
    };
    let (admin, project, ready, (live_status, live_took), one, two) =
        tokio::join!(read(), project_read, ready, live, point_read(), point_read());
    let took = started.elapsed();
    let (admin, project, ready) = (admin.expect("admin"), project.expect("project"), ready.expect("ready"));
    pg.thaw();
    for point in [one, two] {
        let (status, _, body) = parts(point.expect("point read")).await;
        assert_eq!((status, body["type"].as_str()), (503, Some("database_error")), "{body}");
    }

    assert_eq!(live_status, 200);
    assert!(live_took < Duration::from_secs(1), "liveness took {live_took:?}");
    assert!(took < Duration::from_secs(5), "answers took {took:?}");
    assert_eq!(admin.status(), 503);
    assert_eq!(admin.headers()["retry-after"], "1");
    let (status, _, body) = parts(admin).await;
    assert_eq!((status, body["type"].as_str()), (503, Some("database_error")));
    let (status, _, body) = parts(project).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (503, Some("General")));
    assert_eq!(ready.status(), 503);

    // Thawed: the service serves again without a restart.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = read().await.expect("send").status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status} 10 s after the thaw");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = app.http.post(app.url("/admin/customers")).bearer_auth(&token).json(&customer("back@x.io"));
    assert_eq!(created.send().await.expect("send").status(), 200);
    assert_eq!(point_read().await.expect("send").status(), 200, "point reads serve again after the thaw");

    // Frozen while the shared connection is hot (used a moment ago: no check on checkout), so
    // the reads wait on it in vain: 503 by the deadline, and the connection is not reused.
    pg.freeze();
    let started = Instant::now();
    let (one, two) = tokio::join!(point_read(), point_read());
    let took = started.elapsed();
    pg.thaw();
    assert!(took < Duration::from_secs(5), "answers took {took:?}");
    for point in [one, two] {
        assert_eq!(point.expect("point read").status(), 503);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while point_read().await.expect("send").status() != 200 {
        assert!(Instant::now() < deadline, "point reads still failing 10 s after the second thaw");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Index tuples and heap tuples read from `table` so far (the statistics of this database).
async fn tuples_read(admin: &str, table: &str) -> (i64, i64) {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        scans: i64,
        #[diesel(sql_type = BigInt)]
        tuples: i64,
    }
    let mut conn = AsyncPgConnection::establish(admin).await.expect("connect");
    let row: Row = diesel::sql_query(format!(
        "SELECT (coalesce(idx_scan, 0) + seq_scan)::bigint AS scans, \
         (coalesce(idx_tup_fetch, 0) + seq_tup_read)::bigint AS tuples \
         FROM pg_stat_user_tables WHERE relname = '{table}'"
    ))
    .get_result(&mut conn)
    .await
    .expect("stats");
    (row.scans, row.tuples)
}

/// §4.1 "plans do not rot": with autovacuum off and no `ANALYZE`, plans the service made
/// while the tables were empty must still read one customer by its keys after they grew.
/// Measured by the tuples PostgreSQL reads per request (not by time): a rotten plan reads
/// every customer and address of the project for each read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_reads_keep_their_plans_while_tables_grow_without_statistics() {
    let pg = PrivatePg::start(&[("autovacuum", "off")]).await;
    let db = TestDb::on_private(&pg).await;
    let url = db.url().to_owned();
    let app = TestApp::spawn_on(db, |s| s.pool_size = 2).await;
    let p = app.project("growing").await;
    let token = app.admin_token(&p).await;
    let first = app.http.post(app.url("/admin/customers")).bearer_auth(&token).json(&customer("first@x.io"));
    let (_, _, body) = parts(first.send().await.expect("send")).await;
    let id = body["customer"]["id"].as_str().expect("id").to_owned();
    let address = serde_json::json!({"address_1": "1 Main St", "city": "Springfield", "country_code": "us"});
    let resp = app
        .http
        .post(app.url(&format!("/admin/customers/{id}/addresses")))
        .bearer_auth(&token)
        .json(&address)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let read = || app.http.get(app.url(&format!("/admin/customers/{id}"))).bearer_auth(&token).send();
    // Every pooled connection executes the read's statements more than five times while the
    // tables are (almost) empty: PostgreSQL then caches a generic plan for each.
    for _ in 0..20 {
        assert_eq!(read().await.expect("send").status(), 200);
    }

    // The tables grow to 50 000 customers and addresses behind the service's back.
    {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
        conn.batch_execute(
            "INSERT INTO customers (project_id, id, email, created_at, updated_at) \
             SELECT project_id, gen_random_uuid(), 'c' || i || '@x.io', now(), now() \
             FROM projects, generate_series(1, 50000) i WHERE key = 'growing'; \
             INSERT INTO customer_addresses (project_id, id, customer_id, created_at, updated_at) \
             SELECT project_id, gen_random_uuid(), id, now(), now() FROM customers",
        )
        .await
        .expect("grow");
    }

    let stats_url = url.clone();
    let before = (tuples_read(&stats_url, "customers").await, tuples_read(&stats_url, "customer_addresses").await);
    const READS: i64 = 50;
    for _ in 0..READS {
        assert_eq!(read().await.expect("send").status(), 200);
    }
    // Backends report their statistics when idle, at most every 10 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (customers, addresses) = loop {
        let now = (tuples_read(&stats_url, "customers").await, tuples_read(&stats_url, "customer_addresses").await);
        let scans = (now.0 .0 - before.0 .0, now.1 .0 - before.1 .0);
        if scans.0 >= READS && scans.1 >= READS || Instant::now() > deadline {
            break ((scans.0, now.0 .1 - before.0 .1), (scans.1, now.1 .1 - before.1 .1));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(customers.0 >= READS && addresses.0 >= READS, "statistics not reported: {customers:?} {addresses:?}");
    // One customer and one address per read (a little slack for the statistics' own reads).
    assert!(customers.1 <= 3 * READS, "customer reads fetched {} tuples for {READS} reads", customers.1);
    assert!(addresses.1 <= 3 * READS, "address reads fetched {} tuples for {READS} reads", addresses.1);
}
