#!/usr/bin/env bash
# Installs everything `make run` and `make test` need on a Debian machine (or a
# developer laptop with rustup). Idempotent: quick when everything is present.
#
# The wasm toolchain: a rustup wasm32 target where one is installed; otherwise
# Debian's rustc-web with std built from source (rust-web-src, as a rustup toolchain "debian"),
# recorded in .tmp/wasm.env for scripts/wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp

TRUNK_VERSION=0.22.1
WASM_SPLIT_VERSION=0.2.3
# wasm-bindgen-cli must equal the wasm-bindgen library in Cargo.lock.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

# Trunk.toml names the wasm-bindgen Trunk must find; a mismatch would only show
# up as an opaque Trunk error later.
trunk_wbg=$(sed -n 's/^wasm_bindgen = "\(.*\)"/\1/p' Trunk.toml)
if [ "$trunk_wbg" != "$WBG_VERSION" ]; then
  echo "Trunk.toml wants wasm-bindgen $trunk_wbg but Cargo.lock has $WBG_VERSION: make them equal" >&2
  exit 1
fi

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

if ! have rustup; then
  say "rustup is required (https://rustup.rs or your distribution's rustup package)"; exit 1
fi

# --- Which wasm route? -------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  wasm_route=rustup
else
  wasm_route=debian
fi

# --- Debian packages -----------------------------------------------------------
pkgs=()
have chromium || pkgs+=(chromium)
have chromedriver || pkgs+=(chromium-driver)
have brotli || pkgs+=(brotli)
have node || pkgs+=(nodejs)
have npm || pkgs+=(npm)
# The export test renders the Word report to PDF and reads it back.
have soffice || pkgs+=(libreoffice-writer-nogui)
have pdftotext || pkgs+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "Liberation Serif" || pkgs+=(fonts-liberation2)
if [ "$wasm_route" = debian ]; then
  # Debian's plain rustc is too old; rustc-web is the current one, built for wasm too.
  dpkg -s rustc-web >/dev/null 2>&1 || pkgs+=(rustc-web cargo-web)
  [ -d /usr/lib/rustlib/src/rust/library ] || pkgs+=(rust-web-src)
  have wasm-ld-22 || pkgs+=(lld-22)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  if ! have apt-get; then
    say "missing: ${pkgs[*]} — install them with your package manager"; exit 1
  fi
  say "apt-get install ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

if [ "$wasm_route" = debian ]; then
  rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
  cat > .tmp/wasm.env <<ENV
# Written by scripts/setup.sh: Debian rustc-web with std built from source.
export RUSTUP_TOOLCHAIN=debian
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22
ENV
else
  echo "# Written by scripts/setup.sh: rustup's wasm32 target." > .tmp/wasm.env
fi

# --- Cargo tools -----------------------------------------------------------------
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
  say "cargo install trunk $TRUNK_VERSION (several minutes, once)"
  # Trunk's own release profile is fat LTO with one codegen unit: 10+ minutes on two
  # cores for a developer tool that is never shipped.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked trunk --version "$TRUNK_VERSION" --ignore-rust-version --quiet
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WBG_VERSION"; then
  say "cargo install wasm-bindgen-cli $WBG_VERSION (a few minutes, once)"
  if ! cargo install --locked wasm-bindgen-cli --version "$WBG_VERSION" --quiet; then
    # Its lockfile pins a webpki-roots release some registry mirrors lack; move that
    # one pin back and install from the unpacked crate.
    say "retrying wasm-bindgen-cli with webpki-roots 1.0.10 (the error above is expected here)"
    # Outside this repository, or cargo would take it for a stray workspace member.
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wasm-bindgen-cli-"$WBG_VERSION" | head -1)
    work=$(mktemp -d)
    cp -r "$src" "$work/wasm-bindgen-cli"
    (cd "$work/wasm-bindgen-cli" && cargo update -p webpki-roots --precise 1.0.10 --quiet \
      && cargo install --locked --path . --quiet)
    rm -rf "$work"
  fi
fi

# The splitter that cuts the app's wasm into modules (scripts/build-app.sh). 0.2.3
# is the first release that works with wasm-bindgen 0.2.128 and later.
if ! have wasm-split-cli || ! cargo install --list | grep -q "^wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  say "cargo install wasm_split_cli_support $WASM_SPLIT_VERSION (a minute, once)"
  cargo install --locked wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --quiet
fi

# playwright-core and the tests need Node 20 or later (Debian 12's own is 18).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or later is required for the browser tests (found ${node_major})"; exit 1
fi

# --- Node tools (Playwright driver without browser download, wasm-opt, terser) ---
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/terser ] || [ ! -d node_modules/playwright-core ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "ready (wasm route: $wasm_route; trunk $(trunk --version | cut -d' ' -f2); wasm-bindgen $WBG_VERSION)"
