#!/usr/bin/env python3
"""Stress and fault scenarios of §4.1 of the contract (`just stress`; not part of `just test`).

Each scenario runs on a private PostgreSQL cluster of its own (initdb/pg_ctl under
target/stress/, as the `postgres` system user when running as root; never the shared
127.0.0.1:5432 server) and a fresh server process (the release binary by default):

  login     1 000 failed logins (POST /auth/user/emailpass, wrong password of an existing admin
            user) at 64 concurrent connections, then the same for POST /oauth/token with a wrong
            secret: RSS before, peak (sampled every 100 ms, and VmHWM), 30 s after; 401/503 counts,
            every 503 must carry `Retry-After: 1`.
  slow      500 idle TCP connections + 500 connections trickling a request body (1 byte/s) to
            POST /admin/customers, beside a latency probe (sequential GET /admin/customers/{id})
            compared with the same probe without them; a trickling body must be cut with 408
            after ~30 s.
  restart   8 concurrent writers (POST /admin/customers) for ~20 s; `pg_ctl restart -m fast` in
            the middle: acknowledged creates vs rows stored, 503s, time to the first 2xx.
  freeze    SIGSTOP of the postmaster and every backend: time until GET /admin/customers/{id},
            POST /admin/customers and /health/ready answer (503 within 5 s), /health/live during
            the freeze (200); SIGCONT and the time to the first 2xx.

It prints one table (one row per promise: measured figure, the contract's number, PASS/FAIL)
and writes target/stress/results.json and target/stress/results.md. Server logs and cluster
logs of the last run stay in target/stress/.

Usage: python3 bench/stress.py [--binary PATH] [--quick] [--scenarios login,slow,restart,freeze]
Without --binary it builds the release binary (cargo build --release -p xclade-server).
--quick shortens the floods and waits (for working on the harness; the 30 s figures of the
contract are then not measured as such, and the table says so).

Standard library only. Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "stress"
ADMIN_EMAIL = "admin@stress.local"
MIB = 1024 * 1024


def log(msg: str) -> None:
    print(f"stress: {msg}", file=sys.stderr, flush=True)


class StressError(Exception):
    pass


def run(cmd: list[str], env: dict | None = None, input: str | None = None, timeout: float = 120) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, input=input, timeout=timeout, cwd="/")
    if p.returncode != 0:
        raise StressError(f"{' '.join(str(c) for c in cmd[:4])} failed ({p.returncode}): "
                          f"{(p.stderr or p.stdout).strip()[:1500]}")
    return p.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


# --------------------------------------------------------------------------------------------
# Processes.


def proc_children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    return children


def descendants(root: int) -> list[int]:
    children = proc_children_map()
    out, stack = [], [root]
    while stack:
        for kid in children.get(stack.pop(), []):
            if kid not in out and kid != root:
                out.append(kid)
                stack.append(kid)
    return out


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------
# A private PostgreSQL cluster (the Python twin of xclade_testkit::PrivatePg).


def pg_bindir() -> Path:
    """scripts/pg-lib.sh's pg_bindir (PATH, else the newest /usr/lib/postgresql/*/bin)."""
    out = subprocess.run(["bash", "-c", f"source {ROOT / 'scripts/pg-lib.sh'} && pg_bindir"],
                         capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        raise StressError("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL")
    return Path(out.stdout.strip())


def as_owner(cmd: list[str]) -> list[str]:
    """Runs as the `postgres` system user when root (initdb/pg_ctl refuse root), like pg-lib.sh."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(shlex_quote(c) for c in cmd)]


def shlex_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


class Cluster:
    def __init__(self, base: Path, name: str):
        self.bindir = pg_bindir()
        if os.geteuid() == 0 and subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
            raise StressError("running as root without a `postgres` system user (scripts/db-ensure.sh creates one)")
        base.mkdir(parents=True, exist_ok=True)
        reachable = os.geteuid() != 0 or subprocess.run(
            as_owner(["test", "-x", str(base)]), capture_output=True, cwd="/").returncode == 0
        if not reachable or len(str(base)) > 80:
            base = Path("/var/tmp") / f"xclade-stress-{os.getpid()}"
            base.mkdir(parents=True, exist_ok=True)
        self.dir = base / f"pg-{name}-{os.getpid()}"
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = 0
        self.frozen: list[int] = []

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def start(self, extra: dict | None = None) -> None:
        self.data.mkdir(parents=True)
        os.chmod(self.data, 0o700)
        self.log.touch()
        if os.geteuid() == 0:
            run(["chown", "-R", "postgres:", str(self.dir)])
        run(as_owner([self.tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-locale", "--no-sync", "--no-instructions"]))
        conf = {
            "listen_addresses": "'127.0.0.1'", "unix_socket_directories": "''", "fsync": "off",
            "synchronous_commit": "off", "full_page_writes": "off", "shared_buffers": "64MB",
            "max_connections": "200", "huge_pages": "off",
        }
        conf.update(extra or {})
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# bench/stress.py\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
        last = ""
        for _ in range(5):
            self.port = free_port()
            try:
                self.pg_ctl("start")
                break
            except StressError as e:
                last = str(e)
        else:
            raise StressError(f"the private cluster did not start: {last}\n{self.log_tail()}")
        self.wait_answers(60)

    def pg_ctl(self, action: str, mode: str = "fast", timeout: int = 60) -> None:
        cmd = [self.tool("pg_ctl"), "-D", str(self.data), "-w", "-t", str(timeout)]
        if action in ("start", "restart"):
            cmd += ["-l", str(self.log), "-o", f"-p {self.port}"]
        if action in ("stop", "restart"):
            cmd += ["-m", mode]
        cmd.append(action)
        # The server inherits nothing of ours: its output goes to the log file.
        p = subprocess.run(as_owner(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, cwd="/", timeout=timeout + 30)
        if p.returncode != 0:
            raise StressError(f"pg_ctl {action} failed: {p.stdout.strip()[-800:]}")

    def wait_answers(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.psql_try("postgres", "select 1") == "1":
                return
            time.sleep(0.1)
        raise StressError(f"the private cluster on port {self.port} does not answer\n{self.log_tail()}")

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def psql_try(self, db: str, sql: str) -> str | None:
        env = dict(os.environ, PGCONNECT_TIMEOUT="3")
        try:
            p = subprocess.run([self.tool("psql"), "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                "-d", self.url(db) + "?sslmode=disable", "-c", sql],
                               capture_output=True, text=True, env=env, timeout=15)
        except subprocess.TimeoutExpired:
            return None
        return p.stdout.strip() if p.returncode == 0 else None

    def psql(self, db: str, sql: str) -> str:
        out = self.psql_try(db, sql)
        if out is None:
            raise StressError(f"psql failed on {db}: {sql[:200]}")
        return out

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def freeze(self) -> int:
        """SIGSTOPs the postmaster, then every descendant (twice, for one forked meanwhile)."""
        pm = self.postmaster_pid()
        os.kill(pm, signal.SIGSTOP)
        self.frozen = [pm]
        for _ in range(2):
            for pid in descendants(pm):
                try:
                    os.kill(pid, signal.SIGSTOP)
                    if pid not in self.frozen:
                        self.frozen.append(pid)
                except ProcessLookupError:
                    pass
        return len(self.frozen)

    def thaw(self) -> None:
        pids = set(self.frozen)
        try:
            pm = self.postmaster_pid()
            pids.add(pm)
            pids.update(descendants(pm))
        except (OSError, ValueError):
            pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = []

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def destroy(self, keep_log_to: Path | None = None) -> None:
        self.thaw()
        if (self.data / "postmaster.pid").exists():
            try:
                self.pg_ctl("stop", mode="immediate", timeout=30)
            except (StressError, subprocess.TimeoutExpired):
                try:
                    pm = self.postmaster_pid()
                    for pid in [pm, *descendants(pm)]:
                        os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        if keep_log_to is not None:
            try:
                shutil.copyfile(self.log, keep_log_to)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# The server.


class Server:
    def __init__(self, binary: Path, db_url: str, log_path: Path):
        self.binary, self.db_url, self.log_path = binary, db_url, log_path
        self.secret = secrets.token_hex(24)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({"DATABASE_URL": self.db_url, "XCLADE_JWT_SECRET": self.secret})
        env.pop("XCLADE_BIND", None)
        env.setdefault("RUST_LOG", "info")
        return env

    def cli(self, *args: str, input: str | None = None) -> dict:
        return json.loads(run([str(self.binary), *args], env=self.env(), input=input))

    def prepare(self) -> dict:
        """Migrations, the project, an API client and an admin user (§5)."""
        run([str(self.binary), "migrate"], env=self.env())
        self.cli("projects", "create", PROJECT, "--name", "Stress", "--json")
        client = self.cli("clients", "create", "--project", PROJECT, "--json")
        password = secrets.token_hex(12)
        self.cli("users", "create", "--project", PROJECT, "--email", ADMIN_EMAIL, "--json", input=password + "\n")
        return {"client_id": client["client_id"], "client_secret": client["client_secret"],
                "email": ADMIN_EMAIL, "password": password}

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(self.binary), "serve", "--bind", f"127.0.0.1:{self.port}", "--no-migrate"],
                                     env=self.env(), stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StressError(f"the server exited at start (code {self.proc.returncode}); see {self.log_path}")
            st, _, _ = request(self.port, "GET", "/health/ready", timeout=2)
            if st == 200:
                return
            time.sleep(0.2)
        raise StressError("the server did not become ready within 60 s")

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------------------------
# HTTP (http.client; one connection per thread, reopened after errors).


class Client:
    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float | None = None) -> tuple[int, dict, bytes]:
        """(status, lower-cased headers, body); status 0 = connection error or timeout (then the
        headers hold {"error": …})."""
        t = timeout if timeout is not None else self.timeout
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=t)
        else:
            self.conn.timeout = t
            if self.conn.sock is not None:
                self.conn.sock.settimeout(t)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            return r.status, hdrs, data
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return 0, {"error": type(e).__name__}, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, dict, bytes]:
    c = Client(port, timeout)
    try:
        return c.request(method, path, body, headers)
    finally:
        c.close()


def json_body(data: bytes) -> dict:
    try:
        return json.loads(data)
    except ValueError:
        return {}


def admin_token(port: int, creds: dict) -> str:
    st, _, body = request(port, "POST", "/auth/user/emailpass",
                          json.dumps({"email": creds["email"], "password": creds["password"]}).encode(),
                          {"Content-Type": "application/json"}, timeout=60)
    if st != 200:
        raise StressError(f"admin login: HTTP {st}: {body[:300]!r}")
    return json_body(body)["token"]


def customer_body(i: int, tag: str) -> bytes:
    return json.dumps({"email": f"{tag}-{i}-{secrets.token_hex(4)}@stress.local", "company_name": "Stress Ltd",
                       "first_name": "Stress", "last_name": f"N{i}", "phone": "+1 555 0100",
                       "metadata": {"source": "stress"}}).encode()


def create_customer(port: int, token: str, tag: str = "seed") -> str:
    st, _, body = request(port, "POST", "/admin/customers", customer_body(0, tag),
                          {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    if st // 100 != 2:
        raise StressError(f"POST /admin/customers: HTTP {st}: {body[:300]!r}")
    return json_body(body)["customer"]["id"]


# --------------------------------------------------------------------------------------------
# The results table.


class Rows:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, scenario: str, promise: str, measured: str, contract: str, ok: bool | None,
            note: str = "") -> None:
        self.rows.append({"scenario": scenario, "promise": promise, "measured": measured, "contract": contract,
                          "result": "PASS" if ok is True else "FAIL" if ok is False else "n/a", "note": note})
        log(f"[{self.rows[-1]['result']}] {scenario}: {promise}: {measured} (contract: {contract})")


def render_text(rows: list[dict]) -> str:
    cols = ["scenario", "promise", "measured", "contract", "result"]
    width = {c: max(len(c), *(len(r[c]) for r in rows)) if rows else len(c) for c in cols}
    line = "  ".join(c.ljust(width[c]) for c in cols)
    out = [line, "  ".join("-" * width[c] for c in cols)]
    for r in rows:
        out.append("  ".join(r[c].ljust(width[c]) for c in cols))
    return "\n".join(out)


def render_md(res: dict) -> str:
    m = res["meta"]
    out = [f"# Stress run {m['started']}", "",
           f"Binary `{m['binary']}`{' (--quick)' if m['quick'] else ''}; {m['cpus']} CPUs; "
           f"PostgreSQL {m.get('pg_version', '?')} (private cluster per scenario); {m['duration_s']:.0f} s.", "",
           "| scenario | promise | measured | contract | result |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        cell = r["measured"] + (f" ({r['note']})" if r["note"] else "")
        out.append(f"| {r['scenario']} | {r['promise']} | {cell.replace('|', '/')} | {r['contract']} | "
                   f"**{r['result']}** |")
    errs = res.get("errors") or {}
    if errs:
        out += ["", "Scenarios that could not run:", ""] + [f"* {k}: {v}" for k, v in errs.items()]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Scenario 1: login flood.


class RssSampler(threading.Thread):
    def __init__(self, pid: int, period: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.stop_event.wait(self.period)

    def finish(self) -> int:
        self.stop_event.set()
        self.join(5)
        return self.peak


def flood(port: int, total: int, concurrency: int, make_request, deadline_s: float) -> dict:
    """`total` requests over `concurrency` keep-alive connections; statuses and Retry-After."""
    counter = iter(range(total))
    lock = threading.Lock()
    statuses: dict[str, int] = {}
    bad_retry_after = 0
    latencies: list[float] = []
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        nonlocal bad_retry_after
        c = Client(port, timeout=60)
        while time.monotonic() < stop_at:
            with lock:
                if next(counter, None) is None:
                    break
            method, path, body, headers = make_request()
            t0 = time.monotonic()
            st, hdrs, _ = c.request(method, path, body, headers)
            dt_ = time.monotonic() - t0
            with lock:
                key = str(st) if st else f"error:{hdrs.get('error')}"
                statuses[key] = statuses.get(key, 0) + 1
                latencies.append(dt_)
                if st == 503 and hdrs.get("retry-after", "").strip() != "1":
                    bad_retry_after += 1
        c.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline_s + 70)
    return {"statuses": statuses, "bad_retry_after": bad_retry_after, "elapsed_s": time.monotonic() - t0,
            "p50_s": pct(latencies, 50), "p99_s": pct(latencies, 99), "sent": len(latencies)}


def scenario_login(ctx: dict, rows: Rows, quick: bool) -> dict:
    server, creds = ctx["server"], ctx["creds"]
    port = server.port
    total = 300 if quick else 1000
    after_s = 10 if quick else 30
    out = {}
    wrong_login = json.dumps({"email": creds["email"], "password": "wrong-" + secrets.token_hex(6)}).encode()
    basic = base64.b64encode(f"{creds['client_id']}:wrong-{secrets.token_hex(8)}".encode()).decode()
    kinds = [
        ("emailpass", "POST /auth/user/emailpass",
         lambda: ("POST", "/auth/user/emailpass", wrong_login, {"Content-Type": "application/json"})),
        ("oauth", "POST /oauth/token",
         lambda: ("POST", "/oauth/token", b"grant_type=client_credentials",
                  {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})),
    ]
    # Warm-up: one good login, a few bad ones, so "before" includes the steady state.
    admin_token(port, creds)
    for _ in range(4):
        request(port, "POST", "/auth/user/emailpass", wrong_login, {"Content-Type": "application/json"}, timeout=60)
    time.sleep(2)
    for name, title, make in kinds:
        before = rss_kib(server.pid)
        try:
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset VmHWM
            hwm_reset = True
        except OSError:
            hwm_reset = False
        sampler = RssSampler(server.pid)
        sampler.start()
        log(f"login flood {title}: {total} requests at 64 connections (RSS before {before / 1024:.1f} MiB)")
        res = flood(port, total, 64, make, deadline_s=240)
        peak = max(sampler.finish(), rss_kib(server.pid, "VmHWM") if hwm_reset else 0)
        log(f"  {res['statuses']} in {res['elapsed_s']:.1f} s; peak {peak / 1024:.1f} MiB; waiting {after_s} s")
        time.sleep(after_s)
        after = rss_kib(server.pid)
        res.update({"rss_before_kib": before, "rss_peak_kib": peak, "rss_after_kib": after, "after_s": after_s,
                    "server_alive": server.alive()})
        out[name] = res
        st = res["statuses"]
        n401, n503 = st.get("401", 0), st.get("503", 0)
        other = {k: v for k, v in st.items() if k not in ("401", "503")}
        rows.add("login flood", f"{title}: peak RSS during {res['sent']} failed logins @64",
                 f"{peak / 1024:.1f} MiB (before {before / 1024:.1f})", "≤ 128 MiB (1 000 @64)", peak <= 128 * 1024,
                 f"quick: {total} requests" if quick else "")
        growth = (after - before) / 1024
        rows.add("login flood", f"{title}: RSS {after_s} s after the flood",
                 f"{after / 1024:.1f} MiB ({growth:+.1f} MiB vs before)", "within 32 MiB of before (30 s)",
                 abs(growth) <= 32 if not quick else None, "quick: not 30 s" if quick else "")
        answered = res["sent"]
        rows.add("login flood", f"{title}: answers 401 / 503 (+ Retry-After: 1)",
                 f"401×{n401} 503×{n503} (bad Retry-After {res['bad_retry_after']})"
                 + (f" other {other}" if other else "") + f"; {res['elapsed_s']:.1f} s, p99 {fmt_s(res['p99_s'])}",
                 "only 401/503; every 503 with Retry-After: 1",
                 not other and res["bad_retry_after"] == 0 and answered == total and server.alive())
    return out


def fmt_rel(t: float | None, origin: float) -> str:
    return "-" if t is None else f"+{t - origin:.2f} s"


def fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


# --------------------------------------------------------------------------------------------
# Scenario 2: slow clients.


def latency_probe(port: int, token: str, cid: str, seconds: float) -> dict:
    c = Client(port, timeout=10)
    lat, errors = [], {}
    stop_at = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop_at and n < 200_000:
        n += 1
        t0 = time.perf_counter()
        st, hdrs, _ = c.request("GET", f"/admin/customers/{cid}", headers={"Authorization": f"Bearer {token}"})
        d = time.perf_counter() - t0
        if st == 200:
            lat.append(d)
        else:
            key = str(st) if st else f"error:{hdrs.get('error')}"
            errors[key] = errors.get(key, 0) + 1
    c.close()
    return {"n": len(lat), "p50_s": pct(lat, 50), "p99_s": pct(lat, 99), "max_s": max(lat) if lat else None,
            "errors": errors}


class SlowClients(threading.Thread):
    """`idle` connections that send nothing (reopened when the server closes them) and `trickle`
    connections sending a POST head then one body byte per second; records when and how the
    server ends each trickling request."""

    def __init__(self, port: int, token: str, idle: int, trickle: int, max_s: float):
        super().__init__(daemon=True)
        self.port, self.token, self.n_idle, self.n_trickle, self.max_s = port, token, idle, trickle, max_s
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.idle_open = 0
        self.idle_closed_by_server = 0
        self.idle_reopened = 0
        self.idle_lifetimes: list[float] = []
        self.connect_errors = 0
        self.trickle_results: list[dict] = []  # {"after_s", "status"}
        self.trickle_open = 0
        self.bytes_sent = 0

    def head(self) -> bytes:
        return (f"POST /admin/customers HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: 200000\r\n\r\n").encode()

    def connect(self) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.setblocking(False)
            return s
        except OSError:
            self.connect_errors += 1
            return None

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        trickles: dict[socket.socket, dict] = {}
        idles: dict[socket.socket, float] = {}
        try:
            for _ in range(self.n_idle):
                s = self.connect()
                if s:
                    idles[s] = time.monotonic()
                    sel.register(s, selectors.EVENT_READ, "idle")
            for _ in range(self.n_trickle):
                s = self.connect()
                if not s:
                    continue
                try:
                    s.send(self.head())
                except OSError:
                    s.close()
                    continue
                trickles[s] = {"start": time.monotonic(), "buf": b""}
                sel.register(s, selectors.EVENT_READ, "trickle")
            self.trickle_open, self.idle_open = len(trickles), len(idles)
            self.ready.set()
            t_end = time.monotonic() + self.max_s
            next_tick = time.monotonic() + 1
            reopen_budget = self.n_idle * 20
            while not self.stop_event.is_set() and time.monotonic() < t_end and (trickles or idles):
                for key, _ in sel.select(timeout=max(0.0, next_tick - time.monotonic())):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if key.data == "idle":
                        if not data:
                            sel.unregister(s)
                            s.close()
                            self.idle_lifetimes.append(time.monotonic() - idles.pop(s))
                            self.idle_closed_by_server += 1
                        continue
                    st = trickles.get(s)
                    if st is None:
                        continue
                    st["buf"] += data
                    if not data or b"\r\n" in st["buf"]:
                        line = st["buf"].split(b"\r\n", 1)[0].decode(errors="replace")
                        parts = line.split()
                        status = parts[1] if len(parts) > 1 and parts[1].isdigit() else ("closed" if not data else line[:30])
                        self.trickle_results.append({"after_s": time.monotonic() - st["start"], "status": status})
                        sel.unregister(s)
                        s.close()
                        del trickles[s]
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + 1
                    for s in list(trickles):
                        try:
                            s.send(b" ")
                            self.bytes_sent += 1
                        except BlockingIOError:
                            pass
                        except OSError:
                            self.trickle_results.append(
                                {"after_s": now - trickles[s]["start"], "status": "reset"})
                            sel.unregister(s)
                            s.close()
                            del trickles[s]
                    # Keep the idle population up (an attacker reconnects), within a budget.
                    while len(idles) < self.n_idle and reopen_budget > 0:
                        reopen_budget -= 1
                        s = self.connect()
                        if not s:
                            break
                        idles[s] = time.monotonic()
                        sel.register(s, selectors.EVENT_READ, "idle")
                        self.idle_reopened += 1
                self.idle_open = len(idles)
                self.trickle_open = len(trickles)
        finally:
            self.ready.set()
            for s in list(trickles) + list(idles):
                try:
                    s.close()
                except OSError:
                    pass
            self.trickle_open_at_end = len(trickles)
            for s in trickles:
                self.trickle_results.append({"after_s": time.monotonic() - trickles[s]["start"],
                                             "status": f"still open after {self.max_s:.0f} s"})
            sel.close()


def scenario_slow(ctx: dict, rows: Rows, quick: bool) -> dict:
    server, port, token = ctx["server"], ctx["server"].port, ctx["token"]
    cid = create_customer(port, token)
    probe_s = 4 if quick else 10
    n_slow = 500
    # Warm-up, then the probe alone.
    latency_probe(port, token, cid, 1)
    base = latency_probe(port, token, cid, probe_s)
    log(f"probe alone: p50 {fmt_s(base['p50_s'])} p99 {fmt_s(base['p99_s'])} ({base['n']} requests)")
    slow = SlowClients(port, token, n_slow, n_slow, max_s=50)
    t_start = time.monotonic()
    slow.start()
    slow.ready.wait(60)
    log(f"{n_slow} idle + {n_slow} trickling connections open ({slow.connect_errors} connect errors); probing")
    loaded = latency_probe(port, token, cid, probe_s)
    idle_during = slow.idle_open
    trickle_during = slow.trickle_open
    log(f"probe beside them: p50 {fmt_s(loaded['p50_s'])} p99 {fmt_s(loaded['p99_s'])} ({loaded['n']} requests); "
        f"waiting for the trickling bodies to be cut (≤ {50 - (time.monotonic() - t_start):.0f} s)")
    while slow.is_alive() and slow.trickle_open > 0 and time.monotonic() - t_start < 60:
        time.sleep(0.5)
    slow.stop_event.set()
    slow.join(30)
    results = slow.trickle_results
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    cut = [r["after_s"] for r in results if r["status"] == "408"]
    med_cut = statistics.median(cut) if cut else None
    out = {"probe_alone": base, "probe_loaded": loaded, "idle_open_during_probe": idle_during,
           "trickle_open_during_probe": trickle_during, "idle_closed_by_server": slow.idle_closed_by_server,
           "idle_reopened": slow.idle_reopened, "connect_errors": slow.connect_errors,
           "idle_closed_after_median_s": statistics.median(slow.idle_lifetimes) if slow.idle_lifetimes else None,
           "trickle_outcomes": by_status, "trickle_cut_408_median_s": med_cut,
           "trickle_cut_408_min_s": min(cut) if cut else None, "trickle_cut_408_max_s": max(cut) if cut else None,
           "server_alive": server.alive()}
    p99a, p99b = base["p99_s"], loaded["p99_s"]
    limit = (2 * p99a + 0.002) if p99a is not None else None
    ok = (p99a is not None and p99b is not None and p99b <= limit and not loaded["errors"]
          and loaded["n"] >= base["n"] * 0.5)
    rows.add("slow clients", f"GET /admin/customers/{{id}} beside {n_slow} idle + {n_slow} trickling",
             f"p50 {fmt_s(loaded['p50_s'])} p99 {fmt_s(p99b)} vs alone p50 {fmt_s(base['p50_s'])} p99 {fmt_s(p99a)}; "
             f"{loaded['n']} vs {base['n']} req" + (f"; errors {loaded['errors']}" if loaded["errors"] else ""),
             "latency unchanged (p99 ≤ 2×alone + 2 ms, no errors)", ok,
             f"during the probe {idle_during} idle / {trickle_during} trickling open; the server closed idle "
             f"ones after {fmt_s(out['idle_closed_after_median_s'])} (median), reopened {slow.idle_reopened}×")
    ok408 = bool(cut) and len(cut) == len(results) and 25 <= med_cut <= 40
    rows.add("slow clients", "a trickling body (1 byte/s) is cut with 408",
             (f"408 after {med_cut:.1f} s (median; {min(cut):.1f}–{max(cut):.1f})" if cut else "no 408")
             + f"; outcomes {by_status}", "408 after ~30 s", ok408)
    return out


# --------------------------------------------------------------------------------------------
# Scenario 3: PostgreSQL restart under write load.


def scenario_restart(ctx: dict, rows: Rows, quick: bool) -> dict:
    server, cluster, port, token = ctx["server"], ctx["cluster"], ctx["server"].port, ctx["token"]
    duration = 12 if quick else 20
    writers = 8
    lock = threading.Lock()
    events: list[tuple[float, int, str | None, float]] = []  # (t answered, status, id, t sent)
    t0 = time.monotonic()
    stop_at = t0 + duration

    def writer(w: int) -> None:
        c = Client(port, timeout=15)
        i = 0
        while time.monotonic() < stop_at and i < 100_000:
            i += 1
            sent = time.monotonic() - t0
            st, hdrs, body = c.request("POST", "/admin/customers", customer_body(i, f"w{w}"),
                                       {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
            cid = None
            if st // 100 == 2:
                cid = json_body(body).get("customer", {}).get("id")
            with lock:
                events.append((time.monotonic() - t0, st, cid, sent))
            if st == 0 or st >= 500:
                time.sleep(0.05)  # a client backs off a little
        c.close()

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(writers)]
    for t in threads:
        t.start()
    time.sleep(duration / 2 - 1)
    log("pg_ctl restart -m fast")
    r0 = time.monotonic() - t0
    restart_error = None
    try:
        cluster.pg_ctl("restart", mode="fast")
    except StressError as e:
        restart_error = str(e)
    r1 = time.monotonic() - t0
    for t in threads:
        t.join(duration + 30)
    time.sleep(1)
    acked = [cid for (_, st, cid, _) in events if st // 100 == 2 and cid]
    ack_no_id = sum(1 for (_, st, cid, _) in events if st // 100 == 2 and not cid)
    stored_ids = set((cluster.psql("stress", "select c.id from customers c join projects p using (project_id) "
                                   f"where p.key = '{PROJECT}' and c.deleted_at is null") or "").split())
    stored_total = len(stored_ids)
    lost = [cid for cid in acked if cid not in stored_ids]
    statuses: dict[str, int] = {}
    for (_, st, _, _) in events:
        statuses[str(st) if st else "error"] = statuses.get(str(st) if st else "error", 0) + 1
    outage = [(t, st) for (t, st, _, _) in events if t >= r0 and not (200 <= st < 300)]
    n503 = sum(1 for (t, st) in outage if st == 503)
    last_failure = max((t for (t, _) in outage), default=None)
    # Recovery: the first 2xx of a request sent after pg_ctl returned (the database is back) and
    # after the last failure, measured from pg_ctl's return.
    since = max(r1, last_failure or r1)
    first_ok_after = min((t for (t, st, _, sent) in events if sent >= since and 200 <= st < 300), default=None)
    recovery = first_ok_after - r1 if first_ok_after is not None else None
    ready_st, _, _ = request(port, "GET", "/health/ready", timeout=10)
    st_get = 0
    if acked:
        st_get, _, _ = request(port, "GET", f"/admin/customers/{acked[-1]}",
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
    out = {"duration_s": duration, "writers": writers, "restart_at_s": r0, "restart_done_s": r1,
           "restart_error": restart_error, "statuses": statuses, "acknowledged": len(acked),
           "acknowledged_without_id": ack_no_id, "stored": stored_total, "lost": len(lost), "lost_ids": lost[:20],
           "non_2xx_after_restart_began": len(outage), "503_after_restart_began": n503,
           "first_2xx_after_restart_s": recovery, "server_alive": server.alive(), "ready_after": ready_st,
           "get_after": st_get}
    out["stored_not_acknowledged"] = len(stored_ids - set(acked))
    out["failures_window_s"] = [min((t for (t, _) in outage), default=None), last_failure]
    log(f"restart: {statuses}; acknowledged {len(acked)}, stored {stored_total}, lost {len(lost)}")
    rows.add("pg restart", f"{writers} writers for {duration} s, pg_ctl restart -m fast in the middle",
             f"acknowledged {len(acked)}, stored {stored_total}, lost {len(lost)}"
             f" (stored but not acknowledged {len(stored_ids - set(acked))})"
             + (f", 2xx without id {ack_no_id}" if ack_no_id else ""),
             "0 acknowledged writes lost", not lost and ack_no_id == 0 and restart_error is None,
             restart_error or "")
    other = {k: v for k, v in statuses.items() if k not in ("200", "201", "503")}
    rows.add("pg restart", "answers during the outage; recovery without a service restart",
             f"503×{n503} of {len(outage)} non-2xx" + (f" (other {other})" if other else "")
             + f"; pg_ctl restart took {r1 - r0:.2f} s; failures until {fmt_rel(last_failure, r0)}; "
             f"first 2xx {fmt_s(recovery)} after pg_ctl returned; "
             f"server {'alive' if server.alive() else 'DEAD'}, ready {ready_st}",
             "503 (no 500/hang); recovers by itself", server.alive() and ready_st == 200 and st_get == 200
             and recovery is not None and not other)
    return out


# --------------------------------------------------------------------------------------------
# Scenario 4: a frozen database.


def scenario_freeze(ctx: dict, rows: Rows, quick: bool) -> dict:
    server, cluster, port, token = ctx["server"], ctx["cluster"], ctx["server"].port, ctx["token"]
    cid = create_customer(port, token)
    auth = {"Authorization": f"Bearer {token}"}
    # Every pooled connection has been used recently: the probes meet a stopped backend.
    for _ in range(20):
        request(port, "GET", f"/admin/customers/{cid}", headers=auth, timeout=10)
    live_window = 8 if quick else 10
    results: dict[str, dict] = {}

    def timed(name: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        t = time.monotonic()
        st, hdrs, _ = request(port, method, path, body, headers, timeout=45)
        results[name] = {"status": st if st else f"error:{hdrs.get('error')}", "after_s": time.monotonic() - t}

    live: list[tuple[int, float]] = []

    def live_probe():
        end = time.monotonic() + live_window
        c = Client(port, timeout=5)
        n = 0
        while time.monotonic() < end and n < 1000:
            n += 1
            t = time.monotonic()
            st, _, _ = c.request("GET", "/health/live")
            live.append((st, time.monotonic() - t))
            time.sleep(0.2)
        c.close()

    n_frozen = cluster.freeze()
    log(f"froze the postmaster and {n_frozen - 1} children")
    t_freeze = time.monotonic()
    jobs = [
        threading.Thread(target=timed, args=("get", "GET", f"/admin/customers/{cid}", None, auth)),
        threading.Thread(target=timed, args=("post", "POST", "/admin/customers", customer_body(1, "frozen"),
                                             {**auth, "Content-Type": "application/json"})),
        threading.Thread(target=timed, args=("ready", "GET", "/health/ready")),
        threading.Thread(target=live_probe),
    ]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(40)
    # A second read after the first answers (the pool may now hold only dead connections).
    timed("get2", "GET", f"/admin/customers/{cid}", None, auth)
    frozen_for = time.monotonic() - t_freeze
    cluster.thaw()
    t_thaw = time.monotonic()
    first_ok = None
    c = Client(port, timeout=10)
    while time.monotonic() - t_thaw < 60:
        st, _, _ = c.request("GET", f"/admin/customers/{cid}", headers=auth)
        if 200 <= st < 300:
            first_ok = time.monotonic() - t_thaw
            break
        time.sleep(0.1)
    c.close()
    live_status = {}
    for st, _ in live:
        live_status[str(st)] = live_status.get(str(st), 0) + 1
    live_lat = [d for _, d in live]
    out = {"frozen_processes": n_frozen, "frozen_for_s": frozen_for, "requests": results,
           "live_statuses": live_status, "live_p50_s": pct(live_lat, 50), "live_max_s": max(live_lat, default=None),
           "first_2xx_after_thaw_s": first_ok, "server_alive": server.alive()}
    log(f"freeze: {results}; live {live_status}; first 2xx {fmt_s(first_ok)} after SIGCONT")

    def within(name: str) -> bool:
        r = results.get(name)
        return bool(r) and r["status"] == 503 and r["after_s"] <= 5.5

    def show(name: str) -> str:
        r = results.get(name)
        return f"{r['status']} after {r['after_s']:.2f} s" if r else "no answer"

    rows.add("frozen db", "GET /admin/customers/{id} (then a second one)", f"{show('get')}; then {show('get2')}",
             "503 within 5 s", within("get") and within("get2"))
    rows.add("frozen db", "POST /admin/customers", show("post"), "503 within 5 s", within("post"))
    rows.add("frozen db", "GET /health/ready", show("ready"), "503 within 5 s", within("ready"))
    rows.add("frozen db", f"GET /health/live during the freeze ({len(live)} probes)",
             f"{live_status}; max {fmt_s(out['live_max_s'])}", "200",
             bool(live) and set(live_status) == {"200"} and (out["live_max_s"] or 0) < 1)
    rows.add("frozen db", "after SIGCONT: first 2xx", fmt_s(first_ok) if first_ok is not None else "none in 60 s",
             "recovers by itself", first_ok is not None and server.alive())
    return out


# --------------------------------------------------------------------------------------------


SCENARIOS = {
    "login": (scenario_login, "login flood", {}),
    "slow": (scenario_slow, "slow clients", {}),
    "restart": (scenario_restart, "pg restart", {}),
    "freeze": (scenario_freeze, "frozen db", {}),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="the xclade-customers binary (default: build and use target/release)")
    ap.add_argument("--quick", action="store_true", help="shorter floods and waits (not a result)")
    ap.add_argument("--scenarios", default="login,slow,restart,freeze")
    ap.add_argument("--out", default=None, help="results directory (default target/stress)")
    args = ap.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    out_dir = Path(args.out) if args.out else target / "stress"
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.binary:
        binary = Path(args.binary).resolve()
    else:
        log("building the release binary (cargo build --release -p xclade-server)")
        subprocess.run(["cargo", "build", "--release", "-p", "xclade-server"], cwd=ROOT, check=True,
                       stdout=sys.stderr)
        binary = target / "release" / "xclade-customers"
    if not os.access(binary, os.X_OK):
        log(f"{binary} is not an executable")
        return 2
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        log(f"unknown scenarios: {unknown} (known: {', '.join(SCENARIOS)})")
        return 2

    # 1 000+ sockets of ours, and as many in the server (it inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

    started = time.monotonic()
    rows = Rows()
    res = {"meta": {"started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "binary": str(binary), "quick": args.quick, "cpus": os.cpu_count(), "nofile": nofile,
                    "loadavg_start": os.getloadavg()[0]},
           "scenarios": {}, "errors": {}}
    interrupted = False
    for name in names:
        fn, label, _ = SCENARIOS[name]
        log(f"=== {name} ===")
        cluster = Cluster(target / "stress", name)
        server = None
        try:
            cluster.start()
            res["meta"]["pg_version"] = cluster.psql("postgres", "show server_version")
            cluster.psql("postgres", "create database stress")
            server = Server(binary, cluster.url("stress"), out_dir / f"server-{name}.log")
            creds = server.prepare()
            server.start()
            token = admin_token(server.port, creds)
            ctx = {"cluster": cluster, "server": server, "creds": creds, "token": token}
            res["scenarios"][name] = fn(ctx, rows, args.quick)
        except KeyboardInterrupt:
            interrupted = True
            res["errors"][name] = "interrupted"
        except Exception as e:  # noqa: BLE001 — one scenario's failure must not hide the others
            log(f"{name} failed: {type(e).__name__}: {e}")
            res["errors"][name] = f"{type(e).__name__}: {e}"
            rows.add(label, "scenario ran", f"error: {str(e).splitlines()[0][:120]}", "-", False)
        finally:
            if server:
                server.stop()
            cluster.destroy(keep_log_to=out_dir / f"pg-{name}.log")
        if interrupted:
            break

    res["rows"] = rows.rows
    res["meta"]["duration_s"] = time.monotonic() - started
    res["meta"]["loadavg_end"] = os.getloadavg()[0]
    (out_dir / "results.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (out_dir / "results.md").write_text(render_md(res))
    print(render_text(rows.rows))
    passed = sum(r["result"] == "PASS" for r in rows.rows)
    failed = sum(r["result"] == "FAIL" for r in rows.rows)
    print(f"\nstress: {passed} passed, {failed} failed, {len(rows.rows) - passed - failed} not measured "
          f"in {res['meta']['duration_s']:.0f} s{' (--quick)' if args.quick else ''}; "
          f"{out_dir / 'results.md'}")
    return 1 if failed or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
