//! Per-test PostgreSQL databases, cloned from a migrated template.
//!
//! Every [`TestDb`] is a fresh database `xclade_test_<unix-secs>_<random>` created with
//! `CREATE DATABASE … TEMPLATE xclade_tpl_<hash> STRATEGY FILE_COPY` and dropped with
//! `DROP DATABASE … WITH (FORCE)` when the value is dropped (also when the test panicked).
//!
//! The template `xclade_tpl_<hash>` — `<hash>` covers the names and `up.sql` contents of the
//! repository's `migrations/` — is built once per server and migration set, under a
//! PostgreSQL advisory lock, so the many processes of a `cargo nextest` run never race:
//! the first one creates `xclade_tpl_<hash>_building`, migrates it with
//! [`xclade_postgres::run_migrations`], renames it and marks it a template; the others find
//! it ready. Building a new template also drops templates of other migration sets (when
//! nobody uses them), and each process once drops `xclade_test_*` databases older than an
//! hour, left over by crashed runs.
//!
//! # Configuration (environment)
//!
//! * `XCLADE_TEST_PG` — base URL of the server, e.g. `postgres://postgres@127.0.0.1:5432`
//!   (`just test` sets it from `scripts/db-ensure.sh`); any database path in it is ignored.
//! * else the server part of `DATABASE_URL`;
//! * else `postgres://postgres@127.0.0.1:5432`.
//! * `XCLADE_TEST_KEEP_DB=1` keeps every test database (its URL is printed) for debugging;
//!   the leftover sweep removes it after an hour.
//! * `XCLADE_MIGRATIONS_DIR` overrides where the migration files are read for the hash
//!   (default: the workspace's `migrations/`).
//!
//! The user must be allowed to create databases (a superuser in practice, because `FORCE`
//! terminates other sessions).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// Prefix of every per-test database.
pub const TEST_DB_PREFIX: &str = "xclade_test_";
/// Prefix of every template database.
pub const TEMPLATE_PREFIX: &str = "xclade_tpl_";
const BUILDING_SUFFIX: &str = "_building";
/// Test databases older than this are leftovers of crashed runs.
const LEFTOVER_MAX_AGE_SECS: u64 = 3600;
/// Advisory lock key serialising template creation across processes ("xcladetp").
const TEMPLATE_LOCK_KEY: i64 = 0x7863_6c61_6465_7470;
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Name of the template of this process, once known (reset when it vanished).
static TEMPLATE: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);
/// Whether this process already swept leftovers of crashed runs.
static SWEPT: AtomicBool = AtomicBool::new(false);

/// A fresh, migrated database for one test; dropped (forcefully) when this value is dropped.
///
/// Keep it as the **last** field of a struct that also owns pools on it, so the pools close
/// first.
#[derive(Debug)]
pub struct TestDb {
    server: Server,
    name: String,
    url: String,
}

impl TestDb {
    /// Creates a database from the migrated template (building the template if needed).
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the database cannot be created; the message
    /// says which server was tried and how to point the tests elsewhere.
    pub async fn new() -> TestDb {
        let server = Server::from_env();
        match Self::create(server).await {
            Ok(db) => db,
            Err(e) => panic!(
                "xclade-testkit: cannot create a test database: {e}\n\
                 (server from XCLADE_TEST_PG, else DATABASE_URL, else {DEFAULT_SERVER}; \
                 `just test` starts one with scripts/db-ensure.sh)"
            ),
        }
    }

    async fn create(server: Server) -> Result<TestDb, String> {
        let mut admin = connect(&server.admin_url()).await?;
        let name = new_test_db_name();
        let mut template = template_name(&server).await?;
        let mut attempt = 0;
        loop {
            let sql = format!(
                "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
                quote_ident(&name),
                quote_ident(&template)
            );
            match admin.batch_execute(&sql).await {
                Ok(()) => break,
                // Another checkout with other migrations dropped our template: rebuild it.
                Err(e) if attempt == 0 && e.to_string().contains("does not exist") => {
                    attempt += 1;
                    eprintln!("xclade-testkit: template {template} vanished ({e}); rebuilding");
                    *TEMPLATE.lock().await = None;
                    template = template_name(&server).await?;
                }
                Err(e) => return Err(format!("{sql}: {e}")),
            }
        }
        let url = server.url_for(&name);
        Ok(TestDb { server, name, url })
    }

