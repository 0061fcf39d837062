#!/usr/bin/env bash
# First-load transfer of the app shell, measured over real HTTP from the release
# build served by the real server: what a phone downloads on its first visit.
# Usage: make bench   (builds the release app and server, then runs this)
# Writes the "First load" section of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/server/danvan-server
[ -x "$bin" ] || cargo build --profile server -p danvan-server
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DANVAN_DEMO=accounts DANVAN_ADDR=127.0.0.1:$port DANVAN_DATABASE_URL=sqlite://$tmp/bench.db DANVAN_DIST=dist RUST_LOG=warn "$bin" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

base="http://127.0.0.1:$port"
# The first-load set is what index.html references: the page, its CSS, JS and wasm.
assets=("/" $(grep -oE '(href|from)=?"?/[^" >]+\.(css|js|wasm)' dist/index.html | grep -oE '/[^" >]+' | sort -u))
fetch() { curl -s -o /dev/null -H "Accept-Encoding: $2" -w '%{size_download}' "$base$1"; }

rows=""; t_raw=0; t_gz=0; t_br=0
for a in "${assets[@]}"; do
  raw=$(fetch "$a" identity); gz=$(fetch "$a" gzip); br=$(fetch "$a" br)
  t_raw=$((t_raw + raw)); t_gz=$((t_gz + gz)); t_br=$((t_br + br))
  name=$(echo "$a" | sed -E 's/-[0-9a-f]{16}//')
  [ "$name" = "/" ] && name="/ (index.html)"
  rows+="| \`$name\` | $raw | $gz | $br |"$'\n'
done
rows+="| **total** | **$t_raw** | **$t_gz** | **$t_br** |"
# After the first screen, the service worker fetches the modules of the role's
# screens (public/sw.js MODULES; the groups of each role as in src/screens.rs,
# Group::for_role, plus the sync module).
modules_json=$(python3 - <<'PY'
import json, re
sw = open("dist/sw.js").read()
print(json.dumps(json.loads(re.search(r"const MODULES = (\{.*?\n\});", sw, re.S).group(1))))
PY
)
declare -A role_groups=(
  ["commune official (Reporter)"]="reporting plan account sync"
  ["district reviewer / Sở Nội vụ"]="reporting plan account review overview sync"
  ["administrator"]="overview plan account admin sync"
)
module_br() { # the brotli bytes of every file of the groups named, each counted once
  local files t=0
  files=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); print("\n".join(sorted({f for g in sys.argv[2:] for f in m.get(g, [])})))' "$modules_json" "$@")
  for f in $files; do t=$((t + $(fetch "$f" br))); done
  echo "$t"
}
role_rows=""
for role in "commune official (Reporter)" "district reviewer / Sở Nội vụ" "administrator"; do
  # shellcheck disable=SC2086
  later=$(module_br ${role_groups[$role]})
  role_rows+="| $role | $t_br | $later | ${role_groups[$role]} |"$'\n'
done
group_rows=""
for g in $(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(sys.argv[1]))))' "$modules_json"); do
  group_rows+="| \`$g\` | $(module_br "$g") |"$'\n'
done

budget=$((200 * 1000))
verdict=$([ "$t_br" -le "$budget" ] && echo "within" || echo "OVER")

section=$(cat <<MD
## First load (app shell)

Bytes of response bodies over HTTP from the release build (\`make bench\`, script
\`bench/first-load.sh\`), as the server sends them for each \`Accept-Encoding\`.
Measured $(date -u +%Y-%m-%d), rustc $(. .tmp/wasm.env 2>/dev/null; rustc --version | cut -d' ' -f2), wasm-opt -Oz.

| asset | identity | gzip | brotli |
|---|---:|---:|---:|
$rows

Budget: ≤ 200 KB (200,000 B) brotli before the first screen is usable — **$verdict** ($t_br B, $((t_br * 100 / budget)) % of budget).
This is every role's first screen (sign-in, then "Nhiệm vụ của tôi"): the main
module holds sign-in, the task list, storage and the router; every other screen
and the sync rounds are split modules (\`src/screens.rs\`, \`scripts/build-app.sh\`).

Once the first screen is up, the service worker fetches the modules of the
role's screens in the background (brotli bytes, shared chunks counted once):

| role | first screen | then in the background | groups |
|---|---:|---:|---|
$role_rows
Each group with the chunks it needs (a chunk shared by several groups counts in each):

| group | brotli |
|---|---:|
$group_rows
MD
)
python3 - "$section" <<'PY'
import re, sys, pathlib
p = pathlib.Path("BENCHMARKS.md")
text = p.read_text() if p.exists() else "# Benchmarks\n\nEach section says how to reproduce it. Ratios, not absolute times, are what to compare across machines.\n"
section = sys.argv[1].strip() + "\n"
pattern = re.compile(r"## First load \(app shell\)\n.*?(?=\n## |\Z)", re.S)
text = pattern.sub(lambda m: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
p.write_text(text)
PY
echo "$section"
