#!/usr/bin/env bash
# hotlead benchmarks, each next to a reference measured in the same run on
# the same machine. See bench/README.md.
#
#   bench/run.sh [reads|writes|mixed|recovery|score|import|rescore|train|ws-fanout|all]
#                [--quick] [--repeat N] [--duration SECS] [--leads N] [--connections N]
#                [--subscribers N] [--topic both|lead|leads] [--watchers W] [--rate R]
#                [--low-rate R] [--capacity-rate R] [--cycles K]
#                [--subscriber-priority idle|normal] [--keep]
#
#   reads     nginx fixed 200 "ok" (1 and 2 workers), nginx fixed 200 with the same
#             lead JSON, vs hotlead GET /v1/leads/{id} (--durability async, 10k leads
#             with 20 events each); wrk cross-check
#   writes    Redis appendonly yes + appendfsync always (redis-benchmark SET) and
#             PostgreSQL INSERT (pgbench, synchronous_commit on) vs hotlead
#             POST /v1/leads/{id}/events (--durability sync, the default)
#   mixed     hotlead 80% GET lead / 20% POST event, --durability sync
#   recovery  hotlead-gen N leads (default 1M) -> restart time and RSS per lead,
#             vs the same leads as Redis hashes (used_memory per lead)
#   score     nginx fixed 200 with the same score JSON vs hotlead POST /v1/score
#             (stateless scoring of a lead payload with 3 events, default model)
#   import    a CSV of N leads (default 1M): `hotlead import` into an empty org
#             (validated, upserted by email, scored, journaled, --durability sync)
#             vs PostgreSQL COPY of the same file into a table of its columns
#   rescore   hotlead-gen N leads (default 1M) x 20 events; a new scoring model
#             version activated: the re-score job's seconds (fit rules changed:
#             no replay; and a new engagement rule: every lead's events replayed),
#             with lead reads timed before and during the job
#   train     the same leads: POST /v1/models:train on all of them (every status
#             labelled), the job's seconds, reads timed before and during it
#   ws-fanout --subscribers N (default 1000) WebSocket subscribers of the change
#             feed (hotlead-wsfanout, --durability sync). --topic both (default):
#             (a) each subscriber on "lead:<id>" of its own leads (2N leads, each
#             watched by --watchers W, default 1), writes paced at --rate (default
#             10000/s): write-to-delivery latency (target p99 < 5 ms), then writes/s
#             as fast as --connections go with the subscribers attached vs without,
#             --cycles K (default 3) windows with them, each between two without
#             (target: within 20%); the subscribers' thread is SCHED_IDLE unless
#             --subscriber-priority normal; (b) all of them on "leads" (every write to every
#             subscriber) at --low-rate (default 100/s, 0 skips it), and at
#             --capacity-rate (default 250/s, more than the server delivers, 0 skips
#             it): the deliveries/s it sustains. --topic lead: (a) alone; --topic
#             leads: (a) with every subscriber on "leads", and (b)
#
# `all` is reads, writes, mixed and recovery.
#
# Installs with apt-get when missing: nginx-light (or nginx), redis-server
# (brings redis-cli, redis-benchmark), wrk, curl. Builds Release in build-bench/.
# Every server it starts listens on 127.0.0.1 only and is stopped by pid on
# exit, also on failure or Ctrl-C.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${HOTLEAD_BENCH_BUILD:-$ROOT/build-bench}"   # HOTLEAD_BENCH_BUILD reuses another Release build
WHAT=all
QUICK=0
REPEAT=""
DURATION=""
LEADS=""
CONNS=64
KEEP=0
SETUP_LEADS=10000
SETUP_EVENTS=20
SUBSCRIBERS=1000 # ws-fanout
WS_RATE=10000
WS_LOW_RATE=100
WS_CAPACITY_RATE=250
WS_TOPIC=both
WS_WATCHERS=1
WS_CYCLES=3
WS_PRIORITY=idle

# The comment block at the top of this file.
usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    reads|writes|mixed|recovery|score|import|rescore|train|ws-fanout|all) WHAT="$1" ;;
    score-stateless) WHAT=score ;;   # the issue's names for the same scenarios
    post-event) WHAT=writes ;;
    --quick) QUICK=1 ;;
    --repeat) REPEAT="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --leads) LEADS="$2"; shift ;;
    --connections) CONNS="$2"; shift ;;
    --subscribers) SUBSCRIBERS="$2"; shift ;;
    --rate) WS_RATE="$2"; shift ;;
    --low-rate) WS_LOW_RATE="$2"; shift ;;
    --capacity-rate) WS_CAPACITY_RATE="$2"; shift ;;
    --topic) WS_TOPIC="$2"; shift ;;
    --watchers) WS_WATCHERS="$2"; shift ;;
    --cycles) WS_CYCLES="$2"; shift ;;
    --subscriber-priority) WS_PRIORITY="$2"; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  REPEAT=${REPEAT:-1}; DURATION=${DURATION:-3}; LEADS=${LEADS:-100000}; WARMUP=1
else
  REPEAT=${REPEAT:-3}; DURATION=${DURATION:-10}; LEADS=${LEADS:-1000000}; WARMUP=2
fi

log() { printf '\n== %s\n' "$*" >&2; }

# Other work on these 2 cores skews every figure. busy: the share of CPU the
# rest of the machine used during 2 s (call it while none of ours runs).
busy() {
  python3 - <<'PY'
import time
def snap():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]
t0, i0 = snap(); time.sleep(2); t1, i1 = snap()
b = 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))
note = "  <- the machine was busy with other work: figures are noisy" if b > 10 else ""
print(f"CPU used by other processes just before: {b:.0f}% of 2 cores{note}")
PY
}

