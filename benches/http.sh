#!/usr/bin/env bash
# HTTP under load, scripted: `unionflow serve --demo` (release build) measured with wrk.
#
#   benches/http.sh                          # a fresh SQLite file
#   benches/http.sh postgres://postgres@127.0.0.1/test?options=-csearch_path%3Dbench_http
#
# Five runs, 2 threads × 32 connections × 10 s each; the pages signed in with a session cookie:
#   1. page views of a bargaining round (its page with the diagram, children and history);
#   2. page views of a cohort's trainees page (600-row scale is `bench --suite training`);
#   3. fires: `record_growth` spread over the demo cohort's trainee tracks (benches/fire.lua);
# and the JSON API with a service account's bearer token (`unionflow token add bench_api`):
#   4. API fires: the same `record_growth` over the same tracks (benches/api_fire.lua);
#   5. API reads: `GET /api/v1/instances/{id}` of the round of run 1.
# On PostgreSQL the schema named in search_path is dropped and made anew first.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "benches/http.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "benches/http.sh needs curl" >&2; exit 1; }

work=$(mktemp -d)
db=${1:-"sqlite://$work/bench-http.db?mode=rwc"}
port=${UNIONFLOW_BENCH_PORT:-3987}
base="http://127.0.0.1:$port"
duration=${UNIONFLOW_BENCH_SECONDS:-10}

if [[ $db == postgres* ]]; then
  schema=$(sed -n 's/.*search_path%3D\([a-z_0-9]*\).*/\1/p' <<<"$db")
  [[ -n $schema ]] && PGOPTIONS='--client-min-messages=warning' psql "${db%%\?*}" -qc \
    "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema;"
fi

cargo build --release -q
./target/release/unionflow serve --demo --database "$db" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/health" >/dev/null || { cat "$work/serve.log"; exit 1; }

# Signs in as $1; prints "cookie<TAB>csrf" for later requests.
sign_in() {
  local jar="$work/$1.jar"
  local token
  token=$(curl -fs -c "$jar" "$base/signin" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$token" --data-urlencode "username=$1" \
    --data-urlencode "password=unionflow-demo" --data-urlencode "next=/" "$base/signin"
  local cookie
  # HttpOnly cookies are written with a "#HttpOnly_" prefix, not as comments.
  cookie=$(awk 'NF >= 7 && (!/^#/ || /^#HttpOnly_/) { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar")
  local csrf
  csrf=$(curl -fs -H "Cookie: $cookie" "$base/processes" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  printf '%s\t%s\n' "$cookie" "$csrf"
}

IFS=$'\t' read -r admin_cookie _ < <(sign_in admin)
IFS=$'\t' read -r coordinator_cookie coordinator_csrf < <(sign_in gao.hong)

first_instance() { curl -fs -H "Cookie: $1" "$base$2" | grep -o 'href="/instances/[0-9]*"' | head -1 | grep -o '[0-9]*'; }
round=$(first_instance "$admin_cookie" /processes/bargaining_round)
cohort=$(curl -fs -H "Cookie: $coordinator_cookie" "$base/processes/training_cohort" \
  | grep -o 'href="/instances/[0-9]*"' | grep -o '[0-9]*' | sort -n | tail -1)
# Every trainee track of the cohort: its children, listed on the cohort's own page.
tracks=$(curl -fs -H "Cookie: $coordinator_cookie" "$base/instances/$cohort" \
  | grep -o 'href="/instances/[0-9]*"' | grep -o '[0-9]*' | grep -vx "$cohort" | sort -un | tr '\n' ' ')

echo "unionflow over HTTP on $db: wrk -t2 -c32 -d${duration}s"
echo
echo "== page views: a bargaining round (/instances/$round)"
wrk -t2 -c32 -d"${duration}s" --latency -H "Cookie: $admin_cookie" "$base/instances/$round" | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'
echo
echo "== page views: a cohort's trainees and dashboard (/cohorts/$cohort/trainees)"
wrk -t2 -c32 -d"${duration}s" --latency -H "Cookie: $coordinator_cookie" "$base/cohorts/$cohort/trainees" \
  | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'
echo
echo "== fires: record_growth over $(wc -w <<<"$tracks") trainee tracks"
UNIONFLOW_TRACKS="$tracks" UNIONFLOW_COOKIE="$coordinator_cookie" UNIONFLOW_CSRF="$coordinator_csrf" \
  wrk -t2 -c32 -d"${duration}s" --latency -s benches/fire.lua "$base" | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'

# The API's account: the coordinator's role for record_growth, admin's to read the round; a rate
# above what the runs can reach (it refills 1,000 calls a second), so no 429 is measured.
api_token=$(./target/release/unionflow token add bench_api --role training_coordinator --role admin \
  --per-minute 60000 --database "$db" 2>"$work/token.log") || { cat "$work/token.log" >&2; exit 1; }
echo
echo "== API fires: POST /api/v1/instances/{track}/events/record_growth over the same tracks"
UNIONFLOW_TRACKS="$tracks" UNIONFLOW_TOKEN="$api_token" \
  wrk -t2 -c32 -d"${duration}s" --latency -s benches/api_fire.lua "$base" | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'
echo
echo "== API reads: GET /api/v1/instances/$round"
wrk -t2 -c32 -d"${duration}s" --latency -H "Authorization: Bearer $api_token" "$base/api/v1/instances/$round" \
  | grep -E '^ +(50|99)%|Requests/sec|Non-2xx'
