# The two commands: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

SERVER_BIN := target/server/danvan-server

.PHONY: run test setup app server test-native test-wasm test-e2e test-fuzz fuzz bench

## Build the app and start the server on http://127.0.0.1:8080 (SQLite at ./data/danvan.db)
run: app server
	@mkdir -p data
	DANVAN_DEMO=1 DANVAN_ADDR=127.0.0.1:8080 DANVAN_DATABASE_URL=sqlite://data/danvan.db DANVAN_DIST=dist $(SERVER_BIN)

## Every test: core and server (native; the server on SQLite and on PostgreSQL), IndexedDB (wasm in Chromium), end to end (Playwright), the fuzz targets briefly
test: test-native test-wasm test-e2e test-fuzz

## Every fuzz target of fuzz/ for FUZZ_SECONDS each (default 60; docs/fuzzing.md)
fuzz:
	scripts/fuzz.sh

setup:
	@scripts/setup.sh

# Cargo first (it may download crates and, on the Debian route, std's); then Trunk,
# offline, so it never fetches tools of its own but uses the ones setup installed.
# Trunk builds the page and CSS; its post_build hook (scripts/post-build.sh) splits
# the wasm into modules (scripts/build-app.sh) and writes the service worker.
app: setup
	scripts/wasm.sh --app cargo build --release --locked --target wasm32-unknown-unknown -p danvan-app --bin danvan-app
	scripts/wasm.sh --app trunk build --release --offline

server:
	cargo build --profile server -p danvan-server

# The server's suite on SQLite, then again on a throwaway PostgreSQL cluster of its
# own (scripts/with-postgres.sh installs PostgreSQL if missing and removes the
# cluster afterwards); the second run reuses the first one's build. The tests read
# the database only through the store or over HTTP, so they run unchanged on both
# (tests/backup.rs, about SQLite's file backups, skips itself on PostgreSQL).
test-native: setup
	cargo test -p danvan-core -p danvan-server
	scripts/with-postgres.sh cargo test -p danvan-server

test-wasm: setup
	scripts/wasm.sh cargo test --target wasm32-unknown-unknown -p danvan-app --test storage --test outbox

test-e2e: app server
	node --test tests/e2e/

# Each decoder of outside input under libFuzzer for a few seconds (scripts/fuzz.sh
# installs cargo-fuzz; the build is most of the time): a crash fails the run.
test-fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} scripts/fuzz.sh

## First-load transfer size, sync wire bytes, autosave latency, push throughput, ingest against pouchdb-server, dashboard and login-flood memory into BENCHMARKS.md
bench: app server
	bench/first-load.sh
	node bench/lighthouse.mjs
	node bench/sync-bytes.mjs
	node bench/autosave.mjs
	cargo run --profile server -p danvan-server --example push_throughput
	node bench/ingest-peer.mjs
	cargo run --profile server -p danvan-server --example dashboard_bench
	cargo run --profile server -p danvan-server --example login_flood
	cargo run --profile server -p danvan-server --example deadline_rush
