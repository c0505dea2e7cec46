#!/usr/bin/env bash
# Property-based API fuzzing with Schemathesis (`just test-fuzz`; `just test` runs it too).
#
#   1. installs Schemathesis (pinned below) into the venv target/fuzz/venv, only when it is
#      missing or the pin or the Python version changed;
#   2. builds `xclade-customers` (debug; XCLADE_BIN=<path> skips the build);
#   3. creates a fresh database `xclade_fuzz_<random>` on the PostgreSQL server named by
#      XCLADE_TEST_PG, else the server part of DATABASE_URL, else scripts/db-ensure.sh, and
#      runs `xclade-customers migrate`;
#   4. creates a project, an API client (`manage_project:<key>`) and an admin user by the CLI,
#      starts `xclade-customers serve` on a free port, and obtains a client token
#      (`/oauth/token`) and an admin token (`/auth/user/emailpass`);
#   5. runs Schemathesis over /openapi.json against every operation, in positive and negative
#      mode, with every check (`--checks all`), once with each token; the settings and the
#      per-operation exclusions are in tests/fuzz/schemathesis.toml;
#   6. stops the server and drops the database (also on failure or interruption).
#
# Closing line: `fuzz: N passed, M failed`, counting operations × runs (an operation passes a
# run when Schemathesis reports no failure and no error for it).
#
# Usage: tests/fuzz/run.sh [client|admin]…   (no argument: both runs)
# Environment: FUZZ_MAX_EXAMPLES (default 50), FUZZ_WORKERS (default 1 per pass; the passes run
# side by side), FUZZ_SEED (random), FUZZ_KEEP_DB=1 keeps the database.
# Logs and reports of the last run: target/fuzz/logs/.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/fuzz"
work="$root/target/fuzz"
cd "$root"
# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"
# shellcheck source=tests/support/server.sh
source "$root/tests/support/server.sh"

log() { echo "test-fuzz: $*" >&2; }
started=$SECONDS

runs=()
for arg in "$@"; do
    case "$arg" in
        client | admin) runs+=("$arg") ;;
        -h | --help)
            sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown run: $arg (client, admin)" ;;
    esac
