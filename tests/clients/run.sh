#!/usr/bin/env bash
# The client-SDK conformance suites (`just test-clients`; `just test` runs it too).
#
#   1. builds the server (`cargo build -p xclade-server`; XCLADE_BIN=<path> skips the build);
#   2. installs the pinned client dependencies under target/clients/, only when missing or when
#      tests/clients/python/requirements.txt or tests/clients/js/package-lock.json changed:
#      a venv target/clients/venv (Python >= 3.10) and target/clients/js/node_modules (`npm ci`),
#      linked as tests/clients/js/node_modules;
#   3. creates a fresh database `xclade_clients_<random>` on the PostgreSQL server named by
#      XCLADE_TEST_PG, else the server part of DATABASE_URL, else scripts/db-ensure.sh;
#   4. starts the server twice on free ports against it: the main instance (migrates at start)
#      and a short-token instance (XCLADE_TOKEN_TTL_SECS=2, --no-migrate) for re-authentication;
#   5. creates a project, an API client (manage_project), a view-only API client
#      (view_customer_groups) and an admin user through the CLI (`--json`);
#   6. runs the suites in order — python (commercetools, pytest), commercetools
#      (@commercetools/platform-sdk + ts-client, node --test), medusa (@medusajs/js-sdk,
#      node --test; it also checks what the first two handed over);
#   7. stops both servers and drops the database, also on failure or interruption.
#
# Usage: tests/clients/run.sh [python|commercetools|medusa]…   (no argument: all three)
# Logs of the last run: target/clients/logs/. XCLADE_CLIENTS_KEEP_DB=1 keeps the database.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/clients"
work="$root/target/clients"
cd "$root"
# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"
# shellcheck source=tests/support/server.sh
source "$root/tests/support/server.sh"

log() { echo "test-clients: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Which suites.

all_suites=(python commercetools medusa)
suites=()
for arg in "$@"; do
    case "$arg" in
        python | commercetools | medusa) suites+=("$arg") ;;
        -h | --help)
            sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown suite: $arg (python, commercetools, medusa)" ;;
    esac
done
((${#suites[@]})) || suites=("${all_suites[@]}")
wants() {
    local s
    for s in "${suites[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    return 1
}
wants_js() { wants commercetools || wants medusa; }

# ---------------------------------------------------------------------------------------------
# Tools.

suite_python
if wants_js; then
    suite_node
fi
psql_bin="$(pg_tool psql)" || die "psql not found; install the PostgreSQL client"

# ---------------------------------------------------------------------------------------------
# Build.

suite_build_bin

# ---------------------------------------------------------------------------------------------
# Dependencies (pinned; reinstalled only when missing or when the lock changed).

mkdir -p "$work"
venv="$work/venv"
if wants python; then
    req="$here/python/requirements.txt"
    want_stamp="$(sha256sum "$req" | cut -d' ' -f1) $("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.xclade-stamp" 2>/dev/null)" != "$want_stamp" ]]; then
        log "installing the Python dependencies into target/clients/venv"
        rm -rf "$venv"
        "$python_bin" -m venv "$venv" || die "cannot create a venv with $python_bin (Debian: apt-get install python3-venv)"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
        printf '%s' "$want_stamp" >"$venv/.xclade-stamp"
    fi
fi
if wants_js; then
    # The suites import the packages by name: Node finds them through tests/clients/js/node_modules.
    suite_npm_ci "$here/js" "$work/js" "$here/js/node_modules" "the Node dependencies"
fi

# ---------------------------------------------------------------------------------------------
# Database.

suite_pg_server

run_id="$(random_hex 6)"
run_dir="$work/run-$run_id"
logs="$work/logs"
mkdir -p "$run_dir/handoff" "$logs"
rm -f "$logs"/*.log

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    suite_stop_servers
    suite_drop_db "${XCLADE_CLIENTS_KEEP_DB:-0}" XCLADE_CLIENTS_KEEP_DB
    rm -rf "$run_dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

suite_create_db "xclade_clients_$run_id"

# ---------------------------------------------------------------------------------------------
# Servers.

export XCLADE_JWT_SECRET
XCLADE_JWT_SECRET="$(random_hex 32)"
export RUST_LOG="${RUST_LOG:-info}"
start_server main XCLADE_TOKEN_TTL_SECS=172800 XCLADE_MAX_CUSTOMER_GROUPS=1000 --
api_url="$started_url"
start_server short-ttl XCLADE_TOKEN_TTL_SECS=2 XCLADE_MAX_CUSTOMER_GROUPS=1000 -- --no-migrate
short_ttl_url="$started_url"
log "servers: $api_url (main), $short_ttl_url (2 s tokens); logs in target/clients/logs/"

# ---------------------------------------------------------------------------------------------
# Project, API clients, admin user.

project_key="sdk-$run_id"
"$bin" projects create "$project_key" --name "Client SDK suites" --json >/dev/null
client_json="$("$bin" clients create --project "$project_key" --json)"
view_json="$("$bin" clients create --project "$project_key" --scope "view_customer_groups:$project_key" --json)"
admin_email="admin+$run_id@clients.test"
admin_password="$(random_hex 12)"
user_json="$(printf '%s\n' "$admin_password" | "$bin" users create --project "$project_key" --email "$admin_email" --json)"

export XCLADE_API_URL="$api_url"
export XCLADE_SHORT_TTL_API_URL="$short_ttl_url"
export XCLADE_SHORT_TTL_SECS=2
export XCLADE_PROJECT_KEY="$project_key"
export XCLADE_CLIENT_ID XCLADE_CLIENT_SECRET XCLADE_CLIENT_SCOPES
XCLADE_CLIENT_ID="$(json_field client_id <<<"$client_json")"
XCLADE_CLIENT_SECRET="$(json_field client_secret <<<"$client_json")"
XCLADE_CLIENT_SCOPES="$(json_field scopes <<<"$client_json")"
export XCLADE_VIEW_CLIENT_ID XCLADE_VIEW_CLIENT_SECRET XCLADE_VIEW_CLIENT_SCOPES
XCLADE_VIEW_CLIENT_ID="$(json_field client_id <<<"$view_json")"
XCLADE_VIEW_CLIENT_SECRET="$(json_field client_secret <<<"$view_json")"
XCLADE_VIEW_CLIENT_SCOPES="$(json_field scopes <<<"$view_json")"
export XCLADE_ADMIN_ID XCLADE_ADMIN_EMAIL XCLADE_ADMIN_PASSWORD="$admin_password"
XCLADE_ADMIN_ID="$(json_field id <<<"$user_json")"
XCLADE_ADMIN_EMAIL="$(json_field email <<<"$user_json")"
export XCLADE_HANDOFF_DIR="$run_dir/handoff"
log "project $project_key, client $XCLADE_CLIENT_ID ($XCLADE_CLIENT_SCOPES)," \
    "view client $XCLADE_VIEW_CLIENT_ID ($XCLADE_VIEW_CLIENT_SCOPES), admin $XCLADE_ADMIN_EMAIL"

# ---------------------------------------------------------------------------------------------
# Suites.

run_suite() {
    local name="$1"
    shift
    log "=== suite $name ==="
    local status=0
    timeout --foreground 900 "$@" || status=$?
    if ((status == 0)); then
        results+=("$name: passed")
    else
        results+=("$name: FAILED")
        failed=1
        # Interrupted (Ctrl-C, SIGTERM): stop here; the trap cleans up.
        ((status == 130 || status == 143)) && exit "$status"
        ((status == 124)) && log "suite $name timed out after 900 s"
    fi
}

results=()
failed=0
if wants python; then
    run_suite python env OAUTHLIB_INSECURE_TRANSPORT=1 PYTHONDONTWRITEBYTECODE=1 \
        "$venv/bin/python" -m pytest -c "$here/python/pytest.ini" -p no:cacheprovider "$here/python"
fi
if wants commercetools; then
    run_suite commercetools node --test "$here/js/commercetools.test.mjs"
fi
if wants medusa; then
    run_suite medusa node --test "$here/js/medusa.test.mjs"
fi

log "results: $(IFS=';'; echo "${results[*]}" | sed 's/;/; /g')"
if ((failed)); then
    log "FAILED (server logs: target/clients/logs/)"
    exit 1
fi
log "all suites passed"
