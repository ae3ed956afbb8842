#!/usr/bin/env bash
# make bench: the harness's own figures beside their references, measured in one run on one machine (so both
# sides see the same load). Prints one JSON line per measure and a summary; asserts nothing.
#
#   ROUNDS=5 DURATION=5 [CONNS="64 1"] [TOKENS=2000] [HS_CONNS=16] bench/run.sh [http|tls|wait|idle|sse|ws|all]
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
make -s --no-print-directory bench-clients  # bench/*.c -> build/bench/ (Makefile)

start_runner() {
  mkdir -p "$TMP/run"
  taskset -c 0 "$RUNNER" serve --cases bench/cases --run-dir "$TMP/run" > "$TMP/ready" 2> "$TMP/runner.err" &
  RUNNER_PID=$!
  PIDS+=("$RUNNER_PID")
  for _ in $(seq 50); do [[ -s "$TMP/ready" ]] && break; sleep 0.1; done
  PORT=$(/usr/bin/python3 -c "import json,sys; print(json.load(open('$TMP/ready'))['ports']['A'])")
  SPORT=$(/usr/bin/python3 -c "import json,sys; print(json.load(open('$TMP/ready'))['ports']['SA'])")
  # The run's secret (README, "Security"): /_h/program changes the run's state. Every request names origin A
  # in Host (any other is refused), while connecting to 127.0.0.1 as the load against nginx does.
  SECRET=$(/usr/bin/python3 -c "import json,sys; print(json.load(open('$TMP/ready'))['secret'])")
  HOST="localhost:$PORT"
  TOKEN=$(curl -s -H "X-Harness-Secret: $SECRET" -H "Host: $HOST" "http://127.0.0.1:$PORT/_h/program?case=http/bench/hello" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
}

free_port() {
  /usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

# nginx on NGINX_PORT (http) and NGINX_TLS_PORT (https), started once. Its TLS server is configured as the
# runner's TLS origins are (harness/tls/README.md §2.1): TLS 1.2 and 1.3, no session tickets and no session
# cache (every handshake full), and a leaf of the same key type as the runner's (ECDSA P-256, ecdsa-with-SHA256,
# harness/tls/pki.c), sent alone as the runner sends its own.
start_nginx() {
  [[ -n "${NGINX_WORKER:-}" ]] && return 0
  NGINX_PORT=$(free_port); NGINX_TLS_PORT=$(free_port)
  mkdir -p "$TMP/nginx"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 1 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/nginx/good.key" -out "$TMP/nginx/good.pem" \
    2> "$TMP/openssl.err"
  cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;  # as the runner: no limit on one connection's requests (nginx's default is 1000)
  server_tokens off;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location / { default_type text/plain; return 200 "hello world\n"; }
  }
  server {
    listen 127.0.0.1:${NGINX_TLS_PORT} ssl;
    ssl_certificate $TMP/nginx/good.pem; ssl_certificate_key $TMP/nginx/good.key;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets off; ssl_session_cache off;
    location / { default_type text/plain; return 200 "hello world\n"; }
  }
}
CONF
  taskset -c 0 nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2> "$TMP/nginx.err" &
  PIDS+=("$!")
  NGINX_WORKER=
  for _ in $(seq 100); do  # the master writes its pid file, then starts its worker
    if [[ -s "$TMP/nginx/nginx.pid" ]]; then NGINX_WORKER=$(pgrep -P "$(cat "$TMP/nginx/nginx.pid")" | head -1 || true); fi
    [[ -n "$NGINX_WORKER" ]] && break
    sleep 0.1
  done
  [[ -n "$NGINX_WORKER" ]] || { echo "bench: nginx did not start: $(cat "$TMP/nginx.err")" >&2; exit 1; }
}

