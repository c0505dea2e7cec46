#!/usr/bin/env python3
"""The benchmark harness of xclade customers (`just bench`; docs/benchmarks.md).

For each scale it prepares a database (migrations by the service's binary, the project and API
client by its CLI, the rows by bench/sql/seed.sql, checked against rows the running service
writes), starts the release server, checks that the pgbench ceilings run the SQL the service
sends, then for every scenario: a warm-up, then `reps` times a wrk run (bench/lua) and a
pgbench run of the same statements (bench/pgbench), the ceiling at its best client count. With
--split-cpus the wrk runs are made on the whole machine first, then wrk and pgbench again with
PostgreSQL on CPUs of its own (the ratio; class Placement). It writes target/bench/results.json,
target/bench/results.md and target/bench/explain-<scale>.md.

Standard library only; needs psql, pgbench and wrk on PATH (bench/run.sh sees to that).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PROJECT_KEY = "bench"
GROUPS = 1000
SCALES = {"10k": 10_000, "1m": 1_000_000}


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Scenarios.

SCENARIOS = [
    {
        "name": "create_customer",
        "title": "POST /admin/customers",
        "lua": "create_customer.lua",
        "pgbench": "create_customer.sql",
        "pg_vars": {
            "kind": "customer.created",
            "payload@": "customer_created.json",
            "company": "Loadtest Ltd",
            "first": "Load",
            "last": "Tester",
            "phone": "+1 555 0100",
            "meta": '{"source": "bench"}',
            "hasacc": "f",
        },
        "target_rps": 3500,
        "target_p99_ms": 5.0,
        "read": False,
    },
    {
        "name": "get_customer",
        "title": "GET /admin/customers/{id}",
        "lua": "get_customer.lua",
        "pgbench": "get_customer.sql",
        "pg_vars": {},
        "target_rps": 8000,
        "target_p99_ms": 5.0,
        "read": True,
    },
    {
        "name": "get_group",
        "title": "GET /{projectKey}/customer-groups/{id}",
        "lua": "get_group.lua",
        "pgbench": "get_group.sql",
        "pg_vars": {},
        "read": True,
    },
    {
        "name": "set_groups",
        "title": "POST /admin/customers/{id}/customer-groups (add+remove)",
        "lua": "set_groups.lua",
        "pgbench": "set_groups.sql",
        "pg_vars": {"kind": "customer.groups_changed", "payload@": "customer_groups_changed.json"},
        "read": False,
    },
    {
        "name": "list_customers",
        "title": "GET /admin/customers?q=…&limit=50",
        "lua": "list_customers.lua",
        "pgbench": "list_customers.sql",
        "pg_vars": {"limit": "50"},
        "read": True,
    },
    {
        "name": "query_groups",
        "title": "GET /{projectKey}/customer-groups?where=…&limit=20",
        "lua": "query_groups.lua",
        "pgbench": "query_groups.sql",
        "pg_vars": {"limit": "20"},
        "read": True,
    },
    {
        "name": "change_name",
        "title": "POST /{projectKey}/customer-groups/{id} (changeName)",
        "lua": "change_name.lua",
        "pgbench": "change_name.sql",
        "pg_vars": {"kind": "customer-group.updated", "payload@": "customer_group_updated.json"},
        "read": False,
    },
]
BY_NAME = {s["name"]: s for s in SCENARIOS}
# The simple requests whose server CPU has a target: their instructions per request are counted
# too (callgrind), at 10 k, after the scenarios (Run.instructions).
INSTRUCTION_SCENARIOS = ("create_customer", "get_customer", "get_group")


# --------------------------------------------------------------------------------------------
# PostgreSQL.


class Pg:
    """psql/pgbench against one server (a URL without database)."""

    def __init__(self, server_url: str):
        self.server = server_url.rstrip("/")

    def url(self, db: str) -> str:
        # The service connects without TLS (tokio-postgres NoTls); libpq clients (pgbench, psql)
        # would negotiate TLS with a server that has ssl = on, which would handicap the ceiling.
        return f"{self.server}/{db}?sslmode=disable"

    def psql(self, db: str, sql: str | None = None, file: Path | None = None, variables: dict | None = None,
             sep: str = "\t", check: bool = True) -> str:
        cmd = ["psql", "-X", "-q", "-A", "-t", "-F", sep, "-v", "ON_ERROR_STOP=1", "-d", self.url(db)]
        for k, v in (variables or {}).items():
            cmd += ["-v", f"{k}={v}"]
        if sql is not None:
            cmd += ["-c", sql]
        if file is not None:
            cmd += ["-f", str(file)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise BenchError(f"psql failed ({db}): {p.stderr.strip()[:2000]}")
        return p.stdout

    def rows(self, db: str, sql: str) -> list[list[str]]:
        out = self.psql(db, sql)
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def value(self, db: str, sql: str) -> str:
        return self.psql(db, sql).strip()


def q(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# The server process.


class Server:
    def __init__(self, binary: Path, db_url: str, bind: str, log_path: Path, secret: str):
        self.binary, self.db_url, self.bind, self.log_path, self.secret = binary, db_url, bind, log_path, secret
        self.proc: subprocess.Popen | None = None
        self.base = f"http://{bind}"

    def start(self) -> None:
        env = dict(os.environ)
        env.update({"DATABASE_URL": self.db_url, "XCLADE_JWT_SECRET": self.secret})
        env.pop("XCLADE_BIND", None)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(self.binary), "serve", "--bind", self.bind, "--no-migrate"], env=env,
                                     stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited at start (code {self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise BenchError("the server did not become ready within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def status_kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def reset_peak_rss(self) -> bool:
        """Resets VmHWM (Linux >= 4.0: `echo 5 > /proc/PID/clear_refs`)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def truncate_log(self) -> None:
        with open(self.log_path, "r+b") as f:
            f.truncate(0)

    def log_problems(self) -> dict:
        """ERROR and WARN lines of the server log since the last truncation."""
        counts = {"ERROR": 0, "WARN": 0}
        first = ""
        with open(self.log_path, "rb") as f:
            for raw in f:
                for level in counts:
                    if f'"level":"{level}"'.encode() in raw:
                        counts[level] += 1
                        if not first:
                            first = raw.decode(errors="replace")[:400]
        return {"error_lines": counts["ERROR"], "warn_lines": counts["WARN"], "first": first}


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def backend_pids(db: str) -> set[int]:
    """The PostgreSQL backends connected to `db` (process titles name the database)."""
    pids = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"postgres:") and f" {db} ".encode() in cmd:
            pids.add(int(d.name))
    return pids


def backend_cpu_seconds(db: str) -> float:
    """CPU of the PostgreSQL backends connected to `db` (process titles name the database)."""
    return sum(proc_cpu_seconds(pid) for pid in backend_pids(db))


# --------------------------------------------------------------------------------------------
# HTTP (probes and the seed check; the load itself is wrk's).


def http(method: str, url: str, token: str | None = None, body: dict | None = None,
         basic: tuple[str, str] | None = None, form: dict | None = None) -> tuple[int, dict | str]:
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def ok(status: int, body, what: str):
    if status // 100 != 2:
        raise BenchError(f"{what}: HTTP {status}: {str(body)[:500]}")
    return body


def token_for(base: str, client: dict) -> str:
    status, body = http("POST", base + "/oauth/token", basic=(client["client_id"], client["client_secret"]),
                        form={"grant_type": "client_credentials"})
    return ok(status, body, "POST /oauth/token")["access_token"]


# --------------------------------------------------------------------------------------------
# The pgbench scripts: parsing (for the SQL check and the EXPLAIN report).


DRAW = re.compile(r"^--@\s*([A-Za-z_]\w*)\s*:=\s*(.+?)\s*$")


def script_draws(path: Path) -> list[tuple[str, str]]:
    """The `--@ name := expression` lines of a pgbench script: keys drawn for one request
    (pgbench cannot make UUIDs). Each `:name` of the statements is replaced by `(expression)`
    in the script pgbench runs, so drawing costs no round trip of its own."""
    return [(m.group(1), m.group(2)) for m in map(DRAW.match, path.read_text().splitlines()) if m]


def is_draw_statement(s: str) -> bool:
    """A `\\gset` lookup in schema bench: a draw that costs a round trip of its own (used where the
    drawn values are too many to inline); the service never reads schema bench."""
    return s.rstrip().endswith("\\gset") and re.search(r"\bbench\.", s) is not None


def script_statements(path: Path) -> list[str]:
    """The SQL statements of a pgbench script that the service sends too, one per line, in
    order (`\\gset` removed; draws left out)."""
    out = []
    for line in path.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("--") or s.startswith("\\") or is_draw_statement(s):
            continue
        s = re.sub(r"\s*\\gset\s*$", "", s).rstrip(";").strip()
        out.append(s)
    return out


def script_round_trips(path: Path) -> dict:
    """Round trips of one transaction of the script: a statement outside a pipeline is one, a
    whole `\\startpipeline … \\endpipeline` is one. `draw` counts the draw round trips among them."""
    trips = draws = 0
    in_pipeline = False
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("\\startpipeline"):
            in_pipeline = True
            trips += 1
        elif s.startswith("\\endpipeline"):
            in_pipeline = False
        elif s and not s.startswith("--") and not s.startswith("\\") and not in_pipeline:
            trips += 1
            draws += is_draw_statement(s)
    return {"total": trips, "draw": draws, "service": trips - draws}


def effective_script(path: Path, out_dir: Path) -> Path:
    """The script pgbench runs: the draws of `--@` lines inlined as subqueries."""
    draws = script_draws(path)
    text = path.read_text()
    if draws:
        lines = []
        for line in text.splitlines():
            if not line.strip().startswith("--"):
                for name, expr in draws:
                    line = re.sub(rf"(?<![:\w]):{name}\b", lambda _m, e=expr: f"({e})", line)
            lines.append(line)
        text = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / path.name
    dest.write_text(text)
    return dest


