#!/usr/bin/env bash
# Benchmark: the Switchyard proxy against nginx, both in front of the same mock
# upstream, and the mock alone as the baseline. See bench/README.md.
#
# Pinning (this harness assumes 2 cores): the proxy under test (nginx or
# switchyard) alone on core 0; the mock upstream and wrk share core 1.
#
# Environment (defaults in brackets):
#   BENCH_TARGETS       which targets to run             ["direct nginx switchyard"]
#   BENCH_MODES         plain and/or stream              ["plain stream"]
#   BENCH_CONCURRENCY   wrk -c values                    ["1 32 256"]
#   BENCH_DURATION      seconds per wrk run              [10]
#   BENCH_RUNS          runs per configuration (median)  [3]
#   BENCH_WARMUP        seconds of warm-up per target    [2]
#   BENCH_STREAM_EVENTS chunk events per stream          [20]
#   BENCH_EVENT_DELAY_US microseconds between events, 0 = one write [0]
#   BENCH_RUST_LOG      RUST_LOG for switchyard          [warn] (nginx runs with access_log off)
#   BENCH_SKIP_BUILD    1 = use the existing release binaries [0]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TARGETS=${BENCH_TARGETS:-"direct nginx switchyard"}
MODES=${BENCH_MODES:-"plain stream"}
CONCURRENCY=${BENCH_CONCURRENCY:-"1 32 256"}
DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
STREAM_EVENTS=${BENCH_STREAM_EVENTS:-20}
EVENT_DELAY_US=${BENCH_EVENT_DELAY_US:-0}
SWITCHYARD_RUST_LOG=${BENCH_RUST_LOG:-warn}
PROXY_CPU=0
LOAD_CPU=1

log() { echo "[bench] $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- processes
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port (the kernel picks it; the tiny race is fine here).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until PORT answers a POST of the plain body with a chat.completion.
wait_ready() {
    local name=$1 url=$2 pid=$3 i
    for i in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            die "$name exited during start-up (logs in $WORK)"
        fi
        if curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d "$PLAIN_BODY" "$url"; then
            return 0
        fi
        sleep 0.1
    done
    die "$name did not answer on $url"
}

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]} with apt-get"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in curl taskset python3; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

PLAIN_BODY=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/wrk/chat.lua)
STREAM_BODY=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/wrk/chat_stream.lua)

# ---------------------------------------------------------------- build
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries"
    cargo build --release -q -p switchyard-server -p switchyard-testkit
fi
MOCK_BIN="$ROOT/target/release/mock-upstream"
SWITCHYARD_BIN="$ROOT/target/release/switchyard"
[ -x "$MOCK_BIN" ] || die "$MOCK_BIN is missing"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_AT_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    log "warning: load average is $LOAD_AT_START; other processes will skew the numbers"
fi

# ---------------------------------------------------------------- mock
taskset -c "$LOAD_CPU" "$MOCK_BIN" --port 0 --threads 1 \
    --stream-events "$STREAM_EVENTS" --event-delay-us "$EVENT_DELAY_US" \
    >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 1 100); do
    [ -s "$WORK/mock.out" ] && break
    sleep 0.05
done
MOCK_PORT=$(head -n1 "$WORK/mock.out")
[ -n "$MOCK_PORT" ] || die "the mock did not print its port"
wait_ready mock "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "$MOCK_PID"
log "mock upstream on 127.0.0.1:$MOCK_PORT (pid $MOCK_PID)"

declare -A URL PID_OF
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"

