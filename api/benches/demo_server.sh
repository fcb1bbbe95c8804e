# Shared by the HTTP benchmarks (sourced, not run): the release binary serving the demo
# consortium on one backend, with its rate limits raised so that no request is throttled.
#
# Expects: port, patients, pg_admin, and scratch (the scratch database's name on
# PostgreSQL). Sourcing it installs wrk if missing, builds, and sets bin and work (a
# scratch directory, removed on exit); start_demo sets url (the database) and server
# (the process id).

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

# Stops the server, if one runs.
stop_demo() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  fi
  server=""
}

# Stops the server and drops the scratch database and the work directory.
cleanup() {
  stop_demo
  psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