def protocol_of(statement_name: str | None, parsed_now: bool) -> str:
    """How a logged statement was sent: `named` (a prepared statement the connection keeps and
    executes again: `execute s12:` with no `parse` of it in this request), `unnamed` (parsed and
    planned for this execution: `execute <unnamed>:`, or a named statement prepared for it, as
    the driver does with statements it does not cache) or `simple` (`statement:`)."""
    if statement_name is None:
        return "simple"
    return "unnamed" if parsed_now or statement_name.strip() == "<unnamed>" else "named"


def pgbench_mode(protocols: list[str]) -> str:
    """The pgbench `-M` that sends the scenario's statements as the service does: `prepared` when
    the service sends prepared statements (pgbench then plans like the service: custom plans for
    five executions, then the generic plan when PostgreSQL finds it no worse), `extended` when it
    sends unnamed ones (parsed and planned with the parameters every time). A scenario that mixes
    both gets `extended` (its named statements are then parsed by the ceiling every time, which
    makes the ceiling a little lower than it should be; the report says so)."""
    kinds = set(protocols) - {"simple"}
    return "prepared" if kinds == {"named"} else "extended" if kinds else "simple"


def normalize(sql: str) -> str:
    s = re.sub(r"\$\d+", "?", sql)
    s = re.sub(r"(?<![:\w]):[A-Za-z_]\w*", "?", s)
    s = re.sub(r"\bNULL\b", "?", s)
    s = re.sub(r"\s+", " ", s).strip().rstrip(";").strip()
    return s


def script_constants(ctx: dict) -> dict:
    """The -D variables every pgbench script may use: the project, the API client as actor, and
    the constants the service binds (`:one`, `:zero`, `:yes`)."""
    return {
        "pid": ctx["project"]["id"], "pkey": PROJECT_KEY, "actor": ctx["client"]["client_id"],
        "actorjson": json.dumps({"clientId": ctx["client"]["client_id"]}), "one": "1", "zero": "0", "yes": "true",
    }


def pgbench_latencies(logdir: Path) -> list[int]:
    """The latency in microseconds of every transaction in pgbench's per-transaction logs
    (`client transaction latency_us script epoch epoch_us …`), sorted."""
    out: list[int] = []
    for f in logdir.glob("tx*"):
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                out.append(int(parts[2]))
    out.sort()
    return out


def percentile(sorted_values: list[int], pct: float) -> float:
    """The nearest-rank percentile of sorted values."""
    k = max(0, min(len(sorted_values) - 1, int(round(pct / 100 * len(sorted_values) + 0.5)) - 1))
    return float(sorted_values[k])


def toggle_stride(ctx: dict) -> int:
    """The customers `set_groups` toggles are every stride-th one (by `bench.customers.n`), at
    most 50 000 of them: wrk keeps a Lua table per customer, and a million of them would stall
    its threads in the garbage collector. The ceiling draws from the same customers."""
    return max(1, ctx["customers"] // 50_000)


def write_data(pg: Pg, ctx: dict, sc: str, prefix: Path) -> list[str]:
    """Writes the data files of scenario `sc`'s wrk script for the seeded database of `ctx`
    (`db`, `project`, `customers`) as `<prefix>-<name>.txt` and returns the script's arguments
    after the common ones. The harness, bench/profile.sh and bench/instructions.sh
    (`--data-for`) all use it."""
    db, pid = ctx["db"], ctx["project"]["id"]

    def dump(name: str, sql: str) -> str:
        path = Path(f"{prefix}-{name}.txt")
        path.write_text(pg.psql(db, sql, sep=" "))
        return str(path)

    if sc == "create_customer":
        return []
    if sc == "get_customer":
        return [dump("customer-ids", "SELECT id FROM bench.customers ORDER BY n")]
    if sc == "get_group":
        return [PROJECT_KEY, dump("group-ids", "SELECT id FROM bench.groups ORDER BY n")]
    if sc == "set_groups":
        return [dump("memberships", f"""
            SELECT c.id, c.gx, c.gy, (m.group_id IS NOT NULL)::int FROM bench.customers c
            LEFT JOIN customer_group_memberships m
              ON m.project_id = {q(pid)} AND m.customer_id = c.id AND m.group_id = c.gy
            WHERE c.n % {toggle_stride(ctx)} = 0 ORDER BY c.n""")]
    if sc == "list_customers":
        return [dump("terms", "SELECT term FROM bench.q ORDER BY n")]
    if sc == "query_groups":
        return [PROJECT_KEY, dump("group-times", """
            SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            FROM bench.groups ORDER BY n""")]
    if sc == "change_name":
        return [PROJECT_KEY, dump("group-versions", f"""
            SELECT g.id, g.version FROM customer_groups g JOIN bench.groups b ON b.id = g.id
            WHERE g.project_id = {q(pid)} ORDER BY b.n""")]
    raise BenchError(f"unknown scenario {sc}")


def data_for(pg_url: str, scenario: str, out: Path) -> int:
    """`--data-for`: the wrk arguments of `scenario` on the seeded xclade_bench_10k at
    `pg_url`, one per line, its data files written under `out`."""
    pg = Pg(pg_url)
    db = "xclade_bench_10k"
    try:
        pid = pg.value(db, f"SELECT project_id FROM projects WHERE key = {q(PROJECT_KEY)}")
        customers = int(pg.value(db, "SELECT count(*) FROM bench.customers"))
    except BenchError as e:
        log(f"no seeded {db} at {pg_url} (run `just bench` there first): {e}")
        return 1
    if not pid:
        log(f"{db} at {pg_url} has no project {PROJECT_KEY} (run `just bench` there first)")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    ctx = {"db": db, "project": {"id": pid}, "customers": customers}
    try:
        args = write_data(pg, ctx, scenario, out / "10k")
    except BenchError as e:
        log(str(e))
        return 2
    print("\n".join(args))
    return 0


def pg_vars(sc: dict, common: dict) -> dict:
    v = dict(common)
    for k, val in sc["pg_vars"].items():
        if k.endswith("@"):
            v[k[:-1]] = (BENCH / "pgbench" / "payloads" / val).read_text().strip()
        else:
            v[k] = val
    return v


# --------------------------------------------------------------------------------------------
# Where the processes run.


class Placement:
    """Moves PostgreSQL (its postmaster and every backend) and the harness with what it starts
    (the service, wrk, pgbench) between two placements on a machine of several CPUs:

    * whole: every process may run on every CPU, as the service is deployed on a machine it
      shares with its database;
    * split: PostgreSQL on CPUs of its own and the rest on the others, as when the database has
      a machine of its own. Only here is pgbench's rate the database's limit; on shared cores it
      is the limit of PostgreSQL and pgbench together, and a service's ratio to it compares the
      CPU of an HTTP stack and its load generator with pgbench's (docs/benchmarks.md).

    The service is restarted on each move, so that it sizes its workers and pool for the CPUs
    it has, as it does at start-up."""

    def __init__(self, pg: Pg, spec: str):
        db, _, clients = spec.partition("/")
        self.db, self.clients = parse_cpu_list(db), parse_cpu_list(clients)
        if not self.db or not self.clients or set(self.db) & set(self.clients):
            raise BenchError(f"--split-cpus {spec}: two disjoint CPU lists expected, such as 0/1")
        self.all = sorted(set(self.db) | set(self.clients))
        data_dir = pg.value("postgres", "SHOW data_directory")
        self.postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])

    def describe(self) -> dict:
        return {"postgres": cpu_list(self.db), "clients": cpu_list(self.clients), "split": True, "phases": True}

    def _pin_postgres(self, cpus: list[int]) -> None:
        kids = subprocess.run(["pgrep", "-P", str(self.postmaster)], capture_output=True, text=True).stdout.split()
        for pid in [str(self.postmaster), *kids]:
            subprocess.run(["taskset", "-a", "-p", "-c", cpu_list(cpus), pid], capture_output=True)

    def _move(self, server: "Server | None", db: list[int], clients: list[int]) -> None:
        if server:
            server.stop()
        self._pin_postgres(db)
        os.sched_setaffinity(0, clients)
        if server:
            server.start()

    def whole(self, server: "Server | None" = None) -> None:
        self._move(server, self.all, self.all)

    def split(self, server: "Server | None" = None) -> None:
        self._move(server, self.db, self.clients)


# --------------------------------------------------------------------------------------------
# The run.


