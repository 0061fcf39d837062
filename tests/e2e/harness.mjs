// Shared set-up for the end-to-end tests: a real server binary on a free loopback
// port with its own SQLite file, and Debian's Chromium driven by playwright-core.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BIN = process.env.DANVAN_SERVER_BIN ?? join(root, "target/server/danvan-server");
export const DIST = process.env.DANVAN_DIST ?? join(root, "dist");
export const PASSWORD = "danvan2024";

/** A port free on loopback now (the benchmarks start servers on it too). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts the server on a fresh database; `stop()` kills it, `dir` holds the db.
 * `dist` serves another copy of the built app (an update, in tests/e2e/first-load.test.mjs). */
export async function startServer({ dir, port, dist = DIST } = {}) {
  if (!existsSync(SERVER_BIN)) throw new Error(`no server binary at ${SERVER_BIN}: run make test`);
  if (!existsSync(join(dist, "index.html"))) throw new Error(`no built app in ${dist}: run make test`);
  dir ??= mkdtempSync(join(tmpdir(), "danvan-e2e-"));
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(SERVER_BIN, [], {
    env: {
      ...process.env,
      DANVAN_ADDR: `127.0.0.1:${port}`,
      DANVAN_DATABASE_URL: `sqlite://${join(dir, "danvan.db")}`,
      DANVAN_DIST: dist,
      DANVAN_DEMO: "accounts",
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((ok) => child.once("exit", ok));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("server did not start within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
    async cleanup() {
      await this.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CHROMIUM = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
};

/** A phone: 360 px wide, touch, Vietnamese; the device clock's zone deliberately is not Vietnam's. */
const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: "vi-VN",
  timezoneId: "America/Los_Angeles",
};

export async function launchBrowser() {
  return chromium.launch(CHROMIUM);
}

/** A fresh server and browser for one test, both torn down when it ends. */
export async function serverAndBrowser(t) {
  const server = await startServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.cleanup();
  });
  return { server, browser };
}

/** A phone-sized context (see PHONE), recording CSP violations. */
export async function phoneContext(browser, options = {}) {
  return recordCspViolations(await browser.newContext({ ...PHONE, ...options }));
}

/** Content-Security-Policy violations seen in each context (`recordCspViolations`). */
const cspViolations = new WeakMap();

/**
 * Records every Content-Security-Policy violation in any page of `context`, from
 * the `securitypolicyviolation` event (installed before the page's own scripts)
 * and from Chromium's console messages ("Refused to ... Content Security Policy"),
 * which also cover the service worker. The server's policy is in
 * crates/server/src/security_headers.rs.
 */
export async function recordCspViolations(context) {
  if (cspViolations.has(context)) return context;
  const seen = [];
  cspViolations.set(context, seen);
  await context.exposeBinding("__danvanCspViolation", ({ page }, text) => {
    seen.push(`${page?.url() ?? "?"}: ${text}`);
  });
  await context.addInitScript(() => {
    addEventListener("securitypolicyviolation", (e) => {
      const where = e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : "";
      window.__danvanCspViolation?.(`${e.effectiveDirective} blocked ${e.blockedURI || "inline code"}${where}`);
    });
  });
  context.on("console", (message) => {
    if (/content security policy/i.test(message.text())) seen.push(`console: ${message.text()}`);
  });
  return context;
}

/** Fails if any page of the context of `pageOrContext` violated the CSP. */
export function assertNoCspViolations(pageOrContext) {
  const context = typeof pageOrContext.context === "function" ? pageOrContext.context() : pageOrContext;
  assert.ok(cspViolations.has(context), "CSP violations are not recorded for this context (use phoneContext)");
  assert.deepEqual(cspViolations.get(context), [], "Content-Security-Policy violations");
}

/** Fills and submits the login form already on screen. */
export async function signIn(page, username, password = PASSWORD) {
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
}

export async function login(page, url, username) {
  await page.goto(url);
  await signIn(page, username);
}

/** Today's date in Vietnam, whatever this machine's zone. */
export function vnToday() {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date());
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return { y: get("year"), m: get("month"), d: get("day") };
}

export const ddmmyyyy = ({ y, m, d }) => `${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}/${y}`;

/**
 * A phone-sized browser with an on-disk profile, closed when the test ends. Only a
 * profile on disk honours DevTools storage-quota overrides (Playwright's
 * `newContext` is off the record).
 */
export async function persistentPhone(t, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "danvan-profile-"));
  const context = await recordCspViolations(
    await chromium.launchPersistentContext(dir, { ...CHROMIUM, ...PHONE, ...options }),
  );
  t.after(async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return context;
}
