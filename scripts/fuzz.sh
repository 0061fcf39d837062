#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (docs/fuzzing.md), each for a bounded time.
#   scripts/fuzz.sh [TARGET…]     every target when none is named
#   FUZZ_SECONDS=60               seconds per target (`make fuzz`; `make test` uses 10)
#   FUZZ_SANITIZER=address|none   default: address when the toolchain ships ASan
#   FUZZ_PROFILE=release|dev      default: release (optimised, many more runs per
#                                 second); `make test` uses dev without ASan: the
#                                 build from nothing takes a fraction of the time
#
# A crash (panic, failed assertion, ASan report, timeout, out of memory) fails
# the run and prints the command that reproduces it. New inputs libFuzzer finds
# go to target/fuzz-corpus/<target>/ (not committed); the seeds in
# fuzz/corpus/<target>/ are read only.
#
# Toolchain: only stable is installed (scripts/setup.sh); cargo-fuzz needs
# nightly flags (-Zsanitizer, -Cpasses=sancov-module), which stable accepts with
# RUSTC_BOOTSTRAP=1. The fuzz build is native, so it uses the same toolchain on
# both of setup.sh's wasm routes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_FUZZ_VERSION=0.13.2
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGET_DIR="$PWD/target/fuzz"
say() { printf '\033[1m[fuzz]\033[0m %s\n' "$*"; }

# Debian's rustc-web as the native compiler (a "debian" toolchain active here,
# not just for wasm) is the one route where the fuzz build may not work.
debian_rustc=""
case "$(rustup show active-toolchain 2>/dev/null || true)" in debian*) debian_rustc=1 ;; esac
skip_on_debian() {
  if [ -n "$debian_rustc" ]; then
    say "SKIPPED: $* — the active toolchain is Debian's rustc-web (scripts/setup.sh); fuzzing needs rustup's stable"
    exit 0
  fi
  say "$*"
  exit 1
}

if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
  say "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (a minute, once)"
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --quiet
fi
# libfuzzer-sys compiles libFuzzer (C++).
if ! command -v c++ >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  say "apt-get install g++ (libFuzzer is C++)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq g++ >/dev/null
fi

export RUSTC_BOOTSTRAP=1
sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
if [ -z "${FUZZ_SANITIZER:-}" ]; then
  if ls "$sysroot/lib/rustlib/$host/lib/"librustc-*_rt.asan.a >/dev/null 2>&1; then
    FUZZ_SANITIZER=address
  else
    FUZZ_SANITIZER=none
    say "this toolchain has no AddressSanitizer runtime: fuzzing without ASan (panics and assertions still count)"
  fi
fi

all_targets=$(cargo fuzz list --fuzz-dir fuzz)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <<<"$all_targets"

# -a: debug assertions and overflow checks, so arithmetic on outside numbers
# (mutation ids, versions, dates) that overflows is a crash, not a wrap.
profile=${FUZZ_PROFILE:-release}
case "$profile" in
  release) profile_flag=() ;;
  dev) profile_flag=(--dev) ;;
  *) say "FUZZ_PROFILE must be release or dev, not $profile"; exit 2 ;;
esac
build=(cargo fuzz build --fuzz-dir fuzz --target-dir "$TARGET_DIR" -s "$FUZZ_SANITIZER" -a "${profile_flag[@]}")
say "building ${#targets[@]} targets (sanitizer: $FUZZ_SANITIZER, profile: $profile)"
start=$(date +%s)
"${build[@]}" || skip_on_debian "the fuzz targets did not build"
say "built in $(($(date +%s) - start)) s"

bin_dir="$TARGET_DIR/$host/$([ "$profile" = dev ] && echo debug || echo release)"
failed=()
for t in "${targets[@]}"; do
  work="target/fuzz-corpus/$t"
  artifacts="target/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  say "$t: ${SECONDS_EACH} s"
  # The growing corpus first (libFuzzer writes new inputs to the first
  # directory), the committed seeds second. One process: the machine has two
  # cores and other builds.
  if ! "$bin_dir/$t" "$work" "fuzz/corpus/$t" \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$artifacts/log" 2>&1; then
    tail -60 "$artifacts/log" >&2
    crash=$(ls -t "$artifacts"/crash-* "$artifacts"/timeout-* "$artifacts"/oom-* "$artifacts"/leak-* 2>/dev/null | head -1 || true)
    say "$t FAILED (full log: $artifacts/log)"
    if [ -n "$crash" ]; then
      say "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --target-dir target/fuzz -s $FUZZ_SANITIZER -a ${profile_flag[*]} $t $crash"
      say "minimise:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin --fuzz-dir fuzz --target-dir target/fuzz -s $FUZZ_SANITIZER -a ${profile_flag[*]} $t $crash"
    fi
    failed+=("$t")
    continue
  fi
  say "$t: $(grep -E '^Done [0-9]+ runs' "$artifacts/log" || echo "ran") ($(grep -cv '^$' <(ls "$work")) inputs in target/fuzz-corpus/$t)"
done

if [ ${#failed[@]} -gt 0 ]; then
  say "crashes in: ${failed[*]}"
  exit 1
fi
say "every target ran ${SECONDS_EACH} s without a crash"