class Run:
    def __init__(self, args):
        self.args = args
        self.pg = Pg(args.pg)
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.data = self.out / "data"
        self.data.mkdir(exist_ok=True)
        self.binary = Path(args.binary)
        self.secret = secrets.token_hex(24)
        self.run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.results: dict = {
            "run_id": self.run_id,
            "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "settings": {
                "connections": args.connections, "threads": args.threads, "duration_s": args.duration,
                "warmup_s": args.warmup, "reps": args.reps, "ceiling_duration_s": args.ceiling_duration,
                "scales": [], "server_env": {k: os.environ[k] for k in ("RUST_LOG", "XCLADE_DB_POOL_SIZE")
                                             if k in os.environ},
            },
            "machine": machine_info(self.pg),
            "scales": {},
        }
        self.load_samples: list[float] = []
        split = getattr(args, "split_cpus", None)  # bench/ab.py builds its own arguments
        self.placement = Placement(self.pg, split) if split else None
        if self.placement:
            self.placement.whole()
            self.results["machine"]["topology"] = self.placement.describe()

    # ---- database -------------------------------------------------------------------------

    def prepare_db(self, scale: str) -> dict:
        n = SCALES[scale]
        db = f"xclade_bench_{scale}"
        t0 = time.time()
        log(f"[{scale}] preparing database {db}")
        self.pg.psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        self.pg.psql("postgres", f"CREATE DATABASE {db}")
        env = dict(os.environ, DATABASE_URL=self.pg.url(db))
        run([str(self.binary), "migrate"], env=env)
        project = json.loads(run([str(self.binary), "projects", "create", PROJECT_KEY, "--json"], env=env))
        client = json.loads(run([str(self.binary), "clients", "create", "--project", PROJECT_KEY, "--json"], env=env))
        log(f"[{scale}] seeding {n} customers, {GROUPS} groups (bench/sql/seed.sql)")
        t1 = time.time()
        self.pg.psql(db, file=BENCH / "sql" / "seed.sql",
                     variables={"pid": project["id"], "actor": client["client_id"], "n": n, "g": GROUPS})
        seed_s = time.time() - t1
        self.refresh_q(db, project["id"])
        counts = dict(zip(
            ["customers", "addresses", "groups", "memberships"],
            self.pg.rows(db, "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customer_addresses), "
                             "(SELECT count(*) FROM customer_groups), (SELECT count(*) FROM customer_group_memberships)")[0]))
        size = self.pg.value(db, f"SELECT pg_size_pretty(pg_database_size('{db}'))")
        log(f"[{scale}] seeded in {seed_s:.1f} s: {counts}, database {size}")
        # Start from a settled server: the seed's dirty pages written out now, not by a checkpoint
        # during the measurement; and time every read and write of a block (the I/O columns).
        self.pg.psql(db, "CHECKPOINT")
        self.pg.psql("postgres", f"ALTER DATABASE {db} SET track_io_timing = on")
        prewarm = self.prewarm(db, scale)
        return {"db": db, "project": project, "client": client, "customers": n, "groups": GROUPS,
                "counts": {k: int(v) for k, v in counts.items()}, "database_size": size,
                "seed_seconds": round(seed_s, 1), "prepare_seconds": round(time.time() - t0, 1),
                "prewarm": prewarm}

    def prewarm(self, db: str, scale: str) -> dict:
        """Loads the seeded tables and indexes into shared_buffers (pg_prewarm), as a database
        that has served this traffic for a while holds them, so that no repetition measures the
        buffers filling from the OS cache (after the seed they usually hold most of it already:
        1 M took 0.1 s; a reused cluster restarted since its seed would not). Skipped, and said
        so, when the extension is not installed or the database does not fit in shared_buffers."""
        try:
            self.pg.psql(db, "CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except BenchError as e:
            log(f"[{scale}] no prewarm: pg_prewarm is not available ({str(e).strip()[-200:]})")
            return {"skipped": "pg_prewarm is not available"}
        fits = self.pg.value(db, "SELECT pg_database_size(current_database()) < "
                                 "(SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers')")
        if fits != "t":
            log(f"[{scale}] no prewarm: the database does not fit in shared_buffers")
            return {"skipped": "the database does not fit in shared_buffers"}
        t0 = time.time()
        blocks = self.pg.value(db, "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c "
                                   "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 't', 'm')")
        secs = round(time.time() - t0, 1)
        log(f"[{scale}] prewarmed {int(blocks or 0):,} blocks into shared_buffers in {secs} s")
        return {"blocks": int(blocks or 0), "seconds": secs}

    def refresh_q(self, db: str, pid: str) -> None:
        """The ids of the page the service answers for each search term (for the ceiling)."""
        self.pg.psql(db, f"""
            UPDATE bench.q SET ids = COALESCE((
              SELECT '{{' || string_agg(id::text, ',' ORDER BY id) || '}}' FROM (
                SELECT c.id FROM customers c WHERE c.project_id = {q(pid)} AND c.deleted_at IS NULL
                  AND customer_search_text(c.email, c.first_name, c.last_name, c.company_name) ILIKE bench.q.pattern
                  AND (c.email ILIKE bench.q.pattern OR c.first_name ILIKE bench.q.pattern
                       OR c.last_name ILIKE bench.q.pattern OR c.company_name ILIKE bench.q.pattern)
                ORDER BY c.id LIMIT 50) page), '{{}}')""")

    def term_stats(self, ctx: dict) -> dict:
        rows = self.pg.rows(ctx["db"], f"""
            SELECT min(m), round(avg(m)), max(m) FROM (
              SELECT (SELECT count(*) FROM customers c WHERE c.project_id = {q(ctx['project']['id'])}
                       AND c.deleted_at IS NULL
                       AND customer_search_text(c.email, c.first_name, c.last_name, c.company_name) ILIKE t.pattern
                       AND (c.email ILIKE t.pattern OR c.first_name ILIKE t.pattern
                       OR c.last_name ILIKE t.pattern OR c.company_name ILIKE t.pattern)) AS m
              FROM bench.q t) s""")
        mn, avg, mx = rows[0]
        return {"terms": int(self.pg.value(ctx["db"], "SELECT count(*) FROM bench.q")),
                "matches_min": int(mn), "matches_avg": int(float(avg)), "matches_max": int(mx)}

    # ---- load generator and ceiling --------------------------------------------------------

    def wrk(self, ctx: dict, sc: dict, seconds: int, tag: str) -> dict:
        extra = write_data(self.pg, ctx, sc["name"], self.data / ctx["scale"])
        cmd = ["wrk", "-t", str(self.args.threads), "-c", str(self.args.connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", str(BENCH / "lua" / sc["lua"]), ctx["server"].base, "--",
               ctx["token"], str(self.args.threads), tag, *extra]
        server = ctx["server"]
        load0 = loadavg()
        cpu0, pg0, ch0 = server.cpu_seconds(), backend_cpu_seconds(ctx["db"]), children_cpu()
        p = subprocess.run(cmd, capture_output=True, text=True)
        cpu1, pg1, ch1 = server.cpu_seconds(), backend_cpu_seconds(ctx["db"]), children_cpu()
        load1 = loadavg()
        line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
        if p.returncode != 0 or line is None:
            raise BenchError(f"wrk failed for {sc['name']}: {p.stderr.strip()[:1000]} {p.stdout[-1000:]}")
        r = json.loads(line[len("BENCHJSON "):])
        secs = r["duration_us"] / 1e6
        r["rps"] = r["requests"] / secs if secs else 0.0
        reqs = max(r["requests"], 1)
        r["cpu_us_per_request"] = {
            "server": round((cpu1 - cpu0) / reqs * 1e6, 1),
            "postgres_backends": round((pg1 - pg0) / reqs * 1e6, 1),
            "wrk": round((ch1 - ch0) / reqs * 1e6, 1),
        }
        r["cpu_cores_busy"] = {"server": round((cpu1 - cpu0) / secs, 2), "postgres_backends": round((pg1 - pg0) / secs, 2),
                               "wrk": round((ch1 - ch0) / secs, 2)}
        r["loadavg_1m"] = [load0, load1]
        self.load_samples += [load0, load1]
        return r

    def pgbench(self, ctx: dict, sc: dict, seconds: int, clients: int | None = None) -> dict:
        if sc["name"] == "list_customers":
            self.refresh_q(ctx["db"], ctx["project"]["id"])
        common = {
            **script_constants(ctx),
            "ncust": str(ctx["customers"]), "ngroups": str(ctx["groups"]), "stride": str(toggle_stride(ctx)),
            "nterms": self.pg.value(ctx["db"], "SELECT count(*) FROM bench.q"),
        }
        mode = ctx.get("pgbench_modes", {}).get(sc["name"], "prepared")
        clients = clients or self.args.connections
        cmd = ["pgbench", "-n", "-M", mode, "-c", str(clients), "-j", str(min(self.args.threads, clients)),
               "-T", str(seconds), "-f", str(effective_script(BENCH / "pgbench" / sc["pgbench"], self.out / "pgbench"))]
        for k, v in pg_vars(sc, common).items():
            cmd += ["-D", f"{k}={v}"]
        # Every transaction's latency (pgbench -l), for the ceiling's own p50 and p99: the tail
        # the database gives the service's SQL with no HTTP in front of it.
        logdir = Path(tempfile.mkdtemp(prefix="pgbench-log-", dir=self.out))
        cmd += ["-l", f"--log-prefix={logdir / 'tx'}"]
        cmd.append(self.pg.url(ctx["db"]))
        load0 = loadavg()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=logdir)
        latencies = pgbench_latencies(logdir)
        shutil.rmtree(logdir, ignore_errors=True)
        load1 = loadavg()
        self.load_samples += [load0, load1]
        if p.returncode != 0:
            raise BenchError(f"pgbench failed for {sc['name']}: {p.stderr.strip()[-1500:]}")

        def grab(pattern: str, cast=float, default=None):
            m = re.search(pattern, p.stdout)
            return cast(m.group(1)) if m else default

        return {
            "tps": grab(r"tps = ([\d.]+) \(without initial connection time\)"),
            "latency_avg_ms": grab(r"latency average = ([\d.]+) ms"),
            "latency_stddev_ms": grab(r"latency stddev = ([\d.]+) ms"),
            "transactions": grab(r"number of transactions actually processed: (\d+)", int),
            "failed": grab(r"number of failed transactions: (\d+)", int, 0),
            "latency_p50_ms": round(percentile(latencies, 50) / 1000, 3) if latencies else None,
            "latency_p99_ms": round(percentile(latencies, 99) / 1000, 3) if latencies else None,
            "clients": clients,
            "loadavg_1m": [load0, load1],
        }

    # ---- SQL check: the ceilings run what the service sends --------------------------------

    def pg_log_path(self, db: str) -> Path | None:
        if self.args.pg_log:
            p = Path(self.args.pg_log)
            return p if os.access(p, os.R_OK) else None
        try:
            current = self.pg.value(db, "SELECT pg_current_logfile()")
            if current:
                p = Path(current)
                if not p.is_absolute():
                    p = Path(self.pg.value(db, "SHOW data_directory")) / p
                return p if os.access(p, os.R_OK) else None
            cluster = self.pg.value(db, "SHOW cluster_name")  # Debian: "15/main"
            if "/" in cluster:
                version, name = cluster.split("/", 1)
                p = Path(f"/var/log/postgresql/postgresql-{version}-{name}.log")
                return p if os.access(p, os.R_OK) else None
        except BenchError:
            return None
        return None

    def sql_check(self, ctx: dict) -> dict:
        """Runs one request of each scenario with log_statement = all on the bench database and
        compares the statements the service sent with the pgbench script's."""
        db, server = ctx["db"], ctx["server"]
        logfile = self.pg_log_path(db)
        if logfile is None:
            log("SQL check skipped: the PostgreSQL log is not readable here")
            return {"skipped": "the PostgreSQL server log is not readable from here"}
        pid = ctx["project"]["id"]
        # Everything the probes need, read before logging starts.
        cust, gx, gy = self.pg.rows(db, f"""
            SELECT c.id, c.gx, c.gy FROM bench.customers c JOIN customer_group_memberships m
              ON m.project_id = {q(pid)} AND m.customer_id = c.id AND m.group_id = c.gy ORDER BY c.n LIMIT 1""")[0]
        term = self.pg.value(db, "SELECT term FROM bench.q ORDER BY n LIMIT 1")
        ts = self.pg.value(db, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                               "FROM bench.groups WHERE n = 500")
        gid, version = self.pg.rows(db, f"SELECT b.id, g.version FROM bench.groups b JOIN customer_groups g "
                                        f"ON g.project_id = {q(pid)} AND g.id = b.id WHERE b.n = 7")[0]
        server.stop()
        self.pg.psql(db, f"ALTER DATABASE {db} SET log_statement = 'all'")
        # Durations of every protocol step: a `parse` line shows a statement prepared for this
        # execution (not kept by the connection).
        self.pg.psql(db, f"ALTER DATABASE {db} SET log_min_duration_statement = 0")
        base, tok = server.base, ctx["token"]
        probes = {
            "create_customer": lambda i: http("POST", base + "/admin/customers", tok, {
                "email": f"sqlcheck-{self.run_id}-{i}@load.example", "company_name": "Loadtest Ltd",
                "first_name": "Load", "last_name": "Tester", "phone": "+1 555 0100", "metadata": {"source": "bench"}}),
            "get_customer": lambda i: http("GET", f"{base}/admin/customers/{cust}", tok),
            "get_group": lambda i: http("GET", f"{base}/{PROJECT_KEY}/customer-groups/{gid}", tok),
            # Even attempts move the customer from gy to gx, odd ones back: each adds one, removes one.
            "set_groups": lambda i: http("POST", f"{base}/admin/customers/{cust}/customer-groups", tok,
                                         {"add": [(gx, gy)[i % 2]], "remove": [(gy, gx)[i % 2]]}),
            "list_customers": lambda i: http("GET", f"{base}/admin/customers?q={term}&limit=50", tok),
            "query_groups": lambda i: http("GET", f"{base}/{PROJECT_KEY}/customer-groups?" + urllib.parse.urlencode(
                {"where": f'createdAt > "{ts}"', "limit": "20"}), tok),
            "change_name": lambda i: http("POST", f"{base}/{PROJECT_KEY}/customer-groups/{gid}", tok, {
                "version": int(version) + i, "actions": [{"action": "changeName", "name": f"SQL check {self.run_id} {i}"}]}),
        }
        # Each probe is sent three times and the last one is compared: by then every
        # connection the probes use has seen the request's statements once, so a statement parsed
        # again is one the service prepares for every execution.
        attempts = 3
        report = {}
        try:
            server.start()
            http("GET", base + "/health/ready")  # opens the pooled connection the probes reuse
            http("GET", base + "/health/ready")
            for name in ctx["scenarios"]:
                for attempt in range(attempts):
                    time.sleep(0.3)
                    start = logfile.stat().st_size
                    status, body = probes[name](attempt)
                    if status // 100 != 2:
                        raise BenchError(f"SQL check {name}: HTTP {status}: {str(body)[:300]}")
                time.sleep(0.5)
                with open(logfile, "rb") as f:
                    f.seek(start)
                    text = f.read().decode(errors="replace")
                # Lines of the server's pooled connections only (log_line_prefix has [%p]).
                # … and not of the background pool (the outbox backlog count, once a second).
                background = {int(x) for x in self.pg.value(db, "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity "
                              "WHERE application_name = 'xclade-customers-background'").split()}
                pids = backend_pids(db) - background
                sent, names, parsed = [], [], set()
                for line in text.splitlines():
                    m = re.search(r"\[(\d+)\].*?LOG:  (?:execute ([^:]+)|statement): (.*)$", line)
                    if m and int(m.group(1)) in pids and normalize(m.group(3)) != "SELECT 1":
                        sent.append(m.group(3))
                        names.append(m.group(2))
                    m = re.search(r"\[(\d+)\].*?LOG:  duration: [\d.]+ ms  parse [^:]+: (.*)$", line)
                    if m and int(m.group(1)) in pids:
                        parsed.add(normalize(m.group(2)))
                protocols = [protocol_of(n, normalize(s) in parsed) for n, s in zip(names, sent)]
                script = script_statements(BENCH / "pgbench" / BY_NAME[name]["pgbench"])
                expected = [normalize(s) for s in script]
                # `SELECT 1` is the pool's check of a connection idle for over 2 s (never sent under
                # load, where connections are busy): not part of the request's SQL.
                got = [normalize(s) for s in sent if normalize(s) != "SELECT 1"]
                match = got == expected
                diff = []
                if not match:
                    for i in range(max(len(got), len(expected))):
                        a = got[i] if i < len(got) else "(none)"
                        b = expected[i] if i < len(expected) else "(none)"
                        if a != b:
                            diff.append({"round_trip": i + 1, "service": a[:400], "pgbench": b[:400]})
                trips = script_round_trips(BENCH / "pgbench" / BY_NAME[name]["pgbench"])
                mode = pgbench_mode(protocols)
                ctx.setdefault("pgbench_modes", {})[name] = mode
                report[name] = {"match": match, "statements_sent": len(got), "round_trips": trips["service"],
                                "ceiling_draw_round_trips": trips["draw"], "statements": got, "diff": diff[:5],
                                "protocols": protocols, "pgbench_mode": mode}
                log(f"SQL check {name}: {len(got)} statements in {trips['service']} round trips, "
                    f"{'same SQL as the pgbench script' if match else 'DIFFERS from the pgbench script'}; "
                    f"protocols {','.join(protocols)} -> pgbench -M {mode}")
        finally:
            self.pg.psql(db, f"ALTER DATABASE {db} RESET log_statement")
            self.pg.psql(db, f"ALTER DATABASE {db} RESET log_min_duration_statement")
            server.stop()
            server.start()
        return report

    # ---- seed check: bulk rows look like the service's --------------------------------------

    def seed_check(self, ctx: dict) -> dict:
        db, base = ctx["db"], ctx["server"].base
        env = dict(os.environ, DATABASE_URL=self.pg.url(db))
        run([str(self.binary), "projects", "create", "benchcheck", "--json"], env=env)
        client = json.loads(run([str(self.binary), "clients", "create", "--project", "benchcheck", "--json"], env=env))
        tok = token_for(base, client)
        groups = [ok(*http("POST", f"{base}/benchcheck/customer-groups", tok,
                           {"groupName": f"Group {j:04d}", "key": f"group-{j:04d}"}), "group")["id"] for j in (1, 2, 3)]
        c = ok(*http("POST", f"{base}/admin/customers", tok, {
            "email": "alan.corton1@example.com", "company_name": "Company 001", "first_name": "Alan",
            "last_name": "Corton", "phone": "+1 555 0000001", "metadata": {"source": "import", "tier": "silver"}}),
            "customer")["customer"]
        cid = c["id"]
        ok(*http("POST", f"{base}/admin/customers/{cid}/addresses", tok, {
            "address_name": "Home", "first_name": "Alan", "last_name": "Corton", "address_1": "101 Main Street",
            "address_2": "Apt 2", "city": "Riverside", "country_code": "us", "province": "us-ca",
            "postal_code": "10001", "phone": "+1 555 0000001", "metadata": {},
            "is_default_billing": True, "is_default_shipping": True}), "address 1")
        ok(*http("POST", f"{base}/admin/customers/{cid}/addresses", tok, {
            "address_name": "Office", "company": "Company 001", "first_name": "Alan", "last_name": "Corton",
            "address_1": "101 Market Street", "city": "Riverside", "country_code": "us", "province": "us-ca",
            "postal_code": "10001", "phone": "+1 555 0000001", "metadata": {}}), "address 2")
        ok(*http("POST", f"{base}/admin/customers/{cid}/customer-groups", tok, {"add": groups}), "groups")
        seeded = self.pg.value(db, "SELECT id FROM bench.customers WHERE n = 1")

        def rows_of(customer: str) -> dict:
            def js(sql: str) -> list:
                return [json.loads(r) for r in self.pg.psql(db, sql).splitlines() if r]
            return {
                "customer": js(f"SELECT to_jsonb(c) FROM customers c WHERE id = {q(customer)}"),
                "addresses": js(f"SELECT to_jsonb(a) FROM customer_addresses a WHERE customer_id = {q(customer)} ORDER BY id"),
                "memberships": js(f"SELECT to_jsonb(m) FROM customer_group_memberships m WHERE customer_id = {q(customer)} ORDER BY group_id"),
                "groups": js(f"""SELECT to_jsonb(g) || jsonb_build_object('_members',
                                   (SELECT count(*) FROM customer_group_memberships x WHERE x.group_id = g.id),
                                   '_last_join', (SELECT max(created_at) FROM customer_group_memberships x WHERE x.group_id = g.id))
                                 FROM customer_groups g WHERE g.id IN (SELECT group_id FROM customer_group_memberships
                                 WHERE customer_id = {q(customer)}) ORDER BY id"""),
            }

        def invariants(r: dict, actor: str) -> dict:
            cu, a, m, g = r["customer"][0], r["addresses"], r["memberships"], r["groups"]
            ts = lambda s: dt.datetime.fromisoformat(s)  # noqa: E731
            stamps = [cu["created_at"], cu["updated_at"]] + [x["created_at"] for x in a + m + g] + \
                     [x["updated_at"] for x in a] + [x["last_modified_at"] for x in g]
            return {
                "ids are UUIDv7": all(x[14] == "7" for x in [cu["id"]] + [y["id"] for y in a + g]),
                "timestamps in whole milliseconds": all(ts(s).microsecond % 1000 == 0 for s in stamps),
                "two addresses, the first the default billing and shipping":
                    len(a) == 2 and cu["default_billing_address_id"] == a[0]["id"] == cu["default_shipping_address_id"],
                "customer updated_at = second address created_at": ts(cu["updated_at"]) == ts(a[1]["created_at"]),
                "addresses after the customer, ids in creation order":
                    ts(cu["created_at"]) < ts(a[0]["created_at"]) < ts(a[1]["created_at"]) and cu["id"] < a[0]["id"] < a[1]["id"],
                "three memberships, after the addresses":
                    len(m) == 3 and all(ts(x["created_at"]) >= ts(a[1]["created_at"]) for x in m),
                "group version = 1 + members that joined": all(x["version"] == 1 + x["_members"] for x in g),
                "group last_modified_at = last join": all(ts(x["last_modified_at"]) == ts(x["_last_join"]) for x in g),
                "created_by is the API client": cu["created_by"] == actor and all(
                    x["created_by"] == {"clientId": actor} == x["last_modified_by"] for x in g),
            }

        def shape(v):
            if isinstance(v, dict):
                return {k: shape(x) for k, x in v.items()}
            if isinstance(v, list):
                return [shape(v[0])] if v else []
            return type(v).__name__

        svc, bulk = rows_of(cid), rows_of(seeded)
        inv_svc = invariants(svc, client["client_id"])
        inv_bulk = invariants(bulk, ctx["client"]["client_id"])
        row_shapes_equal = all(
            [shape(x) for x in svc[t]] == [shape(x) for x in bulk[t]] for t in ("customer", "addresses", "memberships"))
        group_shapes_equal = [shape(x) for x in svc["groups"]] == [shape(x) for x in bulk["groups"]]
        get_svc = ok(*http("GET", f"{base}/admin/customers/{cid}", tok), "GET service customer")
        get_bulk = ok(*http("GET", f"{base}/admin/customers/{seeded}", ctx["token"]), "GET seeded customer")
        api_shapes_equal = shape(get_svc) == shape(get_bulk)
        passed = row_shapes_equal and group_shapes_equal and api_shapes_equal and all(inv_svc.values()) and all(inv_bulk.values())
        report = {"passed": passed, "row_shapes_equal": row_shapes_equal and group_shapes_equal,
                  "api_shapes_equal": api_shapes_equal, "invariants_service": inv_svc, "invariants_seed": inv_bulk}
        log(f"seed check: {'seeded rows have the shape and invariants of service-written rows' if passed else 'FAILED'}")
        if not passed:
            log(json.dumps(report, indent=1))
        return report

    # ---- EXPLAIN --------------------------------------------------------------------------

    def explain(self, ctx: dict, scenarios: list[str]) -> tuple[str, dict]:
        """EXPLAIN (ANALYZE, BUFFERS) of every statement of each scenario's script, each as a
        prepared statement after five executions (what a pooled connection runs), in a
        transaction that is rolled back."""
        db = ctx["db"]
        common = script_constants(ctx)
        self.refresh_q(db, ctx["project"]["id"])
        md = [f"# EXPLAIN plans at {ctx['scale']} ({ctx['customers']:,} customers)\n",
              "Each statement of each scenario's pgbench script (the SQL the service sends), prepared and executed "
              "five times first (so the plan is the one a pooled connection settles on), then "
              "`EXPLAIN (ANALYZE, BUFFERS)`, inside a transaction that is rolled back. Scenarios the service "
              "sends unnamed (pgbench `-M extended`) are explained with `plan_cache_mode = force_custom_plan`: "
              "planned for their parameters, as PostgreSQL plans an unnamed statement.\n"]
        summary = {}
        for name in scenarios:
            sc = BY_NAME[name]
            variables = pg_vars(sc, common)
            path = BENCH / "pgbench" / sc["pgbench"]
            lines = [f"\\set n {self.explain_key(ctx, name)}", "BEGIN;"]
            if ctx.get("pgbench_modes", {}).get(name, "prepared") != "prepared":
                # The service sends this scenario's statements unnamed (or prepared for one
                # execution): PostgreSQL plans them for their parameters every time.
                lines.append("SET LOCAL plan_cache_mode = force_custom_plan;")
            for var, expr in script_draws(path):
                quoted = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r":'\1'", expr)
                lines.append(f"SELECT ({quoted}) AS {var} \\gset")
            stmt_no = 0
            for raw in path.read_text().splitlines():
                s = raw.strip()
                if not s or s.startswith("--") or s.startswith("\\set n ") or s.endswith("pipeline"):
                    continue
                if s.startswith("\\set newversion"):
                    lines.append("SELECT :'version'::bigint + 1 AS newversion \\gset")
                    continue
                gset = s.endswith("\\gset")
                s = re.sub(r"\s*\\gset\s*$", "", s).rstrip(";")
                if s in ("BEGIN", "COMMIT"):
                    continue
                if is_draw_statement(raw):  # a draw with a round trip of its own
                    lines.append(re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r":'\1'", s) + " \\gset")
                    continue
                stmt_no += 1
                params: list[str] = []

                def sub(m):
                    params.append(m.group(1))
                    return f"${len(params)}"
                text = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", sub, s)
                args = "(" + ", ".join(f":'{p}'" for p in params) + ")" if params else ""
                is_select = text.lstrip().upper().startswith("SELECT")
                lines.append(f"\\echo '@@@ {stmt_no} {text[:60]}'")
                lines.append(f"\\echo '@@@SQL {text}'")
                lines.append(f"PREPARE s{stmt_no} AS {text};")
                if is_select:
                    lines += [f"EXECUTE s{stmt_no}{args} \\g /dev/null"] * 5
                lines.append(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE s{stmt_no}{args};")
                if gset:
                    lines.append(f"EXECUTE s{stmt_no}{args} \\gset")
            lines.append("ROLLBACK;")
            script = self.out / f"explain-{ctx['scale']}-{name}.psql"
            script.write_text("\n".join(lines) + "\n")
            cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg.url(db), "-f", str(script)]
            for k, v in variables.items():
                cmd += ["-v", f"{k}={v}"]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise BenchError(f"EXPLAIN of {name} failed: {p.stderr[-1500:]}")
            md.append(f"\n## {sc['title']}\n")
            blocks = re.split(r"^@@@ ", p.stdout, flags=re.M)[1:]
            stmts = []
            for b in blocks:
                head, _, rest = b.partition("\n")
                sql_line, _, plan = rest.partition("\n")
                sql = sql_line.removeprefix("@@@SQL ")
                plan = "\n".join(ln for ln in plan.splitlines() if ln.strip() and not ln.startswith("(")
                                 and "QUERY PLAN" not in ln and not set(ln.strip()) <= {"-"})
                exec_ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
                seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
                stmts.append({"sql": sql[:300], "execution_ms": float(exec_ms.group(1)) if exec_ms else None,
                              "seq_scans": seq, "top": plan.splitlines()[0].strip() if plan else ""})
                md.append(f"\n**{head.split(' ', 1)[0]}.** `{sql[:160]}{'…' if len(sql) > 160 else ''}`\n")
                md.append("```\n" + plan + "\n```\n")
            summary[name] = stmts
        return "\n".join(md), summary

    def explain_key(self, ctx: dict, name: str) -> int:
        if name in ("get_customer", "set_groups"):
            return ctx["customers"] // 2
        if name == "list_customers":
            return 1
        return 500

    # ---- one scale -------------------------------------------------------------------------

    def run_scale(self, scale: str, scenarios: list[str]) -> dict:
        ctx = self.prepare_db(scale)
        ctx["scale"] = scale
        ctx["scenarios"] = scenarios
        server = Server(self.binary, self.pg.url(ctx["db"]), self.args.bind, self.out / f"server-{scale}.log", self.secret)
        ctx["server"] = server
        out: dict = {"database": {k: v for k, v in ctx.items() if k in (
            "db", "customers", "groups", "counts", "database_size", "seed_seconds", "prepare_seconds", "prewarm")},
            "scenarios": {}}
        try:
            server.truncate_log() if server.log_path.exists() else None
            server.start()
            ctx["token"] = token_for(server.base, ctx["client"])
            out["seed_check"] = self.seed_check(ctx) if not self.args.skip_checks else {"skipped": True}
            out["sql_check"] = self.sql_check(ctx) if not self.args.skip_checks else {"skipped": True}
            ctx["token"] = token_for(server.base, ctx["client"])
            out["search_terms"] = self.term_stats(ctx)
            out["server_rss_idle_kb"] = server.status_kb("VmRSS")
            for name in scenarios:
                out["scenarios"][name] = self.run_scenario(ctx, BY_NAME[name])
                self.write_results(partial=True)
            out["server_rss_end_kb"] = server.status_kb("VmRSS")
        finally:
            server.stop()
        if not self.args.skip_explain:
            md, summary = self.explain(ctx, scenarios)
            (self.out / f"explain-{scale}.md").write_text(md)
            out["explain"] = summary
        if scale == "10k" and not getattr(self.args, "skip_instructions", True):
            for name in INSTRUCTION_SCENARIOS:
                if name in scenarios:
                    out["scenarios"][name]["instructions"] = self.instructions(name)
                    self.write_results(partial=True)
        return out

    def instructions(self, name: str) -> dict:
        """The server's user-space instructions per request of a simple scenario, counted by
        callgrind (bench/instructions.sh): a figure that, unlike CPU seconds, does not move with
        the machine's speed or load, so runs on different machines or hours compare."""
        if not shutil.which("valgrind"):
            log(f"[10k] {name}: valgrind is not installed; no instruction count")
            return {"skipped": "valgrind is not installed"}
        env = dict(os.environ, BENCH_PG_URL=self.args.pg.rstrip("/"),
                   CARGO_TARGET_DIR=str(self.out / "callgrind"))
        try:
            text = run(["bash", str(ROOT / "bench" / "instructions.sh"), str(self.binary), name, "6"], env=env)
        except BenchError as e:
            log(f"[10k] {name}: instruction count failed: {e}")
            return {"failed": str(e)[-500:]}
        m = re.search(r"([\d,]+) instructions per request \((\d+) requests(, (\d+) not ok)?", text)
        if not m or m.group(3):
            log(f"[10k] {name}: no valid instruction count in: {text.strip()[-300:]}")
            return {"failed": text.strip()[-500:]}
        count = int(m.group(1).replace(",", ""))
        log(f"[10k] {name}: {count:,} instructions per request (callgrind, {m.group(2)} requests)")
        return {"per_request": count, "requests": int(m.group(2))}

    def run_scenario(self, ctx: dict, sc: dict) -> dict:
        server, a = ctx["server"], self.args
        name = sc["name"]
        server.truncate_log()
        # Start from a settled database: what the previous scenario wrote is checkpointed now,
        # and not by a checkpoint that runs while this one is measured (at 1 M the customer read
        # came right after the creates, whose WAL starts a checkpoint about once a minute;
        # docs/benchmarks.md, change 39). A scenario's own writes still start checkpoints.
        self.pg.psql(ctx["db"], "CHECKPOINT")
        place = self.placement
        med = lambda xs: statistics.median(xs)  # noqa: E731

        def warm(seconds: int) -> None:
            if seconds > 0:
                log(f"[{ctx['scale']}] {name}: warm-up {seconds} s")
                self.wrk(ctx, sc, seconds, f"{self.run_id}-{ctx['scale']}-w")

        def summary(reps: list[dict]) -> dict:
            return {
                "rps": round(med([r["rps"] for r in reps]), 1),
                "p50_ms": round(med([r["latency_us"]["p50"] for r in reps]) / 1000, 3),
                "p99_ms": round(med([r["latency_us"]["p99"] for r in reps]) / 1000, 3),
                "max_ms": round(med([r["latency_us"]["max"] for r in reps]) / 1000, 3),
                "server_cpu_us_per_request": med([r["cpu_us_per_request"]["server"] for r in reps]),
                "postgres_cpu_us_per_request": med([r["cpu_us_per_request"]["postgres_backends"] for r in reps]),
                "wrk_cpu_us_per_request": med([r["cpu_us_per_request"]["wrk"] for r in reps]),
            }

        def measure(phase: str, seconds: int, clients: int | None) -> tuple[list[dict], list[dict]]:
            reps, ceilings = [], []
            for i in range(1, a.reps + 1):
                reset = server.reset_peak_rss()
                io0 = self.io_stats(ctx["db"])
                r = self.wrk(ctx, sc, seconds, f"{self.run_id}-{ctx['scale']}-{phase}{i}")
                r["io"] = {k: round(v - io0[k], 1) for k, v in self.io_stats(ctx["db"]).items()}
                r["peak_rss_kb"] = server.status_kb("VmHWM") if reset else None
                r["rss_end_kb"] = server.status_kb("VmRSS")
                if not server.alive():
                    raise BenchError(f"the server died during {name}")
                reps.append(r)
                text = (f"[{ctx['scale']}] {name} {phase} #{i}: {r['rps']:.0f} req/s, "
                        f"p50 {r['latency_us']['p50'] / 1000:.2f} ms, p99 {r['latency_us']['p99'] / 1000:.2f} ms, "
                        f"errors {r['http_errors'] + r['socket_errors']}, 409 {r['conflicts_409']}, "
                        f"peak RSS {(r['peak_rss_kb'] or 0) / 1024:.1f} MB, server {r['cpu_us_per_request']['server']:.0f} µs")
                if clients:
                    c = self.pgbench(ctx, sc, a.ceiling_duration, clients)
                    ceilings.append(c)
                    text += f" | pgbench {c['tps']:.0f} tps (failed {c['failed']}, p99 {c.get('latency_p99_ms')} ms)"
                log(text + f" | load {r['loadavg_1m'][1]:.2f}")
            return reps, ceilings

        def probe_clients() -> tuple[int, dict]:
            # The ceiling is pgbench at its best client count: PostgreSQL serves a pipelined
            # read faster from 2–8 busy backends than from 16 taking turns on the same core
            # (on one core of its own, 8 200 against 4 600 reads/s), so 16 clients alone would
            # understate the database's limit and flatter the ratio.
            probe = {}
            for n in sorted({c for c in (2, 4, 8, a.connections) if c <= a.connections}):
                probe[n] = self.pgbench(ctx, sc, max(min(a.warmup, 3), 2), n)["tps"] or 0.0
            best = max(probe, key=lambda n: probe[n])
            log(f"[{ctx['scale']}] {name}: pgbench clients probe "
                + ", ".join(f"{n}: {t:.0f} tps" for n, t in probe.items()) + f" → {best} clients")
            return best, probe

        split_part = None
        if place:
            # The whole machine: the service with its defaults on every core, PostgreSQL on
            # every core (throughput, latency and CPU per request).
            place.whole(server)
            warm(a.warmup)
            reps, _ = measure("whole", a.duration, None)
            # The database on cores of its own: the ratio to its ceiling.
            place.split(server)
            warm(a.warmup)
            best, probe = probe_clients()
            split_reps, ceilings = measure("split", a.ceiling_duration, best)
            split_part = summary(split_reps)
            split_part["runs"] = split_reps
        else:
            warm(a.warmup)
            best, probe = probe_clients()
            reps, ceilings = measure("shared", a.duration, best)
            split_reps = reps
        problems = server.log_problems()
        server.truncate_log()
        # The ceiling is the best of its repetitions: on a shared machine noise only ever lowers
        # a rate, and the ceiling is what the database was seen to do. The service's rate is the
        # median of its repetitions, so the ratio errs low, never high.
        tps = max(c["tps"] for c in ceilings)
        rated = med([r["rps"] for r in split_reps])
        all_reps = reps + (split_reps if place else [])
        peak = [r["peak_rss_kb"] for r in all_reps if r["peak_rss_kb"] is not None]
        median = summary(reps)
        median.update({
            "ceiling_tps": round(tps, 1),
            "ratio_to_ceiling": round(rated / tps, 3) if tps else None,
            "ceiling_latency_avg_ms": med([c["latency_avg_ms"] for c in ceilings]),
            "ceiling_p99_ms": med(p99s) if (p99s := [c["latency_p99_ms"] for c in ceilings
                                                      if c.get("latency_p99_ms") is not None]) else None,
        })
        return {
            "title": sc["title"],
            "median": median,
            "split": split_part,
            "errors": sum(r["http_errors"] + r["socket_errors"] for r in all_reps),
            "conflicts_409": sum(r["conflicts_409"] for r in all_reps),
            "ceiling_failed": sum(c["failed"] for c in ceilings),
            "ceiling_clients": best,
            "ceiling_probe_tps": {str(n): round(t, 1) for n, t in probe.items()},
            "peak_rss_kb": max(peak) if peak else None,
            "server_log": problems,
            "runs": reps,
            "ceiling_runs": ceilings,
        }

    def io_stats(self, db: str) -> dict:
        """Block reads that missed shared_buffers and their time (track_io_timing), block writes
        by backends and checkpoints, and checkpoints, so far: deltas around a run show whether the
        tail latency came from the disk or a checkpoint."""
        row = self.pg.rows(db, f"""
            SELECT d.blks_read, d.blk_read_time, d.blk_write_time, b.checkpoints_timed + b.checkpoints_req,
                   b.buffers_checkpoint, b.buffers_backend
            FROM pg_stat_database d, pg_stat_bgwriter b WHERE d.datname = {q(db)}""")[0]
        keys = ["blocks_read", "read_ms", "write_ms", "checkpoints", "buffers_checkpoint", "buffers_backend"]
        return {k: float(v or 0) for k, v in zip(keys, row)}

    # ---- output ----------------------------------------------------------------------------

    def write_results(self, partial: bool = False) -> None:
        self.results["partial"] = partial
        self.results["loadavg_1m_during_run"] = {
            "min": min(self.load_samples) if self.load_samples else None,
            "median": statistics.median(self.load_samples) if self.load_samples else None,
            "max": max(self.load_samples) if self.load_samples else None,
        }
        (self.out / "results.json").write_text(json.dumps(self.results, indent=2) + "\n")
        if not partial:
            (self.out / "results.md").write_text(render_markdown(self.results))


