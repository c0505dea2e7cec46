#!/usr/bin/env bash
# Instructions per request of the release server (user space), counted by valgrind's callgrind:
# the same binary and requests give the same count whatever else the machine does, so two builds
# compare on a noisy machine where CPU seconds per request move by ±20 % between runs.
#
#   bench/instructions.sh BINARY [scenario, default get_customer] [seconds, default 6]
#
# Runs BINARY under callgrind on the database `just bench` seeds (xclade_bench_10k), by default on
# the shared server at 127.0.0.1:5432 (seeded there by `just bench --shared-cores`); to use the
# bench's own cluster instead, keep it after a run and point at it:
#   BENCH_KEEP_DB=1 just bench --quick --scenarios get_customer
#   BENCH_PG_URL="$(scripts/bench-db.sh start)" bench/instructions.sh target/release/xclade-customers
# It warms the server up for 3 s with the scenario's wrk script (one thread, 4 connections),
# counts instructions only while wrk measures, and prints the total divided by the requests wrk
# made. The kernel's work (socket reads and writes, wake-ups) is not
# counted: compare CPU seconds per request for that (bench/ab.py). Writes
# target/bench/instructions-<binary>-<scenario>/ (callgrind.out.*, for callgrind_annotate).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
bin="$(realpath "${1:?usage: bench/instructions.sh BINARY [scenario] [seconds]}")"
scenario="${2:-get_customer}"
secs="${3:-6}"
server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
url="$server/xclade_bench_10k?sslmode=disable"
out="${CARGO_TARGET_DIR:-$root/target}/bench/instructions-$(basename "$bin")-$scenario"
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "instructions: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
# The scenario's wrk arguments (bench.py says so when the database is not seeded: see the top
# of this script).
scenario_args "$server" "$bin" "$scenario" "$out"

export DATABASE_URL="$url" XCLADE_JWT_SECRET="instructions-secret-instructions-secret-0123"
port=18192
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out" \
    "$bin" serve --bind "127.0.0.1:$port" --no-migrate >"$out/server.log" 2>&1 &
vg=$!
trap 'kill $vg 2>/dev/null || true' EXIT
wait_ready "$port" 240 0.5
token="$(bench_token "$bin" "$port")"

lua="bench/lua/$scenario.lua"
wrk -t1 -c4 -d3s -s "$lua" "http://127.0.0.1:$port" -- "$token" 1 "iw$$" "${args[@]}" >/dev/null
callgrind_control -i on "$vg" >/dev/null
wrk -t1 -c4 -d"${secs}s" -s "$lua" "http://127.0.0.1:$port" -- "$token" 1 "im$$" "${args[@]}" >"$out/wrk.txt"
callgrind_control -i off "$vg" >/dev/null
callgrind_control -d "$vg" >/dev/null
kill "$vg"
wait "$vg" 2>/dev/null || true
trap - EXIT
python3 - "$out" "$scenario" "$(basename "$bin")" <<'PY'
import glob, json, re, subprocess, sys
out, scenario, name = sys.argv[1:4]
summary = json.loads(open(f"{out}/wrk.txt").read().split("BENCHJSON ", 1)[1].splitlines()[0])
total = 0
for f in glob.glob(f"{out}/callgrind.out*"):
    text = subprocess.run(["callgrind_annotate", f], capture_output=True, text=True).stdout
    m = re.search(r"^([\d,]+)\s+.*PROGRAM TOTALS", text, re.M)
    if m:
        total += int(m.group(1).replace(",", ""))
requests = summary["requests"]
bad = requests - summary["ok"]
note = f", {bad} not ok: not a valid count" if bad else ""
print(f"{scenario} {name}: {total / max(requests, 1):,.0f} instructions per request ({requests} requests{note})")
PY
