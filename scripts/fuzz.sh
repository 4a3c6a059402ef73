#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 600).
#
#   scripts/fuzz.sh [SECONDS]
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); installs
# cargo-fuzz when missing. JOBS=2 runs two targets at once; TARGETS="a b"
# picks targets. Each run grows fuzz/corpus/<target>, writes its log to
# fuzz/logs/<target>.log (final stats at the end) and any crash to
# fuzz/artifacts/<target>/. Minimise a grown corpus before committing it:
#   (cd fuzz && cargo +nightly fuzz cmin -s none <target>)
set -euo pipefail

seconds="${1:-600}"
jobs="${JOBS:-1}"
cd "$(dirname "$0")/../fuzz"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets="${TARGETS:-$(cargo +nightly fuzz list)}"
# No sanitizer: every Switchyard crate forbids unsafe code; what is hunted
# here is panics (overflow checks and debug assertions are on) and broken
# invariants, and the runs are several times faster without ASan.
cargo +nightly fuzz build -s none
mkdir -p logs

run() {
    local target="$1"
    echo "fuzzing $target for ${seconds}s (log: fuzz/logs/$target.log)"
    if cargo +nightly fuzz run -s none "$target" -- \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"logs/$target.log" 2>&1; then
        local line
        line="$(grep -E '^#[0-9]+' "logs/$target.log" | tail -1 || true)"
        echo "$target: ok: $line"
    else
        echo "$target: FAILED, see fuzz/logs/$target.log and fuzz/artifacts/$target/" >&2
        return 1
    fi
}

status=0
pids=()
for target in $targets; do
    run "$target" &
    pids+=("$!")
    if [ "${#pids[@]}" -ge "$jobs" ]; then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
exit "$status"
