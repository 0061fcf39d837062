#!/usr/bin/env bash
# The app's wasm, cut into modules, into a Trunk staging dir (scripts/post-build.sh
# runs this; it needs the environment of `scripts/wasm.sh --app`).
#
#   cargo build           the app, linked with relocations (--emit-relocs)
#   wasm-split-cli        main.wasm (sign-in, task list, sync, storage), one
#                         split_<group>.wasm per group of screens (src/screens.rs)
#                         and chunk_<n>.wasm for code several groups share
#   wasm-bindgen          the JS glue for main, keeping the exports the splits import
#   wasm-opt -Oz          each module
#   terser                the JS glue
#
# Every file is then named after a hash of its content, so an update downloads
# only what changed, and index.html gets the tags that fetch and start main (and
# keeps only the stylesheet of the first screen).
# modules.json (for scripts/post-build.sh) lists the files of each group.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${1:?usage: build-app.sh STAGING_DIR}"
if [ "${CARGO_TARGET_DIR:-}" != "$root/target/wasm-app" ]; then
  echo "build-app.sh: run through scripts/wasm.sh --app (make app)" >&2
  exit 1
fi
cd "$root"

# A no-op after `make app`'s own cargo step; builds if this runs alone.
cargo build --release --locked --target wasm32-unknown-unknown -p danvan-app --bin danvan-app
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/danvan-app.wasm"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-split-cli --target web "$wasm" "$tmp/split" >/dev/null
wasm-bindgen "$tmp/split/main.wasm" --target web --keep-lld-exports --no-demangle --no-typescript \
  --out-dir "$tmp/pkg" --out-name main
find "$tmp/split" -maxdepth 1 \( -name '*.wasm' ! -name 'main.wasm' -o -name '*.js' \) -exec cp {} "$tmp/pkg/" \;
# One wasm-opt per core. Its warnings about the name section's newer
# subsections are noise.
printf '%s\0' "$tmp"/pkg/*.wasm | xargs -0 -P "$(nproc)" -I{} wasm-opt -Oz {} -o {} \
  2> >(grep -v 'unknown name subsection' >&2)

python3 - "$tmp/pkg" "$out" <<'PY'
import hashlib, json, pathlib, re, shutil, subprocess, sys

pkg, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
digest = lambda data: hashlib.sha256(data).hexdigest()[:16]

if (pkg / "snippets").exists():
    sys.exit("build-app.sh: wasm-bindgen wrote snippets/, which this script does not place yet")

def minify(js, module=True):
    # Trunk minified the JS glue it wrote; this is ours (terser, npm).
    args = ["terser", "--compress", "passes=2", "--mangle"] + (["--module"] if module else [])
    return subprocess.run(args, input=js, capture_output=True, text=True, check=True).stdout

# Wasm modules: named after their own content.
names = {}
for f in sorted(pkg.glob("*.wasm")):
    names[f.name] = f"{f.stem}-{digest(f.read_bytes())}.wasm"

link = (pkg / "__wasm_split.js").read_text()
main_js = (pkg / "main.js").read_text()

# Which files each group needs: its split module and the chunks it waits for.
chunks = dict(re.findall(r'const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\./([^"]+)"', link))
modules = {}
for group, file, deps in re.findall(
    r'__wasm_split_load_(\w+) = [^;]*?fetch\(new URL\("\./([^"]+)", import\.meta\.url\)\);.*?\[([^\]]*)\]', link, re.S
):
    files = [file] + [chunks[d.strip()] for d in deps.split(",") if d.strip() in chunks]
    modules[group] = ["/" + names[f] for f in files]
if {f"/{names[f]}" for f in names if f.startswith("split_")} != {fs[0] for fs in modules.values()}:
    sys.exit(f"build-app.sh: could not read the groups from __wasm_split.js (found {sorted(modules)})")

def module_url(m):
    return f'new URL("./{names[m.group(1)]}", import.meta.url)'
link = re.sub(r'new URL\("\./([^"]+\.wasm)", import\.meta\.url\)', module_url, link)

# main.js and the link module import each other, so they share one name hash
# (of both texts) and change together. The wasm import key './__wasm_split.js'
# stays as it is: only the URL in `from '…'` is a file name.
js_hash = digest((main_js + "\0" + link).encode())
main_name, link_name = f"main-{js_hash}.js", f"__wasm_split-{js_hash}.js"
link = link.replace('from "./main.js"', f'from "./{main_name}"')
if f'from "./{main_name}"' not in link:
    sys.exit("build-app.sh: __wasm_split.js no longer imports ./main.js as expected")
main_js, n = re.subn(r"""(import \* as \w+ from )["']\./__wasm_split\.js["']""", rf'\1"./{link_name}"', main_js)
if n == 0:
    sys.exit("build-app.sh: main.js does not import ./__wasm_split.js as expected")

for old, new in names.items():
    shutil.copyfile(pkg / old, out / new)
(out / main_name).write_text(minify(main_js))
(out / link_name).write_text(minify(link))
(out / "modules.json").write_text(json.dumps(modules))

# Start the app the way Trunk would have: preload main's JS and wasm, then one
# module script. The server allows this inline script by its hash
# (crates/server/src/security_headers.rs).
wasm_name = names["main_bg.wasm"]
tags = (
    f'<link rel="modulepreload" href="/{main_name}">'
    f'<link rel="modulepreload" href="/{link_name}">'
    f'<link rel="preload" href="/{wasm_name}" as="fetch" type="application/wasm" crossorigin>'
    f'<script type="module">import init from "/{main_name}";'
    f'init({{ module_or_path: "/{wasm_name}" }});</script>'
)
index = out / "index.html"
html = index.read_text()
html, n = re.subn(r'<link\b[^>]*\brel="?rust"?[^>]*>', tags, html)
if n != 1:
    sys.exit("build-app.sh: index.html has no rust link (data-trunk-skip) to replace")

# Only main.css styles the first screen. The other stylesheets leave the page's
# head for a list the app reads when it first opens a screen of a split module
# (web::load_deferred_styles); the service worker still keeps them.
deferred = []
def defer(m):
    href = re.search(r'href="?(/[^" >]+\.css)', m.group(0)).group(1)
    if re.match(r"/main-[0-9a-f]{16}\.css$", href):
        return m.group(0)
    deferred.append(href)
    return ""
html = re.sub(r'<link\b[^>]*\brel="?stylesheet"?[^>]*>', defer, html)
if not deferred:
    sys.exit("build-app.sh: found no stylesheet to defer in index.html")
html = html.replace(tags, f'<meta name="danvan-styles" content="{" ".join(deferred)}">' + tags)
# The page's own inline script (the service worker's registration), without its
# comments; the server allows it by the hash of what it serves.
def minify_inline(m):
    return m.group(1) + minify(m.group(2), module=False).strip() + m.group(3)
html = re.sub(r"(<script>)(.*?)(</script>)", minify_inline, html, flags=re.S)
index.write_text(html)
PY