cpu_ticks() { # PID -> utime+stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# wrk's latency figure ("812.00us", "1.23ms", "2.00s") in milliseconds.
to_ms() {
  awk '{v=$1; if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else printf "%.3f", v*1000}'
}

# URL PID CONNECTIONS [LUA] -> "requests/s CPU-µs-per-request p50-ms p99-ms" (the server's own CPU time, from
# /proc, over the run; wrk's latency percentiles)
wrk_run() {
  local before after out n hz
  hz=$(getconf CLK_TCK)
  before=$(cpu_ticks "$2")
  out=$(taskset -c 1 wrk -t1 -c"$3" -d"${DURATION}s" --latency ${4:+-s "$4"} -H "Host: $HOST" "$1")
  after=$(cpu_ticks "$2")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(awk "BEGIN {printf \"%.2f\", ($after - $before) * 1e6 / $hz / $n}")" \
       "$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms) $(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)"
}

# Every request the runner answers is recorded in its token's transcript, and a transcript stops recording at
# 20,000 events: so the load rotates over many tokens, as a real run does, and every request is recorded.
token_rotation() { # N -> a wrk Lua script
  local lua="$TMP/tokens.lua"
  /usr/bin/python3 - "$PORT" "$1" "$lua" "$SECRET" <<'PY'
import http.client, json, sys
port, n, out, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("localhost", port)
paths = []
for _ in range(n):
    c.request("GET", "/_h/program?case=http/bench/hello", headers={"X-Harness-Secret": secret})
    paths.append("/c/%s/hello" % json.loads(c.getresponse().read())["token"])
with open(out, "w") as f:
    f.write("local paths = {\n" + "".join('  "%s",\n' % p for p in paths) + "}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
with open(out + ".paths", "w") as f:  # the same targets for bench/http_raw.c
    f.write("".join(p + "\n" for p in paths))
PY
  echo "$lua"
}

median() { # [DECIMALS] < numbers
  sort -g | awk -v d="${1:-0}" '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.*f", d, m}'
}

# JSON array of the values
jarr() { local IFS=,; echo "[$*]"; }

# Side by side, rounds interleaved (noise hits both alike), the same load on both: wrk with the same Lua script
# (nginx answers every path alike), the same Host header; at 64 connections (throughput, CPU) and at one.
bench_http() {
  start_nginx
  local lua r c
  lua=$(token_rotation "${TOKENS:-2000}")
  for c in ${CONNS:-64 1}; do
    local ours=() theirs=() ocpu=() tcpu=() o50=() t50=() o99=() t99=()
    for _ in $(seq "$ROUNDS"); do
      read -r -a r <<< "$(wrk_run "http://127.0.0.1:$PORT/" "$RUNNER_PID" "$c" "$lua")"
      ours+=("${r[0]}"); ocpu+=("${r[1]}"); o50+=("${r[2]}"); o99+=("${r[3]}")
      read -r -a r <<< "$(wrk_run "http://127.0.0.1:$NGINX_PORT/" "$NGINX_WORKER" "$c" "$lua")"
      theirs+=("${r[0]}"); tcpu+=("${r[1]}"); t50+=("${r[2]}"); t99+=("${r[3]}")
    done
    local mo mt co ct p99o p99t
    mo=$(printf '%s\n' "${ours[@]}" | median); mt=$(printf '%s\n' "${theirs[@]}" | median)
    co=$(printf '%s\n' "${ocpu[@]}" | median 2); ct=$(printf '%s\n' "${tcpu[@]}" | median 2)
    p99o=$(printf '%s\n' "${o99[@]}" | median 3); p99t=$(printf '%s\n' "${t99[@]}" | median 3)
    echo "{\"measure\": \"http_small_reply\", \"connections\": $c, \"tokens\": ${TOKENS:-2000}," \
         "\"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"runner_rps\": $(jarr "${ours[@]}"), \"nginx_rps\": $(jarr "${theirs[@]}")," \
         "\"ratio\": $(awk "BEGIN {printf \"%.2f\", $mo/$mt}"), \"runner_cpu_us_per_request\": $co," \
         "\"nginx_cpu_us_per_request\": $ct, \"cpu_ratio\": $(awk "BEGIN {printf \"%.2f\", $ct/$co}")," \
         "\"runner_p50_ms\": $(printf '%s\n' "${o50[@]}" | median 3), \"nginx_p50_ms\": $(printf '%s\n' "${t50[@]}" | median 3)," \
         "\"runner_p99_ms\": $p99o, \"nginx_p99_ms\": $p99t, \"runner_p99_rounds\": $(jarr "${o99[@]}")," \
         "\"nginx_p99_rounds\": $(jarr "${t99[@]}"), \"p99_ratio\": $(awk "BEGIN {printf \"%.2f\", $p99o/$p99t}")," \
         "\"runner_rss_mib\": $(awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$RUNNER_PID/status")," \
         "\"target\": \"ratio >= 1.0, cpu_ratio >= 1.0, p99_ratio <= 2\"}"
  done
  bench_http_raw "$lua.paths"
}

