#!/usr/bin/env bash
# Memory under a soak of new questions: the release binary serving the demo consortium
# (100,000 patients) while wrk asks a new grouped count in every request (the region x
# enrolment-month count of http_load.sh over a date window that moves with each request,
# so each is planned, decided, published, recorded and kept in the caches) for
# BENCH_DURATION seconds (600). The server's resident memory (VmRSS) is sampled every
# BENCH_EVERY seconds (30).
#
#   api/benches/soak.sh
#
# Prints, per backend, a Markdown row per sample (seconds, RSS in MiB), then a summary
# row: requests, req/s, failures (not 200, or GraphQL errors), RSS at the end of the
# first minute, at half time and at the end, and the growth over the second half.
# Settings: BENCH_PATIENTS (100000), BENCH_DURATION (600), BENCH_EVERY (30),
# BENCH_CONNECTIONS (20), BENCH_BACKENDS ("sqlite"), BENCH_DATABASE_URL as in
# http_load.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

patients="${BENCH_PATIENTS:-100000}"
duration="${BENCH_DURATION:-600}"
every="${BENCH_EVERY:-30}"
connections="${BENCH_CONNECTIONS:-20}"
pg_admin="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
backends="${BENCH_BACKENDS:-sqlite}"
port=18079
new_query='{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH], filter: { enrolledBetween: { from: \"FROM\", to: \"UNTIL\" } }) { total { value } groups { keys { code } patients { value } } } }'

scratch=bench_soak
# shellcheck source=api/benches/demo_server.sh
source api/benches/demo_server.sh

# The server's resident memory, in MiB.
rss_mib() {
  awk '/^VmRSS:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$server/status"
}

echo "| backend | seconds | RSS MiB |"
echo "|---|---|---|"
summary=()
for backend in $backends; do
  start_demo "$backend"
  token="$(DATABASE_URL="$url" "$bin" token issue --partner ROCHE --scopes enrolment:read --label soak 2>/dev/null)"
  echo "| $backend | 0 | $(rss_mib) |"
  BENCH_AUTHORIZATION="Bearer $token" BENCH_QUERY="$new_query" \
    wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/new.lua" "http://127.0.0.1:$port" \
    >"$work/soak-$backend.txt" &
  load=$!
  declare -A at=()
  for ((t = every; t <= duration; t += every)); do
    sleep "$every"
    at[$t]="$(rss_mib)"
    echo "| $backend | $t | ${at[$t]} |"
  done
  wait "$load"
  read -r total rate _ _ bad < <(parse "$work/soak-$backend.txt")
  minute=$(( (60 + every - 1) / every * every ))
  half=$(( duration / 2 / every * every ))
  last=$(( duration / every * every ))
  summary+=("| $backend | $total | $rate | $bad | ${at[$minute]:-} | ${at[$half]:-} | ${at[$last]:-} | $(( ${at[$last]:-0} - ${at[$half]:-0} )) |")
  unset at
  stop_demo
done
echo
echo "| backend | requests | req/s | failures | RSS MiB at 1 min | at half time | at the end | growth, second half |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