# ---------------------------------------------------------------- nginx
start_nginx() {
    local dir="$WORK/nginx" port user_line=""
    port=$(free_port)
    mkdir -p "$dir/logs" "$dir/tmp"
    # As root, nginx would drop its worker to `nobody`, which cannot use the temp dir.
    [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
    cat >"$dir/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 1;
worker_cpu_affinity 01;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    # nginx closes a keep-alive connection after 1000 requests by default;
    # hyper never does, so lift the limit on both sides to compare like for like.
    keepalive_requests 10000000;
    upstream mock {
        server 127.0.0.1:$MOCK_PORT;
        keepalive 256;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # Stream SSE events as they come, as a gateway must.
            proxy_buffering off;
        }
    }
}
EOF
    taskset -c "$PROXY_CPU" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        >"$dir/logs/stdout.log" 2>&1 &
    local master=$!
    PIDS+=("$master")
    URL[nginx]="http://127.0.0.1:$port/v1/chat/completions"
    wait_ready nginx "${URL[nginx]}" "$master"
    local worker
    worker=$(pgrep -P "$master" | head -n1)
    [ -n "$worker" ] || die "no nginx worker under pid $master"
    PID_OF[nginx]=$worker
    log "nginx on 127.0.0.1:$port (master $master, worker $worker)"
}

# ---------------------------------------------------------------- switchyard
start_switchyard() {
    [ -x "$SWITCHYARD_BIN" ] || die "$SWITCHYARD_BIN is missing"
    local port config="$WORK/switchyard.yaml"
    port=$(free_port)
    cat >"$config" <<EOF
model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: sk-bench
EOF
    local host_args=()
    if "$SWITCHYARD_BIN" --help 2>/dev/null | grep -q -- '--host'; then
        host_args=(--host 127.0.0.1)
    fi
    RUST_LOG="$SWITCHYARD_RUST_LOG" taskset -c "$PROXY_CPU" "$SWITCHYARD_BIN" \
        --config "$config" --port "$port" "${host_args[@]}" \
        >"$WORK/switchyard.out" 2>"$WORK/switchyard.err" &
    local pid=$!
    PIDS+=("$pid")
    URL[switchyard]="http://127.0.0.1:$port/v1/chat/completions"
    if ! (wait_ready switchyard "${URL[switchyard]}" "$pid"); then
        tail -n 20 "$WORK/switchyard.err" >&2 || true
        die "switchyard did not start"
    fi
    PID_OF[switchyard]=$pid
    log "switchyard on 127.0.0.1:$port (pid $pid)"
}

for target in $TARGETS; do
    case $target in
        direct) ;;
        nginx) start_nginx ;;
        switchyard) start_switchyard ;;
        *) die "unknown target $target (direct, nginx, switchyard)" ;;
    esac
done

# Every target must answer both modes correctly before it is measured.
for target in $TARGETS; do
    out=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$STREAM_BODY" "${URL[$target]}") ||
        die "$target failed a streamed request"
    [ "$(printf '%s' "$out" | grep -c '^data: ')" -eq $((STREAM_EVENTS + 1)) ] ||
        die "$target streamed $(printf '%s' "$out" | grep -c '^data: ') events, expected $((STREAM_EVENTS + 1))"
    printf '%s' "$out" | tail -n 2 | grep -q '^data: \[DONE\]' || die "$target's stream does not end with [DONE]"
    out=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$PLAIN_BODY" "${URL[$target]}") ||
        die "$target failed a plain request"
    printf '%s' "$out" | grep -q '"chat.completion"' || die "$target answered: $out"
done

# ---------------------------------------------------------------- wrk
lua_for() { [ "$1" = stream ] && echo bench/wrk/chat_stream.lua || echo bench/wrk/chat.lua; }
threads_for() { [ "$1" -le 1 ] && echo 1 || echo 2; }

# wrk prints latencies as 52.18us / 1.20ms / 2.00s: convert to microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") m = 1; else if (u == "ms") m = 1000; else if (u == "s") m = 1000000; else if (u == "m") m = 60000000; else m = 1;
        printf "%.1f", n * m }'
}