    /// A migrated database on a private cluster (tests that freeze, stop or reconfigure the
    /// server); dropped with the value like any other test database.
    pub async fn on_private(pg: &crate::PrivatePg) -> TestDb {
        let name = new_test_db_name();
        let url = pg.create_migrated_database(&name).await;
        TestDb { server: Server::parse(&pg.base_url()), name, url }
    }

    /// The full URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of this test's database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A direct connection to this database, for checks the API cannot make.
    ///
    /// # Panics
    ///
    /// When the database cannot be reached.
    pub async fn connect(&self) -> AsyncPgConnection {
        connect(&self.url).await.unwrap_or_else(|e| panic!("xclade-testkit: {e}"))
    }

    /// [`count`] on a new connection.
    pub async fn count(&self, sql: &str) -> i64 {
        count(&mut self.connect().await, sql).await
    }

    /// Runs `sql` (one or more statements) on a new connection; panics when it fails.
    pub async fn exec(&self, sql: &str) {
        if let Err(e) = exec(&mut self.connect().await, sql).await {
            panic!("xclade-testkit: {e}");
        }
    }

    /// An outage of this database while the server stays up: `false` refuses new connections
    /// and ends the open ones; `true` accepts connections again.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or refuses the change.
    pub async fn set_connections(&self, allow: bool) {
        let outcome = async {
            let mut admin = connect(&self.server.admin_url()).await?;
            exec(&mut admin, &format!("ALTER DATABASE {} ALLOW_CONNECTIONS {allow}", quote_ident(&self.name))).await?;
            if !allow {
                let others = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' \
                     AND pid <> pg_backend_pid()",
                    self.name
                );
                exec(&mut admin, &others).await?;
            }
            Ok::<(), String>(())
        };
        if let Err(e) = outcome.await {
            panic!("xclade-testkit: cannot set the connections of {}: {e}", self.name);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if env_flag("XCLADE_TEST_KEEP_DB") {
            eprintln!("xclade-testkit: keeping test database {}", self.url);
            return;
        }
        // Drop cannot be async, and may run inside or outside a tokio runtime (even a
        // current-thread one that must not be blocked on): run the DROP on a fresh thread
        // with its own small runtime, and wait for it.
        let admin_url = self.server.admin_url();
        let name = self.name.clone();
        let outcome = std::thread::Builder::new()
            .name("xclade-testdb-drop".to_owned())
            .spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot build a runtime: {e}"))?;
                runtime.block_on(drop_database(&admin_url, &name))
            })
            .map_err(|e| format!("cannot spawn a thread: {e}"))
            .and_then(|handle| handle.join().unwrap_or_else(|_| Err("the drop thread panicked".to_owned())));
        if let Err(e) = outcome {
            // Never panic in Drop (it may run during unwinding); the sweep removes it later.
            eprintln!("xclade-testkit: cannot drop test database {}: {e}", self.name);
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = connect(admin_url).await?;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    admin.batch_execute(&sql).await.map_err(|e| format!("{sql}: {e}"))
}

// ------------------------------------------------------------------------------------------
// The template.

/// The name of the migrated template, building it (once per process) if needed.
async fn template_name(server: &Server) -> Result<String, String> {
    let mut cached = TEMPLATE.lock().await;
    if let Some(name) = cached.as_ref() {
        return Ok(name.clone());
    }
    let name = format!("{TEMPLATE_PREFIX}{}", migrations_hash()?);
    let mut admin = connect(&server.admin_url()).await?;
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .await
        .map_err(|e| format!("cannot take the template lock: {e}"))?;
    let result = ensure_template(&mut admin, server, &name).await;
    // Closing the connection would release the lock too; unlock explicitly anyway.
    let _ = admin.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).await;
    result?;
    *cached = Some(name.clone());
    Ok(name)
}

