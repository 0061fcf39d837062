// danvan service worker: keeps the app shell (html, js, wasm, css, icons) so the
// app opens with no network. scripts/post-build.sh prepends VERSION and PRECACHE
// (Trunk hashes file names, so the list is only known after the build).
//
// Data never goes through this cache: the app keeps it in IndexedDB, and /api/
// requests always go to the network.

const CACHE = "danvan-shell-" + VERSION;

self.addEventListener("install", (event) => {
  // All or nothing: a half-cached shell would break offline start-up.
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))))
  );
  // No skipWaiting() here: a new version waits until the page says it is not
  // writing its outbox (index.html posts "skip-waiting" when window.danvanBusy
  // is false), so an upgrade never lands in the middle of a save.
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("danvan-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
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
  event.respondWith(
    caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request))
  );
});
