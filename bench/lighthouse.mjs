// The first screen as a phone sees it: Lighthouse on the release build served by
// the release server, and a warm start offline with the service worker's caches.
//
// 1. Lighthouse 12 (Node API; bench/lighthouse, installed on first use) on "/" in
//    Debian's Chromium, categories performance, accessibility and best-practices,
//    on two pages:
//    - signed out: a fresh browser profile, so the sign-in page of a first visit;
//    - signed in as xa.dakbla: a profile that signed in once (Playwright), so
//      IndexedDB holds the session and the task list. Lighthouse's default storage
//      reset then unregisters the service worker and empties Cache Storage and the
//      HTTP cache, but keeps IndexedDB, localStorage and cookies
//      (docs/research/lighthouse-bench.md §0): the load a signed-in official gets
//      when nothing of the app is cached, ending on "Nhiệm vụ của tôi".
//    Two network profiles, both with the CPU 4× slower: Lighthouse's mobile default
//    (Slow 4G) and its `mobileRegular3G` (700 kbps, 300 ms RTT). The headline is
//    `throttlingMethod: 'devtools'` (the browser really is throttled, so the figures
//    are observed); `simulate` (an unthrottled load replayed through Lighthouse's
//    model) is the cross-check. Every configuration runs BENCH_LH_RUNS times
//    (default 3), interleaved, so a noisy neighbour hurts all alike.
// 2. Warm start offline (Playwright + CDP; Lighthouse cannot go offline, see the
//    notes §4): signed in, the service worker holding the role's modules
//    (`offlineReady`), the server stopped and the context offline, the CPU 4×
//    slower: the time from navigation start until the first task is painted.
//    BENCH_WARM_RUNS times (default 7) in a new tab and by reloading a tab.
//
// Usage: node bench/lighthouse.mjs   (part of `make bench`; needs `make app server`)
// Environment: DANVAN_DIST, DANVAN_SERVER_BIN, CHROMIUM (as the e2e harness),
// BENCH_LH_RUNS, BENCH_WARM_RUNS, BENCH_LH_SIMULATE=0 (skip the cross-check),
// BENCH_NO_WRITE=1 (print only). Prints a markdown section and replaces
// "## First load: Lighthouse and warm start" in BENCHMARKS.md (that section only).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { DIST, SERVER_BIN, startServer, launchBrowser, login } from "../tests/e2e/harness.mjs";
import { signedIn } from "../tests/e2e/reports.mjs";
import { commit, machine, percentile, ROOT, today, writeSectionBefore } from "./lib.mjs";

const HEADING = "## First load: Lighthouse and warm start";
/** The section goes after the two "First load" sections (bench/first-load.sh and the notes after it). */
const BEFORE = "## Sync: wire bytes";
const LH_DIR = join(ROOT, "bench/lighthouse");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const USER = "xa.dakbla";

const envInt = (key, fallback) => {
  const n = Number.parseInt(process.env[key] ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};
const RUNS = envInt("BENCH_LH_RUNS", 3);
const WARM_RUNS = envInt("BENCH_WARM_RUNS", 7);
const SIMULATE = process.env.BENCH_LH_SIMULATE !== "0";

// The targets this bench checks (BENCHMARKS.md, "First load").
const TTI_TARGET = { slow4g: 2500, reg3g: 5000 };
const WARM_TARGET_MS = 800;
const SCORE_TARGET = 100;

// The e2e harness's switches (tests/e2e/harness.mjs), plus: /dev/shm is not to be
// relied on in containers; Vietnamese as the phone's language (`--lang` is ignored
// on Linux, `--accept-lang` sets navigator.language: checked on this Chromium).
// chrome-launcher adds its own (no first run, no background networking, …).
const CHROME_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage", "--accept-lang=vi-VN,vi",
];

// --- Lighthouse, installed into bench/lighthouse on first use -----------------------------

