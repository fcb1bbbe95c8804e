# Shared by the HTTP benchmarks (sourced, not run): the release binary serving the demo
# consortium on one backend, with its rate limits raised so that no request is throttled.
#
# Expects: port, patients, pg_admin, and scratch (the scratch database's name on
# PostgreSQL). Sourcing it installs wrk if missing, builds, and sets bin and work (a
# scratch directory, removed on exit); start_demo sets url (the database) and server
# (the process id). It writes "$work/new.lua", wrk's script for GraphQL requests, and
# defines parse, which reads wrk's report.

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
# The same build as the tests' (all targets), so no feature set is built twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/consortium-analytics/target}"
cargo build --release --workspace --all-targets >&2
bin="$CARGO_TARGET_DIR/release/consortium"
work="$(mktemp -d)"
server=""

# Starts the demo on backend $1 and waits until it is ready.
start_demo() {
  local backend="$1"
  case "$backend" in
    sqlite) url="sqlite://$work/bench.db?mode=rwc" ;;
    postgres)
      psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null
      psql "$pg_admin" -qc "CREATE DATABASE $scratch" >/dev/null
      url="${pg_admin%/*}/$scratch" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  DATABASE_URL="$url" DEMO_PATIENTS="$patients" BIND="127.0.0.1:$port" RATE_LIMIT_POINTS=1000000000000 \
    "$bin" demo >"$work/demo-$backend.out" 2>"$work/server-$backend.log" &
  server=$!
  for _ in $(seq 1 900); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { cat "$work/server-$backend.log" >&2; exit 1; }
    sleep 1
  done
  echo "the demo on $backend did not become ready" >&2
  exit 1
}

# Stops process $1 (none when empty) and waits for it to end.
stop_process() {
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
  fi
}

# Stops the server, if one runs.
stop_demo() {
  stop_process "$server"
  server=""
}

# Stops the server and drops the scratch database and the work directory.
cleanup() {
  stop_demo
  psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# wrk's script for GraphQL requests: BENCH_QUERY is the operation, with BENCH_AUTHORIZATION.
# Where the operation holds FROM (and UNTIL), each request asks a new question: the date
# window's first day moves by one each time (per thread, from a start of its own) and,
# every 3,000 requests, its length by one, so no two requests ask the same thing. A
# response that is not 200 or carries GraphQL errors is counted and reported at the end.
cat >"$work/new.lua" <<'LUA'
-- Globals, so that each thread's own values are seen (wrk runs a Lua state per thread).
counter = 0
offset = 0
failed = 0
local template = os.getenv("BENCH_QUERY")
local threads = {}
function setup(thread)
  thread:set("offset", math.random(0, 100000))
  table.insert(threads, thread)
end
-- The `index`th day of a calendar of 300-day years from 2018 (valid dates only).
local function date(index)
  local y, d = 2018 + math.floor(index / 300), index % 300
  return string.format("%04d-%02d-%02d", y, 1 + math.floor(d / 28), 1 + d % 28)
end
function request()
  counter = counter + 1
  local n = offset + counter
  local day = n % 3000
  local query = template:gsub("FROM", date(day)):gsub("UNTIL", date(day + 30 + math.floor(n / 3000) % 2000))
  local body = '{"query":"' .. query .. '"}'
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = os.getenv("BENCH_AUTHORIZATION"),
  }, body)
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failed") or 0)
  end
  io.write(string.format("failed %d\n", total))
end
LUA

# "<requests> <req/s> <p50 ms> <p99 ms> <failed>" from wrk's report (file $1, or standard
# input): failed counts the responses that were not 2xx or carried GraphQL errors.
parse() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { n = $1 }
    /^Requests\/sec:/ { rate = $2 }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /^failed / { bad += $2 }
    END { printf "%d %.0f %.2f %.2f %d\n", n, rate, p50, p99, bad }' "${1:--}"
}
