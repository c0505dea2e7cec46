//! A private PostgreSQL cluster for tests that stop, freeze or reconfigure the database.
//!
//! Such tests must never touch the shared server (127.0.0.1:5432 or `XCLADE_TEST_PG`), so each
//! starts its own cluster:
//!
//! ```no_run
//! # async fn demo() {
//! use xclade_testkit::PrivatePg;
//! let pg = PrivatePg::start(&[("autovacuum", "off")]).await;
//! let url = pg.create_migrated_database("app").await; // or create_database (empty)
//! pg.freeze(); // SIGSTOP the postmaster and every backend
//! pg.thaw(); // SIGCONT
//! pg.stop().await; // pg_ctl stop -m fast, the data stays
//! pg.start_again().await; // same port, waits until it answers
//! # let _ = url;
//! # } // Drop: thaw, pg_ctl stop -m immediate, the directory is deleted
//! ```
//!
//! # Layout
//!
//! Every cluster lives in `<target>/private-pg/<creator-pid>-<nanos>-<seq>/` (`<target>` is
//! `CARGO_TARGET_DIR`, else the workspace's `target/`): `data/` (the data directory) and
//! `server.log`. When running as root the directory belongs to the `postgres` system user and
//! `initdb`/`pg_ctl` run as that user (`runuser -u postgres --`, else `su`), like
//! `scripts/pg-lib.sh`; when that user cannot reach `<target>`, `/var/tmp/xclade-private-pg/`
//! is used instead. Directories of clusters whose creating process is gone (a killed test run)
//! are swept (their postmaster killed) when the next cluster starts.
//!
//! # Configuration of every cluster
//!
//! `initdb -U postgres --auth=trust -E UTF8 --no-locale --no-sync`, then in `postgresql.conf`:
//! `listen_addresses = '127.0.0.1'`, no unix socket, `fsync`, `synchronous_commit` and
//! `full_page_writes` off, `shared_buffers = 32MB`, then the caller's `extra_conf` (later
//! settings win, so they may override these). The port is chosen free on 127.0.0.1 and passed
//! to `pg_ctl` on the command line, so a restart keeps it.
//!
//! The binaries come from `PATH` (`pg_ctl` and `initdb` side by side), else the newest
//! `/usr/lib/postgresql/*/bin`.

use std::collections::HashMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use tokio::process::Command;

/// The system user owning clusters when the tests run as root.
const OWNER: &str = "postgres";
/// How long `start`/`start_again` wait for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A running private PostgreSQL cluster on 127.0.0.1, removed when dropped.
#[derive(Debug)]
pub struct PrivatePg {
    /// `<root>/<unique>`: holds `data/` and `server.log`; deleted on drop.
    dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    bindir: PathBuf,
    port: u16,
    as_root: bool,
}