# -- tools ------------------------------------------------------------------------
install_missing() {
  local pkgs=()
  command -v nginx >/dev/null || pkgs+=(nginx-light)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v redis-benchmark >/dev/null || pkgs+=(redis-tools)
  command -v wrk >/dev/null || pkgs+=(wrk)
  command -v pgbench >/dev/null || pkgs+=(postgresql postgresql-contrib)
  command -v curl >/dev/null || pkgs+=(curl)
  command -v python3 >/dev/null || pkgs+=(python3)
  command -v cmake >/dev/null || pkgs+=(cmake)
  command -v ninja >/dev/null || pkgs+=(ninja-build)
  [[ ${#pkgs[@]} -eq 0 ]] && return 0
  log "installing with apt-get: ${pkgs[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -q
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${pkgs[@]}"; then
    # nginx-light is gone from some releases: fall back to nginx.
    pkgs=("${pkgs[@]/nginx-light/nginx}")
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${pkgs[@]}"
  fi
}

build() {
  log "building Release in $BUILD (ninja -j2)"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  if ! ninja -C "$BUILD" -j2 hotlead hotlead-bench hotlead-gen hotlead-wsfanout \
    >"$BUILD/bench-build.log" 2>&1; then
    tail -40 "$BUILD/bench-build.log" >&2
    echo "run.sh: build failed (full log: $BUILD/bench-build.log)" >&2
    exit 1
  fi
}

HOTLEAD="$BUILD/hotlead"
BENCH="$BUILD/hotlead-bench"
GEN="$BUILD/hotlead-gen"
WSFANOUT="$BUILD/hotlead-wsfanout"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# -- process bookkeeping -------------------------------------------------------------
PIDS=()
TMP=""
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ $KEEP == 1 ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID: SIGTERM, wait up to 15 s, then SIGKILL. Never fails.
stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# jget FILE KEY: a field of the JSON line in FILE.
jget() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"; }
# calc EXPR: a Python expression, printed.
calc() { python3 -c "print($1)"; }
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v),1) if v else "-")' "$@"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# cpu_s PID: CPU seconds (user + system) a process has used so far.
cpu_s() { python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }

wait_http() { # wait_http URL PID SECONDS
  local url=$1 pid=$2 secs=${3:-60}
  for _ in $(seq $((secs * 20))); do
    curl -sf -o /dev/null "$url" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server $pid died" >&2; return 1; }
    sleep 0.05
  done
  echo "timeout waiting for $url" >&2
  return 1
}

# -- hotlead ---------------------------------------------------------------------------
ROOT_KEY="bench-root-key-0123456789abcdef"
HL_PID=""

# hl_start DIR PORT [serve flags...]: starts hotlead serve, waits for /readyz.
hl_start() {
  local dir=$1 port=$2; shift 2
  "$HOTLEAD" serve --data "$dir" --port "$port" --no-demo --bootstrap-key "$ROOT_KEY" \
    "$@" >>"$dir.stdout" 2>>"$dir.log" </dev/null &
  HL_PID=$!
  PIDS+=("$HL_PID")
  wait_http "http://127.0.0.1:$port/readyz" "$HL_PID" 600 || { tail -20 "$dir.log" >&2; return 1; }
}