/// With the advisory lock held: builds the template unless it exists, then sweeps once.
async fn ensure_template(admin: &mut AsyncPgConnection, server: &Server, name: &str) -> Result<(), String> {
    if !database_exists(admin, name).await? {
        let building = format!("{name}{BUILDING_SUFFIX}");
        eprintln!("xclade-testkit: building template database {name}");
        exec(admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building))).await?;
        exec(admin, &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&building))).await?;
        xclade_postgres::run_migrations(&server.url_for(&building))
            .await
            .map_err(|e| format!("cannot migrate {building}: {e}"))?;
        exec(admin, &format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building), quote_ident(name))).await?;
        // Nobody may connect to the template: a session on it would make every
        // `CREATE DATABASE … TEMPLATE` fail.
        exec(admin, &format!("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", quote_ident(name)))
            .await?;
        drop_other_templates(admin, name).await?;
    }
    if !SWEPT.swap(true, Ordering::SeqCst) {
        sweep_leftovers(admin).await?;
    }
    Ok(())
}

/// Drops templates of other migration sets that nobody uses, and stale `_building` ones.
async fn drop_other_templates(admin: &mut AsyncPgConnection, keep: &str) -> Result<(), String> {
    let pattern = format!("{}%", like_escape(TEMPLATE_PREFIX));
    for other in databases_like(admin, &pattern).await? {
        if other == keep {
            continue;
        }
        if other.ends_with(BUILDING_SUFFIX) {
            // Only the holder of the advisory lock builds, and that is us: it is stale.
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&other));
            if let Err(e) = exec(admin, &sql).await {
                eprintln!("xclade-testkit: cannot drop stale {other}: {e}");
            }
            continue;
        }
        let unmark = format!("ALTER DATABASE {} WITH IS_TEMPLATE false", quote_ident(&other));
        if exec(admin, &unmark).await.is_err() {
            continue;
        }
        // No FORCE: a template that is being cloned right now is in use; keep it then.
        match exec(admin, &format!("DROP DATABASE IF EXISTS {}", quote_ident(&other))).await {
            Ok(()) => eprintln!("xclade-testkit: dropped old template {other}"),
            Err(e) => {
                eprintln!("xclade-testkit: keeping old template {other} (in use: {e})");
                let remark = format!("ALTER DATABASE {} WITH IS_TEMPLATE true", quote_ident(&other));
                let _ = exec(admin, &remark).await;
            }
        }
    }
    Ok(())
}

/// Drops `xclade_test_<unix-secs>_…` databases older than an hour (crashed runs).
async fn sweep_leftovers(admin: &mut AsyncPgConnection) -> Result<(), String> {
    let now = unix_now();
    let pattern = format!("{}%", like_escape(TEST_DB_PREFIX));
    for name in databases_like(admin, &pattern).await? {
        let Some(created) = created_at(&name) else {
            continue;
        };
        if now.saturating_sub(created) <= LEFTOVER_MAX_AGE_SECS {
            continue;
        }
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name));
        match exec(admin, &sql).await {
            Ok(()) => eprintln!("xclade-testkit: dropped leftover test database {name}"),
            Err(e) => eprintln!("xclade-testkit: cannot drop leftover {name}: {e}"),
        }
    }
    Ok(())
}

/// The creation time encoded in a test database's name.
fn created_at(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(TEST_DB_PREFIX)?;
    let (secs, _) = rest.split_once('_')?;
    secs.parse().ok()
}

fn new_test_db_name() -> String {
    let random = uuid::Uuid::now_v7().simple().to_string();
    // The tail of a v7 UUID is random (its head is the timestamp).
    let tail = &random[random.len() - 16..];
    format!("{TEST_DB_PREFIX}{}_{tail}", unix_now())
}

// ------------------------------------------------------------------------------------------
// The migration hash.

