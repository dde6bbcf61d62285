#!/usr/bin/env bash
# HTTP under load, scripted: `unionflow serve --demo` (release build) measured with wrk.
#
#   benches/http.sh                          # a fresh SQLite file
#   benches/http.sh postgres://postgres@127.0.0.1/test?options=-csearch_path%3Dbench_http
#
# Before serving, `unionflow bench --suite training` adds a cohort of 600 trainees with six phases
# of records each to the demo (UNIONFLOW_BENCH_TRAINEES=0 leaves it out). Then, 2 threads × 32
# connections × 10 s each, signed in with a session cookie:
#   pages: a bargaining round (its page with the diagram, children and history), the process
#   list, a process's list of instances, the audit page, figures, "my work" of a unit secretary
#   and of the coordinator, "my trainees" of a mentor, and the trainees page of the demo's cohort
#   and of the 600-trainee one;
#   fires: `record_growth` spread over the demo cohort's trainee tracks (benches/fire.lua);
# and the JSON API with a service account's bearer token (`unionflow token add bench_api`):
#   API fires: the same `record_growth` over the same tracks (benches/api_fire.lua);
#   API reads: `GET /api/v1/instances/{id}` of the round.
# It ends with a table of p50 and p99 per run. On PostgreSQL the schema named in search_path is
# dropped and made anew first.
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
IFS=$'\t' read -r secretary_cookie _ < <(sign_in chen.jing)
IFS=$'\t' read -r mentor_cookie _ < <(sign_in xu.ming)

first_instance() { curl -fs -H "Cookie: $1" "$base$2" | grep -o 'href="/instances/[0-9]*"' | head -1 | grep -o '[0-9]*'; }
newest_cohort() {
  curl -fs -H "Cookie: $coordinator_cookie" "$base/processes/training_cohort" \
    | grep -o 'href="/instances/[0-9]*"' | grep -o '[0-9]*' | sort -n | tail -1
}
round=$(first_instance "$admin_cookie" /processes/bargaining_round)
cohort=$(newest_cohort)
# Every trainee track of the cohort: its children, listed on the cohort's own page.
tracks=$(curl -fs -H "Cookie: $coordinator_cookie" "$base/instances/$cohort" \
  | grep -o 'href="/instances/[0-9]*"' | grep -o '[0-9]*' | grep -vx "$cohort" | sort -un | tr '\n' ' ')

# The 600-trainee cohort, built through the runtime beside the idle server (seeded and graduated).
trainees=${UNIONFLOW_BENCH_TRAINEES:-600}
big=""
if ((trainees > 0)); then
  echo "building a cohort of $trainees trainees (unionflow bench --suite training)…"
  ./target/release/unionflow bench --suite training --trainees "$trainees" --database "$db" >"$work/training.log" 2>&1 \
    || { cat "$work/training.log" >&2; exit 1; }
  grep -E '^(seeded|graduated)' "$work/training.log"
  big=$(newest_cohort)
fi

results=()
# Runs wrk on a page and keeps "name p50 p99 req/s non-2xx" for the table at the end.
measure() {
  local name=$1
  shift
  local out
  out=$(wrk -t2 -c32 -d"${duration}s" --latency "$@")
  local p50 p99 rps bad
  # wrk prints latencies as 850.00us, 1.23ms or 1.02s: all in milliseconds here.
  to_ms='{ v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.1f", v }'
  p50=$(awk '$1 == "50%"' <<<"$out" | awk "$to_ms")
  p99=$(awk '$1 == "99%"' <<<"$out" | awk "$to_ms")
  rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
  bad=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  results+=("$(printf '%-58s %9s %9s %8s %7s' "$name" "$p50" "$p99" "$rps" "${bad:-0}")")
  echo "$name: p50 ${p50} ms, p99 ${p99} ms, ${rps}/s${bad:+, non-2xx $bad}"
}

echo "unionflow over HTTP on $db: wrk -t2 -c32 -d${duration}s"
page() { measure "page: $1" -H "Cookie: $2" "$base$3"; }
page "a bargaining round (/instances/$round)" "$admin_cookie" "/instances/$round"
page "the process list (/processes)" "$admin_cookie" /processes
page "a process's instances (/processes/assembly_approval)" "$admin_cookie" /processes/assembly_approval
page "the audit trail (/audit)" "$admin_cookie" /audit
page "figures (/figures)" "$admin_cookie" /figures
page "my work: a unit secretary (chen.jing)" "$secretary_cookie" /
page "my work: a mentor (xu.ming)" "$mentor_cookie" /
page "my work: the coordinator (gao.hong)" "$coordinator_cookie" /
page "my trainees: a mentor (xu.ming)" "$mentor_cookie" /my-trainees
page "trainees of the demo cohort (/cohorts/$cohort/trainees)" "$coordinator_cookie" "/cohorts/$cohort/trainees"
[[ -n $big ]] && page "trainees of a $trainees-trainee cohort (/cohorts/$big/trainees)" "$coordinator_cookie" "/cohorts/$big/trainees"

UNIONFLOW_TRACKS="$tracks" UNIONFLOW_COOKIE="$coordinator_cookie" UNIONFLOW_CSRF="$coordinator_csrf" \
  measure "fires: record_growth over $(wc -w <<<"$tracks") trainee tracks" -s benches/fire.lua "$base"

# The API's account: the coordinator's role for record_growth, admin's to read the round; a rate
# above what the runs can reach (it refills 1,000 calls a second), so no 429 is measured.
api_token=$(./target/release/unionflow token add bench_api --role training_coordinator --role admin \
  --per-minute 60000 --database "$db" 2>"$work/token.log") || { cat "$work/token.log" >&2; exit 1; }
UNIONFLOW_TRACKS="$tracks" UNIONFLOW_TOKEN="$api_token" \
  measure "API fires: POST …/events/record_growth, same tracks" -s benches/api_fire.lua "$base"
measure "API reads: GET /api/v1/instances/$round" -H "Authorization: Bearer $api_token" "$base/api/v1/instances/$round"

echo
printf '%-58s %9s %9s %8s %7s\n' "run (32 connections)" "p50 ms" "p99 ms" "req/s" "non-2xx"
printf '%s\n' "${results[@]}"
