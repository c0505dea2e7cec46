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

pg_ensure_owner_user

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

# Create the cluster once, pick a free port, start it.
pg_private_initdb "$bindir"
port="$(pg_free_port "${XCLADE_PG_PRIVATE_PORT:-55432}")" || exit 1
pg_private_start "$bindir" "$port" \
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" || exit 1