fn migrations_dir() -> PathBuf {
    match std::env::var_os("XCLADE_MIGRATIONS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations")),
    }
}

/// FNV-1a (64 bits) over every migration's directory name and `up.sql`, in name order.
/// Stable across processes, builds and Rust versions (unlike `DefaultHasher`).
fn migrations_hash() -> Result<String, String> {
    let dir = migrations_dir();
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read the migrations in {}: {e}", dir.display()))?;
    let mut ups: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry.path().join("up.sql")))
        .filter(|(_, up)| up.is_file())
        .collect();
    if ups.is_empty() {
        return Err(format!("no */up.sql under {}", dir.display()));
    }
    ups.sort();
    let mut hash = Fnv1a::new();
    for (name, up) in &ups {
        let sql = std::fs::read(up).map_err(|e| format!("cannot read {}: {e}", up.display()))?;
        hash.write(name.as_bytes());
        hash.write(&[0]);
        hash.write(&sql);
        hash.write(&[0]);
    }
    Ok(format!("{:016x}", hash.0))
}

struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

// ------------------------------------------------------------------------------------------
// The server and SQL helpers.

/// A server URL split around the database name: `<base>/<database><query>`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Server {
    /// `scheme://authority`, no trailing slash.
    base: String,
    /// `?…` or empty.
    query: String,
}

impl Server {
    fn from_env() -> Server {
        let from = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        let url = from("XCLADE_TEST_PG").or_else(|| from("DATABASE_URL")).unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        Server::parse(url.trim())
    }

    /// Keeps scheme, credentials, host, port and query; drops any database path.
    fn parse(url: &str) -> Server {
        let (without_query, query) = match url.find('?') {
            Some(i) => (&url[..i], &url[i..]),
            None => (url, ""),
        };
        let authority_start = without_query.find("://").map_or(0, |i| i + 3);
        let base = match without_query[authority_start..].find('/') {
            Some(i) => &without_query[..authority_start + i],
            None => without_query,
        };
        Server { base: base.to_owned(), query: query.to_owned() }
    }

    fn url_for(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }

    fn admin_url(&self) -> String {
        self.url_for("postgres")
    }
}

