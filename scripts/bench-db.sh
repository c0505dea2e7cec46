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
# synchronous_commit, full_page_writes on; shared_buffers 128MB): a commit costs what it costs
# in production. Autovacuum is off, as on the machines' shared server the earlier runs used: the
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
    if [[ $EUID -eq 0 ]] && ! id -u "$PG_PRIVATE_USER" >/dev/null 2>&1; then
        pg_log "creating system user $PG_PRIVATE_USER (initdb/pg_ctl refuse to run as root)"
        useradd -r -m -s /bin/sh "$PG_PRIVATE_USER" >&2
    fi
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
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        pg_log "initdb $PG_DATA"
        rm -rf "$PG_DATA"
        mkdir -p "$PG_DATA"
        chmod 700 "$PG_DATA"
        [[ $EUID -eq 0 ]] && chown "$PG_PRIVATE_USER": "$PG_DATA"
        local locale_args=(--no-locale)
        if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
            locale_args=(--locale=C.UTF-8)
        fi
        (cd / && pg_as_owner "$bindir/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
            "${locale_args[@]}") >&2
    fi
    port="${BENCH_PG_PORT:-55532}"
    for _ in $(seq 1 50); do
        pg_port_busy "$port" || break
        port=$((port + 1))
    done
    mkdir -p "$PG_SOCKDIR"
    touch "$PG_LOGFILE"
    if [[ $EUID -eq 0 ]]; then
        chown -R "$PG_PRIVATE_USER": "$PG_DATA"
        chown "$PG_PRIVATE_USER": "$PG_SOCKDIR" "$PG_LOGFILE"
    fi
    pg_log "starting the bench cluster on 127.0.0.1:$port, CPU $db_cpus (log: $PG_LOGFILE)"
    if ! (cd / && pg_as_owner taskset -c "$db_cpus" "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOGFILE" -t 60 \
        -o "-p $port -k $PG_SOCKDIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c autovacuum=off" start -w) >&2; then
        pg_log "pg_ctl start failed; last lines of $PG_LOGFILE:"
        tail -n 20 "$PG_LOGFILE" >&2 || true
        exit 1
    fi
    for _ in $(seq 1 30); do
        if pg_answers "$port"; then
            echo "postgres://postgres@127.0.0.1:$port"
            return
        fi
        sleep 1
    done
    pg_log "the bench cluster started but does not answer on 127.0.0.1:$port; see $PG_LOGFILE"
    exit 1
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
