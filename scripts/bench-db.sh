#!/usr/bin/env bash
# The benchmark's own PostgreSQL cluster, pinned to CPUs of its own (`just bench`; docs/benchmarks.md).
#
#   scripts/bench-db.sh start   prints the base URL of a running bench cluster, e.g.
#                               postgres://postgres@127.0.0.1:55532 (creating and starting it)
#   scripts/bench-db.sh stop    stops it
#   scripts/bench-db.sh cpus    prints "<database cpus> <client cpus>" (e.g. "0 1")
#
# On a machine of N CPUs the cluster runs on the first N/2 (rounded down, at least one) and
# `just bench` runs the server, wrk and pgbench on the others: the database has cores of its
# own, as it has on a machine of its own in production, so its pgbench ceiling is the database's
# limit and not the database's and pgbench's together. BENCH_DB_CPUS and BENCH_CLIENT_CPUS
# (taskset lists such as 0 or 0-3) override the split.
#
# Unlike the test cluster of scripts/db-ensure.sh it keeps PostgreSQL's durable defaults (fsync,
# synchronous_commit, full_page_writes on): a commit costs what it costs in production. Its
# shared_buffers is sized as for a database server of its own, a quarter of the machine's memory
# (PostgreSQL's documented starting point; at least 128MB, at most 8GB; BENCH_PG_SHARED_BUFFERS
# overrides): with the default 128MB the 2 GB database of the 1 M scale does not fit, every read
# copies blocks from the OS cache and the creates' backends evict dirty buffers themselves
# (docs/benchmarks.md, change 39). Autovacuum is off, as on the machines' shared server the earlier runs used: the
# harness analyses what it seeds, and a vacuum that a write scenario's rows start during the
# next scenario would be measured as that scenario's (bench/grow.py measures the unanalysed case). It lives under target/ (bench-pgdata, bench-pgdata.log, bench-pgsock), or the
# /var/tmp directory scripts/pg-lib.sh picks when target/ is out of the postgres user's reach.
set -euo pipefail

# shellcheck source=scripts/pg-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

cpus() {
    local n db clients
    n="$(nproc)"
    if ((n < 2)); then
        return 1
    fi
    db="${BENCH_DB_CPUS:-$(if ((n / 2 > 1)); then echo "0-$((n / 2 - 1))"; else echo 0; fi)}"
    clients="${BENCH_CLIENT_CPUS:-$(if ((n - n / 2 > 1)); then echo "$((n / 2))-$((n - 1))"; else echo "$((n / 2))"; fi)}"
    echo "$db $clients"
}

# A quarter of the machine's memory in MB, between 128 and 8192 (or BENCH_PG_SHARED_BUFFERS).
shared_buffers() {
    if [[ -n "${BENCH_PG_SHARED_BUFFERS:-}" ]]; then
        echo "$BENCH_PG_SHARED_BUFFERS"
        return
    fi
    local kb mb
    kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
    mb=$((kb / 1024 / 4))
    ((mb < 128)) && mb=128
    ((mb > 8192)) && mb=8192
    echo "${mb}MB"
}

paths() {
    pg_private_paths
    PG_DATA="$PG_BASE/bench-pgdata"
    PG_LOGFILE="$PG_BASE/bench-pgdata.log"
    PG_SOCKDIR="$PG_BASE/bench-pgsock"
}

start() {
    local bindir split db_cpus port
    bindir="$(pg_bindir)" || {
        pg_log "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL (>= 15)"
        exit 1
    }
    split="$(cpus)" || {
        pg_log "fewer than two CPUs: the database cannot have one of its own"
        exit 1
    }
    db_cpus="${split%% *}"
    pg_ensure_owner_user
    paths
    mkdir -p "$PG_BASE"
    if port="$(pg_private_running_port)" && [[ -n "$port" ]] && pg_answers "$port"; then
        # Pinned again in case it was started by hand: the postmaster and every backend.
        local pid
        pid="$(head -n 1 "$PG_DATA/postmaster.pid")"
        for p in "$pid" $(pgrep -P "$pid" || true); do
            taskset -a -p -c "$db_cpus" "$p" >/dev/null 2>&1 || true
        done
        pg_log "reusing the bench cluster in $PG_DATA (port $port, CPU $db_cpus)"
        echo "postgres://postgres@127.0.0.1:$port"
        return
    fi
    pg_private_initdb "$bindir"
    port="$(pg_free_port "${BENCH_PG_PORT:-55532}")" || exit 1
    pg_log "the bench cluster runs on CPU $db_cpus"
    pg_private_start "$bindir" "$port" "-c max_connections=200 -c autovacuum=off -c shared_buffers=$(shared_buffers)" \
        taskset -c "$db_cpus" || exit 1
}

stop() {
    local port bindir
    paths
    if port="$(pg_private_running_port)"; then
        bindir="$(pg_bindir)"
        pg_log "stopping the bench cluster in $PG_DATA (port $port)"
        (cd / && pg_as_owner "$bindir/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60) >&2
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    cpus) cpus ;;
    log)
        paths
        echo "$PG_LOGFILE"
        ;;
    *)
        sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
