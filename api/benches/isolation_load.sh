#!/usr/bin/env bash
# Isolation under load: while one partner (a company) sends its heaviest new questions
# from BENCH_HEAVY_CLIENTS clients (6), another partner (the registry) asks a new
# one-cell question on one connection, and a monitor polls GET /healthz on another;
# every question is new (its date window moves with each request), so nothing is
# answered from the cache and every one is planned, decided and published.
#
#   api/benches/isolation_load.sh
#
# Prints, per backend, a Markdown row per stream: requests, req/s, p50, p99 and the
# responses that were not 2xx or carried GraphQL errors (counted as failures).
# Settings: BENCH_PATIENTS (100000), BENCH_DURATION (20s), BENCH_HEAVY_CLIENTS (6),
# BENCH_BACKENDS ("sqlite postgres"), BENCH_DATABASE_URL as in http_load.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

patients="${BENCH_PATIENTS:-100000}"
duration="${BENCH_DURATION:-20s}"
heavy_clients="${BENCH_HEAVY_CLIENTS:-6}"
pg_admin="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
backends="${BENCH_BACKENDS:-sqlite postgres}"
port=18078

scratch=bench_isolation
# shellcheck source=api/benches/demo_server.sh
source api/benches/demo_server.sh

heavy='{ patientCounts(population: TREATED, groupBy: [SITE, ENROLMENT_MONTH, SEX], filter: { enrolledBetween: { from: \"FROM\" } }) { total { value } groups { keys { code } patients { value } } } responses(groupBy: [COHORT], filter: { enrolledBetween: { from: \"FROM\" } }) { groups { clinicalBenefit { estimate { value } } } } survival(endpoint: OS, groupBy: COHORT, filter: { enrolledBetween: { from: \"FROM\" } }) { median { months { value } } } }'
light='{ patientCounts(filter: { enrolledBetween: { from: \"FROM\" } }) { total { value } } }'

echo "| backend | stream | requests | req/s | p50 ms | p99 ms | failed |"
echo "|---|---|---|---|---|---|---|"
for backend in $backends; do
  start_demo "$backend"
  company="$(DATABASE_URL="$url" "$bin" token issue --partner ROCHE --scopes "enrolment:read response:read outcome:read" --label bench-heavy 2>/dev/null)"
  registry="$(DATABASE_URL="$url" "$bin" token issue --partner CRN --scopes enrolment:read --label bench-light 2>/dev/null)"
  target="http://127.0.0.1:$port"
  BENCH_AUTHORIZATION="Bearer $company" BENCH_QUERY="$heavy" \
    wrk -t2 -c"$heavy_clients" -d"$duration" --latency -s "$work/new.lua" "$target" >"$work/heavy.txt" &
  heavy_pid=$!
  sleep 2
  BENCH_AUTHORIZATION="Bearer $registry" BENCH_QUERY="$light" \
    wrk -t1 -c1 -d"$duration" --latency -s "$work/new.lua" "$target" >"$work/light.txt" &
  light_pid=$!
  wrk -t1 -c1 -d"$duration" --latency "$target/healthz" >"$work/healthz.txt"
  wait "$light_pid" "$heavy_pid"
  for stream in heavy light healthz; do
    read -r n rate p50 p99 bad < <(parse "$work/$stream.txt")
    case "$stream" in
      heavy) name="company: $heavy_clients clients, heaviest new questions" ;;
      light) name="registry: 1 client, a new one-cell question" ;;
      healthz) name="monitor: GET /healthz" ;;
    esac
    echo "| $backend | $name | $n | $rate | $p50 | $p99 | $bad |"
  done
  stop_demo
done
