#!/usr/bin/env bash
# Stops the private PostgreSQL cluster started by scripts/db-ensure.sh, if it runs.
# Never touches a server it did not start (e.g. the system server on 5432).
#
# Usage: scripts/db-stop.sh [--purge]
#   --purge   also delete the private cluster's data directory, log and socket directory
set -euo pipefail

# shellcheck source=scripts/pg-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

purge=0
for arg in "$@"; do
    case "$arg" in
        --purge) purge=1 ;;
        -h | --help)
            sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            pg_log "unknown argument: $arg"
            exit 2
            ;;
    esac
done

pg_private_paths

if port="$(pg_private_running_port)"; then
    bindir="$(pg_bindir)"
    pg_log "stopping the private cluster in $PG_DATA (port $port)"
    (cd / && pg_as_owner "$bindir/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60) >&2
else
    pg_log "no private cluster running in $PG_DATA"
fi

if ((purge)); then
    pg_log "removing $PG_DATA, $PG_LOGFILE, $PG_SOCKDIR"
    rm -rf "$PG_DATA" "$PG_LOGFILE" "$PG_SOCKDIR" "$PG_BASE/pgdata.lock"
fi
