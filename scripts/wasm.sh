#!/usr/bin/env bash
# Runs a command with the environment for building wasm (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .tmp/wasm.env ] || { echo "run scripts/setup.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
. .tmp/wasm.env
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
# The wasm build has its own target dir: another toolchain and std from source
# would otherwise invalidate the native server's build on every switch.
export CARGO_TARGET_DIR="$PWD/target/wasm"
export TRUNK_SKIP_VERSION_CHECK=true
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
exec "$@"
