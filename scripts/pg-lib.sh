# shellcheck shell=bash
# Shared helpers of scripts/db-ensure.sh and scripts/db-stop.sh (sourced, not executed).
#
# The private cluster lives under target/ of the repository:
#   target/pgdata      data directory (initdb -U postgres --auth=trust -E UTF8)
#   target/pgdata.log  server log
#   target/pgsock/     unix socket directory (the server listens on 127.0.0.1 only)
# When the repository path is not reachable by the `postgres` system user (running as root
# from a private home directory) or the socket path would be too long, a directory under
# /var/tmp derived from the repository path is used instead.

PG_LIB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_PRIVATE_USER=postgres

pg_log() { echo "db: $*" >&2; }

# Directory holding the PostgreSQL server binaries (initdb, pg_ctl, postgres), or fails.
pg_bindir() {
    local tool dir
    if tool="$(command -v pg_ctl 2>/dev/null)" && command -v initdb >/dev/null 2>&1; then
        dir="$(dirname "$(readlink -f "$tool")")"
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    # Newest installed version first.
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Path of a client tool (psql, pg_isready) on PATH or next to the server binaries.
pg_tool() {
    local name="$1" dir
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        return 0
    fi
    if dir="$(pg_bindir)" && [[ -x "$dir/$name" ]]; then
        echo "$dir/$name"
        return 0
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [[ -x "$dir/$name" ]]; then
            echo "$dir/$name"
            return 0
        fi
    done
    return 1
}

# pg_answers PORT: true when a server on 127.0.0.1:PORT accepts user postgres (no password).
pg_answers() {
    local port="$1" psql isready
    if psql="$(pg_tool psql)"; then
        PGCONNECT_TIMEOUT=3 "$psql" -X -w -q -A -t -h 127.0.0.1 -p "$port" -U postgres -d postgres \
            -c 'select 1' >/dev/null 2>&1
        return
    fi
    if isready="$(pg_tool pg_isready)"; then
        "$isready" -q -t 3 -h 127.0.0.1 -p "$port" -U postgres >/dev/null 2>&1
        return
    fi
    pg_log "neither psql nor pg_isready found; cannot probe port $port"
    return 1
}

# pg_port_busy PORT: true when something listens on 127.0.0.1:PORT.
pg_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Whether the `postgres` system user can reach DIR (only meaningful when running as root).
pg_user_can_reach() {
    local dir="$1"
    if command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_PRIVATE_USER" -- test -x "$dir" 2>/dev/null
    else
        su "$PG_PRIVATE_USER" -s /bin/sh -c "test -x '$dir'" 2>/dev/null
    fi
}

# Sets PG_BASE (directory holding pgdata, pgdata.log, pgsock), PG_DATA, PG_LOGFILE, PG_SOCKDIR.
# shellcheck disable=SC2034 # used by the scripts that source this file
pg_private_paths() {
    local base="$PG_LIB_ROOT/target"
    # A unix socket path must stay below ~107 bytes (".s.PGSQL.NNNNN" included).
    local too_long=0
    ((${#base} > 80)) && too_long=1
    # pg_ctl -o splits on whitespace.
    [[ "$base" =~ [[:space:]] ]] && too_long=1
    local unreachable=0
    if [[ $EUID -eq 0 ]] && id -u "$PG_PRIVATE_USER" >/dev/null 2>&1; then
        mkdir -p "$base"
        pg_user_can_reach "$base" || unreachable=1
    fi
    if ((too_long || unreachable)); then
        base="/var/tmp/xclade-pg-$(printf '%s' "$PG_LIB_ROOT" | cksum | cut -d' ' -f1)"
    fi
    PG_BASE="$base"
    PG_DATA="$base/pgdata"
    PG_LOGFILE="$base/pgdata.log"
    PG_SOCKDIR="$base/pgsock"
}

# Runs a command as the owner of the private cluster (the `postgres` system user when root).
pg_as_owner() {
    if [[ $EUID -ne 0 ]]; then
        "$@"
        return
    fi
    if command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_PRIVATE_USER" -- "$@"
    else
        local quoted
        quoted="$(printf '%q ' "$@")"
        su "$PG_PRIVATE_USER" -s /bin/sh -c "$quoted"
    fi
}

# Port of the running private cluster (from postmaster.pid), or fails when it is not running.
pg_private_running_port() {
    local bindir
    [[ -f "$PG_DATA/postmaster.pid" ]] || return 1
    bindir="$(pg_bindir)" || return 1
    pg_as_owner "$bindir/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 || return 1
    sed -n 4p "$PG_DATA/postmaster.pid"
}

# Creates the `postgres` system user when running as root without it (initdb/pg_ctl refuse to
# run as root).
pg_ensure_owner_user() {
    if [[ $EUID -eq 0 ]] && ! id -u "$PG_PRIVATE_USER" >/dev/null 2>&1; then
        pg_log "creating system user $PG_PRIVATE_USER (initdb/pg_ctl refuse to run as root)"
        useradd -r -m -s /bin/sh "$PG_PRIVATE_USER" >&2
    fi
}

# pg_private_initdb BINDIR: creates the cluster in $PG_DATA unless it exists.
pg_private_initdb() {
    local bindir="$1" locale_args=(--no-locale)
    [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
    pg_log "initdb $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_PRIVATE_USER": "$PG_DATA"
    fi
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_args=(--locale=C.UTF-8)
    fi
    (cd / && pg_as_owner "$bindir/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
        "${locale_args[@]}") >&2 9>&-
}

# pg_free_port FIRST: prints the first port from FIRST upwards (50 tried) nothing listens on.
pg_free_port() {
    local port="$1"
    for _ in $(seq 1 50); do
        if ! pg_port_busy "$port"; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
    done
    pg_log "no free port found from $1 upwards"
    return 1
}

# pg_private_start BINDIR PORT OPTIONS [PREFIX...]: starts the cluster in $PG_DATA on
# 127.0.0.1:PORT with the server OPTIONS (`-c name=value …`), pg_ctl run under PREFIX (e.g.
# `taskset -c 0`), waits until it answers and prints its URL.
pg_private_start() {
    local bindir="$1" port="$2" options="$3"
    shift 3
    mkdir -p "$PG_SOCKDIR"
    touch "$PG_LOGFILE"
    if [[ $EUID -eq 0 ]]; then
        chown -R "$PG_PRIVATE_USER": "$PG_DATA"
        chown "$PG_PRIVATE_USER": "$PG_SOCKDIR" "$PG_LOGFILE"
    fi
    pg_log "starting the cluster in $PG_DATA on 127.0.0.1:$port (log: $PG_LOGFILE)"
    if ! (cd / && pg_as_owner "$@" "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOGFILE" -t 60 \
        -o "-p $port -k $PG_SOCKDIR -c listen_addresses=127.0.0.1 $options" start -w) >&2 9>&-; then
        pg_log "pg_ctl start failed; last lines of $PG_LOGFILE:"
        tail -n 20 "$PG_LOGFILE" >&2 || true
        return 1
    fi
    for _ in $(seq 1 30); do
        if pg_answers "$port"; then
            echo "postgres://postgres@127.0.0.1:$port"
            return 0
        fi
        sleep 1
    done
    pg_log "the cluster in $PG_DATA started but does not answer on 127.0.0.1:$port; see $PG_LOGFILE"
    return 1
}
