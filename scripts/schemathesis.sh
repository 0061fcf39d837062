#!/usr/bin/env bash
# Schemathesis against the running server, driven by the API description the
# server generates (GET /api/openapi.json, crates/server/src/routes/mod.rs): every
# operation with valid and invalid data, checking that nothing is a server error,
# that statuses, content types and bodies are the described ones, and that valid
# requests are accepted and invalid ones rejected. Bounded: a few minutes here.
#
#   scripts/schemathesis.sh            build the server, run, stop it
#   ST_EXAMPLES=25 scripts/schemathesis.sh   more examples per operation
#   ST_SEED=7 scripts/schemathesis.sh        another seed (default: fixed, reproducible)
#
# Schemathesis lives in a virtualenv under target/ (out of git), installed on
# first use with python3.11 and pip from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

venv=target/schemathesis-venv
version=4.32.5
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3.11 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

cargo build --profile server -p danvan-server
bin=target/server/danvan-server

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port on loopback, then the server on a database of its own with the demo
# accounts, plan and history (so reports, registers and reviews exist).
port=$(python3.11 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p "$work/dist"
echo '<!doctype html><title>danvan</title>' > "$work/dist/index.html"
DANVAN_DEMO=1 DANVAN_ADDR="127.0.0.1:$port" DANVAN_DATABASE_URL="sqlite://$work/danvan.db" DANVAN_DIST="$work/dist" \
  RUST_LOG="${RUST_LOG:-danvan_server=warn}" "$bin" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "$base/api/health" > /dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$base/api/health" > /dev/null

# Tokens before anything else: the run's failed sign-ins soon throttle this
# address (429), as they should.
login() {
  curl -fsS "$base/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"danvan2024\"}" | python3.11 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
admin_token=$(login admin)
spare_tokens=()
for _ in 1 2 3 4 5 6 7; do spare_tokens+=("$(login admin)"); done

# Operations that can end the session in use (the token's own device, or every
# device of its account) run last, each on a token of its own: once it is gone
# they get 401, which both data checks accept. Not run at all:
#  - POST /api/me/password: the current password cannot be described, so every
#    generated request is a 400 `wrong_password`, and each counts as a failed
#    sign-in of the account;
#  - PUT /api/attachments/{id}: the body must hash to the `X-Content-SHA256`
#    header, which no schema can say; tests/api.rs and tests/sync.rs cover it.
session_enders=(logout end_my_device sign_out_elsewhere end_device sign_out_everywhere reset disable)

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,positive_data_acceptance,negative_data_rejection
examples="${ST_EXAMPLES:-8}"
seed="${ST_SEED:-20240315}"
mkdir -p target/schemathesis
run() {
  local token=$1 report=$2
  shift 2
  (cd target/schemathesis && "../../$venv/bin/schemathesis" --config-file ../../scripts/schemathesis.toml run "$base/api/openapi.json" \
    --checks "$checks" \
    --header "Authorization: Bearer $token" \
    --max-examples "$examples" \
    --seed "$seed" \
    --generation-database none \
    --request-timeout 30 \
    --workers 1 \
    --no-color \
    --report junit --report-junit-path "$report" \
    "$@")
}
status=0
# One worker: with two, hypothesis describes its strategies from two threads at
# once and CPython 3.11 before 3.11.8 can fail that with "AST constructor
# recursion depth mismatch" (a Runtime Error in the report, not a finding). The
# run is a few seconds longer.
# The account and unit-tree imports take a file's bytes (text/csv, XLSX, any):
# schemathesis's "wrong type" bodies (`{}` for a string) are, on the wire, two
# bytes of text like any other file, which the server reads and answers with the
# file's problems (200). They run apart without negative_data_rejection; an empty
# body is still refused (400 `empty_file`, tests/contract.rs), and every other
# check runs on them.
file_imports=(import import_units)
excluded=()
for op in "${session_enders[@]}" "${file_imports[@]}" change_password upload; do excluded+=(--exclude-operation-id "$op"); done
run "$admin_token" main.xml "${excluded[@]}" || status=$?
imports=()
for op in "${file_imports[@]}"; do imports+=(--include-operation-id "$op"); done
run "$admin_token" imports.xml "${imports[@]}" --exclude-checks negative_data_rejection || status=$?
for i in "${!session_enders[@]}"; do
  op=${session_enders[$i]}
  run "${spare_tokens[$i]}" "$op.xml" --include-operation-id "$op" || status=$?
done
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (server log: last lines below)" >&2
  tail -n 40 "$work/server.log" >&2
fi
exit "$status"