# One connection, one request at a time, each request's own latency (bench/http_raw.c: no correction for
# coordinated omission, which wrk applies), rounds interleaved on the same targets as above: whether a p99 of
# wrk's comes from a steady tail or from a few long stalls (their count over 1 ms and the longest).
bench_http_raw() {
  : > "$TMP/raw_runner"; : > "$TMP/raw_nginx"
  for _ in $(seq "$ROUNDS"); do
    taskset -c 1 build/bench/http_raw "$PORT" "$HOST" "$1" "$DURATION" >> "$TMP/raw_runner"
    taskset -c 1 build/bench/http_raw "$NGINX_PORT" "$HOST" "$1" "$DURATION" >> "$TMP/raw_nginx"
  done
  /usr/bin/python3 - "$TMP/raw_runner" "$TMP/raw_nginx" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys
ours, theirs = ([json.loads(line) for line in open(path)] for path in sys.argv[1:3])
out = {"measure": "http_small_reply_raw", "connections": 1, "load": sys.argv[3]}
for k in ("p50_us", "p99_us", "p999_us", "p9999_us", "max_us", "over_1ms", "requests"):
    out[f"runner_{k}"], out[f"nginx_{k}"] = [r[k] for r in ours], [r[k] for r in theirs]
o, t = (statistics.median(r["p99_us"] for r in rounds) for rounds in (ours, theirs))
out.update(runner_p99_us_median=o, nginx_p99_us_median=t, p99_ratio=round(o / t, 2), target="p99_ratio <= 2")
print(json.dumps(out))
PY
}

# TLS, side by side with nginx's TLS server (start_nginx): full handshakes per second (bench/tls_handshakes.c,
# HS_CONNS at once, TLS 1.3 and 1.2) with each server's CPU time per handshake, then small replies over kept-alive
# TLS connections (wrk over https, the same token rotation and Host as bench_http; wrk uses OpenSSL).
hs_run() { # PORT PID VERSION -> "handshakes/s CPU-µs-per-handshake"
  local before after out n hz
  hz=$(getconf CLK_TCK)
  before=$(cpu_ticks "$2")
  out=$(taskset -c 1 build/bench/tls_handshakes 127.0.0.1 "$1" -c "${HS_CONNS:-16}" -d "$DURATION" -W 0.5 -v "$3")
  after=$(cpu_ticks "$2")
  n=$(echo "$out" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['handshakes'])")
  echo "$(echo "$out" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['handshakes_per_s'])")" \
       "$(awk "BEGIN {printf \"%.1f\", ($after - $before) * 1e6 / $hz / $n}")"
}

