#!/usr/bin/env bash
# User-space instructions per proxied request: the proxy under callgrind, 10 s of
# wrk at concurrency 8 against the mock upstream, counters zeroed after a 3 s
# warm-up. Deterministic enough to compare commits on a busy machine, unlike
# req/s. Needs valgrind, wrk, curl and the release binaries (built here).
#
#   bench/instructions.sh            # plain chat completions
#   bench/instructions.sh stream     # streamed
#   BENCH_RUST_LOG=info bench/instructions.sh   # with the default log level (one line per request)
#   BENCH_KEEP=/tmp/cg.out bench/instructions.sh stream   # keep the profile to annotate
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
for tool in valgrind callgrind_control callgrind_annotate wrk curl; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
LUA=bench/wrk/chat.lua
[ "${1:-}" = stream ] && LUA=bench/wrk/chat_stream.lua
cargo build --release -q -p switchyard-server -p switchyard-testkit
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
target/release/mock-upstream --port 0 --threads 1 --stream-events 20 --event-delay-us 0 >"$WORK/mock.out" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/mock.out" ] && break; sleep 0.05; done
MOCK_PORT=$(head -n1 "$WORK/mock.out")
cat >"$WORK/config.yaml" <<YAML
model_list:
  - model_name: bench-model
    litellm_params: {model: openai/bench-model, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-bench}
YAML
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=${BENCH_RUST_LOG:-warn} valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
    target/release/switchyard --config "$WORK/config.yaml" --port "$PORT" --host 127.0.0.1 \
    >/dev/null 2>"$WORK/valgrind.err" &
PROXY=$!
PIDS+=("$PROXY")
URL="http://127.0.0.1:$PORT/v1/chat/completions"
for _ in $(seq 1 60); do
    curl -sf -o /dev/null -X POST -d '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}' "$URL" && break
    sleep 1
done
wrk -t1 -c8 -d3s -s "$LUA" "$URL" >/dev/null
callgrind_control -z "$PROXY" >/dev/null
wrk -t1 -c8 -d10s -s "$LUA" "$URL" >"$WORK/wrk.out"
callgrind_control -d "$PROXY" >/dev/null
sleep 1
REQUESTS=$(grep -oE '^ *[0-9]+ requests' "$WORK/wrk.out" | grep -oE '[0-9]+')
IR=$(callgrind_annotate "$WORK/cg.out.1" 2>/dev/null | grep -m1 'PROGRAM TOTALS' | grep -oE '^[0-9,]+' | tr -d ,)
# BENCH_KEEP=FILE keeps the profile for callgrind_annotate.
[ -n "${BENCH_KEEP:-}" ] && cp "$WORK/cg.out.1" "$BENCH_KEEP"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty), RUST_LOG=${BENCH_RUST_LOG:-warn}: $REQUESTS requests, $((IR / REQUESTS)) instructions per request"