done
((${#runs[@]})) || runs=(client admin)

# ---------------------------------------------------------------------------------------------
# Tools.

suite_python
psql_bin="$(pg_tool psql)" || die "psql not found; install the PostgreSQL client"

# ---------------------------------------------------------------------------------------------
# Schemathesis (pinned), in target/fuzz/venv.

mkdir -p "$work"
venv="$work/venv"
want_stamp="schemathesis==$SCHEMATHESIS_VERSION $("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if [[ ! -x "$venv/bin/schemathesis" || "$(cat "$venv/.xclade-stamp" 2>/dev/null)" != "$want_stamp" ]]; then
    log "installing schemathesis==$SCHEMATHESIS_VERSION into target/fuzz/venv"
    rm -rf "$venv"
    "$python_bin" -m venv "$venv" || die "cannot create a venv with $python_bin (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "schemathesis==$SCHEMATHESIS_VERSION"
    printf '%s' "$want_stamp" >"$venv/.xclade-stamp"
fi
st_version="$("$venv/bin/schemathesis" --version | awk '{print $NF}')"
[[ "$st_version" == "$SCHEMATHESIS_VERSION" ]] || die "schemathesis $st_version installed, $SCHEMATHESIS_VERSION wanted"

# ---------------------------------------------------------------------------------------------
# Build.

suite_build_bin

# ---------------------------------------------------------------------------------------------
# Database.

suite_pg_server

run_id="$(random_hex 6)"
db_name="xclade_fuzz_$run_id"
logs="$work/logs"
mkdir -p "$logs"
rm -rf "${logs:?}"/*

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    suite_stop_servers
    suite_drop_db "${FUZZ_KEEP_DB:-0}" FUZZ_KEEP_DB
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

suite_create_db "$db_name"
"$bin" migrate >"$logs/migrate.log" 2>&1 || {
    cat "$logs/migrate.log" >&2
    die "xclade-customers migrate failed"
}

# ---------------------------------------------------------------------------------------------
# Project, API client, admin user, server, tokens.

project_key="fuzz-$run_id"
"$bin" projects create "$project_key" --name "Schemathesis" --json >/dev/null
client_json="$("$bin" clients create --project "$project_key" --json)"
client_id="$(json_field client_id <<<"$client_json")"
client_secret="$(json_field client_secret <<<"$client_json")"
admin_email="admin+$run_id@fuzz.test"
admin_password="$(random_hex 12)"
printf '%s\n' "$admin_password" |
    "$bin" users create --project "$project_key" --email "$admin_email" --json >/dev/null

start_server server XCLADE_JWT_SECRET="$(random_hex 32)" RUST_LOG="${RUST_LOG:-warn}" -- --no-migrate ||
    die "the server did not start (target/fuzz/logs/server.log)"
api_url="$started_url"

client_token="$(curl -fsS --max-time 30 -u "$client_id:$client_secret" -d grant_type=client_credentials \
    "$api_url/oauth/token" | json_field access_token)"
admin_token="$(
    printf '{"email": "%s", "password": "%s"}' "$admin_email" "$admin_password" |
        curl -fsS --max-time 30 -H 'Content-Type: application/json' --data-binary @- \
            "$api_url/auth/user/emailpass" | json_field token
)"
[[ -n "$client_token" && -n "$admin_token" ]] || die "could not obtain the tokens"
log "server $api_url (log: target/fuzz/logs/server.log), project $project_key"

# ---------------------------------------------------------------------------------------------
# Schemathesis.

# Read by schemathesis.toml.
export FUZZ_PROJECT_KEY="$project_key"
seed="${FUZZ_SEED:-$((RANDOM * 32768 + RANDOM))}"

# The passes run side by side, one Schemathesis process each with one worker: its thread
# workers share one Python process, and CPython before 3.11.8 can fail `ast.parse` when threads
# race (hypothesis describes its filters with it), which showed up as a spurious runtime error.
pids=()
for run in "${runs[@]}"; do
    case "$run" in
        client) token="$client_token" ;;
        admin) token="$admin_token" ;;
    esac
    log "=== run $run (seed $seed) started ==="
    rm -f "$logs/$run.status" "$logs/$run.junit.xml"
    (
        status=0
        timeout --foreground 280 env FUZZ_TOKEN="$token" SCHEMATHESIS_HOOKS="$here/hooks.py" \
            "$venv/bin/schemathesis" --no-color --config-file "$here/schemathesis.toml" run "$api_url/openapi.json" \
            --mode all --max-examples "${FUZZ_MAX_EXAMPLES:-50}" \
            --generation-database none --seed "$seed" --workers "${FUZZ_WORKERS:-1}" \
            --report junit --report-junit-path "$logs/$run.junit.xml" \
            >"$logs/$run.log" 2>&1 || status=$?
        echo "$status" >"$logs/$run.status"
    ) &
    pids+=("$!")
done
wait "${pids[@]}" || true

passed=0
failed=0
failed_runs=()
for run in "${runs[@]}"; do
    log "=== run $run (seed $seed) ==="
    cat "$logs/$run.log"
    status="$(cat "$logs/$run.status" 2>/dev/null || echo 1)"
    junit="$logs/$run.junit.xml"
    counts="$(
        "$python_bin" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0")
    raise SystemExit
cases = root.iter("testcase")
ok = bad = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        bad += 1
    elif case.find("skipped") is None:
        ok += 1
print(ok, bad, ok + bad)
PY
    )"
    read -r ok bad total <<<"$counts"
    if ((status != 0 || bad > 0 || total == 0)); then
        failed_runs+=("$run (exit $status)")
        # A run that failed without a report counts as one failure.
        ((bad > 0)) || bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    log "run $run: $ok operations passed, $bad failed (exit $status)"
    ((status == 130 || status == 143)) && exit "$status"
done

log "wall time $((SECONDS - started)) s; reports in target/fuzz/logs/"
if ((${#failed_runs[@]})); then
    log "FAILED: ${failed_runs[*]}"
fi
echo "fuzz: $passed passed, $failed failed"
((${#failed_runs[@]} == 0))
