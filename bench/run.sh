#!/usr/bin/env bash
# `just bench`: the benchmark harness (docs/benchmarks.md).
#
#   just bench                  10 000 customers, every scenario (about 17 minutes plus the build)
#   just bench 1m               the same, then every scenario at 1 000 000 customers
#   just bench --scale 1m       (same as `just bench 1m`)
#   just bench --quick          3 s runs, one repetition: for working on the harness, not a result
#   just bench --events-only    only the events scenario (relay off/on creates, relay publish rate)
#   just bench --grow-only      only the grow-from-empty scenario (reads while 50 000 creates land
#                               on an empty, never analysed database; bench/grow.py)
#   just bench --shared-cores   the database on the machine's shared server (127.0.0.1:5432, or
#                               the test cluster of scripts/db-ensure.sh), every process on every core
#   just bench [options]        any option of bench/bench.py (--duration, --reps, --scenarios, …;
#                               `python3 bench/bench.py --help`)
#
# It installs what it needs when missing (wrk and valgrind from Debian's packages, the PostgreSQL client with
# pgbench), builds the release binary, finds a PostgreSQL server and runs bench/bench.py, which
# creates and drops its own databases xclade_bench_10k / xclade_bench_1m there.
#
# The server: BENCH_PG_URL when set; else, on a machine of two CPUs or more, the bench's own
# cluster (scripts/bench-db.sh). bench.py measures each scenario twice: on the whole machine
# (req/s, latency, CPU per request), then with the cluster on the first half of the CPUs and the
# service, wrk and pgbench on the other half, where the ratio to the pgbench ceiling is taken
# (the database has cores of its own, as in production; its pgbench rate is then the database's
# limit). The events and grow scenarios run split. The cluster is stopped at the end unless
# BENCH_KEEP_DB=1.
# With --shared-cores or on one CPU: scripts/db-ensure.sh, every process on every core.
# Results: target/bench/results.json, results.md, explain-<scale>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"

say() { echo "bench: $*" >&2; }

args=()
shared_cores=0
while (($#)); do
    case "$1" in
        1m | 10k) args+=(--scale "$1") ;;
        --quick) args+=(--duration 3 --ceiling-duration 3 --warmup 1 --reps 1) ;;
        --events-only) args=(--events-only) ;;
        --grow-only) args=(--grow-only) ;;
        --shared-cores) shared_cores=1 ;;
        *) args+=("$1") ;;
    esac
    shift
done

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "$* missing and apt-get is not available; install it and run again"
        exit 1
    fi
    local sudo=()
    [[ $EUID -ne 0 ]] && sudo=(sudo)
    say "installing $* (Debian packages)"
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >&2
}

# The load generator: wrk with its Lua scripts (bench/lua).
command -v wrk >/dev/null 2>&1 || apt_install wrk
# The instruction count of the simple requests (bench/instructions.sh): valgrind's callgrind.
command -v valgrind >/dev/null 2>&1 || apt_install valgrind
# psql and pgbench: on PATH, else the server's bin directory, else Debian's client package.
for tool in psql pgbench; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if dir="$(pg_bindir 2>/dev/null)" && [[ -x "$dir/$tool" ]]; then
            export PATH="$dir:$PATH"
        else
            apt_install postgresql-client
        fi
    fi
done
command -v python3 >/dev/null 2>&1 || apt_install python3

say "building the release binary (cargo build --release -p xclade-server)"
cargo build --release -p xclade-server >&2
target_dir="${CARGO_TARGET_DIR:-$root/target}"
binary="$target_dir/release/xclade-customers"
[[ -x "$binary" ]] || {
    say "$binary was not built"
    exit 1
}

pg_log_args=()
split_args=()
pin=()
if [[ -n "${BENCH_PG_URL:-}" ]]; then
    pg_url="$BENCH_PG_URL"
elif ((!shared_cores)) && split="$(scripts/bench-db.sh cpus)"; then
    pg_url="$(scripts/bench-db.sh start)"
    [[ "${BENCH_KEEP_DB:-0}" == 1 ]] || trap 'scripts/bench-db.sh stop' EXIT
    pg_log_args=(--pg-log "$(scripts/bench-db.sh log)")
    # bench.py measures each scenario on the whole machine, then split (it moves the processes
    # itself); events.py and grow.py run split: the service and nats-server inherit these CPUs.
    split_args=(--split-cpus "${split%% *}/${split#* }")
    pin=(taskset -c "${split#* }")
    say "PostgreSQL on CPU ${split%% *} when split; the server, wrk and pgbench on CPU ${split#* }"
else
    pg_url="$(scripts/db-ensure.sh)"
    if [[ "$pg_url" != *":5432" ]]; then
        # The private cluster of scripts/db-ensure.sh logs to a file of its own.
        pg_private_paths
        [[ -r "$PG_LOGFILE" ]] && pg_log_args=(--pg-log "$PG_LOGFILE")
    fi
fi

only="${args[*]:-}"
if [[ "$only" == "--events-only" || "$only" == "--grow-only" ]]; then
    args=()
else
    python3 bench/bench.py --pg "$pg_url" --binary "$binary" --out "$target_dir/bench" \
        "${pg_log_args[@]}" "${split_args[@]}" "${args[@]}"
fi
# The events scenario (§6): creates/s with the relay off and on, the relay's publish rate.
events_args=()
grow_args=()
if [[ " ${args[*]:-} " == *" --duration 3 "* ]]; then
    events_args=(--duration 3 --reps 1)
    grow_args=(--creates 5000 --slice 2 --duration 3)
fi
if [[ "$only" != "--grow-only" ]]; then
    "${pin[@]}" python3 bench/events.py --pg "$pg_url" --binary "$binary" --out "$target_dir/bench" "${events_args[@]}"
fi
# The grow-from-empty scenario (§4.1 plan rot): reads while creates fill a never analysed database.
if [[ "$only" != "--events-only" ]]; then
    "${pin[@]}" python3 bench/grow.py --pg "$pg_url" --binary "$binary" --out "$target_dir/bench" "${grow_args[@]}"
fi
