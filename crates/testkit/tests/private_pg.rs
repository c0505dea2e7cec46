//! PrivatePg: a cluster of its own that can be frozen, thawed, stopped and started again, and
//! that leaves nothing behind. Each test starts its own cluster.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the failure

use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use xclade_testkit::PrivatePg;

#[derive(QueryableByName)]
struct Num {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

async fn count_rows(conn: &mut AsyncPgConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM t").get_result::<Num>(conn).await.expect("count").n
}

#[tokio::test]
async fn freeze_thaw_stop_start_and_drop() {
    let pg = PrivatePg::start(&[]).await;
    assert_ne!(pg.port(), 5432);
    let url = pg.create_database("app").await;
    assert_eq!(url, format!("postgres://postgres@127.0.0.1:{}/app", pg.port()));
    let dir = pg.dir().to_path_buf();
    assert!(pg.data_dir().join("PG_VERSION").is_file());

    let mut conn = AsyncPgConnection::establish(&url).await.expect("connect");
    conn.batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)").await.expect("setup");
    assert_eq!(count_rows(&mut conn).await, 2);

    // Frozen: the postmaster and this connection's backend are stopped; the query hangs.
    let pm = pg.postmaster_pid();
    assert!(!pg.backend_pids().is_empty(), "the postmaster has children");
    pg.freeze();
    let state = std::fs::read_to_string(format!("/proc/{pm}/stat")).expect("stat");
    assert!(state[state.rfind(')').unwrap() + 1..].trim_start().starts_with('T'), "postmaster stopped: {state}");
    let mut query = tokio::spawn(async move {
        let n = count_rows(&mut conn).await;
        (n, conn)
    });
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut query).await.is_err(),
        "a query answered while the cluster was frozen"
    );
    // A new connection does not get through either.
    let fresh = tokio::time::timeout(Duration::from_secs(1), AsyncPgConnection::establish(&url)).await;
    assert!(fresh.is_err(), "a connection was established while the cluster was frozen");

    // Thawed: the pending query completes.
    pg.thaw();
    let (n, conn) = tokio::time::timeout(Duration::from_secs(10), query)
        .await
        .expect("the query completes within 10 s after thawing")
        .expect("query task");
    assert_eq!(n, 2);
    drop(conn);

    // Stopped: nothing answers; started again on the same port, the data is still there.
    pg.stop().await;
    assert!(AsyncPgConnection::establish(&url).await.is_err(), "connected to a stopped cluster");
    pg.start_again().await;
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connect after start_again");
    assert_eq!(count_rows(&mut conn).await, 2);
    drop(conn);

    assert!(!running(pm), "the first postmaster {pm} still runs after stop");
    let pm = pg.postmaster_pid();

    // Drop: the server is gone and so is its directory.
    drop(pg);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(!running(pm), "postmaster {pm} still runs after drop");
}

/// Whether `pid` exists and is not a zombie (an exited postmaster waits for init to reap it).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat[stat.rfind(')').unwrap() + 1..].trim_start().starts_with(['Z', 'X']),
        Err(_) => false,
    }
}

#[tokio::test]
async fn extra_settings_and_migrated_database() {
    let pg = PrivatePg::start(&[("autovacuum", "off"), ("max_connections", "20")]).await;
    let mut conn = AsyncPgConnection::establish(&pg.url_for("postgres")).await.expect("connect");
    let setting = |name: &str| diesel::sql_query(format!("SELECT current_setting('{name}') AS value"));
    let autovacuum = setting("autovacuum").get_result::<Setting>(&mut conn).await.expect("setting").value;
    assert_eq!(autovacuum, "off");
    let max = setting("max_connections").get_result::<Setting>(&mut conn).await.expect("setting").value;
    assert_eq!(max, "20");
    let fsync = setting("fsync").get_result::<Setting>(&mut conn).await.expect("setting").value;
    assert_eq!(fsync, "off");

    let url = pg.create_migrated_database("app").await;
    let mut app = AsyncPgConnection::establish(&url).await.expect("connect app");
    let n = diesel::sql_query("SELECT count(*) AS n FROM customers").get_result::<Num>(&mut app).await.expect("count");
    assert_eq!(n.n, 0);
}
