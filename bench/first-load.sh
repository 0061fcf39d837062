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

Budget for the first slice: ≤ 200 KB (200,000 B) brotli — **$verdict** ($t_br B, $((t_br * 100 / budget)) % of budget).
The service worker then precaches the same files plus icons and the manifest.
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
