// The first visit on a weak connection, and app updates: what a phone downloads,
// and when. The app is split into a main module and one module per group of
// screens (src/screens.rs, scripts/build-app.sh); the service worker keeps a
// role's groups (public/sw.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, startServer, launchBrowser, phoneContext, login, assertNoCspViolations } from "./harness.mjs";
import {
  testPeriod, signedIn, openReport, fill, fieldValues, unsent, offlineReady, waitAllSent, apiLogin, serverReports,
} from "./reports.mjs";

/** A build's MODULES (public/sw.js): group → its wasm files. */
function modules(dist) {
  const sw = readFileSync(join(dist, "sw.js"), "utf8");
  return JSON.parse(sw.match(/const MODULES = (\{[\s\S]*?\n\});/)[1]);
}

const isModule = (path) => /^\/(split|chunk)_\w+-[0-9a-f]{16}\.wasm$/.test(path);
const REPORTER_GROUPS = ["reporting", "plan", "account", "sync"];

test("a commune official's first screen comes before any other screen's code; then every screen of the role opens offline", async (t) => {
  const server = await startServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.cleanup();
  });
  const context = await phoneContext(browser);
  // Every request of the context: the page's and the service worker's.
  const requested = [];
  context.on("request", (r) => requested.push(new URL(r.url()).pathname));
  // When the task list first appears, on the page's clock (its resource timings share it).
  await context.addInitScript(() => {
    new MutationObserver(() => {
      if (window.__firstTask === undefined && document.querySelector("[data-testid=task]")) window.__firstTask = performance.now();
    }).observe(document, { subtree: true, childList: true });
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await login(page, server.url, "xa.dakbla");
  await page.waitForSelector("[data-testid=task]");
  const beforeFirstScreen = await page.evaluate(() =>
    performance.getEntriesByType("resource")
      .filter((e) => /\/(split|chunk)_/.test(e.name) && e.startTime < window.__firstTask)
      .map((e) => new URL(e.name).pathname));
  assert.deepEqual(beforeFirstScreen, [], "the task list renders before any split module is requested");

  // Then, in the background, the modules of this role's screens — and no others.
  await offlineReady(page);
  const groups = modules(DIST);
  const mine = new Set(REPORTER_GROUPS.flatMap((g) => groups[g]));
  const fetched = new Set(requested.filter(isModule));
  for (const file of fetched) assert.ok(mine.has(file), `${file} belongs to no screen of a commune official`);
  for (const file of mine) assert.ok(fetched.has(file), `${file} was not fetched for offline use`);
  for (const g of ["review", "overview", "admin"]) {
    assert.ok(!fetched.has(groups[g][0]), `the ${g} module is not downloaded by a commune official`);
  }

  // No network at all: every screen of the role opens, each from a cold start.
  await server.stop();
  await context.setOffline(true);
  const screens = [
    ["/", "[data-testid=task]"],
    ["/bao-cao", "[data-testid=report-row]"],
    [`/bao-cao/${testPeriod()}`, "[data-testid=report-field]"],
    ["/ke-hoach", "[data-testid=plan-item]"],
    ["/ke-hoach/III.1", "[data-testid=plan-item]"],
    ["/ke-hoach-don-vi", "main.page h1"],
    ["/tai-khoan", "[data-testid=sign-out]"],
  ];
  for (const [path, selector] of screens) {
    await page.goto(`${server.url}${path}`);
    await page.waitForSelector(selector);
    assert.equal(await page.locator("[data-testid=screen-load-failed]").count(), 0, path);
  }
  // And through the app's own navigation.
  await page.goto(server.url);
  await openReport(page, testPeriod());
  assert.deepEqual(errors, []);
  assertNoCspViolations(page);
});

test("an app update while the phone holds unsent work keeps the outbox and moves the phone to the new version", async (t) => {
  // A copy of the build to update in place, the way a deployment replaces files.
  const dist = mkdtempSync(join(tmpdir(), "danvan-dist-"));
  cpSync(DIST, dist, { recursive: true });
  const server = await startServer({ dist });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.cleanup();
    rmSync(dist, { recursive: true, force: true });
  });
  const { context, page, errors } = await signedIn(browser, server);

  // Offline, an edit that exists only on this phone.
  const period = testPeriod();
  const edit = { "ii1.result": "Họp dân thôn 3 về nước sạch, trước khi có bản cập nhật." };
  await context.setOffline(true);
  await openReport(page, period);
  await fill(page, edit);
  assert.equal(await unsent(page), 1);

  // A new version is deployed: a changed page and a new service worker (the
  // same content-hashed modules). Precompressed copies of the changed files go.
  const index = readFileSync(join(dist, "index.html"), "utf8");
  writeFileSync(join(dist, "index.html"), index.replace("<title>", '<meta name="danvan-build" content="2"><title>'));
  const sw = readFileSync(join(dist, "sw.js"), "utf8");
  writeFileSync(join(dist, "sw.js"), sw.replace(/const VERSION = "([0-9a-f]+)";/, 'const VERSION = "$1-2";'));
  for (const f of ["index.html", "sw.js"]) for (const ext of [".br", ".gz"]) rmSync(join(dist, f + ext), { force: true });

  // Back in coverage, the server still refuses pushes for a while (the unsent edit
  // must survive the switch), and the official reopens the app: the browser finds
  // the new service worker, which installs beside the running version.
  const updateRequests = [];
  context.on("request", (r) => {
    if (r.serviceWorker()) updateRequests.push(new URL(r.url()).pathname);
  });
  await context.route("**/api/sync/**", (route) => route.abort("internetdisconnected"));
  await context.setOffline(false);
  await page.goto(server.url);
  await page.waitForSelector("[data-testid=task]");
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r && r.update()));
  await page.waitForFunction(() => window.danvanUpdateReady === true, null, { timeout: 60_000 });
  // The update fetched only what changed: no wasm module came over the network again.
  assert.ok(updateRequests.includes("/index.html"), JSON.stringify(updateRequests));
  assert.deepEqual(updateRequests.filter((p) => p.endsWith(".wasm")), [], "unchanged modules are reused");

  // The next in-app navigation loads the new version, with the edit still unsent.
  assert.equal(await page.locator('meta[name="danvan-build"]').count(), 0);
  await openReport(page, period);
  await page.waitForSelector('meta[name="danvan-build"]', { state: "attached" });
  await page.waitForSelector("[data-testid=report-field]");
  assert.deepEqual(await fieldValues(page, Object.keys(edit)), edit);
  assert.equal(await unsent(page), 1);

  // The server takes pushes again: the edit arrives once.
  await context.unroute("**/api/sync/**");
  await page.click(".status-refresh");
  await waitAllSent(page);
  const token = await apiLogin(server.url, "xa.dakbla");
  const reports = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].values["ii1.result"], edit["ii1.result"]);
  assert.deepEqual(errors, []);
});