# --------------------------------------------------------------------------------------------
# Report.

TARGETS_TEXT = {
    "create_customer": "≥ 3 500 req/s, p99 ≤ 5 ms",
    "get_customer": "≥ 8 000 req/s, p99 ≤ 5 ms",
}


def render_markdown(res: dict) -> str:
    s = res["settings"]
    m = res["machine"]
    load = res["loadavg_1m_during_run"]
    out = []
    topo = m.get("topology", {})
    if topo.get("phases"):
        where = (f"each scenario measured twice: on the whole machine (PostgreSQL, the server and wrk on every core: "
                 f"req/s, latency, CPU per request), then with PostgreSQL on CPU {topo['postgres']} of its own and the "
                 f"server, wrk and pgbench on CPU {topo['clients']} (the split req/s and its pgbench ceiling: the ratio)")
    elif topo.get("split"):
        where = (f"PostgreSQL on CPU {topo['postgres']} of its own; the server, wrk and pgbench on CPU "
                 f"{topo['clients']}")
    else:
        where = (f"PostgreSQL, the server, wrk and pgbench sharing the same cores (PostgreSQL on CPU "
                 f"{topo.get('postgres', 'unknown')}, the others on {topo.get('clients', 'unknown')})")
    out.append(f"Run `{res['run_id']}` ({res['started_at']}); {m['cpu_model']}, {m['cores']} cores, "
               f"{m['memory_gib']} GiB; {m['postgres']}; {where}.  ")
    out.append(f"wrk: {s['connections']} connections, {s['threads']} threads, {s['duration_s']} s × {s['reps']} "
               f"after a {s['warmup_s']} s warm-up; pgbench ceiling: same statements sent the same way (`-M` per scenario), "
               f"at the best of 2, 4, 8 and {s['connections']} clients in a probe (`-c`), {s['ceiling_duration_s']} s × "
               f"{s['reps']}; the service's figures are medians of the repetitions, the ceiling the best of its own.  ")
    out.append(f"1-minute load average during the run: min {fmt(load['min'])}, median {fmt(load['median'])}, "
               f"max {fmt(load['max'])}; other processes at start: {m.get('busy_at_start') or 'none seen'}.\n")
    for scale, sres in res["scales"].items():
        db = sres["database"]
        c = db["counts"]
        from_run = f" (run `{sres['run_id']}`)" if sres.get("run_id") and sres["run_id"] != res["run_id"] else ""
        out.append(f"\n### {scale}{from_run}: {c['customers']:,} customers, {c['addresses']:,} addresses, "
                   f"{c['groups']:,} groups, {c['memberships']:,} memberships ({db['database_size']})\n")
        phases = any(r.get("split") for r in sres["scenarios"].values())
        out.append("| scenario | req/s | p50 ms | p99 ms | max ms | errors | 409s | peak RSS MB | server CPU µs/req | "
                   "PostgreSQL CPU µs/req | " + ("split req/s | " if phases else "")
                   + "pgbench tps | -M | -c | ratio | round trips |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if phases else "")
                   + "---:|---|---:|---:|---:|")
        for name, r in sres["scenarios"].items():
            md = r["median"]
            rt = sres.get("sql_check", {}).get(name, {}).get("round_trips", "")
            mode = sres.get("sql_check", {}).get(name, {}).get("pgbench_mode", "prepared")
            split_rps = f"{r['split']['rps']:,.0f} | " if phases and r.get("split") else ("| " if phases else "")
            own_run = f" (run `{r['run_id']}`)" if r.get("run_id") and r["run_id"] != sres.get("run_id") else ""
            out.append(
                f"| {r['title']}{own_run} | {md['rps']:,.0f} | {md['p50_ms']:.2f} | {md['p99_ms']:.2f} | {md['max_ms']:.1f} | "
                f"{r['errors']} | {r['conflicts_409']} | {(r['peak_rss_kb'] or 0) / 1024:.1f} | "
                f"{md['server_cpu_us_per_request']:.0f} | {md['postgres_cpu_us_per_request']:.0f} | {split_rps}"
                f"{md['ceiling_tps']:,.0f} | {mode} | {r.get('ceiling_clients', s['connections'])} | "
                f"{md['ratio_to_ceiling']:.2f} | {rt} |")
        io_rows = [(r["title"], r["runs"]) for r in sres["scenarios"].values() if r.get("runs")]
        if any("io" in run for _, runs in io_rows for run in runs):
            out.append("\nI/O during the wrk runs (sum over the repetitions): blocks read from outside shared_buffers "
                       "(read time), checkpoints (buffers they wrote): " + "; ".join(
                           f"{title}: {sum(x['io']['blocks_read'] for x in runs if 'io' in x):,.0f} "
                           f"({sum(x['io']['read_ms'] for x in runs if 'io' in x):,.0f} ms), "
                           f"{sum(x['io']['checkpoints'] for x in runs if 'io' in x):.0f} "
                           f"({sum(x['io']['buffers_checkpoint'] for x in runs if 'io' in x):,.0f})"
                           for title, runs in io_rows) + ".")
        if "search_terms" in sres:
            t = sres["search_terms"]
            out.append(f"\n`q` terms: {t['terms']} surnames, {t['matches_min']}–{t['matches_max']} matching customers "
                       f"each (mean {t['matches_avg']}).")
        sc = sres.get("sql_check", {})
        if sc and "skipped" not in sc:
            bad = [k for k, v in sc.items() if not v["match"]]
            out.append("SQL check: " + ("the pgbench scripts send the same statements as the service, in the same "
                                        "order (round trips: statements pipelined together count once)."
                                        if not bad else f"**differs for {', '.join(bad)}**."))
            mixed = [BY_NAME[k]["title"] for k, v in sc.items()
                     if {"named", "unnamed"} <= set(v.get("protocols", []))]
            if mixed:
                out.append("The service sends some statements of " + "; ".join(mixed) + " prepared and some unnamed; "
                           "its ceiling sends all of them unnamed (`-M extended`), so it also parses and plans the "
                           "prepared ones every time and its ratio is flattered by that much.")
            extra = [BY_NAME[k]["title"] for k, v in sc.items() if v.get("ceiling_draw_round_trips")]
            if extra:
                out.append("The ceiling of " + "; ".join(extra) + " also pays one round trip to draw its random keys, "
                           "which the service does not make (its ratio is flattered by up to one round trip in "
                           "the column's count).")
        seed = sres.get("seed_check", {})
        if "passed" in seed:
            out.append("Seed check: " + ("bulk-seeded rows have the columns, JSON shapes and invariants of rows "
                                         "written by the service." if seed["passed"] else "**FAILED**."))
    if "ratio_1m_to_10k" in res:
        runs = {sres.get("run_id", res["run_id"]) for sres in res["scales"].values()}
        out.append("\n### 1 M vs 10 k" + (" (from two runs)" if len(runs) > 1 else "") + "\n")
        out.append("The last two columns are the ceiling's own p99 (every pgbench transaction's latency, split "
                   "placement, median of the repetitions): the tail PostgreSQL gives the same SQL with no HTTP "
                   "in front of it.\n")
        out.append("| scenario | req/s 10k | req/s 1m | 10k/1m | p50 10k ms | p50 1m ms | p99 10k ms | p99 1m ms "
                   "| ceiling p99 10k ms | ceiling p99 1m ms |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in res["ratio_1m_to_10k"].items():
            out.append(f"| {r['title']} | {r['rps_10k']:,.0f} | {r['rps_1m']:,.0f} | {r['slowdown']:.2f}× | "
                       f"{r['p50_10k']:.2f} | {r['p50_1m']:.2f} | {r['p99_10k']:.2f} | {r['p99_1m']:.2f} | "
                       f"{fmt(r.get('ceiling_p99_10k'))} | {fmt(r.get('ceiling_p99_1m'))} |")
    out.append("\n### Targets\n")
    for line in res.get("targets", []):
        out.append(f"- {line}")
    return "\n".join(out) + "\n"


def fmt(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def evaluate_targets(res: dict) -> list[str]:
    lines = []
    ten = res["scales"].get("10k", {}).get("scenarios", {})
    for name, target_rps in (("create_customer", 3500), ("get_customer", 8000)):
        if name in ten:
            md = ten[name]["median"]
            rps_ok = md["rps"] >= target_rps
            p99_ok = md["p99_ms"] <= 5.0
            rps_verdict = "met" if rps_ok else f"missed by {(1 - md['rps'] / target_rps) * 100:.0f} %"
            p99_verdict = "met" if p99_ok else f"missed by {md['p99_ms'] - 5:.2f} ms"
            lines.append(f"{ten[name]['title']}: {md['rps']:,.0f} req/s vs ≥ {target_rps:,} ({rps_verdict}); "
                         f"p99 {md['p99_ms']:.2f} ms vs ≤ 5 ms ({p99_verdict})")
    for scale, sres in res["scales"].items():
        for name, r in sres["scenarios"].items():
            ratio = r["median"]["ratio_to_ceiling"]
            if ratio is not None and ratio < 0.7:
                md = dict(r["median"], **(r.get("split") or {}))
                topo = res["machine"].get("topology", {})
                if topo.get("split") and md["ceiling_tps"]:
                    # Database and clients on cores of their own: at 70 % of the ceiling, how
                    # many of its cores PostgreSQL and of theirs the server and wrk would keep busy.
                    rate = 0.7 * md["ceiling_tps"]
                    db_cores = len(parse_cpu_list(topo["postgres"]))
                    client_cores = len(parse_cpu_list(topo["clients"]))
                    pg_busy = rate * md["postgres_cpu_us_per_request"] / 1e6
                    cl_busy = rate * (md["server_cpu_us_per_request"] + md["wrk_cpu_us_per_request"]) / 1e6
                    lines.append(f"[{scale}] {r['title']}: {ratio * 100:.1f} % of its pgbench ceiling (target ≥ 70 %); "
                                 f"70 % ({rate:,.0f} req/s) would keep PostgreSQL's {db_cores} core(s) "
                                 f"{pg_busy / db_cores * 100:.0f} % busy ({md['postgres_cpu_us_per_request']:.0f} µs per "
                                 f"request) and the {client_cores} core(s) of the server and wrk "
                                 f"{cl_busy / client_cores * 100:.0f} % busy ({md['server_cpu_us_per_request']:.0f} + "
                                 f"{md['wrk_cpu_us_per_request']:.0f} µs)")
                else:
                    # The CPU the whole request may cost for 70 % of the ceiling (pgbench keeps
                    # the cores busy), less what PostgreSQL and wrk spent on it: the server's budget.
                    budget = (res["machine"]["cores"] * 1e6 / md["ceiling_tps"]) / 0.7 if md["ceiling_tps"] else 0
                    server_budget = budget - md["postgres_cpu_us_per_request"] - md["wrk_cpu_us_per_request"]
                    lines.append(f"[{scale}] {r['title']}: {ratio * 100:.1f} % of its pgbench ceiling (target ≥ 70 %); "
                                 f"70 % leaves the request {budget:.0f} µs of CPU, of which PostgreSQL took "
                                 f"{md['postgres_cpu_us_per_request']:.0f} and wrk {md['wrk_cpu_us_per_request']:.0f}: the "
                                 f"server would have {server_budget:.0f} µs (it took {md['server_cpu_us_per_request']:.0f})")
            if r["errors"]:
                lines.append(f"[{scale}] {r['title']}: {r['errors']} errors (target 0)")
    ok70 = [f"{r['title']} ({scale})" for scale, sres in res["scales"].items() for r in sres["scenarios"].values()
            if r["median"]["ratio_to_ceiling"] is not None and r["median"]["ratio_to_ceiling"] >= 0.7]
    if ok70:
        lines.append("≥ 70 % of the ceiling: " + ", ".join(ok70))
    for name in ("create_customer", "get_customer", "get_group"):
        if name in ten:
            cpu = ten[name]["median"]["server_cpu_us_per_request"]
            counted = (ten[name].get("instructions") or {}).get("per_request")
            instr = (f"; {counted:,} instructions per request in user space (callgrind: the same on any machine "
                     f"at any hour)" if counted else "")
            lines.append(f"server CPU, {ten[name]['title']}: {cpu:.0f} µs per request vs ≤ 100 µs "
                         f"({'met' if cpu <= 100 else 'missed'}){instr}")
    peaks = [(r["peak_rss_kb"] or 0) for sres in res["scales"].values() for r in sres["scenarios"].values()]
    if peaks:
        peak = max(peaks) / 1024
        lines.append(f"peak RSS {peak:.1f} MB vs ≤ 64 MB ({'met' if peak <= 64 else 'missed'})")
    for name, r in res.get("ratio_1m_to_10k", {}).items():
        lines.append(f"1 M vs 10 k, {r['title']}: throughput {r['slowdown']:.2f}× lower, p99 "
                     f"{r['p99_1m'] / r['p99_10k']:.2f}× ({'met' if r['slowdown'] <= 1.5 and r['p99_1m'] <= 2 * r['p99_10k'] else 'missed'}; "
                     f"target: throughput ≤ 1.5× lower, p99 ≤ 2×)")
    return lines


# --------------------------------------------------------------------------------------------
# Machine facts.


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def busy_processes() -> str:
    p = subprocess.run(["pgrep", "-l", "-x", "rustc|cargo|cc1|cc1plus|ld|node|pytest"], capture_output=True, text=True)
    names = sorted({ln.split()[1] for ln in p.stdout.splitlines() if len(ln.split()) > 1})
    return ", ".join(names)


def machine_info(pg: Pg) -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")).split()[1])

    def out(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    settings = {}
    try:
        for name in ("shared_buffers", "synchronous_commit", "fsync", "max_connections", "work_mem", "autovacuum",
                     "jit", "ssl"):
            settings[name] = pg.value("postgres", f"SHOW {name}")
        version = pg.value("postgres", "SHOW server_version")
    except BenchError:
        version = "unknown"
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "topology": topology(pg),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": out(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "postgres": f"PostgreSQL {version}",
        "postgres_settings": settings,
        "wrk": out(["wrk", "--version"]),
        "pgbench": out(["pgbench", "--version"]),
        "rustc": out(["rustc", "--version"]),
        "git_commit": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "crates", "migrations"],
                                         capture_output=True, text=True).stdout.strip()),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "busy_at_start": busy_processes(),
    }


