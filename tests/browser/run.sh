#!/usr/bin/env bash
# End-to-end tests of the admin page (/app) in a real headless browser (`just test-browser`;
# `just test` runs it too).
#
#   1. finds Debian's Chromium (/usr/bin/chromium, or XCLADE_CHROMIUM=<path>); when it is
#      missing, installs `chromium` and `chromium-driver` with apt-get (as root, or by sudo -n);
#   2. builds the server (`cargo build -p xclade-server --bin xclade-customers`;
#      XCLADE_BIN=<path> skips the build);
#   3. installs the pinned playwright-core (tests/browser/package-lock.json, `npm ci`) into
#      target/browser/js, only when missing or when the lock changed, linked as
#      tests/browser/node_modules; playwright-core downloads no browser, it drives the system one;
#   4. creates a fresh database `xclade_browser_<random>` on the PostgreSQL server named by
#      XCLADE_TEST_PG, else the server part of DATABASE_URL, else scripts/db-ensure.sh, and starts
#      the server on a free port against it (tests/support/server.sh, shared with tests/clients);
#   5. creates the project `app` (the page must work for a project whose key is its own path),
#      an admin user and an API client (`manage_project:app`) through the CLI;
#   6. runs tests/browser/admin-page.test.mjs (node --test) and writes the screenshots of the
#      customer list, a customer page and a group page at 1280 and 390 px wide to
#      target/browser/screenshots/ — or to docs/screenshots/ with --screenshots;
#   7. stops the server and drops the database, also on failure or interruption.
#
# Usage: tests/browser/run.sh [--screenshots]
# Logs of the last run: target/browser/logs/. XCLADE_BROWSER_KEEP_DB=1 keeps the database;
# XCLADE_BROWSER_HEADED=1 shows the browser window (needs a display).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/browser"
work="$root/target/browser"
cd "$root"
# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"
# shellcheck source=tests/support/server.sh
source "$root/tests/support/server.sh"

log() { echo "test-browser: $*" >&2; }
started=$SECONDS

screenshots="$work/screenshots"
for arg in "$@"; do
    case "$arg" in
        --screenshots) screenshots="$root/docs/screenshots" ;;
        -h | --help)
            sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument: $arg (--screenshots)" ;;
    esac
done

# ---------------------------------------------------------------------------------------------
# Tools.

suite_python
suite_node
psql_bin="$(pg_tool psql)" || die "psql not found; install the PostgreSQL client"

find_chromium() {
    local candidate
    for candidate in "${XCLADE_CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
if ! chromium_bin="$(find_chromium)"; then
    command -v apt-get >/dev/null 2>&1 || die "Chromium not found and apt-get is missing: install Chromium and set XCLADE_CHROMIUM"
    as_root=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
            die "Chromium not found: run 'sudo apt-get install -y chromium chromium-driver' (or set XCLADE_CHROMIUM)"
        as_root=(sudo -n)
    fi
    log "installing chromium and chromium-driver (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${as_root[@]}" apt-get install -y -qq chromium chromium-driver >&2; then
        "${as_root[@]}" apt-get update -qq >&2
        "${as_root[@]}" apt-get install -y -qq chromium chromium-driver >&2
    fi
    chromium_bin="$(find_chromium)" || die "Chromium is still missing after apt-get"
fi
# Debian's /usr/bin/chromium is a wrapper script; the version is only for the log.
chromium_version="$("$chromium_bin" --version 2>/dev/null | head -n 1 || true)"

# ---------------------------------------------------------------------------------------------
# Build.

suite_build_bin

# ---------------------------------------------------------------------------------------------
# playwright-core (pinned; reinstalled only when missing or when the lock changed).

# playwright-core has no install script and downloads no browser.
suite_npm_ci "$here" "$work/js" "$here/node_modules" "playwright-core"

# ---------------------------------------------------------------------------------------------
# Database and server.

suite_pg_server
run_id="$(random_hex 6)"
logs="$work/logs"
mkdir -p "$logs" "$screenshots"
rm -f "$logs"/*.log

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    suite_stop_servers
    suite_drop_db "${XCLADE_BROWSER_KEEP_DB:-0}" XCLADE_BROWSER_KEEP_DB
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

suite_create_db "xclade_browser_$run_id"

export XCLADE_JWT_SECRET
XCLADE_JWT_SECRET="$(random_hex 32)"
export RUST_LOG="${RUST_LOG:-info}"
start_server main --
api_url="$started_url"

project_key=app
"$bin" projects create "$project_key" --name "Admin page tests" --json >/dev/null
client_json="$("$bin" clients create --project "$project_key" --json)"
admin_email="admin@shop.test"
admin_password="$(random_hex 12)"
printf '%s\n' "$admin_password" | "$bin" users create --project "$project_key" --email "$admin_email" --json >/dev/null

export XCLADE_API_URL="$api_url" XCLADE_PROJECT_KEY="$project_key"
export XCLADE_ADMIN_EMAIL="$admin_email" XCLADE_ADMIN_PASSWORD="$admin_password"
export XCLADE_CLIENT_ID XCLADE_CLIENT_SECRET
XCLADE_CLIENT_ID="$(json_field client_id <<<"$client_json")"
XCLADE_CLIENT_SECRET="$(json_field client_secret <<<"$client_json")"
export XCLADE_CHROMIUM="$chromium_bin" XCLADE_SCREENSHOT_DIR="$screenshots" XCLADE_FAILURE_DIR="$work/failures"
rm -rf "$work/failures"
log "server $api_url (log: target/browser/logs/main.log), project $project_key, admin $admin_email; ${chromium_version:-$chromium_bin}"

# ---------------------------------------------------------------------------------------------
# The suite.

status=0
timeout --foreground 900 node --test --test-concurrency=1 "$here/admin-page.test.mjs" || status=$?
((status == 130 || status == 143)) && exit "$status"
((status == 124)) && log "the suite timed out after 900 s"
if ((status)); then
    log "FAILED after $((SECONDS - started)) s (server log: target/browser/logs/main.log; screenshots of the failures: target/browser/failures/)"
    exit 1
fi
log "passed in $((SECONDS - started)) s; screenshots in ${screenshots#"$root"/}/"
