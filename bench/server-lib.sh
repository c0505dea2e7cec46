# Sourced by the one-scenario tools (bench/profile.sh, bench/instructions.sh, bench/syscalls.sh):
# what each needs before it drives the release server with a scenario's wrk script.

# scenario_args PG_URL BINARY SCENARIO OUT_DIR: sets the array `args` to the scenario's wrk
# arguments, as the harness writes them (bench.py --data-for, which says so when the database
# is not seeded).
scenario_args() {
    local data
    data="$(python3 bench/bench.py --pg "$1" --binary "$2" --data-for "$3" --out "$4")"
    args=()
    if [[ -n "$data" ]]; then mapfile -t args <<<"$data"; fi
}

# wait_ready PORT TRIES PAUSE: until the server on PORT answers /health/ready (at most TRIES
# times, PAUSE seconds apart).
wait_ready() {
    for _ in $(seq 1 "$2"); do
        curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && return 0
        sleep "$3"
    done
}

# bench_token BINARY PORT: prints an access token of a new API client of the bench project.
bench_token() {
    local client id secret
    client="$("$1" clients create --project bench --json)"
    id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$client")"
    secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$client")"
    curl -s -u "$id:$secret" -d grant_type=client_credentials "http://127.0.0.1:$2/oauth/token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
