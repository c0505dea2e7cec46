#!/usr/bin/env bash
# The pgbench ceiling of the GET and POST customer SQL with fewer round trips per request
# (bench/pgbench/variants), on a database `just bench` prepared: evidence for the round-trip
# recommendations in docs/benchmarks.md.
#
#   bench/variants.sh [server URL, default postgres://postgres@127.0.0.1:5432] [seconds, default 10] [rounds, default 3]
#
# The variants of one request run alternately, `rounds` times, 16 clients, -M prepared; the
# harness's own ceiling scripts (../get_customer, ../create_customer: random keys drawn in the
# round trip of the pool check) run beside them, which shows what drawing the keys costs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/pgbench/variants"
server="${1:-postgres://postgres@127.0.0.1:5432}"
secs="${2:-10}"
rounds="${3:-3}"
db="xclade_bench_10k"
url="$server/$db?sslmode=disable"
read -r pid actor ncust < <(psql -X -A -t -F ' ' -d "$url" -c "select project_id, actor, customers from bench.meta")
common=(-n -M prepared -c 16 -j 2 -T "$secs" -D "pid=$pid" -D one=1 -D "ncust=$ncust" -D pkey=bench
    -D "actor=$actor" -D "actorjson={\"clientId\": \"$actor\"}" -D kind=customer.created
    -D "payload=$(cat ../payloads/customer_created.json)" -D "company=Loadtest Ltd" -D first=Load
    -D last=Tester -D "phone=+1 555 0100" -D 'meta={"source": "bench"}' -D hasacc=f)
declare -A sum
for ((r = 1; r <= rounds; r++)); do
    for v in ../get_customer get_customer_4rt get_customer_3rt get_customer_1rt ../create_customer create_customer_5rt create_customer_4rt create_customer_1rt; do
        tps="$(pgbench "${common[@]}" -f "$v.sql" "$url" 2>&1 | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')"
        echo "round $r $v: $tps tps (load $(cut -d' ' -f1 /proc/loadavg))"
        sum[$v]="${sum[$v]:-} $tps"
    done
done
echo
for v in ../get_customer get_customer_4rt get_customer_3rt get_customer_1rt ../create_customer create_customer_5rt create_customer_4rt create_customer_1rt; do
    # shellcheck disable=SC2086
    echo "$v: median $(printf '%s\n' ${sum[$v]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') tps"
done