def cpu_list(cpus) -> str:
    """`[0, 1, 2, 5]` as `0-2,5`."""
    cpus, out = sorted(cpus), []
    for c in cpus:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out)


def topology(pg: Pg) -> dict:
    """Which CPUs this harness (and so the server, wrk and pgbench it starts) may run on, and
    which the PostgreSQL server may (read from its postmaster when it runs on this machine and
    its data directory is readable). `split` when the two sets do not overlap: the database
    then has cores of its own, as it has on a machine of its own in production."""
    clients = sorted(os.sched_getaffinity(0))
    db = None
    try:
        data_dir = pg.value("postgres", "SHOW data_directory")
        pid = Path(data_dir, "postmaster.pid").read_text().split()[0]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                db = cpu_list(parse_cpu_list(line.split(":", 1)[1].strip()))
    except (BenchError, OSError, IndexError, ValueError):
        db = None
    split = db is not None and not (set(parse_cpu_list(db)) & set(clients))
    return {"clients": cpu_list(clients), "postgres": db or "unknown", "split": split}


def parse_cpu_list(text: str) -> list[int]:
    cpus = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            cpus += range(int(a), int(b) + 1)
        elif part.strip():
            cpus.append(int(part))
    return cpus


def run(cmd: list[str], env: dict | None = None) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:3])} failed: {p.stderr.strip()[:1000]}")
    return p.stdout


# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", required=True, help="PostgreSQL server URL without a database")
    ap.add_argument("--binary", required=True, help="the release xclade-customers binary")
    ap.add_argument("--skip-10k", action="store_true", help="with --scale 1m: only the 1 M scale")
    ap.add_argument("--scale", choices=["10k", "1m"], default="10k",
                    help="1m: the 10k run, then every scenario at 1 000 000 customers")
    ap.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run")
    ap.add_argument("--ceiling-duration", type=int, default=10, help="seconds per pgbench run")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bind", default="127.0.0.1:18181")
    ap.add_argument("--scenarios", default="all", help="comma-separated subset of: " + ", ".join(BY_NAME))
    ap.add_argument("--out", default=str(ROOT / "target" / "bench"))
    ap.add_argument("--pg-log", help="the PostgreSQL server's log file (for the SQL check; found when omitted)")
    ap.add_argument("--skip-checks", action="store_true", help="skip the seed and SQL checks")
    ap.add_argument("--skip-explain", action="store_true")
    ap.add_argument("--skip-instructions", action="store_true",
                    help="skip the callgrind count of instructions per request of the simple requests at 10k")
    ap.add_argument("--split-cpus", metavar="DB/CLIENTS",
                    help="e.g. 0/1: measure each scenario on the whole machine, then with PostgreSQL (a server on "
                         "this machine whose processes this user may pin) on the CPUs DB and the rest on CLIENTS, "
                         "where the ratio to the pgbench ceiling is taken")
    ap.add_argument("--update-docs", action="store_true",
                    help="replace the generated section of docs/benchmarks.md with this run's table")
    ap.add_argument("--data-for", metavar="SCENARIO",
                    help="measure nothing: write SCENARIO's wrk data files for the seeded xclade_bench_10k at --pg "
                         "into --out and print the wrk script's arguments after the common ones, one per line "
                         "(bench/profile.sh, bench/instructions.sh)")
    ap.add_argument("--render", metavar="RESULTS_JSON", nargs="+",
                    help="measure nothing: recompute the ratios and targets of a results.json with this harness's "
                         "rules and print (or, with --update-docs, write) its report; with several, each scale "
                         "comes from the last file that has all of its scenarios, and a later run of fewer "
                         "scenarios (--scenarios) adds or replaces only those rows")
    args = ap.parse_args()
    if args.render:
        return render_only([Path(x) for x in args.render], args.update_docs)
    if args.data_for:
        return data_for(args.pg, args.data_for, Path(args.out))

    chosen = list(BY_NAME) if args.scenarios == "all" else [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in chosen:
        if s not in BY_NAME:
            ap.error(f"unknown scenario {s}")
    r = Run(args)
    t0 = time.time()
    scales = ([] if args.skip_10k and args.scale == "1m" else ["10k"]) + (["1m"] if args.scale == "1m" else [])
    r.results["settings"]["scales"] = scales
    try:
        for scale in scales:
            # Every scenario at both scales: writes too, since a write's cost can grow with the
            # table (index depth, the outbox, memberships) as much as a read's.
            names = chosen
            r.results["scales"][scale] = r.run_scale(scale, names)
            r.write_results(partial=True)
        compare_scales(r.results)
        r.results["targets"] = evaluate_targets(r.results)
        r.results["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        r.results["elapsed_seconds"] = round(time.time() - t0)
        r.write_results()
    except BenchError as e:
        r.write_results(partial=True)
        log(f"FAILED: {e}")
        return 1
    finally:
        # What runs after the harness (bench/events.py, bench/grow.py) finds the database on
        # its own CPUs again.
        if r.placement:
            r.placement.split()
    md = (r.out / "results.md").read_text()
    print(md)
    if args.update_docs:
        update_docs(md)
    log(f"done in {time.time() - t0:.0f} s: {r.out}/results.json, results.md, explain-*.md")
    return 0


def compare_scales(res: dict) -> None:
    """The 1 M figures of each scenario against its 10 k figures."""
    if "1m" not in res["scales"] or "10k" not in res["scales"]:
        return
    ratios = {}
    for name, big in res["scales"]["1m"]["scenarios"].items():
        small = res["scales"]["10k"]["scenarios"].get(name)
        if not small:
            continue
        a, b = small["median"], big["median"]
        ratios[name] = {"title": big["title"], "rps_10k": a["rps"], "rps_1m": b["rps"],
                        "slowdown": round(a["rps"] / b["rps"], 3) if b["rps"] else None,
                        "p50_10k": a["p50_ms"], "p50_1m": b["p50_ms"], "p99_10k": a["p99_ms"],
                        "p99_1m": b["p99_ms"], "ceiling_p99_10k": a.get("ceiling_p99_ms"),
                        "ceiling_p99_1m": b.get("ceiling_p99_ms")}
    res["ratio_1m_to_10k"] = ratios


def render_only(paths: list[Path], docs: bool) -> int:
    """The report of a recorded run; with several results.json, each scale from the last one
    that has every scenario the earlier ones had (every scale's heading names its run), and a
    later run of fewer scenarios (`--scenarios`) adds or replaces only those (each such row
    names its run)."""
    res = None
    for path in paths:
        one = json.loads(path.read_text())
        for sres in one["scales"].values():
            sres.setdefault("run_id", one["run_id"])
        if res is None:
            res = one
            continue
        for scale, sres in one["scales"].items():
            base = res["scales"].get(scale)
            if base is None or set(sres["scenarios"]) >= set(base["scenarios"]):
                res["scales"][scale] = sres
                continue
            for name, r in sres["scenarios"].items():
                r["run_id"] = sres["run_id"]
                base["scenarios"][name] = r
            for part in ("sql_check", "explain"):
                if isinstance(sres.get(part), dict) and isinstance(base.get(part), dict):
                    base[part].update({k: v for k, v in sres[part].items() if k in sres["scenarios"]})
            base["scenarios"] = {n: base["scenarios"][n] for n in BY_NAME if n in base["scenarios"]}
    compare_scales(res)
    for sres in res["scales"].values():
        for r in sres["scenarios"].values():
            md = r["median"]
            split = r.get("split")
            rated = split["rps"] if split else md["rps"]
            tps = max(c["tps"] for c in r["ceiling_runs"])
            md["ceiling_tps"] = round(tps, 1)
            md["ratio_to_ceiling"] = round(rated / tps, 3) if tps else None
    res["targets"] = evaluate_targets(res)
    md = render_markdown(res)
    print(md)
    if docs:
        update_docs(md)
    return 0


def update_docs(md: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    begin, end = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        log("docs/benchmarks.md has no generated section; not updated")
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(head + begin + "\n" + md + end + tail)
    log("docs/benchmarks.md updated")


if __name__ == "__main__":
    sys.exit(main())