function ensureLighthouse() {
  const wanted = JSON.parse(readFileSync(join(LH_DIR, "package.json"), "utf8")).dependencies.lighthouse;
  const installed = join(LH_DIR, "node_modules/lighthouse/package.json");
  if (!existsSync(installed) || JSON.parse(readFileSync(installed, "utf8")).version !== wanted) {
    console.error(`installing lighthouse ${wanted} into bench/lighthouse…`);
    // The lock file pins the whole tree; nothing in it has an install script, and
    // lighthouse's puppeteer-core downloads no browser (it drives /usr/bin/chromium).
    execFileSync("npm", ["install", "--prefix", LH_DIR, "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
  return wanted;
}

const lhVersion = ensureLighthouse();
// Imported by path: bench/lighthouse/node_modules is not on this file's resolution path.
const lhImport = (p) => import(pathToFileURL(join(LH_DIR, "node_modules", p)).href);
const { default: lighthouse } = await lhImport("lighthouse/core/index.js");
const { throttling: LH_THROTTLING } = await lhImport("lighthouse/core/config/constants.js");
const chromeLauncher = await lhImport("chrome-launcher/dist/index.js");

// Lighthouse's own presets, all six keys each (the devtools method reads
// requestLatencyMs/download/upload, simulate reads rttMs/throughputKbps; a partial
// override would deep-merge with Slow 4G's values). The 3G preset is exactly
// 700 kbps / 300 ms at the connection level, i.e. 630 kbps / 1125 ms per request
// under devtools throttling (Lighthouse's 0.9 and 3.75 adjustment factors).
const PROFILES = {
  slow4g: { label: "Slow 4G (Lighthouse mobile default)", throttling: LH_THROTTLING.mobileSlow4G },
  reg3g: { label: "700 kbps / 300 ms (`mobileRegular3G`)", throttling: LH_THROTTLING.mobileRegular3G },
};
const METHODS = SIMULATE ? ["devtools", "simulate"] : ["devtools"];
const PAGES = {
  out: "signed out (sign-in page, first visit)",
  in: "signed in, cold (task list; no SW, empty caches)",
};

function lhSettings(profile, method) {
  return {
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility", "best-practices"],
    formFactor: "mobile", // the defaults, said out loud: 412×823 @1.75, a phone's user agent
    throttlingMethod: method,
    throttling: { ...PROFILES[profile].throttling },
    // On 3G with the CPU 4× slower the defaults (30 s to FCP, 45 s to load) leave little room.
    maxWaitForFcp: 60_000,
    maxWaitForLoad: 90_000,
    disableFullPageScreenshot: true,
  };
}

/** A Lighthouse audit's failing items, as short strings (an element's selector, else a URL or text). */
function failingItems(audit) {
  const items = audit.details?.items ?? [];
  return items.map((i) => i.node?.selector ?? i.source?.url ?? i.url ?? i.description ?? JSON.stringify(i).slice(0, 120));
}

function pick(lhr, page) {
  const a = lhr.audits;
  const requests = a["network-requests"]?.details?.items ?? [];
  const path = (u) => new URL(u).pathname;
  // The page's refresh of the task list is the proof that this run was signed in.
  const signedInRun = requests.some((r) => path(r.url) === "/api/tasks" && r.statusCode === 200);
  if ((page === "in") !== signedInRun) {
    throw new Error(`Lighthouse run on the ${PAGES[page]} page ${signedInRun ? "was" : "was not"} signed in`);
  }
  const failing = [];
  for (const cat of ["accessibility", "best-practices"]) {
    for (const ref of lhr.categories[cat].auditRefs) {
      const audit = a[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        failing.push({ cat, id: audit.id, title: audit.title, items: failingItems(audit) });
      }
    }
  }
  // Answered by the service worker once it controls the page: no bytes in the
  // page's record (the worker's own fetch is a target Lighthouse does not watch).
  const bySw = requests.filter((r) => r.transferSize === 0 && r.resourceSize > 0 && r.statusCode === 200);
  return {
    tti: a.interactive.numericValue,
    lcp: a["largest-contentful-paint"].numericValue,
    fcp: a["first-contentful-paint"].numericValue,
    tbt: a["total-blocking-time"].numericValue,
    bytes: a["total-byte-weight"].numericValue,
    // When the main module had arrived: everything after it is CPU (compile, start, IndexedDB, render).
    wasmIn: requests.find((r) => /\/main_bg-[0-9a-f]+\.wasm$/.test(path(r.url)))?.networkEndTime ?? NaN,
    requests: requests.length,
    bySw: bySw.length,
    bySwBytes: bySw.reduce((n, r) => n + r.resourceSize, 0),
    perf: lhr.categories.performance.score * 100,
    a11y: lhr.categories.accessibility.score * 100,
    bp: lhr.categories["best-practices"].score * 100,
    benchmarkIndex: lhr.environment.benchmarkIndex,
    warnings: lhr.runWarnings,
    failing,
    errored: Object.values(a).filter((x) => x.scoreDisplayMode === "error").map((x) => x.id),
  };
}

/** A profile that signed in once: IndexedDB holds the session, the task list and the forms. */
async function signedInProfile(url) {
  const dir = mkdtempSync(join(tmpdir(), "danvan-lh-profile-"));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROME_FLAGS });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await login(page, url, USER);
    await page.waitForSelector("[data-testid=task]");
    // The first sync after sign-in has finished (its forms are in IndexedDB too).
    await page.waitForFunction(
      () => document.querySelector("[data-testid=refresh-status]")?.textContent.startsWith("Cập nhật lúc"),
      null,
      { timeout: 60_000 },
    );
  } finally {
    await context.close(); // flushes the profile to disk for the Chromium Lighthouse drives
  }
  return dir;
}