# hl_bootstrap DIR: a data dir with one org and an admin key (DIR.org,
# DIR.key). The server that made them is stopped, so the measured server
# starts from recovered state (and hotlead-gen can open the directory).
hl_bootstrap() {
  local dir=$1 port
  port=$(free_port)
  hl_start "$dir" "$port"
  local org key
  org=$(curl -sf -X POST "http://127.0.0.1:$port/v1/orgs" -H "Authorization: Bearer $ROOT_KEY" \
    -H 'Content-Type: application/json' -d '{"name":"Bench Org","plan":"enterprise"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  key=$(curl -sf -X POST "http://127.0.0.1:$port/v1/orgs/$org/keys" \
    -H "Authorization: Bearer $ROOT_KEY" -H 'Content-Type: application/json' \
    -d '{"role":"admin","name":"bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  echo "$org" >"$dir.org"
  echo "$key" >"$dir.key"
  stop "$HL_PID"
}

metric() { # metric PORT NAME: the value of an unlabelled Prometheus metric
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'
}

# bench OUT ARGS...: one hotlead-bench run, JSON to OUT, a summary line to stderr.
bench() {
  local out=$1; shift
  "$BENCH" --connections "$CONNS" --threads 1 --duration "${DURATION}s" --warmup "${WARMUP}s" \
    --json "$@" >"$out" 2>"$out.err" || { cat "$out.err" >&2; return 1; }
  python3 - "$out" <<'EOF' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(f"   {r['scenario']:<10} {r['throughput']:>10.0f} req/s  p50 {r['p50_us']:>8.0f} us  "
      f"p99 {r['p99_us']:>8.0f} us  p99.9 {r['p999_us']:>8.0f} us  max {r['max_us']:>8.0f} us  "
      f"non-2xx {r['errors_non2xx']}  socket errors {r['errors_socket']}")
EOF
}

# -- nginx ---------------------------------------------------------------------------
NG_PID=""
ng_start() { # ng_start NAME PORT WORKERS
  local d="$TMP/$1"
  mkdir -p "$d"
  local user_line=""
  # Workers read $TMP/lead.json, in a 0700 folder: let them run as us.
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat >"$d/nginx.conf" <<EOF
$user_line
worker_processes $3;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body;
  keepalive_requests 1000000;
  default_type text/plain;
  server {
    listen 127.0.0.1:$2;
    location / { return 200 "ok"; }
    # The same body hotlead answers (written by scenario_reads): a second
    # reference that separates the cost of the response size from the rest.
    location = /lead { default_type application/json; alias $TMP/lead.json; }
    # The same body again as a fixed answer from memory: "nginx answering a
    # fixed 200" with the response hotlead sends, not a 2-byte one.
    location = /lead-fixed { default_type application/json; include $TMP/lead-return.conf; }
  }
}
EOF
  "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$d/stderr" &
  NG_PID=$!
  PIDS+=("$NG_PID")
  wait_http "http://127.0.0.1:$2/" "$NG_PID" 10 || { cat "$d/error.log" "$d/stderr" >&2; return 1; }
}

# -- redis ---------------------------------------------------------------------------
RD_PID=""
rd_start() { # rd_start NAME PORT [redis-server options...]
  local d="$TMP/$1" port=$2; shift 2
  mkdir -p "$d"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$d" --daemonize no --save '' \
    --logfile "$d/redis.log" --protected-mode yes "$@" &
  RD_PID=$!
  PIDS+=("$RD_PID")
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis did not start" >&2
  return 1
}

# -- postgresql --------------------------------------------------------------------------
PG_PID=""
PG_BIN=""
# as_pg CMD...: PostgreSQL refuses to run as root; run it as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}
pg_start() { # pg_start NAME PORT: a fresh cluster, durable defaults (fsync, synchronous_commit on)
  local d="$TMP/$1" port=$2
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$d"
  if [ "$(id -u)" -eq 0 ]; then chmod o+x "$TMP"; chown postgres "$d"; fi
  as_pg "$PG_BIN/initdb" -D "$d/data" -A trust -U bench >"$d/initdb.log" 2>&1 ||
    { cat "$d/initdb.log" >&2; return 1; }
  as_pg "$PG_BIN/postgres" -D "$d/data" -p "$port" -k "$d" -c listen_addresses=127.0.0.1 \
    -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=256MB \
    >"$d/postgres.log" 2>&1 &
  PG_PID=$!
  PIDS+=("$PG_PID")
  for _ in $(seq 200); do
    "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port" -q && return 0
    sleep 0.05
  done
  cat "$d/postgres.log" >&2
  echo "postgres did not start" >&2
  return 1
}

# ==========================================================================================
scenario_score() {
  local load_before; load_before=$(busy)
  log "score: nginx fixed 200 vs hotlead POST /v1/score (stateless; $CONNS connections, closed loop, ${DURATION}s x $REPEAT)"
  local dir="$TMP/score/data" o="$TMP/score" r
  mkdir -p "$o"
  hl_bootstrap "$dir"
  local ph; ph=$(free_port); hl_start "$dir" "$ph" --durability async
  local key; key=$(cat "$dir.key")
  # nginx answers the body hotlead answers for a typical payload, from memory.
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"lead":{"title":"VP Sales","company":"Acme 1","source":"referral","attributes":{"employees":1200,"trial":true}},"events":[{"type":"page_view"},{"type":"email_click"},{"type":"demo_request"}]}' \
    "http://127.0.0.1:$ph/v1/score" >"$TMP/lead.json"
  python3 - "$TMP/lead.json" "$TMP/lead-return.conf" <<'PY'
import sys
body = open(sys.argv[1]).read()
open(sys.argv[2], "w").write("return 200 '" + body.replace("\\", "\\\\").replace("'", "\\'") + "';\n")
PY
  local p1; p1=$(free_port); ng_start nginx1 "$p1" 1; local ng1=$NG_PID
  local nf=() nfp=() hl=() hlp=()
  for r in $(seq "$REPEAT"); do
    echo " run $r" >&2
    bench "$o/nf.$r" --port "$p1" --scenario url --url /lead-fixed --server-pid "$ng1"
    bench "$o/hl.$r" --port "$ph" --key "$key" --scenario score-stateless --server-pid "$HL_PID"
    nf+=("$(jget "$o/nf.$r" throughput)"); nfp+=("$(jget "$o/nf.$r" p99_us)")
    hl+=("$(jget "$o/hl.$r" throughput)"); hlp+=("$(jget "$o/hl.$r" p99_us)")
  done
  local errs; errs=$(python3 -c 'import json,sys,glob
t=0
for f in glob.glob(sys.argv[1]+"/hl.*"):
  if f.endswith(".err"): continue
  r=json.loads(open(f).read().strip().splitlines()[-1]); t+=r["errors_non2xx"]+r["errors_socket"]
print(t)' "$o")
  stop "$HL_PID"; stop "$ng1"
  {
    echo
    echo "### score-stateless: POST /v1/score (a lead payload + 3 events, default model), $CONNS connections, closed loop, ${DURATION}s"
    echo "reference: nginx (1 worker) answering the same $(wc -c <"$TMP/lead.json")-byte score JSON from memory; latency in us"
    printf '%-6s | %12s %8s | %12s %8s | %8s\n' run "nginx/s" p99 "hotlead/s" p99 "hl/ng"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %8.2f\n' "$r" "${nf[$i]}" "${nfp[$i]}" "${hl[$i]}" \
        "${hlp[$i]}" "$(calc "${hl[$i]} / ${nf[$i]}")"
    done
    local mf mh; mf=$(median "${nf[@]}"); mh=$(median "${hl[@]}")
    printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %8.2f\n' median "$mf" "$(median "${nfp[@]}")" "$mh" \
      "$(median "${hlp[@]}")" "$(calc "$mh / $mf")"
    local sv; sv=$(median $(for r in $(seq "$REPEAT"); do jget "$o/hl.$r" server_cpu_us_per_req; done))
    echo "hotlead server CPU per scored payload: $sv us; errors (non-2xx + socket): $errs"
    local ratio; ratio=$(calc "round($mh / $mf, 2)")
    local p99; p99=$(median "${hlp[@]}")
    echo "target: >= 0.8x nginx, p99 < 2000 us -> ${ratio}x, p99 $p99 us:" \
      "$(python3 -c "print('MET' if $ratio >= 0.8 and $p99 < 2000 else 'MISSED')")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

# ==========================================================================================
scenario_import() {
  local load_before; load_before=$(busy)
  local n=$LEADS o="$TMP/import"
  mkdir -p "$o"
  log "import: $n-row CSV, hotlead import (sync) vs PostgreSQL COPY, x $REPEAT"
  python3 - "$o/leads.csv" "$n" <<'PY'
import random, sys
random.seed(7)
titles = ["CEO", "CTO", "VP Sales", "Head of Marketing", "Engineer", "Analyst", "Director IT"]
sources = ["Website", "Referral", "LinkedIn", "Google Ads", "Webinar"]
with open(sys.argv[1], "w") as f:
    f.write("email,first_name,last_name,company,title,source,status,tags,employees,plan,country\n")
    for i in range(int(sys.argv[2])):
        f.write("user%d@company%d.example.com,First%d,Last%d,Company %d,%s,%s,%s,%s,%d,%s,%s\n" % (
            i, i % 50000, i, i, i % 50000, random.choice(titles), random.choice(sources),
            random.choice(["new", "contacted", "qualified"]), random.choice(["vip", "emea", "vip;emea", ""]),
            random.randint(1, 20000), random.choice(["Free", "Pro", "Enterprise"]),
            random.choice(["DE", "US", "FR", "JP"])))
PY
  local bytes; bytes=$(stat -c %s "$o/leads.csv")
  echo "   $(calc "round($bytes / 1e6, 1)") MB, $n rows" >&2
  local pp; pp=$(free_port)
  pg_start pg-import "$pp"
  local pg=$PG_PID hl=() pgr=() r
  chmod o+r "$o/leads.csv"; chmod o+x "$o"
  for r in $(seq "$REPEAT"); do
    echo " run $r" >&2
    "$PG_BIN/psql" -h 127.0.0.1 -p "$pp" -U bench -d postgres -q -c "DROP TABLE IF EXISTS leads;
      CREATE TABLE leads (email text PRIMARY KEY, first_name text, last_name text, company text,
      title text, source text, status text, tags text, employees int, plan text, country text)"
    local t0 t1; t0=$(date +%s.%N)
    "$PG_BIN/psql" -h 127.0.0.1 -p "$pp" -U bench -d postgres -q \
      -c "\\copy leads FROM '$o/leads.csv' WITH (FORMAT csv, HEADER true)"
    t1=$(date +%s.%N)
    pgr+=("$(calc "round($n / ($t1 - $t0))")")
    echo "   postgres COPY   ${pgr[-1]} rows/s" >&2
    local dir="$o/data.$r"
    hl_bootstrap "$dir"
    local ph; ph=$(free_port); hl_start "$dir" "$ph"
    t0=$(date +%s.%N)
    "$HOTLEAD" import "$o/leads.csv" --server "127.0.0.1:$ph" --key "$(cat "$dir.key")" --quiet \
      >"$o/hl.$r" 2>&1 || { cat "$o/hl.$r" >&2; return 1; }
    t1=$(date +%s.%N)
    hl+=("$(calc "round($n / ($t1 - $t0))")")
    echo "   hotlead import  ${hl[-1]} rows/s  ($(cat "$o/hl.$r"))" >&2
    stop "$HL_PID"
    rm -rf "$dir"
  done
  stop "$pg"
  {
    echo
    echo "### import: a $n-row CSV ($(calc "round($bytes / 1e6, 1)") MB, 11 columns) into an empty org"
    echo "hotlead: \`hotlead import\` over loopback, validated, upserted by email, scored, --durability sync;"
    echo "reference: PostgreSQL COPY of the same file into a table with the same columns (email primary key)"
    printf '%-6s | %12s | %12s | %8s\n' run "postgres/s" "hotlead/s" "hl/pg"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f | %12.0f | %8.2f\n' "$r" "${pgr[$i]}" "${hl[$i]}" "$(calc "${hl[$i]} / ${pgr[$i]}")"
    done
    local mp mh; mp=$(median "${pgr[@]}"); mh=$(median "${hl[@]}")
    printf '%-6s | %12.0f | %12.0f | %8.2f\n' median "$mp" "$mh" "$(calc "$mh / $mp")"
    echo "target: >= 200000 rows/s -> $mh rows/s: $(python3 -c "print('MET' if $mh >= 200000 else 'MISSED')")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

scenario_reads() {
  local load_before; load_before=$(busy)
  log "reads: nginx fixed 200 vs hotlead GET /v1/leads/{id} ($CONNS connections, closed loop, ${DURATION}s x $REPEAT)"
  local p1 p2 ph dir
  dir="$TMP/reads/data"; mkdir -p "$TMP/reads"
  hl_bootstrap "$dir"
  ph=$(free_port); hl_start "$dir" "$ph" --durability async
  local key; key=$(cat "$dir.key")
  "$BENCH" --port "$ph" --key "$key" --scenario get-lead --setup "$SETUP_LEADS" \
    --setup-events "$SETUP_EVENTS" --ids "$TMP/reads/ids" --setup-only
  local r o="$TMP/reads"
  curl -s -H "Authorization: Bearer $key" "http://127.0.0.1:$ph/v1/leads/$(head -1 "$o/ids")" \
    >"$TMP/lead.json"
  local body_bytes; body_bytes=$(wc -c <"$TMP/lead.json")
  # nginx's return text: \ and ' escaped; a $ would be read as a variable.
  python3 - "$TMP/lead.json" "$TMP/lead-return.conf" <<'PY'
import sys
body = open(sys.argv[1]).read()
if "$" in body:
    sys.exit("run.sh: the lead JSON contains '$', which nginx's return would expand")
open(sys.argv[2], "w").write("return 200 '" + body.replace("\\", "\\\\").replace("'", "\\'") + "';\n")
PY
  p1=$(free_port); ng_start nginx1 "$p1" 1; local ng1=$NG_PID
  p2=$(free_port); ng_start nginx2 "$p2" 2; local ng2=$NG_PID
  local n1=() n2=() hl=() n1p=() n2p=() hlp=() wr=() wrp=() nb=() nbp=() nf=() nfp=()
  for r in $(seq "$REPEAT"); do
    echo " run $r" >&2
    bench "$o/n1.$r" --port "$p1" --scenario url --url / --server-pid "$ng1"
    bench "$o/n2.$r" --port "$p2" --scenario url --url / --server-pid "$ng2"
    bench "$o/hl.$r" --port "$ph" --key "$key" --scenario get-lead --ids "$o/ids" --server-pid "$HL_PID"
    bench "$o/nb.$r" --port "$p1" --scenario url --url /lead --server-pid "$ng1"
    bench "$o/nf.$r" --port "$p1" --scenario url --url /lead-fixed --server-pid "$ng1"
    nf+=("$(jget "$o/nf.$r" throughput)"); nfp+=("$(jget "$o/nf.$r" p99_us)")
    nb+=("$(jget "$o/nb.$r" throughput)"); nbp+=("$(jget "$o/nb.$r" p99_us)")
    n1+=("$(jget "$o/n1.$r" throughput)"); n1p+=("$(jget "$o/n1.$r" p99_us)")
    n2+=("$(jget "$o/n2.$r" throughput)"); n2p+=("$(jget "$o/n2.$r" p99_us)")
    hl+=("$(jget "$o/hl.$r" throughput)"); hlp+=("$(jget "$o/hl.$r" p99_us)")
    # Cross-check of the load generator on the same nginx.
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$p1/" >"$o/wrk.$r" 2>&1
    wr+=("$(awk '/Requests\/sec/ {print $2}' "$o/wrk.$r")")
    wrp+=("$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v)} else if (v ~ /ms$/) {sub(/ms/,"",v); v*=1000} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000000}; print v}' "$o/wrk.$r")")
    echo "   wrk nginx-1w ${wr[-1]} req/s  p99 ${wrp[-1]} us" >&2
  done
  # Latency at the same fixed rate (60% of hotlead's closed-loop median).
  local rate; rate=$(calc "int(0.6 * $(median "${hl[@]}"))")
  echo " fixed rate $rate req/s" >&2
  local fn=() fh=() fnp=() fhp=()
  for r in $(seq "$REPEAT"); do
    bench "$o/fn.$r" --port "$p1" --scenario url --url / --rate "$rate"
    bench "$o/fh.$r" --port "$ph" --key "$key" --scenario get-lead --ids "$o/ids" --rate "$rate"
    fn+=("$(jget "$o/fn.$r" throughput)"); fnp+=("$(jget "$o/fn.$r" p99_us)")
    fh+=("$(jget "$o/fh.$r" throughput)"); fhp+=("$(jget "$o/fh.$r" p99_us)")
  done
  local errs; errs=$(python3 -c 'import json,sys,glob
t=0
for f in glob.glob(sys.argv[1]+"/hl.*")+glob.glob(sys.argv[1]+"/fh.*"):
  if f.endswith(".err"): continue
  r=json.loads(open(f).read().strip().splitlines()[-1]); t+=r["errors_non2xx"]+r["errors_socket"]
print(t)' "$o")
  stop "$HL_PID"; stop "$ng1"; stop "$ng2"

  {
    echo
    echo "### reads: GET, $CONNS connections, 1 client thread, closed loop, ${DURATION}s (+${WARMUP}s warm-up)"
    echo "hotlead: --durability async, $SETUP_LEADS leads x $SETUP_EVENTS events; nginx: return 200 \"ok\"; latency in us"
    printf '%-6s | %12s %8s | %12s %8s | %12s %8s | %9s %9s | %12s %8s\n' run "nginx-1w/s" p99 \
      "nginx-2w/s" p99 "hotlead/s" p99 "hl/ng-1w" "hl/ng-2w" "wrk ng-1w/s" p99
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %12.0f %8.0f | %9.2f %9.2f | %12.0f %8.0f\n' "$r" \
        "${n1[$i]}" "${n1p[$i]}" "${n2[$i]}" "${n2p[$i]}" "${hl[$i]}" "${hlp[$i]}" \
        "$(calc "${hl[$i]} / ${n1[$i]}")" "$(calc "${hl[$i]} / ${n2[$i]}")" "${wr[$i]}" "${wrp[$i]}"
    done
    local m1 m2 mh; m1=$(median "${n1[@]}"); m2=$(median "${n2[@]}"); mh=$(median "${hl[@]}")
    printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %12.0f %8.0f | %9.2f %9.2f | %12.0f %8.0f\n' median \
      "$m1" "$(median "${n1p[@]}")" "$m2" "$(median "${n2p[@]}")" "$mh" "$(median "${hlp[@]}")" \
      "$(calc "$mh / $m1")" "$(calc "$mh / $m2")" "$(median "${wr[@]}")" "$(median "${wrp[@]}")"
    echo
    echo "nginx (1 worker) answering the same ${body_bytes}-byte lead JSON: a fixed 200 from memory (return), and a static file:"
    printf '%-6s | %12s %8s | %12s %8s | %12s | %9s %9s\n' run "ng-fixed/s" p99 "ng-file/s" p99 \
      "hotlead/s" "hl/fixed" "hl/file"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %12.0f | %9.2f %9.2f\n' "$r" "${nf[$i]}" "${nfp[$i]}" \
        "${nb[$i]}" "${nbp[$i]}" "${hl[$i]}" "$(calc "${hl[$i]} / ${nf[$i]}")" "$(calc "${hl[$i]} / ${nb[$i]}")"
    done
    local mf; mf=$(median "${nf[@]}")
    printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %12.0f | %9.2f %9.2f\n' median "$mf" "$(median "${nfp[@]}")" \
      "$(median "${nb[@]}")" "$(median "${nbp[@]}")" "$mh" "$(calc "$mh / $mf")" "$(calc "$mh / $(median "${nb[@]}")")"
    echo
    echo "CPU time per request in us (median; server = the server process and its workers, client = hotlead-bench):"
    printf '%-22s | %8s %8s %8s\n' "" server client total
    local nm f sv cl
    for nm in "nginx-1w ok:n1" "nginx-1w fixed lead:nf" "nginx-1w lead file:nb" "hotlead GET lead:hl"; do
      f=${nm##*:}
      sv=$(median $(for r in $(seq "$REPEAT"); do jget "$o/$f.$r" server_cpu_us_per_req; done))
      cl=$(median $(for r in $(seq "$REPEAT"); do jget "$o/$f.$r" client_cpu_us_per_req; done))
      printf '%-22s | %8.1f %8.1f %8.1f\n' "${nm%%:*}" "$sv" "$cl" "$(calc "$sv + $cl")"
    done
    echo
    echo "same fixed rate, $rate req/s (latency from the scheduled send time):"
    printf '%-6s | %12s %8s | %12s %8s\n' run "nginx-1w/s" p99 "hotlead/s" p99
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %8.0f | %12.0f %8.0f\n' "$r" "${fn[$i]}" "${fnp[$i]}" "${fh[$i]}" "${fhp[$i]}"
    done
    printf '%-6s | %12.0f %8.0f | %12.0f %8.0f\n' median "$(median "${fn[@]}")" "$(median "${fnp[@]}")" \
      "$(median "${fh[@]}")" "$(median "${fhp[@]}")"
    local ratio; ratio=$(calc "round($mh / $m1, 2)")
    local ratio_f; ratio_f=$(calc "round($mh / $mf, 2)")
    local fp; fp=$(median "${fhp[@]}")
    echo "hotlead errors (non-2xx + socket) over all runs: $errs"
    echo "target: throughput >= 0.8x nginx (1 worker) answering a fixed 200 with the same body -> ${ratio_f}x" \
      "(with \"ok\": ${ratio}x); p99 < 2000 us at the fixed rate -> $fp us (closed-loop p99 $(median "${hlp[@]}") us at $CONNS connections):" \
      "$(python3 -c "print('MET' if $ratio_f >= 0.8 and $fp < 2000 else 'MISSED')")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

scenario_writes() {
  local load_before; load_before=$(busy)
  log "writes: Redis AOF appendfsync always (SET) and PostgreSQL INSERT vs hotlead POST event (--durability sync)"
  local o="$TMP/writes"; mkdir -p "$o"
  local pr; pr=$(free_port)
  rd_start redis-aof "$pr" --appendonly yes --appendfsync always
  local rd=$RD_PID
  # Calibrate -n so one redis-benchmark run lasts about --duration.
  local cal n
  cal=$(redis-benchmark -h 127.0.0.1 -p "$pr" -t set -c "$CONNS" -n 20000 -d 128 -r 100000 --csv |
    awk -F'"' 'NR==2 {print $4}')
  n=$(calc "max(20000, int(${cal:-10000} * $DURATION))")
  # PostgreSQL: one INSERT per transaction into an event table (64 clients,
  # prepared statements), each commit flushed to its WAL before the answer.
  local pp; pp=$(free_port)
  pg_start pg "$pp"
  local pg=$PG_PID
  "$PG_BIN/psql" -h 127.0.0.1 -p "$pp" -U bench -d postgres -q -c "CREATE TABLE events (
    id bigserial PRIMARY KEY, lead_id bigint NOT NULL, type text NOT NULL,
    ts timestamptz NOT NULL DEFAULT now(), properties jsonb NOT NULL)"
  cat >"$o/insert.sql" <<'SQL'
\set lid random(1, 10000)
INSERT INTO events (lead_id, type, properties) VALUES (:lid, 'page_view', '{"url": "/pricing", "referrer": "newsletter"}');
SQL
  local dir="$o/data"
  hl_bootstrap "$dir"
  local ph; ph=$(free_port); hl_start "$dir" "$ph"   # default durability: sync
  local key; key=$(cat "$dir.key")
  "$BENCH" --port "$ph" --key "$key" --scenario get-lead --setup "$SETUP_LEADS" \
    --setup-events "$SETUP_EVENTS" --ids "$o/ids" --setup-only
  local rs=() rsp=() hl=() hlp=() wpc=() rcs=() rcc=() hcs=() hcc=() pgs=() pgl=() r
  for r in $(seq "$REPEAT"); do
    echo " run $r" >&2
    local rc0 rc1
    rc0=$(cpu_s "$rd")
    # redis-benchmark's own CPU time (rusage of the child) goes to redis.$r.cpu.
    python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
r = resource.getrusage(resource.RUSAGE_CHILDREN); open(sys.argv[1] + ".cpu", "w").write(str(r.ru_utime + r.ru_stime))' \
      "$o/redis.$r" redis-benchmark -h 127.0.0.1 -p "$pr" -t set -c "$CONNS" -n "$n" -d 128 -r 100000 --csv
    rc1=$(cpu_s "$rd")
    rs+=("$(awk -F'"' 'NR==2 {print $4}' "$o/redis.$r")")
    rcs+=("$(calc "($rc1 - $rc0) * 1e6 / $n")")
    rcc+=("$(calc "$(cat "$o/redis.$r.cpu") * 1e6 / $n")")
    rsp+=("$(awk -F'"' 'NR==2 {printf "%.0f", $14 * 1000}' "$o/redis.$r")")
    echo "   redis SET  ${rs[-1]} req/s  p99 ${rsp[-1]} us" >&2
    "$PG_BIN/pgbench" -h 127.0.0.1 -p "$pp" -U bench -n -M prepared -c "$CONNS" -j 1 \
      -T "$DURATION" -f "$o/insert.sql" postgres >"$o/pg.$r" 2>&1 || { cat "$o/pg.$r" >&2; return 1; }
    pgs+=("$(awk '/^tps/ {print $3; exit}' "$o/pg.$r")")
    pgl+=("$(awk '/latency average/ {printf "%.0f", $4 * 1000}' "$o/pg.$r")")
    echo "   postgres INSERT  ${pgs[-1]} tx/s  mean ${pgl[-1]} us" >&2
    local c0 w0 c1 w1
    c0=$(metric "$ph" hotlead_journal_commits_total); w0=$(metric "$ph" hotlead_journal_writes_total)
    bench "$o/hl.$r" --port "$ph" --key "$key" --scenario post-event --ids "$o/ids" --server-pid "$HL_PID"
    c1=$(metric "$ph" hotlead_journal_commits_total); w1=$(metric "$ph" hotlead_journal_writes_total)
    hcs+=("$(jget "$o/hl.$r" server_cpu_us_per_req)"); hcc+=("$(jget "$o/hl.$r" client_cpu_us_per_req)")
    hl+=("$(jget "$o/hl.$r" throughput)"); hlp+=("$(jget "$o/hl.$r" p99_us)")
    wpc+=("$(calc "round(($w1 - $w0) / max(1, $c1 - $c0), 1)" 2>/dev/null || echo -)")
  done
  local aof; aof=$(redis-cli -p "$pr" config get appendfsync | tail -1)
  stop "$HL_PID"; stop "$rd"; stop "$pg"
  {
    echo
    echo "### writes: durable writes, $CONNS connections, closed loop"
    echo "redis: appendonly yes, appendfsync $aof, redis-benchmark -t set -d 128 -n $n; hotlead: POST /v1/leads/{id}/events, --durability sync, ${DURATION}s"
    printf '%-6s | %12s %8s | %12s %8s | %9s | %14s\n' run "redis/s" p99 "hotlead/s" p99 "hl/redis" "writes/fsync"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %9.2f | %14s\n' "$r" "${rs[$i]}" "${rsp[$i]}" \
        "${hl[$i]}" "${hlp[$i]}" "$(calc "${hl[$i]} / ${rs[$i]}")" "${wpc[$i]}"
    done
    local mr mh; mr=$(median "${rs[@]}"); mh=$(median "${hl[@]}")
    printf '%-6s | %12.0f %8.0f | %12.0f %8.0f | %9.2f | %14s\n' median "$mr" "$(median "${rsp[@]}")" \
      "$mh" "$(median "${hlp[@]}")" "$(calc "$mh / $mr")" "$(median "${wpc[@]}")"
    echo "(writes/fsync: journal writes per RocksDB commit, from /metrics: the group-commit factor)"
    echo
    echo "PostgreSQL: one INSERT per transaction (pgbench -M prepared -c $CONNS -j 1, fsync and synchronous_commit on):"
    printf '%-6s | %12s %9s | %12s | %9s\n' run "postgres/s" "mean us" "hotlead/s" "hl/pg"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12.0f %9s | %12.0f | %9.2f\n' "$r" "${pgs[$i]}" "${pgl[$i]}" "${hl[$i]}" \
        "$(calc "${hl[$i]} / ${pgs[$i]}")"
    done
    local mp; mp=$(median "${pgs[@]}")
    printf '%-6s | %12.0f %9s | %12.0f | %9.2f\n' median "$mp" "$(median "${pgl[@]}")" "$mh" "$(calc "$mh / $mp")"
    echo
    echo "CPU time per request in us (median; redis-benchmark's includes its start):"
    printf '%-22s | %8s %8s %8s\n' "" server client total
    local a b
    a=$(median "${rcs[@]}"); b=$(median "${rcc[@]}")
    printf '%-22s | %8.1f %8.1f %8.1f\n' "redis SET (AOF always)" "$a" "$b" "$(calc "$a + $b")"
    a=$(median "${hcs[@]}"); b=$(median "${hcc[@]}")
    printf '%-22s | %8.1f %8.1f %8.1f\n' "hotlead POST event" "$a" "$b" "$(calc "$a + $b")"
    echo "target: >= 1.0x Redis AOF always -> $(calc "round($mh / $mr, 2)")x:" \
      "$(python3 -c "print('MET' if $mh >= $mr else 'MISSED')")"
    echo "target: >= 1.0x PostgreSQL INSERT -> $(calc "round($mh / $mp, 2)")x:" \
      "$(python3 -c "print('MET' if $mh >= $mp else 'MISSED')")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

scenario_mixed() {
  local load_before; load_before=$(busy)
  log "mixed: hotlead 80% GET lead / 20% POST event (--durability sync)"
  local o="$TMP/mixed"; mkdir -p "$o"
  local dir="$o/data"
  hl_bootstrap "$dir"
  local ph; ph=$(free_port); hl_start "$dir" "$ph"
  local key; key=$(cat "$dir.key")
  "$BENCH" --port "$ph" --key "$key" --scenario get-lead --setup "$SETUP_LEADS" \
    --setup-events "$SETUP_EVENTS" --ids "$o/ids" --setup-only
  local t=() p=() p50=() r
  for r in $(seq "$REPEAT"); do
    echo " run $r" >&2
    bench "$o/m.$r" --port "$ph" --key "$key" --scenario mixed --ids "$o/ids"
    t+=("$(jget "$o/m.$r" throughput)"); p+=("$(jget "$o/m.$r" p99_us)"); p50+=("$(jget "$o/m.$r" p50_us)")
  done
  stop "$HL_PID"
  {
    echo
    echo "### mixed: 80% GET /v1/leads/{id}, 20% POST event, --durability sync, $CONNS connections, closed loop, ${DURATION}s"
    printf '%-6s | %12s %8s %8s | %9s %9s | %s\n' run "hotlead/s" p50 p99 reads writes errors
    for r in $(seq "$REPEAT"); do
      local f="$o/m.$r"
      printf '%-6s | %12.0f %8.0f %8.0f | %9s %9s | %s\n' "$r" "${t[$((r-1))]}" "${p50[$((r-1))]}" \
        "${p[$((r-1))]}" "$(jget "$f" reads)" "$(jget "$f" writes)" \
        "$(calc "$(jget "$f" errors_non2xx) + $(jget "$f" errors_socket)")"
    done
    printf '%-6s | %12.0f %8.0f %8.0f |\n' median "$(median "${t[@]}")" "$(median "${p50[@]}")" "$(median "${p[@]}")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

scenario_recovery() {
  local load_before; load_before=$(busy)
  log "recovery: $LEADS leads"
  local o="$TMP/recovery"; mkdir -p "$o"
  local dir="$o/data"
  hl_bootstrap "$dir"
  local org; org=$(cat "$dir.org")
  # RSS of a server with the org but no leads.
  local ph; ph=$(free_port); hl_start "$dir" "$ph"
  sleep 1
  local empty_rss; empty_rss=$(rss_kib "$HL_PID")
  stop "$HL_PID"
  log "hotlead-gen --count $LEADS --events 20"
  "$GEN" --data "$dir" --count "$LEADS" --org "$org" --events 20 --seed 7 2>&1 | tee "$o/gen.log" >&2
  local gen_line; gen_line=$(grep generated "$o/gen.log")
  local disk; disk=$(du -sm "$dir/db" | cut -f1)
  local secs=() walls=() rss=() bpl=() r
  for r in $(seq "$REPEAT"); do
    : >"$dir.log"
    local t0; t0=$(date +%s.%N)
    hl_start "$dir" "$ph"
    local t1; t1=$(date +%s.%N)
    sleep 1
    local line; line=$(grep -o 'recovered [0-9]* leads.*' "$dir.log" | tail -1)
    echo "   $line (to /readyz: $(calc "round($t1 - $t0, 2)") s)" >&2
    secs+=("$(echo "$line" | sed -E 's/.* in ([0-9.]+) s.*/\1/')")
    walls+=("$(calc "round($t1 - $t0, 2)")")
    rss+=("$(rss_kib "$HL_PID")")
    bpl+=("$(calc "round((${rss[-1]} - $empty_rss) * 1024 / $LEADS)")")
    local got; got=$(echo "$line" | awk '{print $2}')
    [[ "$got" == "$LEADS" ]] || echo "   WARNING: recovered $got leads, expected $LEADS" >&2
    stop "$HL_PID"
  done
  # Redis: the same leads as hashes.
  local pr; pr=$(free_port)
  rd_start redis-mem "$pr" --appendonly no
  local before after
  before=$(redis-cli -p "$pr" info memory | awk -F: '/^used_memory:/ {print $2+0}')
  "$GEN" --redis-only --count "$LEADS" --events 20 --seed 7 2>"$o/gen-redis.log" |
    redis-cli -p "$pr" --pipe >"$o/pipe.log" 2>&1
  after=$(redis-cli -p "$pr" info memory | awk -F: '/^used_memory:/ {print $2+0}')
  local rss_after; rss_after=$(redis-cli -p "$pr" info memory | awk -F: '/^used_memory_rss:/ {print $2+0}')
  local keys; keys=$(redis-cli -p "$pr" dbsize)
  local enc; enc=$(redis-cli -p "$pr" object encoding "$(redis-cli -p "$pr" randomkey)")
  stop "$RD_PID"
  local rpl; rpl=$(calc "round(($after - $before) / max(1, $keys))")
  {
    echo
    echo "### recovery: $LEADS leads x 20 events (8 text fields, 5 attributes, 2 tags), restart of hotlead serve"
    echo "generation: $gen_line; RocksDB on disk: ${disk} MiB"
    printf '%-6s | %12s %14s | %12s %14s\n' run "recovery s" "to /readyz s" "RSS MiB" "bytes/lead"
    for r in $(seq "$REPEAT"); do
      local i=$((r - 1))
      printf '%-6s | %12s %14s | %12.0f %14s\n' "$r" "${secs[$i]}" "${walls[$i]}" \
        "$(calc "${rss[$i]} / 1024")" "${bpl[$i]}"
    done
    printf '%-6s | %12s %14s | %12s %14s\n' median "$(median "${secs[@]}")" "$(median "${walls[@]}")" "" \
      "$(median "${bpl[@]}")"
    echo "empty server RSS $((empty_rss / 1024)) MiB; bytes/lead = (RSS after recovery - empty RSS) / $LEADS"
    echo "redis: $keys hashes (encoding $enc), used_memory $((before)) -> $((after)) bytes = $rpl bytes/lead (used_memory_rss $((rss_after / 1048576)) MiB)"
    local ms mb; ms=$(median "${secs[@]}"); mb=$(median "${bpl[@]}")
    echo "targets: recovery of 1M leads < 5 s -> ${ms} s for $LEADS leads:" \
      "$(python3 -c "print('MET' if $ms < 5 * $LEADS / 1e6 else 'MISSED') if $LEADS >= 1000000 else print('(scaled run; 1M needed for the target)')")"
    echo "         RSS per lead < 1024 bytes -> $mb bytes (redis: $rpl):" \
      "$(python3 -c "print('MET' if $mb < 1024 else 'MISSED')")"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

# scenario_jobs rescore|train: long jobs over LEADS generated leads.
scenario_jobs() {
  local what=$1 load_before; load_before=$(busy)
  local o="$TMP/$what"; mkdir -p "$o"
  local dir="$o/data"
  hl_bootstrap "$dir"
  log "$what: hotlead-gen --count $LEADS --events 20"
  "$GEN" --data "$dir" --count "$LEADS" --org "$(cat "$dir.org")" --events 20 --seed 7 --settle 2>&1 |
    tail -1 >&2
  local ph; ph=$(free_port)
  hl_start "$dir" "$ph"
  local variants=(plain alone) v r
  [[ "$what" == rescore ]] && variants=(plain alone replay)
  local rows=()
  for v in "${variants[@]}"; do
    for r in $(seq "$REPEAT"); do
      local flag=(); [[ "$v" == replay ]] && flag=(--replay); [[ "$v" == alone ]] && flag=(--alone)
      python3 "$ROOT/bench/jobs.py" "$what" "$ph" "$(cat "$dir.key")" "${flag[@]}" >"$o/$v.$r.json"
      local line; line=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1])); b, d = j["reads_before"], j["reads_during"]
r = j.get("result") or {}
auc = r.get("report", {}).get("auc")
print("%s | %6s | %9.2f | %9.2f | %9.2f | %9d | %8.2f %8.2f | %8.2f %8.2f %8.2f%s" % (
    sys.argv[2], sys.argv[3], j["job_seconds"], j["memory_seconds"], j["wall_seconds"], j["total"],
    b["p50_ms"], b["p99_ms"], d["p50_ms"], d["p99_ms"], d["max_ms"],
    "" if auc is None else " | AUC %.3f" % auc))' "$o/$v.$r.json" "$(printf '%-7s' "$v")" "$r")
      echo "   $line" >&2
      rows+=("$line")
    done
  done
  stop "$HL_PID"
  {
    echo
    echo "### $what: $LEADS leads x 20 events (hotlead-gen), --durability sync (the default)"
    [[ "$what" == rescore ]] && echo "plain: every fit rule's points changed; alone: the same with no reads during the job; replay: plus a new engagement rule (all stored events replayed)"
    [[ "$what" == train ]] && echo "alone: the same with no reads during the job"
    [[ "$what" == train ]] && echo "label: status converted/qualified/contacted vs new/unqualified/lost (every lead labelled), features auto"
    echo "reads: GET /v1/leads/{id} one after another from one client, for 2 s before the job and while it runs"
    echo "job s: the server's own start to finish (every lead stored); memory s: until every lead was done in memory (client-polled)"
    printf '%-7s | %6s | %9s | %9s | %9s | %9s | %17s | %26s\n' variant run "job s" "memory s" "wall s" leads \
      "before p50/p99 ms" "during p50/p99/max ms"
    printf '%s\n' "${rows[@]}"
    if [[ "$what" == rescore ]]; then
      local v2
      for v2 in alone plain; do
        local secs=(); for r in $(seq "$REPEAT"); do secs+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job_seconds"])' "$o/$v2.$r.json")"); done
        local m; m=$(median "${secs[@]}")
        echo "target: re-score 1M leads < 2 s ($v2) -> median ${m} s for $LEADS leads ($(calc "round($LEADS / $m)") leads/s):" \
          "$(python3 -c "print('MET' if $m < 2 * $LEADS / 1e6 else 'MISSED') if $LEADS >= 1000000 else print('(scaled run; 1M needed for the target)')")"
      done
    fi
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

# -- ws-fanout ---------------------------------------------------------------------------
# wsfanout OUT ARGS...: one hotlead-wsfanout run, JSON to OUT, its progress to stderr.
wsfanout() {
  local out=$1; shift
  "$WSFANOUT" --subscribers "$SUBSCRIBERS" --connections "$CONNS" --duration "$DURATION" \
    --warmup "$WARMUP" --subscriber-priority "$WS_PRIORITY" "$@" >"$out" 2>"$out.err" ||
    { cat "$out.err" >&2; return 1; }
  grep -v '^setup:' "$out.err" >&2 || true
}

# One server (sync durability, as users run it). Per repetition: t.N, the run
# at --rate, then the max-rate windows with and without subscribers
# (bench/ws_bench.hpp), on per-lead topics (2N leads) unless --topic leads;
# unless --topic lead, l.N and c.N, every subscriber on "leads", the paced
# phase alone at --low-rate and at --capacity-rate. Each run creates its own
# leads in the org.
scenario_ws_fanout() {
  case "$WS_TOPIC" in both|lead|leads) ;; *) echo "run.sh: --topic is both, lead or leads" >&2; exit 2 ;; esac
  local load_before; load_before=$(busy)
  local target=(--topic lead --leads $((2 * SUBSCRIBERS)) --watchers "$WS_WATCHERS")
  [[ $WS_TOPIC == leads ]] && target=(--topic leads)
  log "ws-fanout: $SUBSCRIBERS subscribers (--topic $WS_TOPIC), writes paced at $WS_RATE/s then as fast as $CONNS connections go; \"leads\" at $WS_LOW_RATE/s and $WS_CAPACITY_RATE/s (--durability sync)"
  local o="$TMP/ws-fanout"; mkdir -p "$o"
  local dir="$o/data"
  hl_bootstrap "$dir"
  local ph; ph=$(free_port); hl_start "$dir" "$ph"   # default durability: sync
  local key r; key=$(cat "$dir.key")
  local common=(--port "$ph" --key "$key" --server-pid "$HL_PID")
  for r in $(seq "$REPEAT"); do
    echo " run $r: ${target[*]}, paced at $WS_RATE/s, then as fast as it goes" >&2
    wsfanout "$o/t.$r" "${common[@]}" "${target[@]}" --rate "$WS_RATE" --cycles "$WS_CYCLES"
    [[ $WS_TOPIC == lead ]] && continue
    if [[ $WS_LOW_RATE != 0 ]]; then
      echo " run $r: --topic leads, paced at $WS_LOW_RATE/s" >&2
      wsfanout "$o/l.$r" "${common[@]}" --topic leads --rate "$WS_LOW_RATE" --skip-max-rate
    fi
    if [[ $WS_CAPACITY_RATE != 0 ]]; then
      echo " run $r: --topic leads, paced at $WS_CAPACITY_RATE/s (its capacity)" >&2
      wsfanout "$o/c.$r" "${common[@]}" --topic leads --rate "$WS_CAPACITY_RATE" --skip-max-rate
    fi
  done
  stop "$HL_PID"
  {
    echo
    python3 "$ROOT/bench/ws_report.py" "$o" "$REPEAT" "$WS_RATE"
    echo "$load_before"
  } | tee -a "$TMP/summary"
}

# ==========================================================================================
install_missing
build
TMP=$(mktemp -d /tmp/hotlead-bench.XXXXXX)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); work dir $TMP" | tee "$TMP/summary"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+local changes)')" | tee -a "$TMP/summary"
case "$WHAT" in
  reads) scenario_reads ;;
  writes) scenario_writes ;;
  mixed) scenario_mixed ;;
  recovery) scenario_recovery ;;
  score) scenario_score ;;
  import) scenario_import ;;
  rescore) scenario_jobs rescore ;;
  train) scenario_jobs train ;;
  ws-fanout) scenario_ws_fanout ;;
  all) scenario_reads; scenario_writes; scenario_mixed; scenario_recovery ;;
esac
echo
echo "==================== summary ===================="
cat "$TMP/summary"
