#!/usr/bin/env bash
# CPU profile of the release server under one benchmark scenario, on a database `just bench`
# prepared (xclade_bench_10k).
#
#   bench/profile.sh [scenario, default get_customer] [seconds, default 10]
#
# Starts the release server, drives it with the scenario's wrk script (16 connections) while
# `perf record --call-graph dwarf` samples it, and writes to target/bench/profile-<scenario>/:
#   perf.data, report-self.txt (hottest functions), report-dso.txt (kernel vs. user vs. libc),
#   report-children.txt (inclusive time per function, top-down), and flamegraph.svg when
#   inferno is installed (`cargo install inferno`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
scenario="${1:-get_customer}"
secs="${2:-10}"
server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
db="xclade_bench_10k"
url="$server/$db?sslmode=disable"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/release/xclade-customers"
out="$target_dir/bench/profile-$scenario"
mkdir -p "$out"
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
scenario_args "$server" "$bin" "$scenario" "$out"

export DATABASE_URL="$url" XCLADE_JWT_SECRET="profile-secret-profile-secret-profile-secret"
port=18183
"$bin" serve --bind "127.0.0.1:$port" --no-migrate >>"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
wait_ready "$port" 50 0.2
token="$(bench_token "$bin" "$port")"

lua="bench/lua/$scenario.lua"
wrk -t2 -c16 -d2s -s "$lua" "http://127.0.0.1:$port" -- "$token" 2 "pw$$" "${args[@]}" >/dev/null
perf record -F 499 --call-graph dwarf,16384 -p "$server_pid" -o "$out/perf.data" -- sleep "$secs" 2>"$out/perf-record.log" &
perf_pid=$!
wrk -t2 -c16 -d"${secs}s" -s "$lua" "http://127.0.0.1:$port" -- "$token" 2 "p$$" "${args[@]}" | tee "$out/wrk.txt" | grep -E "Requests/sec|BENCHJSON" || true
wait "$perf_pid" || true
perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' >"$out/report-dso.txt" || true
perf report -i "$out/perf.data" --no-children --sort sym --stdio -g none --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' >"$out/report-self.txt" || true
perf report -i "$out/perf.data" --children --sort sym --stdio -g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' >"$out/report-children.txt" || true
if command -v inferno-collapse-perf >/dev/null && command -v inferno-flamegraph >/dev/null; then
    perf script -i "$out/perf.data" 2>/dev/null | inferno-collapse-perf >"$out/stacks.folded"
    inferno-flamegraph <"$out/stacks.folded" >"$out/flamegraph.svg"
fi
echo "profile: $out" >&2
head -20 "$out/report-dso.txt"
