#!/usr/bin/env bash
# HTTP load benchmark: the release binary serving the demo consortium (100,000 patients
# by default) on SQLite and on PostgreSQL, driven by wrk at 1, 4, 20 and 64 connections.
# Four targets, all in the same run, so their rates compare:
#   count     the region x enrolment-month grouped count, as a company (API token)
#   version   { dataVersion { version } }, as the same company
#   refused   a well-formed but unknown token (refused, and on record)
#   healthz   GET /healthz (the HTTP stack alone)
# Prints a Markdown table: req/s, p50 and p99 (ms), and each rate as a share of the same
# backend's /healthz rate at the same connection count.
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
count_body='{"query":"{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH]) { total { value } groups { keys { code } patients { value } } } }"}'

scratch=bench_http_load
# shellcheck source=api/benches/demo_server.sh
source api/benches/demo_server.sh

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
wrk.body = os.getenv("BENCH_BODY")
LUA

# "<req/s> <p50 ms> <p99 ms> <non-2xx>" from wrk's report.
parse() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rate = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rate, p50, p99, bad }'
}

# One cell: target, connection count -> the parsed numbers.
load() {
  local target="$1" conns="$2" threads=$(( $2 < 2 ? 1 : 2 ))
  local url="http://127.0.0.1:$port"
  case "$target" in
    healthz) wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url/healthz" ;;
    count | version | refused)
      local body="$count_body" auth="Bearer $token"
      [ "$target" = version ] && body='{"query":"{ dataVersion { version } }"}'
      [ "$target" = refused ] && auth="Bearer cat_AAAAAAAA.unknown-token-for-the-benchmark-0000000000000"
      BENCH_AUTHORIZATION="$auth" BENCH_BODY="$body" \
        wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/post.lua" "$url/graphql" ;;
  esac | parse
}

echo "| backend | connections | target | req/s | p50 ms | p99 ms | share of /healthz |"
echo "|---|---|---|---|---|---|---|"
for backend in $backends; do
  start_demo "$backend"
  grep -i "patients" "$work/demo-$backend.out" | head -n 2 | sed "s/^/$backend: /" >&2 || true
  token="$(DATABASE_URL="$url" "$bin" token issue --partner ROCHE --scopes enrolment:read --label bench 2>/dev/null)"
  # Warm: the snapshot's caches and the released answer.
  curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "$count_body" \
    "http://127.0.0.1:$port/graphql" >/dev/null
  for conns in $connections; do
    read -r h_rate h_p50 h_p99 _ < <(load healthz "$conns")
    for target in count version refused; do
      read -r rate p50 p99 bad < <(load "$target" "$conns")
      if [ "$target" != refused ] && [ "$bad" -gt 0 ]; then
        echo "$backend $target: $bad responses were not 2xx" >&2
      fi
      share="$(awk -v r="$rate" -v h="$h_rate" 'BEGIN { printf "%.1f%%", (h > 0 ? 100 * r / h : 0) }')"
      echo "| $backend | $conns | $target | $rate | $p50 | $p99 | $share |"
    done
    echo "| $backend | $conns | healthz | $h_rate | $h_p50 | $h_p99 | 100% |"
  done
  stop_demo
done
