#!/usr/bin/env python3
"""The grow-from-empty scenario of `just bench` (the plan-rot case of §4.1, docs/benchmarks.md).

A table that grows from empty while nothing analyses it keeps the statistics (and the cached
plans) of an empty table; a read planned then for a handful of rows can stay a sequential scan
when the table holds 50 000. This scenario measures that the customer read does not rot:

1. A fresh database with autovacuum off on every table (so nothing analyses them), the release
   server, 200 customers created through the API (the ids the reads use while the table grows).
2. Growth: wrk creates customers (8 connections) while a second wrk reads those customers
   (8 connections), in slices of --slice seconds, until --creates customers exist; each slice's
   reads/s and the table size are kept.
3. After: reads alone (16 connections, --duration s) over 1 000 random customers, still without
   ANALYZE.
4. Analysed: `ANALYZE`, then the same reads: the steady state.
The result is `after / analysed` (target ≥ 0.5: within 2× of the analysed steady state).
Writes <out>/grow.json and grow.md.
"""
import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402 (the token helper of the main harness)
from events import free_port, fresh_database, psql, wait_port, wrk_summary  # noqa: E402

TABLES = ["customers", "customer_addresses", "customer_group_memberships", "customer_groups", "events"]


def log(msg):
    print(f"bench grow: {msg}", file=sys.stderr, flush=True)


def wrk(script, base, args, seconds, connections, threads=1):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(BENCH / "lua" / script), base, "--", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(p):
    out, err = p.communicate()
    return wrk_summary(p.returncode, out, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", required=True, help="PostgreSQL server URL (without database)")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--creates", type=int, default=50_000)
    ap.add_argument("--slice", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    db = "xclade_bench_grow"

    def autovacuum_off(db_url):
        for t in TABLES:
            psql(db_url, f"ALTER TABLE {t} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)")

    admin_url, db_url, env, client = fresh_database(a.pg, a.binary, db, autovacuum_off)
    port = free_port()
    proc = subprocess.Popen([a.binary, "serve", "--no-migrate"], env=dict(env, XCLADE_BIND=f"127.0.0.1:{port}"),
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    data = out / "data"
    data.mkdir(exist_ok=True)
    results = {"creates_target": a.creates, "slices": []}
    try:
        wait_port(port)
        token = bench.token_for(base, client)
        count = lambda: int(psql(db_url, "SELECT count(*) FROM customers"))  # noqa: E731

        def ids_file(name, sql):
            path = data / f"grow-{name}.txt"
            path.write_text(psql(db_url, sql) + "\n")
            return str(path)

        # The first customers (the reads' ids while the table grows).
        seed = wrk("create_customer.lua", base, [token, "1", "grow-seed"], 1, 2)
        result(seed)
        while count() < 200:
            result(wrk("create_customer.lua", base, [token, "1", f"grow-seed{time.time_ns()}"], 1, 2))
        early = ids_file("early", "SELECT id FROM customers ORDER BY id LIMIT 200")
        log(f"growing to {a.creates} customers while reading 200 of the first ones")
        n = 0
        while not results["slices"] or count() < a.creates:  # at least one slice
            n += 1
            creates = wrk("create_customer.lua", base, [token, "1", f"grow-{n}"], a.slice, 8)
            reads = wrk("get_customer.lua", base, [token, "1", f"grow-r{n}", early], a.slice, 8)
            c, r = result(creates), result(reads)
            size = count()
            results["slices"].append({"customers": size, "creates_per_s": round(c["rps"]),
                                      "reads_per_s": round(r["rps"]), "read_p99_ms": r["latency_us"]["p99"] / 1000,
                                      "errors": c["http_errors"] + r["http_errors"]})
            log(f"{size} customers: {c['rps']:.0f} creates/s, {r['rps']:.0f} reads/s alongside")
        sample = ids_file("sample", "SELECT id FROM customers ORDER BY random() LIMIT 1000")
        analysed = psql(db_url, "SELECT coalesce(max(last_analyze)::text, 'never') FROM pg_stat_user_tables")
        log(f"reads alone, not analysed (last analyze: {analysed})")
        after = result(wrk("get_customer.lua", base, [token, "2", "grow-after", sample], a.duration, 16, 2))
        psql(db_url, "ANALYZE")
        log("reads alone, analysed")
        steady = result(wrk("get_customer.lua", base, [token, "2", "grow-analysed", sample], a.duration, 16, 2))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        psql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    ratio = after["rps"] / steady["rps"] if steady["rps"] else 0
    results.update({
        "after_growth": {"reads_per_s": round(after["rps"]), "p99_ms": after["latency_us"]["p99"] / 1000,
                         "errors": after["http_errors"]},
        "analysed": {"reads_per_s": round(steady["rps"]), "p99_ms": steady["latency_us"]["p99"] / 1000,
                     "errors": steady["http_errors"]},
        "ratio_after_to_analysed": round(ratio, 3),
    })
    first, last = results["slices"][0], results["slices"][-1]
    md = "\n".join([
        "| grow from empty (autovacuum off) | value |",
        "|---|---|",
        f"| reads/s alongside creates, first slice ({first['customers']} customers) | {first['reads_per_s']} |",
        f"| reads/s alongside creates, last slice ({last['customers']} customers) | {last['reads_per_s']} |",
        f"| creates/s alongside reads (first → last slice) | {first['creates_per_s']} → {last['creates_per_s']} |",
        f"| reads/s after growth, not analysed | {results['after_growth']['reads_per_s']} "
        f"(p99 {results['after_growth']['p99_ms']:.2f} ms) |",
        f"| reads/s after ANALYZE (steady state) | {results['analysed']['reads_per_s']} "
        f"(p99 {results['analysed']['p99_ms']:.2f} ms) |",
        f"| after ÷ analysed (target ≥ 0.5) | {ratio:.2f} ({'met' if ratio >= 0.5 else 'missed'}) |",
        "",
    ])
    (out / "grow.json").write_text(json.dumps(results, indent=2))
    (out / "grow.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
