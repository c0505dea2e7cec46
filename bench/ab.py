#!/usr/bin/env python3
"""A/B comparison of two server builds or settings on a database `just bench` prepared.

    python3 bench/ab.py --pg postgres://postgres@127.0.0.1:5432 --db xclade_bench_10k \\
        --a target/release/xclade-customers --b /tmp/patched/xclade-customers \\
        [--env-a RUST_LOG=info] [--env-b RUST_LOG=warn] --scenarios get_customer,create_customer \\
        [--rounds 3] [--duration 10]

Runs the scenario's wrk script against A, then B, alternating, `rounds` times (so drifting
background load hits both alike), one server at a time on the same database, and prints the
median req/s, p50, p99 and server CPU per request of each. Used for the measured gains in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", required=True)
    ap.add_argument("--db", default="xclade_bench_10k")
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--env-a", action="append", default=[])
    ap.add_argument("--env-b", action="append", default=[])
    ap.add_argument("--scenarios", default="get_customer,create_customer")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bind", default="127.0.0.1:18182")
    ap.add_argument("--out", default="/tmp/xclade-ab")
    args = ap.parse_args()

    ns = argparse.Namespace(pg=args.pg, out=args.out, binary=args.a, connections=args.connections,
                            threads=args.threads, duration=args.duration, warmup=0, reps=1, ceiling_duration=1,
                            pg_log=None)
    run = bench.Run(ns)
    pg = run.pg
    pid, actor, customers, groups = pg.rows(args.db, "SELECT project_id, actor, customers, groups FROM bench.meta")[0]
    env_before = dict(os.environ)
    results: dict[str, dict[str, list]] = {"A": {}, "B": {}}
    invocation = f"{int(time.time())}p{os.getpid()}"
    for scenario in args.scenarios.split(","):
        sc = bench.BY_NAME[scenario]
        for rnd in range(args.rounds):
            for label, binary, envs in (("A", args.a, args.env_a), ("B", args.b, args.env_b)):
                os.environ.clear()
                os.environ.update(env_before)
                for kv in envs:
                    k, _, v = kv.partition("=")
                    os.environ[k] = v
                server = bench.Server(Path(binary), pg.url(args.db), args.bind, Path(args.out) / f"server-{label}.log",
                                      run.secret)
                server.start()
                try:
                    client = json.loads(bench.run([binary, "clients", "create", "--project", bench.PROJECT_KEY, "--json"],
                                                  env=dict(os.environ, DATABASE_URL=pg.url(args.db))))
                    ctx = {"db": args.db, "scale": "ab", "customers": int(customers), "groups": int(groups),
                           "project": {"id": pid}, "client": client, "server": server,
                           "token": bench.token_for(server.base, client)}
                    # Unique per invocation: the create scenario's emails are made from this tag,
                    # and a tag used by an earlier invocation on the same database would make
                    # every create a 409 (the error path, not the create, would be measured).
                    tag = f"ab{invocation}r{rnd}{label}"
                    run.wrk(ctx, sc, 2, f"{tag}w")  # warm-up
                    server.reset_peak_rss()
                    r = run.wrk(ctx, sc, args.duration, tag)
                    r["peak_rss_kb"] = server.status_kb("VmHWM")
                    server.truncate_log()
                finally:
                    server.stop()
                results[label].setdefault(scenario, []).append(r)
                print(f"{scenario} round {rnd + 1} {label}: {r['rps']:.0f} req/s, p50 {r['latency_us']['p50'] / 1000:.2f} ms, "
                      f"p99 {r['latency_us']['p99'] / 1000:.2f} ms, server {r['cpu_us_per_request']['server']:.0f} µs/req, "
                      f"postgres {r['cpu_us_per_request']['postgres_backends']:.0f} µs/req, errors "
                      f"{r['http_errors'] + r['socket_errors']}, peak RSS {(r['peak_rss_kb'] or 0) / 1024:.1f} MB, "
                      f"load {r['loadavg_1m'][1]:.2f}", flush=True)
    print()
    for scenario in args.scenarios.split(","):
        line = [scenario]
        meds = {}
        for label in ("A", "B"):
            rs = results[label][scenario]
            meds[label] = statistics.median(r["rps"] for r in rs)
            line.append(f"{label}: {meds[label]:.0f} req/s p50 {statistics.median(r['latency_us']['p50'] for r in rs) / 1000:.2f} ms "
                        f"p99 {statistics.median(r['latency_us']['p99'] for r in rs) / 1000:.2f} ms "
                        f"server {statistics.median(r['cpu_us_per_request']['server'] for r in rs):.0f} µs/req "
                        f"pg {statistics.median(r['cpu_us_per_request']['postgres_backends'] for r in rs):.0f} µs/req")
        line.append(f"B/A {meds['B'] / meds['A']:.3f}")
        errors = sum(r["http_errors"] + r["socket_errors"] for label in ("A", "B") for r in results[label][scenario])
        if errors:
            line.append(f"ERRORS {errors}: not a valid comparison")
        print(" | ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
