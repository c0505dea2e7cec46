#!/usr/bin/env bash
# Prints the URL of the development database.
#
#   DATABASE_URL set  -> printed as is (nothing is created);
#   otherwise         -> a server from scripts/db-ensure.sh, with the database `xclade_dev`
#                        (XCLADE_DEV_DB overrides the name) created when missing.
# Diagnostics go to stderr.
set -euo pipefail

# shellcheck source=scripts/pg-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

if [[ -n "${DATABASE_URL:-}" ]]; then
    echo "$DATABASE_URL"
    exit 0
fi

base="$("$PG_LIB_ROOT/scripts/db-ensure.sh")"
db="${XCLADE_DEV_DB:-xclade_dev}"
if [[ ! "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    pg_log "XCLADE_DEV_DB must be a plain lower-case identifier, got '$db'"
    exit 1
fi
psql="$(pg_tool psql)" || {
    pg_log "psql not found; install the PostgreSQL client or set DATABASE_URL"
    exit 1
}
exists="$("$psql" -X -w -A -t -q -d "$base/postgres" \
    -c "select 1 from pg_database where datname = '$db'")"
if [[ "$exists" != 1 ]]; then
    pg_log "creating database $db"
    # A concurrent creator may win the race; only a database that still does not exist fails.
    "$psql" -X -w -q -d "$base/postgres" -c "create database \"$db\"" >&2 ||
        [[ "$("$psql" -X -w -A -t -q -d "$base/postgres" \
            -c "select 1 from pg_database where datname = '$db'")" == 1 ]] || {
        pg_log "cannot create database $db on $base"
        exit 1
    }
fi
echo "$base/$db"
