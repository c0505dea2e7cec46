#!/usr/bin/env python3
"""The events scenario of `just bench` (§6, docs/events.md): creates/s with the relay off and on,
and the relay's sustained publish rate.

1. A private `nats-server -js` on a free port (store under <out>/nats).
2. Relay off (`serve`, no NATS URL) on a fresh database: wrk drives POST /admin/customers for
   --duration s; every create leaves its event in the outbox.
3. The first time: `xclade-customers relay` alone drains that backlog: published events / seconds =
   the relay's sustained publish rate (one publish awaited per event, in order).
4. Relay on (`serve --nats-url …`) on a fresh database again: the same create load while the relay
   publishes. Each create load starts from the same empty database, so that neither is measured on
   the tables, indexes and dead rows the other left (an off load after an off load and a drain ran
   14 % slower than the first: docs/benchmarks.md, change 41).
Steps 2–4 are repeated --reps times (off and on alternating); the report gives the medians and
every repetition. For each create load: CPU per create of the service process, of the database's
backends serving it (its pool and the relay's connection, listed after a 2 s warm-up) and of
nats-server, from /proc/<pid>/stat — a split that other load on the machine does not distort the
way it does rates. Writes <out>/events.json and events.md.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402 (the token helper of the main harness)
SECRET = "bench-secret-bench-secret-bench-secret-0123"
RELAY_APPLICATION = "xclade-customers-relay"  # the relay's own connection (crates/server/src/relay.rs)


def log(msg):
    print(f"bench events: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def psql(url, sql):
    return subprocess.run(["psql", "-qtAX", url, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def wrk_summary(returncode, stdout, stderr):
    """The `BENCHJSON` summary a bench/lua script prints at the end of a wrk run, with `rps`."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if returncode != 0 or line is None:
        raise SystemExit(f"wrk failed: {stderr[-500:]} {stdout[-500:]}")
    r = json.loads(line[len("BENCHJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def fresh_database(pg, binary, db, before_project=None):
    """Drops and creates `db` on the server `pg`, applies the migrations with `binary`, runs
    `before_project(db_url)` when given, creates project `bench` and an API client. Answers
    (admin URL, database URL, the service's environment, the client)."""
    server = pg.rstrip("/")
    admin_url, db_url = f"{server}/postgres", f"{server}/{db}"
    psql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql(admin_url, f"CREATE DATABASE {db}")
    env = dict(os.environ, DATABASE_URL=db_url, XCLADE_JWT_SECRET=SECRET, RUST_LOG="warn")
    env.pop("XCLADE_NATS_URL", None)
    subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
    if before_project:
        before_project(db_url)
    subprocess.run([binary, "projects", "create", "bench", "--json"], env=env, check=True, capture_output=True)
    client = json.loads(subprocess.run([binary, "clients", "create", "--project", "bench", "--json"], env=env,
                                       check=True, capture_output=True, text=True).stdout)
    return admin_url, db_url, env, client


def cpu_ticks(pid):
    """User + system CPU of a process in clock ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def backends(db_url, db, application=None):
    """The pids of the database backends connected to `db` (the service's pool, the relay), or of
    those with this `application_name`."""
    only = f" AND application_name = '{application}'" if application else ""
    rows = psql(db_url, f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid(){only}")
    return [int(r) for r in rows.split() if r]


def nats_binary():
    for b in (os.environ.get("NATS_SERVER"), "/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if b and os.path.exists(b):
            return b
    return "nats-server"


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", required=True, help="PostgreSQL server URL (without database)")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3, help="create loads with the relay off and on, alternating")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    db = "xclade_bench_events"

    nats_port = free_port()
    store = out / "nats"
    subprocess.run(["rm", "-rf", str(store)])
    nats = subprocess.Popen([nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(nats_port)
    nats_url = f"nats://127.0.0.1:{nats_port}"
    procs = [nats]
    admin_url = None

    def serve(env, with_relay):
        port = free_port()
        e = dict(env, XCLADE_BIND=f"127.0.0.1:{port}")
        if with_relay:
            e["XCLADE_NATS_URL"] = nats_url
        p = subprocess.Popen([a.binary, "serve", "--no-migrate"], env=e, stderr=subprocess.DEVNULL)
        procs.append(p)
        wait_port(port)
        return p, f"http://127.0.0.1:{port}"

    def wrk(base, client, tag, seconds):
        cmd = ["wrk", "-t", str(a.threads), "-c", str(a.connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(BENCH / "lua" / "create_customer.lua"), base, "--", bench.token_for(base, client),
               str(a.threads), tag]
        p = subprocess.run(cmd, capture_output=True, text=True)
        return wrk_summary(p.returncode, p.stdout, p.stderr)

    def pending(db_url):
        return int(psql(db_url, "SELECT count(*) FROM events WHERE published_at IS NULL"))

    def creates(with_relay, tag):
        """One create load on a fresh database; answers (its result, the database's URL and
        environment, still holding what the load wrote)."""
        nonlocal admin_url
        admin_url, db_url, env, client = fresh_database(a.pg, a.binary, db)
        server, base = serve(env, with_relay)
        wrk(base, client, f"{tag}-warm", 2)
        pids = {"service": [server.pid], "postgres": backends(db_url, db), "nats": [nats.pid],
                "relay_backend": backends(db_url, db, RELAY_APPLICATION)}
        before = {k: sum(cpu_ticks(p) for p in v) for k, v in pids.items()}
        r = wrk(base, client, tag, a.duration)
        time.sleep(1)  # what the relay still does for this load's events counts too
        tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
        n = max(r["requests"], 1)
        r["cpu_us_per_create"] = {k: round((sum(cpu_ticks(p) for p in pids[k]) - before[k]) * tick_us / n, 1)
                                  for k in pids}
        if with_relay:
            r["outbox_pending_after"] = pending(db_url)
        server.send_signal(signal.SIGTERM)
        server.wait()
        return r, db_url, env

    def drain(db_url, env):
        """The relay alone on the backlog the relay-off load left: its sustained publish rate."""
        backlog = pending(db_url)
        log(f"relay alone: draining {backlog} events")
        relay = subprocess.Popen([a.binary, "relay"], env=dict(env, XCLADE_NATS_URL=nats_url),
                                 stderr=subprocess.DEVNULL)
        procs.append(relay)
        t0 = time.time()
        first = None
        while True:
            left = pending(db_url)
            if first is None and left < backlog:
                first = time.time()
            if left == 0:
                break
            if time.time() - t0 > 600:
                raise SystemExit("the relay did not drain the backlog in 10 minutes")
            time.sleep(0.2)
        t1 = time.time()
        relay.send_signal(signal.SIGINT)
        relay.wait()
        secs = t1 - (first or t0)
        return {"events": backlog, "seconds": round(secs, 2),
                "events_per_second": round(backlog / secs, 1) if secs > 0 else None}

    off_runs, on_runs, rel = [], [], None
    try:
        for rep in range(1, a.reps + 1):
            log(f"repetition {rep}/{a.reps}, relay off: creates for {a.duration} s")
            r, db_url, env = creates(False, "off")
            off_runs.append(r)
            if rel is None:
                rel = drain(db_url, env)
            log(f"repetition {rep}/{a.reps}, relay on: creates for {a.duration} s")
            on_runs.append(creates(True, "on")[0])
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
        if admin_url:
            psql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def summary(runs):
        return {"rps": median([r["rps"] for r in runs]),
                "cpu_us_per_create": {k: round(median([r["cpu_us_per_create"][k] for r in runs]), 1)
                                      for k in ("service", "postgres", "nats", "relay_backend")},
                "ok": sum(r.get("ok", 0) for r in runs), "failed": sum(r.get("http_errors", 0) + r.get("socket_errors", 0) for r in runs)}

    off, on = summary(off_runs), summary(on_runs)
    on["outbox_pending_after"] = max(r["outbox_pending_after"] for r in on_runs)
    change = 100.0 * (on["rps"] - off["rps"]) / off["rps"]
    results = {"creates_relay_off": off, "creates_relay_on": on, "relay_on_change_pct": round(change, 1),
               "relay_publish": rel, "reps": a.reps,
               "repetitions": [{"off": o, "on": n} for o, n in zip(off_runs, on_runs)]}
    reps = ", ".join(f"{o['rps']:.0f} → {n['rps']:.0f} ({100.0 * (n['rps'] - o['rps']) / o['rps']:+.1f} %)"
                     for o, n in zip(off_runs, on_runs))
    md = "\n".join([
        "| events scenario | value |",
        "|---|---|",
        f"| creates/s, relay off (median of {a.reps}) | {off['rps']:.0f} ({off['ok']} ok, {off['failed']} failed) |",
        f"| creates/s, relay on (median of {a.reps}) | {on['rps']:.0f} ({on['ok']} ok; at most "
        f"{on['outbox_pending_after']} pending 1 s after) |",
        f"| relay on against off | {change:+.1f} % |",
        f"| each repetition, off → on | {reps} |",
        "| CPU µs per create, relay off (service / postgres / nats) | "
        + " / ".join(str(off["cpu_us_per_create"][k]) for k in ("service", "postgres", "nats")) + " |",
        "| CPU µs per create, relay on (service / postgres / nats) | "
        + " / ".join(str(on["cpu_us_per_create"][k]) for k in ("service", "postgres", "nats")) + " |",
        f"| of the postgres figure, the relay's own connection (claims, marks, releases) | "
        f"{on['cpu_us_per_create']['relay_backend']} |",
        f"| relay sustained publish rate | {rel['events_per_second']} events/s ({rel['events']} events in "
        f"{rel['seconds']} s) |",
        "",
    ])
    (out / "events.json").write_text(json.dumps(results, indent=2))
    (out / "events.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
