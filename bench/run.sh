#!/usr/bin/env bash
# make bench: the harness's own figures beside their references, measured in one run on one machine (so both
# sides see the same load). Prints one JSON line per measure and a summary; asserts nothing.
#
#   ROUNDS=5 DURATION=5 bench/run.sh [http|wait|idle|sse|ws|all]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNNER=${RUNNER:-build/runner}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WHAT=${1:-all}
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_runner() {
  taskset -c 0 "$RUNNER" serve --cases bench/cases > "$TMP/ready" 2> "$TMP/runner.err" &
  RUNNER_PID=$!
  PIDS+=("$RUNNER_PID")
  for _ in $(seq 50); do [[ -s "$TMP/ready" ]] && break; sleep 0.1; done
  PORT=$(/usr/bin/python3 -c "import json,sys; print(json.load(open('$TMP/ready'))['ports']['A'])")
  TOKEN=$(curl -s "http://127.0.0.1:$PORT/_h/program?case=http/bench/hello" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
}

start_nginx() {
  mkdir -p "$TMP/nginx"
  cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location / { default_type text/plain; return 200 "hello world\n"; }
  }
}
CONF
  taskset -c 0 nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2> "$TMP/nginx.err" &
  PIDS+=("$!")
  sleep 0.5
  NGINX_WORKER=$(pgrep -P "$(cat "$TMP/nginx/nginx.pid")" | head -1)
}

cpu_ticks() { # PID -> utime+stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# URL PID [LUA] -> "requests/s CPU-µs-per-request" (the server's own CPU time, from /proc, over the run)
wrk_rps() {
  local before after out n hz
  hz=$(getconf CLK_TCK)
  before=$(cpu_ticks "$2")
  out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" ${3:+-s "$3"} "$1")
  after=$(cpu_ticks "$2")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(awk "BEGIN {printf \"%.2f\", ($after - $before) * 1e6 / $hz / $n}")"
}

# Every request the runner answers is recorded in its token's transcript, and a transcript stops recording at
# 20,000 events: so the load rotates over many tokens, as a real run does, and every request is recorded.
token_rotation() { # N -> a wrk Lua script
  local lua="$TMP/tokens.lua"
  /usr/bin/python3 - "$PORT" "$1" "$lua" <<'PY'
import http.client, json, sys
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
paths = []
for _ in range(n):
    c.request("GET", "/_h/program?case=http/bench/hello")
    paths.append("/c/%s/hello" % json.loads(c.getresponse().read())["token"])
with open(out, "w") as f:
    f.write("local paths = {\n" + "".join('  "%s",\n' % p for p in paths) + "}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
PY
  echo "$lua"
}

median() { # [DECIMALS] < numbers
  sort -g | awk -v d="${1:-0}" '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.*f", d, m}'
}

bench_http() {
  NGINX_PORT=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  start_nginx
  local ours=() theirs=() ocpu=() tcpu=() lua r
  lua=$(token_rotation "${TOKENS:-2000}")
  for _ in $(seq "$ROUNDS"); do  # interleaved rounds: noise hits both alike
    read -r -a r <<< "$(wrk_rps "http://127.0.0.1:$PORT/" "$RUNNER_PID" "$lua")"; ours+=("${r[0]}"); ocpu+=("${r[1]}")
    read -r -a r <<< "$(wrk_rps "http://127.0.0.1:$NGINX_PORT/" "$NGINX_WORKER")"; theirs+=("${r[0]}"); tcpu+=("${r[1]}")
  done
  local mo mt co ct
  mo=$(printf '%s\n' "${ours[@]}" | median); mt=$(printf '%s\n' "${theirs[@]}" | median)
  co=$(printf '%s\n' "${ocpu[@]}" | median 2); ct=$(printf '%s\n' "${tcpu[@]}" | median 2)
  local IFS=,
  echo "{\"measure\": \"http_small_reply_rps\", \"tokens\": ${TOKENS:-2000}, \"runner\": [${ours[*]}], \"nginx\": [${theirs[*]}], \"runner_median\": $mo, \"nginx_median\": $mt, \"ratio\": $(awk "BEGIN {printf \"%.2f\", $mo/$mt}"), \"runner_cpu_us_per_request\": $co, \"nginx_cpu_us_per_request\": $ct, \"cpu_ratio\": $(awk "BEGIN {printf \"%.2f\", $ct/$co}"), \"target\": \">= 1.0\"}"
}

bench_wait() {
  cc -std=c11 -O2 -Wall -Wextra -Werror -o "$TMP/wait_error" bench/wait_error.c
  for w in 10; do
    taskset -c 1 "$TMP/wait_error" 127.0.0.1 "$PORT" "/c/$TOKEN/wait" 2000 "$w" | sed 's/^{/{"measure": "scripted_wait_error_ms", "target_p99": "<= 1.5", /'
  done
}

bench_sse() {
  /usr/bin/python3 bench/sse_streams.py -n "${SSE_STREAMS:-10000}" --rounds "${SSE_ROUNDS:-1}" --modes mid,hold,aiohttp
}

bench_ws() {
  if [[ -f bench/ws_bench.py ]]; then /usr/bin/python3 bench/ws_bench.py; fi
}

bench_idle() {
  /usr/bin/python3 bench/idle_rss.py "$RUNNER_PID" 127.0.0.1 "$PORT" 10000 | sed 's/^{/{"measure": "idle_connection_rss", "target_kib": "<= 4", /'
}

start_runner
case "$WHAT" in
  http) bench_http ;;
  wait) bench_wait ;;
  idle) bench_idle ;;
  sse) bench_sse ;;
  ws) bench_ws ;;
  all) bench_http; bench_wait; bench_idle; bench_sse; bench_ws ;;
esac
