#!/usr/bin/env bash
# Runs a command with the environment for building wasm (see scripts/setup.sh).
#   scripts/wasm.sh CMD…         tests and checks: the usual panics and messages
#   scripts/wasm.sh --app CMD…   the shipped app: split into modules and built for size
set -euo pipefail
app=""
if [ "${1:-}" = --app ]; then app=1; shift; fi
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
flags="--remap-path-prefix=$PWD/=./${registry:+ --remap-path-prefix=$registry=crates/}"
if [ -n "$app" ]; then
  # Its own target dir: these flags differ from the tests', and switching would
  # rebuild std and every crate each time.
  export CARGO_TARGET_DIR="$PWD/target/wasm-app"
  # wasm_split_cli reads the relocations to cut the module (scripts/build-app.sh).
  # erase_components: Leptos's views become one type per output instead of one
  # per closure, far less generic code (measured in BENCHMARKS.md, "First load").
  # danvan_split: the functions src/split.rs marks become the cut points.
  flags+=" -Clink-arg=--emit-relocs --cfg erase_components --cfg danvan_split"
  if [ -n "${CARGO_UNSTABLE_BUILD_STD:-}" ]; then
    # std is built from source here (the Debian route, or rustup with rust-src and
    # RUSTC_BOOTSTRAP): panics abort without formatting a message, and neither
    # source locations nor Debug output are compiled in. A panic is a bug either
    # way; the app keeps no state that only memory holds (IndexedDB, the outbox).
    flags+=" -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
    export CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
  fi
fi
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags"
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
exec "$@"
