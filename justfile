# xclade customers — developer and CI tasks. `just` lists them.
#
# Databases: DATABASE_URL wins when set. Otherwise scripts/db-ensure.sh finds PostgreSQL on
# 127.0.0.1:5432 or starts a private cluster under target/pgdata (stop it: `just db-stop`).
# Tests read the server from XCLADE_TEST_PG (set here), else DATABASE_URL's server part.

set shell := ["bash", "-euo", "pipefail", "-c"]

just := quote(just_executable()) + " --justfile " + quote(justfile())

# List the recipes.
default:
    @{{ just }} --list

# Print the base URL of a PostgreSQL server that answers (starting a private one if needed).
db-url:
    @scripts/db-ensure.sh

# Print the URL of a NATS server with JetStream that answers (starting a private one if needed).
nats-url:
    @scripts/nats-ensure.sh

# Stop the private PostgreSQL cluster (`just db-stop --purge` also deletes its data).
db-stop *ARGS:
    @scripts/db-stop.sh {{ ARGS }}

# Run the service locally with a demo project, API client and admin user (printed).
run:
    @scripts/dev-run.sh

# Apply the migrations to DATABASE_URL, else to the development database `xclade_dev`.
migrate:
    #!/usr/bin/env bash
    set -euo pipefail
    url="$(scripts/dev-db-url.sh)"
    export DATABASE_URL="$url"
    cargo run -q -p xclade-server --bin xclade-customers -- migrate

# Every test (nextest when installed, else cargo test), the client suites, the domain check.
test:
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ -z "${XCLADE_TEST_PG:-}" && -z "${DATABASE_URL:-}" ]]; then
        url="$(scripts/db-ensure.sh)"
        export XCLADE_TEST_PG="$url"
    fi
    echo "test database server: ${XCLADE_TEST_PG:-from DATABASE_URL}" >&2
    # The event tests (crates/server/tests/events) start private nats-servers: make sure the
    # binary is there (installed when missing) and that a NATS answers for `events tail` users.
    XCLADE_TEST_NATS="$(scripts/nats-ensure.sh)"
    export XCLADE_TEST_NATS
    echo "test NATS server: ${XCLADE_TEST_NATS}" >&2
    failed=()
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$log" || failed+=("cargo nextest run")
        # nextest does not run doc tests.
        cargo test --workspace --doc --no-fail-fast || failed+=("cargo test --doc")
    else
        cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || failed+=("cargo test")
    fi
    # The domain crate with its in-memory adapter (feature `memory`, which `--workspace` does not
    # enable): its rule tests and doc tests, and the example another Rust service would write.
    cargo test -p xclade-domain --features memory,mocks --no-fail-fast || failed+=("cargo test -p xclade-domain --features memory")
    cargo run -p xclade-domain --features memory --example loyalty || failed+=("example loyalty")
    {{ just }} test-clients 2>&1 | tee -a "$log" || failed+=("test-clients")
    {{ just }} test-browser 2>&1 | tee -a "$log" || failed+=("test-browser")
    # A fixed seed here keeps `just test` repeatable; `just test-fuzz` alone explores a random one.
    FUZZ_SEED="${FUZZ_SEED:-20261205}" {{ just }} test-fuzz 2>&1 | tee -a "$log" || failed+=("test-fuzz")
    {{ just }} check-domain-deps || failed+=("check-domain-deps")
    # One plain closing line with the totals of every runner (nextest, pytest, node --test).
    passed=$(awk '
        match($0, /[0-9]+ tests run: [0-9]+ passed/) { split(substr($0, RSTART, RLENGTH), a, " "); n += a[4] }
        /^=+ [0-9]+ passed/ { n += $2 }
        /^# pass [0-9]+/ { n += $3 }
        /^fuzz: [0-9]+ passed/ { n += $2 }
        END { print n + 0 }' "$log")
    if ((${#failed[@]})); then
        printf 'FAILED: %s\n' "${failed[@]}" >&2
        echo "test: ${passed} passed, ${#failed[@]} failed"
        exit 1
    fi
    echo "test: ${passed} passed, 0 failed"

# The HTTP client suites of tests/clients (skipped while tests/clients/run.sh does not exist).
test-clients:
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ ! -f tests/clients/run.sh ]]; then
        echo "test-clients: tests/clients/run.sh does not exist yet; skipped" >&2
        exit 0
    fi
    if [[ -z "${XCLADE_TEST_PG:-}" && -z "${DATABASE_URL:-}" ]]; then
        url="$(scripts/db-ensure.sh)"
        export XCLADE_TEST_PG="$url"
    fi
    bash tests/clients/run.sh

# The admin page (/app) in headless Chromium (tests/browser/run.sh; `--screenshots` refreshes docs/screenshots).
test-browser *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ -z "${XCLADE_TEST_PG:-}" && -z "${DATABASE_URL:-}" ]]; then
        url="$(scripts/db-ensure.sh)"
        export XCLADE_TEST_PG="$url"
    fi
    bash tests/browser/run.sh {{ ARGS }}

# Schemathesis over /openapi.json of a spawned server, every operation, both tokens (tests/fuzz/run.sh).
test-fuzz *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ -z "${XCLADE_TEST_PG:-}" && -z "${DATABASE_URL:-}" ]]; then
        url="$(scripts/db-ensure.sh)"
        export XCLADE_TEST_PG="$url"
    fi
    bash tests/fuzz/run.sh {{ ARGS }}

# Fail when the domain crate depends (even indirectly) on actix, diesel, tokio, hyper or sqlx.
check-domain-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    status=0
    for features in "" "--all-features"; do
        tree="$(cargo tree -p xclade-domain -e normal --prefix none $features)"
        bad="$(grep -E '^(actix|diesel|tokio|hyper|sqlx)[a-z0-9_-]* v' <<<"$tree" | sed "s/ (\*)$//" | sort -u || true)"
        if [[ -n "$bad" ]]; then
            echo "check-domain-deps: xclade-domain ${features:-(default features)} depends on:" >&2
            sed 's/^/  /' <<<"$bad" >&2
            status=1
        fi
    done
    if ((status)); then
        echo "check-domain-deps: FAILED (see: cargo tree -p xclade-domain -e normal -i <crate>)" >&2
        exit 1
    fi
    echo "check-domain-deps: OK (no actix, diesel, tokio, hyper or sqlx in xclade-domain)"

# Format every crate.
fmt:
    cargo fmt --all

# Clippy on every crate and target (and the domain's in-memory adapter), warnings are errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p xclade-domain --all-targets --features memory,mocks -- -D warnings
    # The domain crate is a library: its rustdoc must build without a warning.
    RUSTDOCFLAGS="-D warnings" cargo doc -p xclade-domain --no-deps --features memory,mocks

# What CI runs: formatting check, lint, tests.
ci:
    cargo fmt --all --check
    {{ just }} lint
    {{ just }} test

# The benchmark harness (release build; not part of `just test`): `just bench`, `just bench 1m`,
# `just bench --quick`; results in target/bench, method and latest table in docs/benchmarks.md.
bench *ARGS:
    @bench/run.sh {{ ARGS }}

# `just stress [--quick] [--scenarios login,slow,restart,freeze] [--binary PATH]` (bench/stress.py builds
# the release binary unless --binary is given; each scenario on a private PostgreSQL cluster).
# Stress and fault scenarios of §4.1 (not part of `just test`); results in target/stress.
stress *ARGS:
    @python3 bench/stress.py {{ ARGS }}
