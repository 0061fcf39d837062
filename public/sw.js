// danvan service worker: keeps the app so it opens, and every screen the phone
// uses works, with no network. scripts/post-build.sh prepends what only the
// build knows:
//   VERSION   a hash of every file of the build
//   PRECACHE  the shell: index.html, CSS, the main module and its JS, icons
//   MODULES   for each group of screens (src/screens.rs), the wasm files it needs
//
// The shell is cached at install, all or nothing. The groups are not: the page
// asks for its role's groups once its first screen is up ("precache-modules"),
// so a commune official's first visit on 2G downloads only the shell first and
// never downloads the administration screens at all. An update fetches only
// files whose name is new: every file but index.html, sw.js, the manifest and
// the icons is named after a hash of its content, so a name the previous
// version cached is the same bytes.
//
// Data never goes through this cache: the app keeps it in IndexedDB, and /api/
// requests always go to the network.

const CACHE = "danvan-shell-" + VERSION;
const PREFIX = "danvan-shell-";
// The groups this phone asked for, kept as an entry of the cache itself so that
// the next version's install caches them too.
const GROUPS_URL = "/__danvan/groups";
const HASHED = /-[0-9a-f]{16}[._]/;
const RETRIES = 3;

function isHashed(url) {
  return HASHED.test(new URL(url, self.location.origin).pathname);
}

async function fetchWithRetry(url, init) {
  let lastError;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt > 0) await new Promise((done) => setTimeout(done, 500 * 2 ** attempt));
    try {
      const response = await fetch(url, init);
      if (response.ok) return response;
      // A file of another build is gone for good; retrying cannot help.
      if (response.status === 404) throw new Error(url + ": 404");
      lastError = new Error(url + ": " + response.status);
    } catch (e) {
      lastError = e;
      if (String(e.message).endsWith(": 404")) break;
    }
  }
  throw lastError;
}

// Puts every url into `cache`: from any earlier version's cache when the name is
// a content hash, from the network otherwise. Throws if one cannot be had.
async function fill(cache, urls) {
  for (const url of urls) {
    if (await cache.match(url)) continue;
    const earlier = isHashed(url) ? await caches.match(url) : undefined;
    if (earlier) {
      await cache.put(url, earlier);
      continue;
    }
    // "reload": the shell's unhashed files must not come from the HTTP cache.
    await cache.put(url, await fetchWithRetry(url, { cache: isHashed(url) ? "default" : "reload" }));
  }
}

async function rememberedGroups() {
  const names = (await caches.keys()).filter((k) => k.startsWith(PREFIX)).reverse();
  for (const name of [CACHE, ...names]) {
    const hit = await (await caches.open(name)).match(GROUPS_URL);
    if (hit) {
      try {
        return (await hit.json()).filter((g) => g in MODULES);
      } catch (_) {
        return [];
      }
    }
  }
  return [];
}

async function rememberGroups(cache, groups) {
  await cache.put(GROUPS_URL, new Response(JSON.stringify(groups), { headers: { "Content-Type": "application/json" } }));
}

async function cacheGroups(groups) {
  const cache = await caches.open(CACHE);
  const known = await rememberedGroups();
  const all = [...new Set([...known, ...groups.filter((g) => g in MODULES)])];
  await rememberGroups(cache, all);
  const failed = [];
  for (const group of groups) {
    try {
      await fill(cache, MODULES[group] || []);
    } catch (e) {
      failed.push(group);
    }
  }
  return failed;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // All or nothing: a half-cached shell would break offline start-up.
    await fill(cache, PRECACHE);
    // An update keeps every screen this phone had offline before it.
    const groups = await rememberedGroups();
    await rememberGroups(cache, groups);
    await fill(cache, groups.flatMap((g) => MODULES[g] || []));
  })());
  // No skipWaiting() here: a new version waits until the page says it is not
  // writing its outbox (index.html posts "skip-waiting" when window.danvanBusy
  // is false), so an upgrade never lands in the middle of a save.
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "skip-waiting") self.skipWaiting();
  if (data.type === "precache-modules" && Array.isArray(data.groups)) {
    event.waitUntil(cacheGroups(data.groups).then((failed) => {
      if (event.source) event.source.postMessage({ type: "modules-cached", groups: data.groups, failed });
    }));
  }
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Keep the version just replaced: a page still running it loads its screens'
    // modules from there until it moves to this version (index.html). Older ones go.
    const old = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
    await Promise.all(old.slice(0, -1).map((k) => caches.delete(k)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    // Every in-app address is the same single-page shell: answer from the cache
    // first (instant on 2G, works offline), the network only if it is missing.
    event.respondWith(
      caches.match("/index.html", { cacheName: CACHE }).then((hit) => hit || fetch(request))
    );
    return;
  }
  if (isHashed(url.pathname)) {
    // Same name, same bytes, whichever version cached it. A module fetched on
    // demand (a screen opened before the background caching reached it) is
    // kept, and a weak connection gets a few more tries before the screen
    // shows "Thử lại".
    event.respondWith((async () => {
      const hit = await caches.match(request);
      if (hit) return hit;
      const response = await fetchWithRetry(request);
      if (url.pathname.endsWith(".wasm")) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    })());
    return;
  }
  event.respondWith(
    caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request))
  );
});