/** One Lighthouse run in its own Chromium (a fresh temporary profile unless `userDataDir`). */
async function lighthouseRun(url, page, profile, method, userDataDir) {
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROME_FLAGS, userDataDir, logLevel: "silent" });
  try {
    const result = await lighthouse(url + "/", { ...lhSettings(profile, method), port: chrome.port });
    const lhr = result?.lhr;
    if (!lhr) throw new Error("Lighthouse returned no result");
    if (lhr.runtimeError) throw new Error(`${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
    return { lhr, r: pick(lhr, page) };
  } finally {
    await chrome.kill();
  }
}

// --- Warm start offline --------------------------------------------------------------------

/**
 * Marks, in every page of the context, when the first task is in the DOM and when
 * it is painted: the observer runs before the frame is rendered, so it can give
 * the task's elements an `elementtiming` name, and Chromium's Element Timing then
 * reports the paint of their text (`renderTime`, since navigation start). This is
 * the bench's instrumentation, not the app's.
 */
function markFirstTask() {
  window.__benchTaskPaint = null;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.identifier === "bench-task" && window.__benchTaskPaint === null) window.__benchTaskPaint = e.renderTime || e.loadTime;
    }
  }).observe({ type: "element", buffered: true });
  new MutationObserver((_, observer) => {
    const task = document.querySelector("[data-testid=task]");
    if (!task) return;
    observer.disconnect();
    performance.mark("bench-task-in-dom");
    for (const e of [task, ...task.querySelectorAll("*")]) e.setAttribute("elementtiming", "bench-task");
  }).observe(document, { childList: true, subtree: true });
}

/** A fixed busy loop in the page (ms). */
const busyLoop = (page) =>
  page.evaluate(() => {
    const t = performance.now();
    let x = 0;
    for (let i = 0; i < 3e7; i++) x = (x + i * 7) % 1000003;
    return performance.now() - t + (x < 0 ? 1 : 0);
  });

/** The busy loop at rate 4 and at rate 1, alternated three times, the least of each:
 * their ratio shows that the throttling is on (leaves the page at rate 4). */
async function throttleCheck(page, cdp) {
  let slow = Infinity;
  let fast = Infinity;
  for (let k = 0; k < 3; k++) {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    slow = Math.min(slow, await busyLoop(page));
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    fast = Math.min(fast, await busyLoop(page));
  }
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  return { slow, fast, ratio: slow / fast };
}

async function warmStart() {
  const server = await startServer();
  const browser = await launchBrowser();
  const version = browser.version();
  try {
    const { context, page: first, errors } = await signedIn(browser, server, USER); // ends with offlineReady
    context.on("weberror", (e) => errors.push(String(e.error())));
    await context.addInitScript(markFirstTask);
    const viaNetwork = [];
    const failed = [];
    context.on("requestfinished", async (request) => {
      const response = await request.response().catch(() => null);
      if (measuring && response && !response.fromServiceWorker()) viaNetwork.push(new URL(request.url()).pathname);
    });
    let measuring = false; // only requests of the measured starts count
    context.on("requestfailed", (request) => measuring && failed.push(new URL(request.url()).pathname));
    // Truly offline: nothing can reach the server, and navigator.onLine is false
    // (Playwright's setOffline reaches the service worker too, playwright-core 1.64).
    await server.stop();
    await context.setOffline(true);
    await first.close();
    measuring = true;

    const runs = { tab: [], reload: [] };
    const measure = async (page, cdp, how) => {
      // The service worker starts cold, as when the official opens the app after a while.
      await cdp.send("ServiceWorker.stopAllWorkers");
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
      const t0 = performance.now();
      if (how === "tab") await page.goto(server.url + "/", { waitUntil: "commit" });
      else await page.reload({ waitUntil: "commit" });
      await page.waitForSelector("[data-testid=task]", { timeout: 30_000 });
      await page.waitForFunction(() => window.__benchTaskPaint !== null, null, { timeout: 30_000 });
      const wall = performance.now() - t0;
      const m = await page.evaluate(() => ({
        paint: window.__benchTaskPaint,
        dom: performance.getEntriesByName("bench-task-in-dom")[0]?.startTime,
        // Where the time goes: the page from the worker, then the main module from its cache.
        page: performance.getEntriesByType("navigation")[0]?.responseEnd,
        wasm: performance.getEntriesByType("resource").find((e) => /\/main_bg-[0-9a-f]+\.wasm$/.test(e.name))?.responseEnd,
        fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
        controlled: navigator.serviceWorker.controller !== null,
        online: navigator.onLine,
      }));
      if (!m.controlled || m.online) throw new Error(`warm start not offline from the service worker: ${JSON.stringify(m)}`);
      runs[how].push({ ...m, wall, ...(await throttleCheck(page, cdp)) });
    };
    for (let i = 0; i < WARM_RUNS; i++) {
      // A new tab: a new renderer, nothing of the app in memory (the app reopened).
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("ServiceWorker.enable");
      // Offline on this session too: Playwright's offline state (set on the context)
      // did not survive a reload of a new tab here — navigator.onLine came back true
      // after page.reload() — while an emulation set on a session of our own does.
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await measure(page, cdp, "tab");
      // The same tab reloaded: the renderer and its in-memory caches are kept.
      await measure(page, cdp, "reload");
      await cdp.detach();
      await page.close();
      const last = (k) => runs[k].at(-1);
      console.error(
        `warm ${i + 1}/${WARM_RUNS}: new tab ${last("tab").paint.toFixed(0)} ms, reload ${last("reload").paint.toFixed(0)} ms ` +
          `(busy loop 4×/1×: ${["tab", "reload"].map((k) => `${last(k).slow.toFixed(0)}/${last(k).fast.toFixed(0)} ms`).join(", ")})`,
      );
    }
    return { runs, viaNetwork, failed: [...new Set(failed)], errors, version };
  } finally {
    await browser.close();
    await server.cleanup();
  }
}

// --- Main --------------------------------------------------------------------------------

if (!existsSync(SERVER_BIN)) throw new Error(`no server binary at ${SERVER_BIN}: run make server`);
// Which build was measured: the main module's content-hashed name.
const wasmName = readdirSync(DIST).find((f) => /^main_bg-[0-9a-f]+\.wasm$/.test(f));
if (!wasmName) throw new Error(`no main module in ${DIST}: run make app`);
const wasm = { name: wasmName, size: statSync(join(DIST, wasmName)).size };
const started = Date.now();
const load0 = loadavg();

const server = await startServer();
const results = {}; // "page/profile/method" → [{r} …]; failures → errors
const runErrors = [];
let profileDir;
try {
  profileDir = await signedInProfile(server.url);
  for (let run = 0; run < RUNS; run++) {
    for (const page of Object.keys(PAGES)) {
      for (const profile of Object.keys(PROFILES)) {
        for (const method of METHODS) {
          const key = `${page}/${profile}/${method}`;
          // A run that ends in a Lighthouse error (once here: NO_NAVSTART, its trace
          // missing the navigation) is tried once more; both errors are reported.
          for (let attempt = 1; attempt <= 2; attempt++) {
            const t = Date.now();
            try {
              const { r } = await lighthouseRun(server.url, page, profile, method, page === "in" ? profileDir : undefined);
              (results[key] ??= []).push(r);
              console.error(
                `run ${run + 1}/${RUNS} ${key}: TTI ${r.tti.toFixed(0)} ms, LCP ${r.lcp.toFixed(0)} ms, FCP ${r.fcp.toFixed(0)} ms, ` +
                  `${r.bytes} B, perf ${Math.round(r.perf)} a11y ${Math.round(r.a11y)} bp ${Math.round(r.bp)} (${((Date.now() - t) / 1000).toFixed(0)} s)`,
              );
              break;
            } catch (e) {
              if (/was (not )?signed in/.test(String(e))) throw e;
              runErrors.push(`${key}, run ${run + 1}, attempt ${attempt}: ${String(e.message ?? e).slice(0, 200)}`);
              console.error(`run ${run + 1}/${RUNS} ${key}, attempt ${attempt}: FAILED ${e.message ?? e}`);
            }
          }
        }
      }
    }
  }
} finally {
  await server.cleanup();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
}
for (const page of Object.keys(PAGES)) {
  for (const profile of Object.keys(PROFILES)) {
    if (!results[`${page}/${profile}/devtools`]?.length) throw new Error(`no Lighthouse run of ${page}/${profile}/devtools succeeded: ${runErrors.join("; ")}`);
  }
}
const lhMinutes = (Date.now() - started) / 60000;

const warm = await warmStart();
const load1 = loadavg();
const minutes = ((Date.now() - started) / 60000).toFixed(1);

// --- The section ----------------------------------------------------------------------------

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => percentile(sorted(xs), 50);
const s = (ms) => (ms / 1000).toFixed(2);
const kb = (b) => (b / 1000).toFixed(1);
const range = (xs, f) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
const all = Object.values(results).flat();

let perfRows = "";
const verdicts = [];
for (const page of Object.keys(PAGES)) {
  for (const profile of Object.keys(PROFILES)) {
    for (const method of METHODS) {
      const rs = results[`${page}/${profile}/${method}`] ?? [];
      if (!rs.length) {
        perfRows += `| ${PAGES[page]} | ${PROFILES[profile].label} | ${method} | 0 of ${RUNS} | (failed) | | | | | | | |\n`;
        continue;
      }
      const col = (k) => rs.map((r) => r[k]);
      const tti = median(col("tti"));
      const target = TTI_TARGET[profile];
      const met = tti <= target;
      if (method === "devtools") verdicts.push({ page, profile, tti, target, met });
      const verdict = met ? "met" : `**MISSED** by ${s(tti - target)} s`;
      const strong = method === "devtools" ? "**" : "";
      perfRows +=
        `| ${PAGES[page]} | ${PROFILES[profile].label} | ${method === "devtools" ? "devtools (observed)" : "simulate (modelled)"} | ` +
        `${rs.length} | ${strong}${s(tti)}${strong} (${range(col("tti"), s)}) | ≤ ${s(target)}: ${verdict} | ` +
        `${s(median(col("lcp")))} (${range(col("lcp"), s)}) | ${s(median(col("fcp")))} | ${method === "devtools" ? s(median(col("wasmIn"))) : "–"} | ${median(col("tbt")).toFixed(0)} | ` +
        `${kb(median(col("bytes")))} | ${median(col("perf")).toFixed(0)} |\n`;
    }
  }
}

// Accessibility and best practices: the worst run of each page, and every audit
// that failed in any run (the scores do not depend on the throttling).
let scoreRows = "";
const failingAll = new Map();
for (const page of Object.keys(PAGES)) {
  const rs = Object.entries(results).filter(([k]) => k.startsWith(`${page}/`)).flatMap(([, v]) => v);
  const a11y = rs.map((r) => r.a11y);
  const bp = rs.map((r) => r.bp);
  const fails = new Map();
  for (const r of rs) {
    for (const f of r.failing) {
      const e = fails.get(f.id) ?? { ...f, runs: 0, items: new Set() };
      e.runs++;
      f.items.forEach((i) => e.items.add(i));
      fails.set(f.id, e);
    }
  }
  for (const [id, f] of fails) failingAll.set(`${page}/${id}`, { page, ...f });
  const list = [...fails.values()].map((f) => `\`${f.id}\` (${f.runs} of ${rs.length} runs)`).join(", ") || "none";
  scoreRows += `| ${PAGES[page]} | ${rs.length} | ${Math.min(...a11y)}${Math.min(...a11y) !== Math.max(...a11y) ? `–${Math.max(...a11y)}` : ""} | ${Math.min(...bp)}${Math.min(...bp) !== Math.max(...bp) ? `–${Math.max(...bp)}` : ""} | ${list} |\n`;
}
const scoresMet = all.every((r) => r.a11y >= SCORE_TARGET && r.bp >= SCORE_TARGET);
const failingText = [...failingAll.values()]
  .map((f) => `- ${PAGES[f.page]}, ${f.cat}: \`${f.id}\` "${f.title}" (${f.runs} runs): ${[...f.items].map((i) => `\`${i}\``).join(", ") || "(no element listed)"}`)
  .join("\n");

const errored = [...new Set(all.flatMap((r) => r.errored))].sort();
const warnings = [...new Set(all.flatMap((r) => r.warnings))];
const idbWarning = warnings.some((w) => /IndexedDB/.test(w));
const otherWarnings = warnings.filter((w) => !/IndexedDB/.test(w));
const bench = all.map((r) => r.benchmarkIndex);
const inDt = Object.entries(results).filter(([k]) => k.startsWith("in/") && k.endsWith("/devtools")).flatMap(([, v]) => v);
const swCount = median(inDt.map((r) => r.bySw));
const swBytes = median(inDt.map((r) => r.bySwBytes));

const warmRow = (how, label) => {
  const rs = warm.runs[how];
  const paint = sorted(rs.map((r) => r.paint));
  const p50 = percentile(paint, 50);
  const p90 = percentile(paint, 90);
  const v = (x) => (x <= WARM_TARGET_MS ? "met" : `**MISSED** by ${(x - WARM_TARGET_MS).toFixed(0)} ms`);
  return {
    p50,
    p90,
    row:
      `| ${label} | ${rs.length} | **${p50.toFixed(0)}** | ${p90.toFixed(0)} | ${range(paint, (x) => x.toFixed(0))} | ` +
      `${median(rs.map((r) => r.page)).toFixed(0)} | ${median(rs.map((r) => r.wasm)).toFixed(0)} | ${median(rs.map((r) => r.fcp)).toFixed(0)} | ` +
      `${median(rs.map((r) => r.dom)).toFixed(0)} | ${median(rs.map((r) => r.wall)).toFixed(0)} | ` +
      `×${median(rs.map((r) => r.ratio)).toFixed(1)} (${range(rs.map((r) => r.ratio), (x) => x.toFixed(1))}) | median ${v(p50)}, p90 ${v(p90)} |`,
  };
};
const warmAll = [...warm.runs.tab, ...warm.runs.reload];
const warmTab = warmRow("tab", "new tab (the app opened again)");
const warmReload = warmRow("reload", "reload of the open tab");

const ttiSummary = verdicts
  .map((v) => `${PAGES[v.page].split(" (")[0]}, ${v.profile === "slow4g" ? "Slow 4G" : "700 kbps"}: ${s(v.tti)} s of ≤ ${s(v.target)} s — ${v.met ? "met" : `**MISSED** by ${s(v.tti - v.target)} s`}`)
  .join("; ");

const section = `${HEADING}