bench_tls() {
  start_nginx
  local r v c
  for v in 1.3 1.2; do
    local ours=() theirs=() ocpu=() tcpu=()
    for _ in $(seq "$ROUNDS"); do
      read -r -a r <<< "$(hs_run "$SPORT" "$RUNNER_PID" "$v")"; ours+=("${r[0]}"); ocpu+=("${r[1]}")
      read -r -a r <<< "$(hs_run "$NGINX_TLS_PORT" "$NGINX_WORKER" "$v")"; theirs+=("${r[0]}"); tcpu+=("${r[1]}")
    done
    local mo mt co ct
    mo=$(printf '%s\n' "${ours[@]}" | median); mt=$(printf '%s\n' "${theirs[@]}" | median)
    co=$(printf '%s\n' "${ocpu[@]}" | median 1); ct=$(printf '%s\n' "${tcpu[@]}" | median 1)
    echo "{\"measure\": \"tls_full_handshakes\", \"tls\": \"$v\", \"connections\": ${HS_CONNS:-16}," \
         "\"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"runner_hs_per_s\": $(jarr "${ours[@]}")," \
         "\"nginx_hs_per_s\": $(jarr "${theirs[@]}"), \"ratio\": $(awk "BEGIN {printf \"%.2f\", $mo/$mt}")," \
         "\"runner_cpu_us_per_handshake\": $co, \"nginx_cpu_us_per_handshake\": $ct," \
         "\"cpu_ratio\": $(awk "BEGIN {printf \"%.2f\", $ct/$co}"), \"target\": \"ratio >= 1.0, cpu_ratio >= 1.0\"}"
  done
  local lua HOST="localhost:$SPORT" # the runner answers SA's paths with SA's Host
  lua=$(token_rotation "${TOKENS:-2000}")
  for c in ${TLS_CONNS:-64}; do
    local ours=() theirs=() ocpu=() tcpu=() o99=() t99=()
    for _ in $(seq "$ROUNDS"); do
      read -r -a r <<< "$(wrk_run "https://127.0.0.1:$SPORT/" "$RUNNER_PID" "$c" "$lua")"
      ours+=("${r[0]}"); ocpu+=("${r[1]}"); o99+=("${r[3]}")
      read -r -a r <<< "$(wrk_run "https://127.0.0.1:$NGINX_TLS_PORT/" "$NGINX_WORKER" "$c" "$lua")"
      theirs+=("${r[0]}"); tcpu+=("${r[1]}"); t99+=("${r[3]}")
    done
    local mo mt co ct p99o p99t
    mo=$(printf '%s\n' "${ours[@]}" | median); mt=$(printf '%s\n' "${theirs[@]}" | median)
    co=$(printf '%s\n' "${ocpu[@]}" | median 2); ct=$(printf '%s\n' "${tcpu[@]}" | median 2)
    p99o=$(printf '%s\n' "${o99[@]}" | median 3); p99t=$(printf '%s\n' "${t99[@]}" | median 3)
    echo "{\"measure\": \"tls_small_reply\", \"connections\": $c, \"tokens\": ${TOKENS:-2000}," \
         "\"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"runner_rps\": $(jarr "${ours[@]}"), \"nginx_rps\": $(jarr "${theirs[@]}")," \
         "\"ratio\": $(awk "BEGIN {printf \"%.2f\", $mo/$mt}"), \"runner_cpu_us_per_request\": $co," \
         "\"nginx_cpu_us_per_request\": $ct, \"cpu_ratio\": $(awk "BEGIN {printf \"%.2f\", $ct/$co}")," \
         "\"runner_p99_ms\": $p99o, \"nginx_p99_ms\": $p99t, \"target\": \"ratio >= 1.0, cpu_ratio >= 1.0\"}"
  done
}

bench_wait() {
  for w in 10; do
    taskset -c 1 build/bench/wait_error localhost "$PORT" "/c/$TOKEN/wait" 2000 "$w" | sed 's/^{/{"measure": "scripted_wait_error_ms", "target_p99": "<= 1.5", /'
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
  tls) bench_tls ;;
  wait) bench_wait ;;
  idle) bench_idle ;;
  sse) bench_sse ;;
  ws) bench_ws ;;
  all) bench_http; bench_tls; bench_wait; bench_idle; bench_sse; bench_ws ;;
esac
