#!/usr/bin/env bash
# Prints, on one stdout line, the base URL (no database) of a PostgreSQL server that answers
# as user `postgres` without a password, e.g. `postgres://postgres@127.0.0.1:5432`.
#
#   1. a server on 127.0.0.1:5432 that answers is used as is;
#   2. otherwise a private cluster under target/pgdata is reused or created and started
#      (127.0.0.1 only, port 55432 or the next free one, fsync off).
#
# Usage: scripts/db-ensure.sh [--private]
#   --private, or XCLADE_PG_PRIVATE=1   skip 5432 and use the private cluster
#   XCLADE_PG_PRIVATE_PORT=N            first port tried for a new private cluster (55432)
#
# Callers respect DATABASE_URL when it is set; this script does not look at it.
# Diagnostics go to stderr. scripts/db-stop.sh stops the private cluster.
set -euo pipefail

# shellcheck source=scripts/pg-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

force_private="${XCLADE_PG_PRIVATE:-0}"
for arg in "$@"; do
    case "$arg" in
        --private) force_private=1 ;;
        -h | --help)
            sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            pg_log "unknown argument: $arg"
            exit 2
            ;;
    esac
done

if [[ "$force_private" != 1 ]] && pg_answers 5432; then
    echo "postgres://postgres@127.0.0.1:5432"
    exit 0
fi
if [[ "$force_private" == 1 ]]; then
    pg_log "private cluster forced"
else
    pg_log "nothing answers on 127.0.0.1:5432; using a private cluster"
fi

bindir="$(pg_bindir)" || {
    pg_log "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin;" \
        "install PostgreSQL (>= 15) or set DATABASE_URL"
    exit 1
}

if [[ $EUID -eq 0 ]] && ! id -u "$PG_PRIVATE_USER" >/dev/null 2>&1; then
    pg_log "creating system user $PG_PRIVATE_USER (initdb/pg_ctl refuse to run as root)"
    useradd -r -m -s /bin/sh "$PG_PRIVATE_USER" >&2
fi

pg_private_paths
mkdir -p "$PG_BASE"

# Serialise concurrent callers (two `just` recipes at once) around initdb/start.
# Every command that may leave a process behind runs with fd 9 closed (`9>&-`), or the
# server would inherit the lock and hold it forever.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$PG_BASE/pgdata.lock"
    flock -w 120 9 || {
        pg_log "timed out waiting for $PG_BASE/pgdata.lock"
        exit 1
    }
fi

# Reuse a running private cluster.
if port="$(pg_private_running_port)" && [[ -n "$port" ]]; then
    if pg_answers "$port"; then
        pg_log "reusing the private cluster in $PG_DATA (port $port)"
        echo "postgres://postgres@127.0.0.1:$port"
        exit 0
    fi
    pg_log "the private cluster in $PG_DATA runs on port $port but does not answer; restarting it"
    pg_as_owner "$bindir/pg_ctl" -D "$PG_DATA" stop -m fast -w >&2 9>&- || true
fi

# Create the cluster once.
if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    pg_log "initdb $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
    [[ $EUID -eq 0 ]] && chown "$PG_PRIVATE_USER": "$PG_DATA"
    locale_args=(--no-locale)
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_args=(--locale=C.UTF-8)
    fi
    (cd / && pg_as_owner "$bindir/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
        "${locale_args[@]}") >&2 9>&-
fi

# Pick a free port.
port="${XCLADE_PG_PRIVATE_PORT:-55432}"
for _ in $(seq 1 50); do
    pg_port_busy "$port" || break
    port=$((port + 1))
done
if pg_port_busy "$port"; then
    pg_log "no free port found from ${XCLADE_PG_PRIVATE_PORT:-55432} upwards"
    exit 1
fi

mkdir -p "$PG_SOCKDIR"
touch "$PG_LOGFILE"
if [[ $EUID -eq 0 ]]; then
    chown -R "$PG_PRIVATE_USER": "$PG_DATA"
    chown "$PG_PRIVATE_USER": "$PG_SOCKDIR" "$PG_LOGFILE"
fi

pg_log "starting the private cluster on 127.0.0.1:$port (log: $PG_LOGFILE)"
if ! (cd / && pg_as_owner "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOGFILE" -t 60 \
    -o "-p $port -k $PG_SOCKDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start -w) >&2 9>&-; then
    pg_log "pg_ctl start failed; last lines of $PG_LOGFILE:"
    tail -n 20 "$PG_LOGFILE" >&2 || true
    exit 1
fi

for _ in $(seq 1 30); do
    if pg_answers "$port"; then
        echo "postgres://postgres@127.0.0.1:$port"
        exit 0
    fi
    sleep 1
done
pg_log "the private cluster started but does not answer on 127.0.0.1:$port; see $PG_LOGFILE"
exit 1
