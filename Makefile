# The two commands: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

SERVER_BIN := target/server/danvan-server

.PHONY: run test setup app server test-native test-api test-wasm test-e2e test-fuzz fuzz bench chaos

## Build the app and start the server on http://127.0.0.1:8080 (SQLite at ./data/danvan.db)
run: app server
	@mkdir -p data
	DANVAN_DEMO=1 DANVAN_ADDR=127.0.0.1:8080 DANVAN_DATABASE_URL=sqlite://data/danvan.db DANVAN_DIST=dist $(SERVER_BIN)

## Every test: core and server (native; the server on SQLite and on PostgreSQL, with the fault harness's short budget), the API against its description (schemathesis), IndexedDB (wasm in Chromium), end to end (Playwright), every fuzz target for a few seconds
test: test-native test-api test-wasm test-e2e test-fuzz

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

# Schemathesis against a live server (SQLite, demo data) and the OpenAPI document
# it generates: server errors, statuses, bodies, and valid requests accepted /
# invalid ones refused. Bounded to a few minutes (scripts/schemathesis.sh).
test-api: server
	scripts/schemathesis.sh

test-wasm: setup
	scripts/wasm.sh cargo test --target wasm32-unknown-unknown -p danvan-app --test storage --test outbox

test-e2e: app server
	node --test tests/e2e/

# Each decoder of outside input under libFuzzer for a few seconds, its seeds and
# regression inputs first (scripts/fuzz.sh installs cargo-fuzz): a crash fails
# the run. Unoptimised and without AddressSanitizer, so the build from nothing
# stays a few minutes (`make fuzz` is the optimised ASan build).
test-fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-10} FUZZ_PROFILE=$${FUZZ_PROFILE:-dev} FUZZ_SANITIZER=$${FUZZ_SANITIZER:-none} scripts/fuzz.sh

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

## The sync fault harness's long budget (RELIABILITY.md): CHAOS_RUNS runs on SQLite, then as many on PostgreSQL; per-run lines in target/chaos/runs.tsv, the table in target/chaos/summary.md
# `make test` runs the same test with a short budget (a few runs per engine). Only
# cargo is needed (scripts/with-postgres.sh installs PostgreSQL if missing). Both
# engines run even when the first finds something; the target fails at the end.
CHAOS_RUNS ?= 500
chaos:
	@mkdir -p target/chaos
	rm -f target/chaos/runs.tsv
	-set -o pipefail; CHAOS_RUNS=$(CHAOS_RUNS) CHAOS_SEED_BASE=100000 CHAOS_SUMMARY=$(CURDIR)/target/chaos/runs.tsv \
		nice cargo test -p danvan-server --test chaos -- --nocapture 2>&1 | tee target/chaos/sqlite.log
	-set -o pipefail; CHAOS_RUNS=$(CHAOS_RUNS) CHAOS_SEED_BASE=200000 CHAOS_SUMMARY=$(CURDIR)/target/chaos/runs.tsv \
		scripts/with-postgres.sh nice cargo test -p danvan-server --test chaos -- --nocapture 2>&1 | tee target/chaos/postgres.log
	@grep -h '^chaos total' target/chaos/sqlite.log target/chaos/postgres.log
	@scripts/chaos-summary.py target/chaos/runs.tsv | tee target/chaos/summary.md
	@! grep -h 'VIOLATION\|panicked' target/chaos/sqlite.log target/chaos/postgres.log
