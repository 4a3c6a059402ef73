#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need, then runs every check.
# Safe to re-run; works on a fresh machine with the Rust toolchain, python3 and apt.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# 1. System packages the tests start themselves (real servers on loopback).
need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. The official openai Python client, for the compatibility test.
if ! .venv/bin/python -c 'import openai' >/dev/null 2>&1; then
  log "creating .venv with the openai client"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'openai>=1.40,<3'
fi
export SWITCHYARD_TEST_PYTHON="$PWD/.venv/bin/python"

# 3. Formatting and lints, then every test (unit, integration, doc).
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked
