#!/usr/bin/env bash
# System calls and context switches per request of the release server under one benchmark
# scenario, on the database `just bench` seeds (xclade_bench_10k):
#
#   bench/syscalls.sh BINARY [scenario, default create_customer] [seconds, default 5]
#
# Starts BINARY, warms it up for 2 s with the scenario's wrk script (2 threads, 16 connections),
# then runs wrk twice for `seconds`: once under `perf stat` (system calls, context switches and
# CPU time of the server's threads) and once under `perf trace -s` (the count of each system
# call). Prints both divided by the requests wrk made. `perf trace` slows every system call
# down, so the second run's throughput is lower; its counts per request are what it is for.
# The server runs against the shared server at 127.0.0.1:5432 unless BENCH_PG_URL names
# another (the bench cluster: BENCH_PG_URL="$(scripts/bench-db.sh start)").
# Writes target/bench/syscalls-<scenario>/ (perf's outputs, wrk's, the server's log).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
bin="$(realpath "${1:?usage: bench/syscalls.sh BINARY [scenario] [seconds]}")"
scenario="${2:-create_customer}"
secs="${3:-5}"
server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
out="${CARGO_TARGET_DIR:-$root/target}/bench/syscalls-$scenario"
command -v perf >/dev/null || { echo "syscalls: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "syscalls: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
scenario_args "$server" "$bin" "$scenario" "$out"

export DATABASE_URL="$server/xclade_bench_10k?sslmode=disable" XCLADE_JWT_SECRET="syscalls-secret-syscalls-secret-0123456789"
port=18193
"$bin" serve --bind "127.0.0.1:$port" --no-migrate >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
wait_ready "$port" 50 0.2
token="$(bench_token "$bin" "$port")"
lua="bench/lua/$scenario.lua"
# The create scenario makes its emails from this tag: unique per run, so no create is a 409.
tag="sc$(date +%s)p$$"
wrk -t2 -c16 -d2s -s "$lua" "http://127.0.0.1:$port" -- "$token" 2 "${tag}w" "${args[@]}" >/dev/null

measure() { # measure NAME PERF-ARGS...: wrk for $secs while perf watches the server
    local name="$1"
    shift
    perf "$@" -p "$server_pid" -o "$out/$name.txt" -- sleep "$secs" &
    local perf_pid=$!
    wrk -t2 -c16 -d"${secs}s" -s "$lua" "http://127.0.0.1:$port" -- "$token" 2 "${tag}$name" "${args[@]}" >"$out/wrk-$name.txt"
    wait "$perf_pid" || true
}
measure stat stat -e raw_syscalls:sys_enter,context-switches,cpu-migrations,task-clock
measure trace trace -s

python3 - "$out" "$scenario" <<'EOF'
import json, re, sys
from pathlib import Path
out, scenario = Path(sys.argv[1]), sys.argv[2]

def requests(name):
    for line in (out / f"wrk-{name}.txt").read_text().splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            if r["http_errors"] or r["socket_errors"]:
                sys.exit(f"syscalls: {name}: {r['http_errors']} HTTP and {r['socket_errors']} socket errors; not a valid count")
            return r["requests"]
    sys.exit(f"syscalls: no BENCHJSON line in wrk-{name}.txt")

n = requests("stat")
stat = {}
for line in (out / "stat.txt").read_text().splitlines():
    m = re.match(r"\s*([\d,.]+)\s+(?:msec\s+)?([\w:-]+)", line)
    if m:
        stat[m.group(2)] = float(m.group(1).replace(",", ""))
print(f"{scenario}: {n} requests in the perf stat run")
print(f"  system calls / request      {stat['raw_syscalls:sys_enter'] / n:6.2f}")
print(f"  context switches / request  {stat['context-switches'] / n:6.2f}")
print(f"  CPU µs / request (perf on)  {stat['task-clock'] * 1000 / n:6.0f}")
n = requests("trace")
calls = {}
for line in (out / "trace.txt").read_text().splitlines():
    m = re.match(r"\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s", line)
    if m:
        calls[m.group(1)] = calls.get(m.group(1), 0) + int(m.group(2))
print(f"  per request, by call ({n} requests in the perf trace run; every thread of the server):")
for name, count in sorted(calls.items(), key=lambda kv: -kv[1])[:8]:
    print(f"    {name:18} {count / n:6.2f}")
EOF