# Resets the kernel's peak-RSS mark of PID (Linux >= 4.0), so VmHWM read after
# a run is that run's peak.
reset_hwm() { [ -n "${1:-}" ] && { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null || true; }
read_hwm_kb() {
    [ -n "${1:-}" ] && awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# CPU time (user + system, in clock ticks) PID has used so far: the brief
# judges CPU per request, which throughput alone hides when a core idles.
CLK_TCK=$(getconf CLK_TCK)
read_cpu_ticks() {
    # Fields 14 and 15 of /proc/PID/stat, counted after the parenthesised name.
    [ -n "${1:-}" ] && sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo ""
}

# One wrk run; appends "target mode c run rps p50_us p99_us hwm_kb errors cpu_us_per_request"
# to results (the last is empty for the mock, which shares its core with wrk).
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
run_wrk() {
    local target=$1 mode=$2 c=$3 run=$4 duration=$5 record=$6
    local pid=${PID_OF[$target]:-} out
    reset_hwm "$pid"
    local cpu_before
    cpu_before=$(read_cpu_ticks "$pid")
    out=$(taskset -c "$LOAD_CPU" wrk -t "$(threads_for "$c")" -c "$c" -d "${duration}s" --latency \
        -s "$(lua_for "$mode")" "${URL[$target]}" 2>&1) || die "wrk failed on $target: $out"
    [ "$record" = 1 ] || return 0
    local rps p50 p99 errors hwm
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
                  /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
                  END { print n + 0 }' <<<"$out")
    hwm=$(read_hwm_kb "$pid")
    local cpu_after requests cpu_us=""
    cpu_after=$(read_cpu_ticks "$pid")
    requests=$(awk '/ requests in / { print $1 }' <<<"$out")
    if [ -n "$cpu_before" ] && [ -n "$cpu_after" ] && [ "${requests:-0}" -gt 0 ]; then
        cpu_us=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$CLK_TCK" -v n="$requests" \
            'BEGIN { printf "%.1f", t * 1000000 / hz / n }')
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$mode" "$c" "$run" "$rps" "$p50" "$p99" "${hwm:-0}" "$errors" "$cpu_us" >>"$RESULTS"
    log "$(printf '%-10s %-6s c=%-3s run %s: %10s req/s  p50 %8s us  p99 %8s us  cpu %6s us/req  errors %s' "$target" "$mode" "$c" "$run" "$rps" "$p50" "$p99" "${cpu_us:--}" "$errors")"
}

if [ "$WARMUP" -gt 0 ]; then
    for target in $TARGETS; do
        for mode in $MODES; do
            run_wrk "$target" "$mode" 32 0 "$WARMUP" 0
        done
    done
fi

# Runs are interleaved across targets so background noise (this machine is
# shared) spreads over all of them instead of biasing one.
for run in $(seq 1 "$RUNS"); do
    for mode in $MODES; do
        for c in $CONCURRENCY; do
            for target in $TARGETS; do
                run_wrk "$target" "$mode" "$c" "$run" "$DURATION" 1
            done
        done
    done
done

# ---------------------------------------------------------------- report
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
column_of() { awk -F'\t' -v t="$1" -v m="$2" -v c="$3" -v k="$4" '$1 == t && $2 == m && $3 == c { print $k }' "$RESULTS"; }
med() { column_of "$1" "$2" "$3" "$4" | median; }
max_of() { column_of "$1" "$2" "$3" "$4" | sort -g | tail -n1; }
sum_of() { column_of "$1" "$2" "$3" "$4" | awk '{ s += $1 } END { print s + 0 }'; }
fmt_us() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else if (u >= 1000) printf "%.2f ms", u / 1000; else printf "%.0f µs", u }'; }
fmt_cpu() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.1f µs", u }'; }
fmt_mb() { awk -v k="$1" 'BEGIN { if (k == "" || k == 0) print "-"; else printf "%.1f MB", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
verdict() { # value op limit
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { if (v == "") print "n/a"; else if ((op == "<=" && v <= l) || (op == ">=" && v >= l)) print "PASS"; else print "FAIL" }'
}

SHA=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || SHA="$SHA-dirty"
STAMP=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
REPORT="bench/results/$STAMP-$SHA.md"

{
    echo "# Switchyard benchmark $STAMP ($SHA)"
    echo
    echo "- machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, Linux $(uname -r)"
    echo "- tools: $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    echo "- wrk ${DURATION}s per run, median of $RUNS runs; mock stream = $STREAM_EVENTS events + [DONE], ${EVENT_DELAY_US} µs apart"
    echo "- load average at start: $LOAD_AT_START (anything else running skews the numbers)"
    echo "- pinning: proxy on core $PROXY_CPU; mock and wrk on core $LOAD_CPU; switchyard RUST_LOG=$SWITCHYARD_RUST_LOG, nginx access_log off"
    echo
    echo "| target | mode | c | req/s | p50 | p99 | CPU/request | peak RSS | errors |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for mode in $MODES; do
        for c in $CONCURRENCY; do
            for target in $TARGETS; do
                rps=$(med "$target" "$mode" "$c" 5)
                [ -n "$rps" ] || continue
                cpu=$(med "$target" "$mode" "$c" 10)
                printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$target" "$mode" "$c" "$rps" \
                    "$(fmt_us "$(med "$target" "$mode" "$c" 6)")" "$(fmt_us "$(med "$target" "$mode" "$c" 7)")" \
                    "$(fmt_cpu "$cpu")" \
                    "$(fmt_mb "$(max_of "$target" "$mode" "$c" 8)")" "$(sum_of "$target" "$mode" "$c" 9)"
            done
        done
    done
    echo
    echo "Peak RSS is the process's VmHWM during the runs of that row (nginx: its single worker)."
    echo "CPU/request is the proxy process's user + system time over the run divided by the requests wrk completed."
    echo
    has() { [[ " $TARGETS " == *" $1 "* ]]; }
    if has direct && has nginx && has switchyard; then
        echo "## Derived figures"
        echo
        echo "| figure | switchyard | nginx | ratio | target | verdict |"
        echo "| --- | ---: | ---: | ---: | --- | --- |"
        for mode in $MODES; do
            d=$(med direct "$mode" 1 6)
            n=$(med nginx "$mode" 1 6)
            s=$(med switchyard "$mode" 1 6)
            [ -n "$d" ] && [ -n "$n" ] && [ -n "$s" ] || continue
            sa=$(awk -v a="$s" -v b="$d" 'BEGIN { printf "%.1f", a - b }')
            na=$(awk -v a="$n" -v b="$d" 'BEGIN { printf "%.1f", a - b }')
            r=$(ratio "$sa" "$na")
            echo "| added p50 latency, $mode, c=1 | $(fmt_us "$sa") | $(fmt_us "$na") | ${r:-n/a} | ≤ 1.5 | $(verdict "$r" "<=" 1.5) |"
        done
        for mode in $MODES; do
            for c in $CONCURRENCY; do
                [ "$c" -gt 1 ] || continue
                s=$(med switchyard "$mode" "$c" 5)
                n=$(med nginx "$mode" "$c" 5)
                r=$(ratio "$s" "$n")
                printf '| throughput, %s, c=%s | %.0f req/s | %.0f req/s | %s | ≥ 0.8 | %s |\n' \
                    "$mode" "$c" "${s:-0}" "${n:-0}" "${r:-n/a}" "$(verdict "$r" ">=" 0.8)"
            done
        done
        for mode in $MODES; do
            for c in $CONCURRENCY; do
                s=$(med switchyard "$mode" "$c" 10)
                n=$(med nginx "$mode" "$c" 10)
                r=$(ratio "$s" "$n")
                [ -n "$r" ] || continue
                echo "| CPU per request, $mode, c=$c | $(fmt_cpu "$s") | $(fmt_cpu "$n") | $r | (informational) | |"
            done
        done
        cmax=$(for c in $CONCURRENCY; do echo "$c"; done | sort -n | tail -n1)
        rss=$(for mode in $MODES; do max_of switchyard "$mode" "$cmax" 8; done | sort -g | tail -n1)
        nrss=$(for mode in $MODES; do max_of nginx "$mode" "$cmax" 8; done | sort -g | tail -n1)
        rss_mb=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
        echo "| peak RSS, c=$cmax | $(fmt_mb "$rss") | $(fmt_mb "$nrss") | | ≤ 40 MB | $(verdict "$rss_mb" "<=" 40) |"
        echo
        echo "Added latency = target p50 − direct p50 at c=1; ratio = switchyard's added latency / nginx's."
        echo "Throughput ratio = switchyard req/s / nginx req/s."
    fi
} | tee "$REPORT"
log "report written to $REPORT"