What a phone sees on its first screen, measured in the browser; the bytes of that
screen and of each role's modules are in "First load (app shell)" above
(\`bench/first-load.sh\`), not repeated here. Release build served by the release server
(\`DANVAN_DEMO=accounts\`, fresh database) on 127.0.0.1, Chromium ${warm.version} headless
(\`/usr/bin/chromium\`), **Lighthouse ${lhVersion}** (Node API, \`bench/lighthouse\`); app build \`${wasm.name}\` (${wasm.size} B).

Command: \`node bench/lighthouse.mjs\` (part of \`make bench\`; installs Lighthouse into
\`bench/lighthouse\` on first use; \`BENCH_LH_RUNS\`, \`BENCH_WARM_RUNS\`, \`BENCH_LH_SIMULATE=0\`).
Measured ${today()}, commit \`${commit()}\`, ${machine()}; ${minutes} min in all (Lighthouse ${lhMinutes.toFixed(1)} min).
Load average ${load0[0].toFixed(1)} at the start and ${load1[0].toFixed(1)} at the end on ${availableParallelism()} cores${
  Math.max(load0[0], load1[0]) > availableParallelism() / 2 ? ": **the machine was busy (other builds), so these figures are provisional**" : ""
}.
Lighthouse's \`benchmarkIndex\` of this machine: median ${median(bench).toFixed(0)} (${range(bench, (x) => x.toFixed(0))}${
  Math.max(...bench) > 1.3 * Math.min(...bench) ? ": it varied with the other work on the machine" : ""
}). Lighthouse's 4× is meant to turn a high-end desktop (\`benchmarkIndex\` 1,500–2,000) into a mid-tier phone (its \`docs/throttling.md\`)${
  median(bench) > 2000 ? "; this host is faster than that, so the 4× \"phone\" here is faster than the one Lighthouse intends" : ""
}.

### Lighthouse: time to interactive (TTI), LCP, FCP, transfer

Lighthouse on \`/\` with its mobile emulation (412×823 at 1.75, a phone's user agent), categories
performance, accessibility and best-practices, each configuration ${RUNS} times, interleaved; median (min–max).
**Signed out** is a fresh browser profile: the sign-in page of the very first visit. **Signed in, cold**
is a profile in which \`${USER}\` signed in once: Lighthouse's default storage reset unregisters the
service worker and empties Cache Storage and the HTTP cache, but keeps IndexedDB (the session, the
tasks), so the page loads everything again and ends on "Nhiệm vụ của tôi" (each run is checked to
have refreshed \`/api/tasks\`). Both network profiles slow the CPU 4×. **devtools** is the headline: the
browser really is throttled (per request: Slow 4G = 562.5 ms latency, 1,475 kbps down; 3G = 1,125 ms,
630 kbps — Lighthouse's adjustments of 150 ms / 1.6 Mbps and 300 ms / 700 kbps at the connection level),
so every figure is observed. **simulate** loads unthrottled and models the throttled load (Lantern);
it is the cross-check. TTI is \`audits.interactive\` (no longer scored since Lighthouse 10, still
computed). "Main wasm in": when the main module (\`main_bg-….wasm\`) had arrived, from Lighthouse's network
record (observed, so devtools only); the rest of the way to the first screen is the 4× CPU (compile,
start, IndexedDB, render). Transfer is \`total-byte-weight\` (bytes the page's own requests received).

| page | network (CPU 4×) | method | runs | TTI s | target | LCP s | FCP s | main wasm in s | TBT ms | transfer KB | perf score |
|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|
${perfRows}
Targets (devtools medians): ${ttiSummary}.

### Lighthouse: accessibility and best practices

| page | Lighthouse runs | accessibility | best practices | failing audits |
|---|---:|---:|---:|---|
${scoreRows}
Target ${SCORE_TARGET} for both — **${scoresMet ? "met" : "MISSED"}**${scoresMet ? " in every run" : ""}.${failingText ? `\n\n${failingText}` : ""}

### Warm start offline

The phone has used the app: signed in as \`${USER}\` (the tests' phone context: 360×740 at 2, touch,
vi-VN), the service worker controls the page and holds the role's modules (\`<html
data-offline-groups>\` includes \`sync\`, \`offlineReady\` in \`tests/e2e/reports.mjs\`). Then the
server is **stopped** and the context **offline** (\`navigator.onLine\` false), the service worker is
stopped (\`ServiceWorker.stopAllWorkers\`, as after a while in the background) and the CPU slowed 4×
(\`Emulation.setCPUThrottlingRate\`); time from navigation start until the first \`[data-testid=task]\`
is painted (Element Timing \`renderTime\` of its text: the bench names the task's elements as soon as
they are in the DOM, before the frame is drawn). "new tab": a new page opens \`/\` (a fresh renderer,
nothing of the app in memory: the app opened again); "reload": that page reloaded (renderer and its
in-memory code caches kept). ${WARM_RUNS} runs of each, alternated. Lighthouse cannot measure this: it
has no offline mode and would unregister the worker (docs/research/lighthouse-bench.md §4).

| start | runs | first task painted, median ms | p90 ms | range ms | page received ms | main wasm received ms | FCP ms | task in DOM ms | wall ms | busy loop 4× / 1× | target ≤ ${WARM_TARGET_MS} ms |
|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|
${warmTab.row}
${warmReload.row}

Sanity checks: the CPU throttling was on after every navigation — a fixed busy loop in the page, run
at rates 4 and 1 alternately three times after each measurement, took ${median(warmAll.map((r) => r.slow)).toFixed(0)} ms at 4× and ${median(warmAll.map((r) => r.fast)).toFixed(0)} ms at 1×
(medians of the best of three; ratio ${range(warmAll.map((r) => r.ratio), (x) => x.toFixed(1))}${
  warmAll.some((r) => r.ratio < 3) ? `; ${warmAll.filter((r) => r.ratio < 3).length} of ${warmAll.length} checks under 3×, probably other work on the 2 cores slowing the 1× loops` : ""
}).
${
  warm.viaNetwork.length === 0 ? "No response came from the network" : `**${warm.viaNetwork.length} responses came from the network** (${[...new Set(warm.viaNetwork)].join(", ")})`
}; ${warm.failed.length ? `requests that failed offline (the app tried the network): ${warm.failed.map((p) => `\`${p}\``).join(", ")}` : "no request failed (the app did not try the network)"}${
  warm.errors.length ? `; page errors: ${warm.errors.join("; ")}` : "; no page errors"
}.
Columns after the range are medians since navigation start: the page answered by the worker
(\`responseEnd\`), the main module read from its cache, the first paint (the app's own loading screen),
the first task inserted; "wall" is from \`goto\`/\`reload\` in Node to the task seen there.

### Notes

- **The service worker is invisible to Lighthouse**: it watches page, iframe and worker targets only.
  In a signed-in cold load the worker registers at \`load\`, precaches the shell and then fetches the
  role's modules; none of those bytes are in "transfer", and devtools throttling (applied to the
  page's session) probably does not slow them. Once the worker controls the page (\`clients.claim()\`),
  the page's own requests for split modules are answered by it: in the signed-in devtools runs a median of
  ${swCount} requests (${kb(swBytes)} KB uncompressed: the sync module and its chunks) show 0 bytes in
  Lighthouse's record. The first screen itself (page, main module, JS, CSS) is fetched before the worker
  exists, so TTI/LCP of the first screen are real; the background module download competes for the
  same link on a real phone, which these figures do not show.
- TTI is the end of the last long task before 5 s quiet (at most 2 requests in flight). Right after the
  task list is on screen the signed-in page refreshes it and runs its first sync (\`/api/tasks\`,
  \`/api/plans\`, \`/api/units\`, the sync module, the forms, \`/api/sync/pull\`): in the signed-in devtools
  runs TTI − LCP is a median ${s(median(inDt.map((r) => r.tti - r.lcp)))} s (signed out: ${s(median(Object.entries(results).filter(([k]) => k.startsWith("out/") && k.endsWith("/devtools")).flatMap(([, v]) => v).map((r) => r.tti - r.lcp)))} s).
${SIMULATE ? `- Simulate and devtools disagree on transfer too: in an unthrottled load the split modules are often
  requested before the worker controls the page, so they are counted.
` : ""}- ${idbWarning ? "Lighthouse warns that IndexedDB holds data on signed-in runs (\"stored data … IndexedDB\"): intended, it is the session. " : ""}${
  otherWarnings.length ? `Other run warnings: ${otherWarnings.map((w) => `"${w}"`).join("; ")}.` : "No other run warnings."
}${runErrors.length ? `\n- Lighthouse errors (each such run was tried once more; a run that failed twice is left out): ${runErrors.join("; ")}.` : ""}
- Lighthouse ${lhVersion} is older than this Chromium: ${
  errored.length
    ? `${errored.length} diagnostic audits (weight 0, no category score depends on them) end in an error on
  its trace format (\`${errored.join("`, `")}\`; "frame_sequence" of layout shifts). Lighthouse 12.8.2,
  tried once by hand, runs them without error and names the LCP element of the signed-in page: a task's
  title (\`ul.task-list > li.card > a.task-link > p.task-title\`)`
    : "no audit ended in an error"
}. Metrics and category scores are unaffected.
- 127.0.0.1 is treated as secure by Lighthouse (no HTTPS penalty). The browser's language is vi-VN
  (\`--accept-lang\`), as on the officials' phones.
`;

console.log(section);
writeSectionBefore(HEADING, section, BEFORE);
