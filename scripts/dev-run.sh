#!/usr/bin/env bash
# `just run`: a local xclade-customers with a demo project, an API client and an admin user.
#
#   1. the database: DATABASE_URL, else `xclade_dev` on a server from scripts/db-ensure.sh;
#   2. XCLADE_JWT_SECRET, else a random dev secret kept in target/dev-jwt-secret;
#   3. cargo build -p xclade-server (dev profile), then `xclade-customers migrate`;
#   4. project `demo` (created once), a fresh API client and a fresh admin user
#      (admin@demo.local the first time, admin+<random>@demo.local afterwards), printed with
#      the address of the admin page (/app);
#   5. exec `xclade-customers serve --bind ${XCLADE_BIND:-127.0.0.1:8080}`.
#
# XCLADE_BIN=<path> uses that binary instead of building one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"

log() { echo "run: $*" >&2; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# Reads one string field of a one-object JSON document on stdin.
json_field() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(" ".join(v) if isinstance(v, list) else v)' "$1"
    elif command -v jq >/dev/null 2>&1; then
        jq -r --arg k "$1" '.[$k] | if type == "array" then join(" ") else . end'
    else
        sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
    fi
}

psql_bin="$(pg_tool psql)" || {
    log "psql not found; install the PostgreSQL client"
    exit 1
}

db_url="$(scripts/dev-db-url.sh)"
export DATABASE_URL="$db_url"

if [[ -z "${XCLADE_JWT_SECRET:-}" ]]; then
    secret_file="$root/target/dev-jwt-secret"
    if [[ ! -s "$secret_file" ]]; then
        mkdir -p "$root/target"
        (umask 077 && random_hex 24 >"$secret_file")
        log "generated a development JWT secret in target/dev-jwt-secret"
    fi
    XCLADE_JWT_SECRET="$(tr -d '\n' <"$secret_file")"
    export XCLADE_JWT_SECRET
fi

if [[ -n "${XCLADE_BIN:-}" ]]; then
    bin="$XCLADE_BIN"
    log "using $bin (XCLADE_BIN; not building)"
else
    log "building xclade-server (dev profile)"
    cargo build -p xclade-server
    bin="${CARGO_TARGET_DIR:-$root/target}/debug/xclade-customers"
fi
[[ -x "$bin" ]] || {
    log "$bin was not built"
    exit 1
}

log "migrating"
"$bin" migrate

query() { "$psql_bin" -X -w -A -t -q -d "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"; }

if [[ "$(query "select 1 from projects where key = 'demo'")" == 1 ]]; then
    log "project demo exists"
else
    "$bin" projects create demo --name "Demo" --json >/dev/null
    log "created project demo"
fi

client_json="$("$bin" clients create --project demo --json)"
client_id="$(json_field client_id <<<"$client_json")"
client_secret="$(json_field client_secret <<<"$client_json")"
client_scopes="$(json_field scopes <<<"$client_json")"

email="admin@demo.local"
if [[ "$(query "select 1 from admin_users u join projects p on p.project_id = u.project_id
                where p.key = 'demo' and lower(u.email) = 'admin@demo.local'")" == 1 ]]; then
    email="admin+$(random_hex 4)@demo.local"
fi
password="$(random_hex 12)"
user_json="$(printf '%s\n' "$password" | "$bin" users create --project demo --email "$email" --json)"
email="$(json_field email <<<"$user_json")"

bind="${XCLADE_BIND:-127.0.0.1:8080}"
cat <<INFO

=== xclade customers (development) ==========================================
database        $DATABASE_URL
project key     demo
API client      id:     $client_id
                secret: $client_secret
                scopes: $client_scopes
admin user      email:    $email
                password: $password
listening on    http://$bind   (API reference: http://$bind/docs)
admin page      http://$bind/app   (sign in with the admin user's email and password above)

token:  curl -s -u '$client_id:$client_secret' -d grant_type=client_credentials http://$bind/oauth/token
login:  curl -s -H 'content-type: application/json' -d '{"email":"$email","password":"$password"}' http://$bind/auth/user/emailpass
==============================================================================

INFO

exec "$bin" serve --bind "$bind"