impl PrivatePg {
    /// Creates (initdb) and starts a new cluster on a free 127.0.0.1 port, and waits until it
    /// answers. `extra_conf` settings are appended to `postgresql.conf` (values are written as
    /// given, so quote strings: `("log_statement", "'all'")`).
    ///
    /// # Panics
    ///
    /// When PostgreSQL is not installed, `initdb` fails or the server does not start; the
    /// message carries the tail of the server log.
    pub async fn start(extra_conf: &[(&str, &str)]) -> PrivatePg {
        let bindir = pg_bindir().unwrap_or_else(|| {
            panic!(
                "PrivatePg: initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; \
                 install the PostgreSQL server (>= 15)"
            )
        });
        let as_root = running_as_root();
        if as_root {
            ensure_owner_user();
        }
        let root = clusters_root(as_root);
        sweep_leftovers(&root);
        let unique = format!(
            "{}-{}-{}",
            std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = root.join(unique);
        let data = dir.join("data");
        let log = dir.join("server.log");
        fs::create_dir_all(&data).unwrap_or_else(|e| panic!("PrivatePg: cannot create {}: {e}", data.display()));
        set_mode(&data, "700");
        fs::write(&log, b"").unwrap_or_else(|e| panic!("PrivatePg: cannot create {}: {e}", log.display()));
        if as_root {
            run_sync(StdCommand::new("chown").arg("-R").arg(format!("{OWNER}:")).arg(&dir))
                .unwrap_or_else(|e| panic!("PrivatePg: chown {}: {e}", dir.display()));
        }
        let mut pg = PrivatePg { dir, data, log, bindir, port: 0, as_root };

        let initdb = pg.bin("initdb");
        let out = pg
            .owner_command(&initdb)
            .arg("-D")
            .arg(&pg.data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"])
            .output()
            .await
            .unwrap_or_else(|e| panic!("PrivatePg: cannot run {}: {e}", initdb.display()));
        if !out.status.success() {
            panic!("PrivatePg: initdb failed ({}):\n{}", out.status, output_text(&out));
        }

        let mut conf = String::from(
            "\n# PrivatePg (xclade-testkit)\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = ''\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 32MB\n\
             huge_pages = off\n",
        );
        for (key, value) in extra_conf {
            conf.push_str(&format!("{key} = {value}\n"));
        }
        let conf_path = pg.data.join("postgresql.conf");
        let mut existing = fs::read_to_string(&conf_path)
            .unwrap_or_else(|e| panic!("PrivatePg: cannot read {}: {e}", conf_path.display()));
        existing.push_str(&conf);
        fs::write(&conf_path, existing)
            .unwrap_or_else(|e| panic!("PrivatePg: cannot write {}: {e}", conf_path.display()));

        // A free port can be taken between the probe and the bind: try a few.
        let mut last_error = String::new();
        for _ in 0..5 {
            pg.port = free_port();
            match pg.pg_ctl_start().await {
                Ok(()) => {
                    pg.wait_until_answers().await;
                    return pg;
                }
                Err(e) => last_error = e,
            }
        }
        panic!("PrivatePg: the cluster in {} did not start: {last_error}", pg.data.display());
    }

    /// `postgres://postgres@127.0.0.1:PORT` (no database).
    pub fn base_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// The URL of database `name` of this cluster (it need not exist).
    pub fn url_for(&self, name: &str) -> String {
        format!("{}/{name}", self.base_url())
    }

    /// The port the cluster listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The directory holding the data directory and the server log (deleted on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server log (`pg_ctl -l`).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Creates an empty database and returns its URL.
    ///
    /// # Panics
    ///
    /// When the cluster does not answer or the database cannot be created.
    pub async fn create_database(&self, name: &str) -> String {
        let mut conn = AsyncPgConnection::establish(&self.url_for("postgres"))
            .await
            .unwrap_or_else(|e| panic!("PrivatePg: cannot connect to {}: {e}", self.base_url()));
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        conn.batch_execute(&sql).await.unwrap_or_else(|e| panic!("PrivatePg: {sql}: {e}"));
        self.url_for(name)
    }

    /// Creates a database with the service's migrations applied and returns its URL.
    ///
    /// # Panics
    ///
    /// As [`PrivatePg::create_database`], or when a migration fails.
    pub async fn create_migrated_database(&self, name: &str) -> String {
        let url = self.create_database(name).await;
        xclade_postgres::run_migrations(&url).await.unwrap_or_else(|e| panic!("PrivatePg: migrating {name}: {e}"));
        url
    }

    /// The pid of the postmaster (first line of `postmaster.pid`).
    ///
    /// # Panics
    ///
    /// When the cluster is not running.
    pub fn postmaster_pid(&self) -> u32 {
        self.try_postmaster_pid()
            .unwrap_or_else(|| panic!("PrivatePg: no postmaster.pid in {} (not running?)", self.data.display()))
    }

    fn try_postmaster_pid(&self) -> Option<u32> {
        fs::read_to_string(self.data.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
    }

    /// The pids of the postmaster's descendants (backends and auxiliary processes), now.
    pub fn backend_pids(&self) -> Vec<u32> {
        self.try_postmaster_pid().map(descendants).unwrap_or_default()
    }

    /// SIGSTOPs the postmaster and then every process it started (each backend): the cluster
    /// accepts TCP connections (the kernel's backlog) but answers nothing, like a frozen or
    /// partitioned server. Dropping the value thaws it first.
    ///
    /// # Panics
    ///
    /// When the cluster is not running or `kill` fails.
    pub fn freeze(&self) {
        let pm = self.postmaster_pid();
        // The postmaster first, so it forks nothing new; then its children, twice, to catch one
        // forked while the first list was taken.
        signal(&[pm], "STOP").unwrap_or_else(|e| panic!("PrivatePg: freeze: {e}"));
        for _ in 0..2 {
            let children = descendants(pm);
            if !children.is_empty() {
                // A backend may exit between the listing and the signal; that is fine.
                let _ = signal(&children, "STOP");
            }
        }
    }

    /// SIGCONTs the postmaster and every process it started.
    pub fn thaw(&self) {
        if let Some(pm) = self.try_postmaster_pid() {
            let mut pids = descendants(pm);
            pids.push(pm);
            let _ = signal(&pids, "CONT");
        }
    }

    /// `pg_ctl stop -m fast` and waits for the shutdown; the data stays.
    ///
    /// # Panics
    ///
    /// When `pg_ctl stop` fails.
    pub async fn stop(&self) {
        let pg_ctl = self.bin("pg_ctl");
        let out = self
            .owner_command(&pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .output()
            .await
            .unwrap_or_else(|e| panic!("PrivatePg: cannot run pg_ctl: {e}"));
        if !out.status.success() {
            panic!("PrivatePg: pg_ctl stop failed ({}):\n{}", out.status, output_text(&out));
        }
    }

    /// Starts the stopped cluster again on the same port and waits until it answers.
    ///
    /// # Panics
    ///
    /// When it does not start (for instance because another process took the port meanwhile).
    pub async fn start_again(&self) {
        if let Err(e) = self.pg_ctl_start().await {
            panic!("PrivatePg: the cluster in {} did not start again: {e}", self.data.display());
        }
        self.wait_until_answers().await;
    }

    async fn pg_ctl_start(&self) -> Result<(), String> {
        let pg_ctl = self.bin("pg_ctl");
        let out = self
            .owner_command(&pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .arg("-o")
            .arg(format!("-p {}", self.port))
            .args(["-w", "-t", "60", "start"])
            // pg_ctl's server keeps its stdout/stderr (the log file is used instead); never
            // let it inherit the test's pipes, or the test runner would wait for it.
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", pg_ctl.display()))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "pg_ctl start failed on port {} ({}):\n{}\nlast lines of {}:\n{}",
            self.port,
            out.status,
            output_text(&out),
            self.log.display(),
            log_tail(&self.log, 20)
        ))
    }

    async fn wait_until_answers(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let url = self.url_for("postgres");
        loop {
            let attempt = tokio::time::timeout(Duration::from_secs(5), async {
                let mut conn = AsyncPgConnection::establish(&url).await.map_err(|e| e.to_string())?;
                conn.batch_execute("SELECT 1").await.map_err(|e| e.to_string())
            })
            .await;
            let error = match attempt {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(_) => "no answer within 5 s".to_owned(),
            };
            if Instant::now() > deadline {
                panic!(
                    "PrivatePg: {} does not answer after {START_TIMEOUT:?}: {error}\nlast lines of {}:\n{}",
                    self.base_url(),
                    self.log.display(),
                    log_tail(&self.log, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    /// A command running `program` as the cluster's owner, from `/` (the owner may not be
    /// allowed into the current directory).
    fn owner_command(&self, program: &Path) -> Command {
        let mut cmd = if self.as_root { as_owner(program) } else { Command::new(program) };
        cmd.current_dir("/").stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// Synchronous `pg_ctl stop -m immediate` (for Drop); errors only.
    fn stop_immediate_sync(&self) -> Result<(), String> {
        let pg_ctl = self.bin("pg_ctl");
        let mut cmd = if self.as_root { as_owner_sync(&pg_ctl) } else { StdCommand::new(&pg_ctl) };
        cmd.current_dir("/").arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "-t", "30", "stop"]);
        run_sync(&mut cmd).map(|_| ())
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        self.thaw();
        if let Some(pm) = self.try_postmaster_pid() {
            if self.stop_immediate_sync().is_err() && process_alive(pm) {
                let mut pids = descendants(pm);
                pids.push(pm);
                let _ = signal(&pids, "KILL");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("PrivatePg: cannot remove {}: {e}", self.dir.display());
        }
    }
}

// ------------------------------------------------------------------------------------------
// Processes and signals.

/// Every descendant of `root` (children, grandchildren, …) from `/proc/*/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            if let Some(ppid) = parent_pid(pid) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(kids) = children.get(&pid) {
            for &kid in kids {
                if !out.contains(&kid) && kid != root {
                    out.push(kid);
                    stack.push(kid);
                }
            }
        }
    }
    out
}

/// The ppid field of `/proc/PID/stat` (after the parenthesised command name, which may contain
/// spaces and parentheses itself).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// `kill -SIG pid…`.
fn signal(pids: &[u32], sig: &str) -> Result<(), String> {
    if pids.is_empty() {
        return Ok(());
    }
    let mut cmd = StdCommand::new("kill");
    cmd.arg(format!("-{sig}"));
    cmd.args(pids.iter().map(u32::to_string));
    run_sync(&mut cmd).map(|_| ())
}

fn run_sync(cmd: &mut StdCommand) -> Result<Output, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!("{cmd:?}: {}: {}", out.status, output_text(&out)))
    }
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text.trim_end().to_owned()
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ------------------------------------------------------------------------------------------
// Users, paths, binaries.

/// Whether the effective uid is 0 (from `/proc/self/status`; no libc).
fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn runuser_available() -> bool {
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"].iter().any(|p| Path::new(p).exists())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `runuser -u postgres -- PROGRAM`, else `su postgres -s /bin/sh -c 'exec PROGRAM "$@"' sh`;
/// the caller appends the arguments.
fn as_owner(program: &Path) -> Command {
    Command::from(as_owner_sync(program))
}

/// [`as_owner`], for blocking use.
fn as_owner_sync(program: &Path) -> StdCommand {
    if runuser_available() {
        let mut cmd = StdCommand::new("runuser");
        cmd.args(["-u", OWNER, "--"]).arg(program);
        cmd
    } else {
        let mut cmd = StdCommand::new("su");
        cmd.args([OWNER, "-s", "/bin/sh", "-c"])
            .arg(format!("exec {} \"$@\"", shell_quote(&program.to_string_lossy())))
            .arg("sh");
        cmd
    }
}

/// Creates the `postgres` system user when missing (initdb and pg_ctl refuse to run as root),
/// as scripts/db-ensure.sh does.
fn ensure_owner_user() {
    let exists = StdCommand::new("id").arg("-u").arg(OWNER).output().map(|o| o.status.success()).unwrap_or(false);
    if !exists {
        eprintln!("PrivatePg: creating system user {OWNER} (initdb/pg_ctl refuse to run as root)");
        if let Err(e) = run_sync(StdCommand::new("useradd").args(["-r", "-m", "-s", "/bin/sh", OWNER])) {
            panic!("PrivatePg: running as root and there is no `{OWNER}` user, which cannot be created: {e}");
        }
    }
}

fn set_mode(path: &Path, mode: &str) {
    let _ = run_sync(StdCommand::new("chmod").arg(mode).arg(path));
}

/// `<target>/private-pg`, or `/var/tmp/xclade-private-pg` when the owner cannot reach it.
fn clusters_root(as_root: bool) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let target = fs::canonicalize(&target).unwrap_or(target);
    let preferred = target.join("private-pg");
    if fs::create_dir_all(&preferred).is_ok() {
        let reachable = !as_root
            || as_owner_sync(Path::new("test"))
                .arg("-x")
                .arg(&preferred)
                .current_dir("/")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        if reachable {
            return preferred;
        }
    }
    let fallback = PathBuf::from("/var/tmp/xclade-private-pg");
    let _ = fs::create_dir_all(&fallback);
    set_mode(&fallback, "755");
    fallback
}

/// Removes clusters whose creating process no longer exists (a killed test run).
fn sweep_leftovers(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(creator) = name.to_str().and_then(|n| n.split('-').next()).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if process_alive(creator) {
            continue;
        }
        let dir = entry.path();
        let pm = fs::read_to_string(dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        if let Some(pm) = pm {
            let is_postgres = fs::read_to_string(format!("/proc/{pm}/cmdline"))
                .map(|c| c.contains("postgres") && c.contains(&*dir.to_string_lossy()))
                .unwrap_or(false);
            if is_postgres {
                let mut pids = descendants(pm);
                pids.push(pm);
                let _ = signal(&pids, "CONT");
                let _ = signal(&pids, "KILL");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; see the retry in `start`).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("PrivatePg: cannot find a free port: {e}"))
}

/// The directory of `initdb` and `pg_ctl`: on PATH (side by side), else the newest
/// `/usr/lib/postgresql/*/bin`.
fn pg_bindir() -> Option<PathBuf> {
    let usable = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // Debian's /usr/bin/pg_ctl is pg_wrapper: only a real pg_ctl beside initdb counts.
            let real_dir = fs::canonicalize(dir.join("pg_ctl")).ok().and_then(|p| p.parent().map(Path::to_path_buf));
            if let Some(real_dir) = real_dir.filter(|d| usable(d)) {
                return Some(real_dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            usable(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
