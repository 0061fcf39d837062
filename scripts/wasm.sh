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
# Panic locations carry source paths into the shipped wasm; shorten them so the
# build neither leaks this machine's paths nor depends on them.
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ 2>/dev/null | head -1 || true)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$PWD/=./${registry:+ --remap-path-prefix=$registry=crates/}"
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
exec "$@"
