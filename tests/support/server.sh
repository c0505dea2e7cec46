# shellcheck shell=bash
# Shared by the suites that run against a spawned `xclade-customers` and a fresh database
# (tests/clients/run.sh, tests/browser/run.sh, tests/fuzz/run.sh). Sourced, not executed.
#
# The sourcing script defines `log` (one line on stderr) and sets, before calling anything:
#   root        the repository
#   python_bin  a Python 3 (free ports, readiness checks without curl)
#   psql_bin    psql (scripts/pg-lib.sh: pg_tool psql)
#   bin         the server binary             (for start_server)
#   logs        the directory of server logs  (for start_server)
#
#   suite_pg_server          sets pg_base and pg_query: the PostgreSQL server named by
#                            XCLADE_TEST_PG, else the server part of DATABASE_URL, else
#                            scripts/db-ensure.sh (a database name in the URL is dropped)
#   url_for NAME             the URL of database NAME on that server
#   admin_sql SQL            runs SQL in its `postgres` database
#   suite_create_db NAME     creates database NAME, exports DATABASE_URL pointing at it
#   suite_drop_db KEEP VAR   drops it again (when suite_create_db ran), unless KEEP is 1
#                            (VAR names the variable that asked to keep it, for the message)
#   free_port                a free TCP port on 127.0.0.1
#   start_server NAME ENV… -- ARGS…
#                            `bin serve --bind 127.0.0.1:<free port> ARGS…` with ENV…, logged
#                            to $logs/NAME.log; waits until /health/ready answers (60 s) and
#                            sets started_url; fails with the log's tail otherwise
#   suite_stop_servers       SIGTERM to every started server, SIGKILL after 10 s
#   die MESSAGE…             logs and exits 1
#   random_hex N             N random bytes as hex
#   json_field NAME          one field of the one-object JSON document on stdin (lists
#                            joined by spaces)
#   suite_python             sets python_bin: a Python >= 3.10 (python3.11 first)
#   suite_node               checks node and npm (Node >= 20), sets node_major
#   suite_build_bin          sets bin: $XCLADE_BIN, else the freshly built debug binary
#   suite_npm_ci SRC WORK LINK LABEL
#                            `npm ci` of SRC/package{,-lock}.json into WORK, only when WORK
#                            is missing or those files or the Node major changed; LINK
#                            (e.g. SRC/node_modules) becomes a relative symlink to
#                            WORK/node_modules

server_pids=()
db_created=0
db_name=""
started_url=""

suite_pg_server() {
    local pg_url pg_scheme="" pg_rest
    if [[ -n "${XCLADE_TEST_PG:-}" ]]; then
        pg_url="$XCLADE_TEST_PG"
    elif [[ -n "${DATABASE_URL:-}" ]]; then
        pg_url="$DATABASE_URL"
    else
        pg_url="$("$root/scripts/db-ensure.sh")"
    fi
    pg_url="${pg_url//[[:space:]]/}"
    # Split into `scheme://authority` and `?query`, dropping any database name (as testkit does).
    pg_query=""
    if [[ "$pg_url" == *\?* ]]; then
        pg_query="?${pg_url#*\?}"
        pg_url="${pg_url%%\?*}"
    fi
    pg_rest="$pg_url"
    if [[ "$pg_url" == *://* ]]; then
        pg_scheme="${pg_url%%://*}://"
        pg_rest="${pg_url#*://}"
    fi
    pg_base="$pg_scheme${pg_rest%%/*}"
}

url_for() { printf '%s/%s%s' "$pg_base" "$1" "$pg_query"; }
admin_sql() { "$psql_bin" -X -w -q -A -t -d "$(url_for postgres)" -v ON_ERROR_STOP=1 -c "$1"; }

suite_create_db() {
    db_name="$1"
    log "creating the database $db_name on ${pg_base#*@}"
    admin_sql "CREATE DATABASE \"$db_name\"" >/dev/null
    db_created=1
    export DATABASE_URL
    DATABASE_URL="$(url_for "$db_name")"
}

suite_drop_db() {
    local keep="$1" var="$2"
    ((db_created)) || return 0
    if [[ "$keep" == 1 ]]; then
        log "kept the database $(url_for "$db_name") ($var=1)"
    else
        admin_sql "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 ||
            log "could not drop the database $db_name"
    fi
}

suite_stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "server $pid did not stop in 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}

free_port() {
    "$python_bin" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ready URL: true when URL answers 2xx.
ready() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
    else
        "$python_bin" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null
    fi
}

# start_server NAME EXTRA_ENV… -- SERVE_ARGS…: starts one instance, sets started_url.
start_server() {
    local name="$1" port pid url shown
    shift
    local env_args=()
    while [[ $# -gt 0 && "$1" != -- ]]; do
        env_args+=("$1")
        shift
    done
    shift
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    shown="${logs#"$root"/}/$name.log"
    env "${env_args[@]}" "$bin" serve --bind "127.0.0.1:$port" "$@" >"$logs/$name.log" 2>&1 &
    pid=$!
    server_pids+=("$pid")
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the $name server exited at start; last lines of $shown:"
            tail -n 30 "$logs/$name.log" >&2 || true
            return 1
        fi
        if ready "$url/health/ready"; then
            started_url="$url"
            return 0
        fi
        sleep 0.2
    done
    log "the $name server did not become ready in 60 s; last lines of $shown:"
    tail -n 30 "$logs/$name.log" >&2 || true
    return 1
}

die() {
    log "$*"
    exit 1
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

json_field() {
    "$python_bin" -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(" ".join(v) if isinstance(v, list) else v)' "$1"
}

suite_python() {
    local candidate
    python_bin=""
    for candidate in python3.11 python3 python3.12 python3.13; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            python_bin="$(command -v "$candidate")"
            return 0
        fi
    done
    die "Python >= 3.10 not found (python3.11 or python3)"
}

suite_node() {
    command -v node >/dev/null 2>&1 || die "node not found (Node >= 20 is needed)"
    command -v npm >/dev/null 2>&1 || die "npm not found"
    node_major="$(node -p 'process.versions.node.split(".")[0]')"
    ((node_major >= 20)) || die "Node >= 20 is needed, found $(node --version)"
}

suite_build_bin() {
    if [[ -n "${XCLADE_BIN:-}" ]]; then
        bin="$XCLADE_BIN"
        log "using $bin (XCLADE_BIN; not building)"
    else
        log "building xclade-customers"
        cargo build -q -p xclade-server --bin xclade-customers
        bin="${CARGO_TARGET_DIR:-$root/target}/debug/xclade-customers"
    fi
    [[ -x "$bin" ]] || die "$bin was not built"
}

suite_npm_ci() {
    local src="$1" work_dir="$2" link="$3" label="$4" want
    want="$(sha256sum "$src/package-lock.json" "$src/package.json" | cut -d' ' -f1 | tr -d '\n') node$node_major"
    if [[ ! -d "$work_dir/node_modules" || "$(cat "$work_dir/.xclade-stamp" 2>/dev/null)" != "$want" ]]; then
        log "installing $label into ${work_dir#"$root"/} (npm ci)"
        rm -rf "$work_dir"
        mkdir -p "$work_dir"
        cp "$src/package.json" "$src/package-lock.json" "$work_dir/"
        npm ci --prefix "$work_dir" --no-audit --no-fund --loglevel=error >&2
        printf '%s' "$want" >"$work_dir/.xclade-stamp"
    fi
    if [[ -e "$link" && ! -L "$link" ]]; then
        rm -rf "$link"
    fi
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$work_dir/node_modules")" "$link"
}