async fn connect(url: &str) -> Result<AsyncPgConnection, String> {
    AsyncPgConnection::establish(url).await.map_err(|e| format!("cannot connect to {}: {e}", redact(url)))
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> Result<(), String> {
    conn.batch_execute(sql).await.map_err(|e| format!("{sql}: {e}"))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` of the first row of `sql`, which answers a `bigint` column named `n`
/// (`SELECT count(*) AS n …`).
///
/// # Panics
///
/// When the query fails or answers no row.
pub async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    let rows: Vec<Count> = diesel::sql_query(sql).load(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().next().map_or_else(|| panic!("{sql}: no row"), |r| r.n)
}

#[derive(QueryableByName)]
struct Datname {
    #[diesel(sql_type = Text)]
    datname: String,
}

async fn databases_like(conn: &mut AsyncPgConnection, pattern: &str) -> Result<Vec<String>, String> {
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname")
        .bind::<Text, _>(pattern)
        .load::<Datname>(conn)
        .await
        .map(|rows| rows.into_iter().map(|row| row.datname).collect())
        .map_err(|e| format!("cannot list databases: {e}"))
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, String> {
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load::<Datname>(conn)
        .await
        .map(|rows| !rows.is_empty())
        .map_err(|e| format!("cannot look for database {name}: {e}"))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn like_escape(literal: &str) -> String {
    literal.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn env_flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn count_at(url: &str, sql: &str) -> i64 {
        count(&mut connect(url).await.expect("connect"), sql).await
    }

    async fn exists(name: &str) -> bool {
        let mut admin = connect(&Server::from_env().admin_url()).await.expect("admin connection");
        database_exists(&mut admin, name).await.expect("lookup")
    }

    #[tokio::test]
    async fn databases_are_distinct_migrated_and_dropped() {
        let a = TestDb::new().await;
        let b = TestDb::new().await;
        assert_ne!(a.name(), b.name());
        assert_ne!(a.url(), b.url());
        assert!(a.url().contains(&format!("/{}", a.name())), "{}", a.url());

        for db in [&a, &b] {
            assert!(db.name().starts_with(TEST_DB_PREFIX), "{}", db.name());
            assert_eq!(count_at(db.url(), "SELECT count(*) AS n FROM customers").await, 0);
            let applied = count_at(db.url(), "SELECT count(*) AS n FROM __diesel_schema_migrations");
            assert!(applied.await > 0);
        }

        // A write in one database is invisible in the other.
        let mut conn = connect(a.url()).await.expect("connect a");
        conn.batch_execute(
            "INSERT INTO projects (project_id, key, name) \
             VALUES ('00000000-0000-7000-8000-000000000001', 'isolation', 'Isolation')",
        )
        .await
        .expect("insert into a");
        assert_eq!(count_at(a.url(), "SELECT count(*) AS n FROM projects").await, 1);
        assert_eq!(count_at(b.url(), "SELECT count(*) AS n FROM projects").await, 0);

        // The template is marked as such and closed to connections.
        let template = TEMPLATE.lock().await.clone().expect("template cached");
        assert!(exists(&template).await);
        let admin_url = Server::from_env().admin_url();
        let marked = count_at(
            &admin_url,
            &format!(
                "SELECT count(*) AS n FROM pg_database WHERE datname = '{template}' \
                 AND datistemplate AND NOT datallowconn"
            ),
        )
        .await;
        assert_eq!(marked, 1);

        // Dropping removes the database, even with a session still open on it.
        let (name_a, name_b) = (a.name().to_owned(), b.name().to_owned());
        assert!(exists(&name_a).await && exists(&name_b).await);
        drop(a);
        assert!(!exists(&name_a).await);
        drop(conn);
        drop(b);
        assert!(!exists(&name_b).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_creation_in_one_process() {
        let dbs = futures_join(4).await;
        let mut names: Vec<&str> = dbs.iter().map(TestDb::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 4);
    }

    async fn futures_join(n: usize) -> Vec<TestDb> {
        let handles: Vec<_> = (0..n).map(|_| tokio::spawn(TestDb::new())).collect();
        let mut dbs = Vec::with_capacity(n);
        for handle in handles {
            dbs.push(handle.await.expect("task"));
        }
        dbs
    }

    #[test]
    fn dropped_outside_a_runtime_and_after_a_panic() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let db = runtime.block_on(TestDb::new());
        let name = db.name().to_owned();
        let panicked = std::thread::spawn(move || {
            let _db = db;
            panic!("a failing test");
        })
        .join();
        assert!(panicked.is_err());
        assert!(!runtime.block_on(exists(&name)));
    }

    #[test]
    fn server_part_of_urls() {
        let s = Server::parse("postgres://u:p@db:6543/app?sslmode=disable");
        assert_eq!(s.base, "postgres://u:p@db:6543");
        assert_eq!(s.url_for("x"), "postgres://u:p@db:6543/x?sslmode=disable");
        let s = Server::parse("postgres://postgres@127.0.0.1:5432");
        assert_eq!(s.url_for("x"), "postgres://postgres@127.0.0.1:5432/x");
        let s = Server::parse("postgres://postgres@127.0.0.1:5432/");
        assert_eq!(s.url_for("x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn names_encode_their_creation_time() {
        let name = new_test_db_name();
        assert!(name.len() < 64, "{name}");
        let created = created_at(&name).expect("timestamp");
        assert!(unix_now().abs_diff(created) < 5);
        assert_eq!(created_at("xclade_test_notanumber_x"), None);
        assert_eq!(created_at("other_1_x"), None);
    }

    #[test]
    fn the_hash_is_stable() {
        let first = migrations_hash().expect("hash");
        assert_eq!(first.len(), 16);
        assert_eq!(first, migrations_hash().expect("hash"));
    }
}
