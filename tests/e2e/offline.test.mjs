// The first offline slice: sign in once while online, then the plan and my tasks,
// with their deadlines, still open after a reload with no network at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serverAndBrowser, phoneContext, login, signIn, assertNoCspViolations } from "./harness.mjs";
import { offlineReady, openReport, fill, testPeriod, waitAllSent } from "./reports.mjs";

/** What the app keeps in IndexedDB for an official: reports, unsent entries,
 * photos, and kept server answers (dashboards, histories). */
async function localCounts(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("danvan");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(["reports", "outbox", "blobs", "uploads", "meta"]);
          const out = {};
          const count = (name) =>
            new Promise((done) => {
              const r = tx.objectStore(name).count();
              r.onsuccess = () => done((out[name] = r.result));
            });
          const cached = new Promise((done) => {
            const r = tx.objectStore("meta").getAllKeys();
            r.onsuccess = () => done((out.cached = r.result.filter((k) => String(k).startsWith("cache:")).length));
          });
          Promise.all([count("reports"), count("outbox"), count("blobs"), count("uploads"), cached]).then(() => {
            db.close();
            resolve(out);
          });
        };
      }),
  );
}

const shots = fileURLToPath(new URL("../../.tmp/screenshots", import.meta.url));
mkdirSync(shots, { recursive: true });

async function taskRows(page) {
  return page.$$eval("[data-testid=task]", (rows) =>
    rows.map((r) => ({
      id: r.dataset.obligation,
      due: r.querySelector("[data-testid=task-due]")?.textContent ?? null,
      status: r.querySelector("[data-testid=task-status]")?.textContent ?? null,
    })),
  );
}

test("plan and my tasks render offline after a reload, an ended plan's tasks with their record", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await login(page, server.url, "xa.dakbla");
  await page.waitForSelector("[data-testid=task]");
  await page.waitForFunction(() => document.querySelector("[data-testid=refresh-status]")?.textContent.startsWith("Cập nhật lúc"));
  assert.equal(await page.textContent("[data-testid=unit-name]"), "Xã Đăk Blà");
  assert.equal(await page.textContent("[data-testid=online-status]"), "Trực tuyến");

  // Plan 413 applied to 2024: in a later year its tasks are ended, each periodic
  // one with its record, never "overdue by a thousand days" (deadlines in Vietnam
  // time are checked in tests/e2e/catalog.test.mjs under this year's plan).
  const online = await taskRows(page);
  const monthly = online.find((r) => r.id === "III.1.monthly-report");
  assert.ok(monthly, `monthly report task missing: ${JSON.stringify(online)}`);
  assert.equal(monthly.due, null, "nothing is due under an ended plan");
  assert.ok(online.every((r) => r.status === "Đã kết thúc (31/12/2024)"), JSON.stringify(online));
  assert.match(await page.textContent("[data-testid=ended-task-list]"), /Không nộp 11/);
  assert.ok(online.some((r) => r.id === "II.2"));
  assert.ok(!online.some((r) => r.id === "III.1.implementation-plan"), "communes have no implementation-plan duty");
  await page.screenshot({ path: join(shots, "tasks-online.png"), fullPage: true });

  // The service worker must hold the shell before the network goes.
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  // ...and the modules of this role's other screens, fetched after the first one.
  await offlineReady(page);

  // No network at all: the server is gone and the browser is offline.
  await server.stop();
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector("[data-testid=task]");
  assert.deepEqual(await taskRows(page), online);
  assert.equal(await page.textContent("[data-testid=online-status]"), "Ngoại tuyến");
  assert.equal(await page.textContent("[data-testid=unit-name]"), "Xã Đăk Blà");
  await page.screenshot({ path: join(shots, "tasks-offline.png"), fullPage: true });

  // The plan, with the full text of each item.
  await page.click("nav >> text=Kế hoạch");
  await page.waitForSelector("[data-testid=plan-item]");
  assert.equal(await page.locator("[data-testid=plan-item]").count(), 12);
  const planText = await page.textContent("[data-testid=plan]");
  assert.ok(planText.includes("413/KH-UBND"));
  assert.ok(planText.includes("vùng đồng bào dân tộc thiểu số, vùng tôn giáo"));
  assert.ok(planText.includes("Định kỳ hằng tháng (trước ngày 15) và cả năm (trước ngày 15 tháng 12)"));

  // A cold start on a deep link, still offline.
  await page.goto(`${server.url}/ke-hoach/III.1`);
  await page.waitForSelector("[data-testid=plan-item]");
  const item = await page.textContent("[data-testid=plan-item]");
  assert.ok(item.includes("Hằng tháng, trước ngày 15"));
  assert.ok(item.includes("Hoàn thành trước hết ngày 29/02/2024"));
  await page.screenshot({ path: join(shots, "plan-item-offline.png"), fullPage: true });

  // Nothing overflows a 360-px screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `page is ${overflow}px wide`);
  assert.deepEqual(errors, []);
  assertNoCspViolations(page);
});

test("a wrong password gets a clear Vietnamese error and the form keeps the username", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const page = await (await phoneContext(browser)).newPage();
  await page.goto(server.url);
  await signIn(page, "xa.dakbla", "sai-mat-khau");
  await page.waitForSelector(".form-error");
  assert.equal(await page.textContent(".form-error"), "Tên đăng nhập hoặc mật khẩu không đúng");
  assert.equal(await page.inputValue("#username"), "xa.dakbla");
  assertNoCspViolations(page);
});

test("a shared phone: the next official sees their own unit, and deep links open before any service worker", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const context = await phoneContext(browser, { serviceWorkers: "block" });
  const page = await context.newPage();

  // A link to a plan item, opened on a fresh phone: the app, not a 404.
  await page.goto(`${server.url}/ke-hoach/III.1`);
  await page.waitForSelector("#username");

  await signIn(page, "xa.dakbla");
  await page.waitForSelector("[data-testid=plan-item]");
  // An edit the server has not got yet (its pushes fail): signing out keeps it,
  // for this official to send, and says so.
  await page.route("**/api/sync/push", (route) => route.abort("connectionrefused"));
  await openReport(page, testPeriod());
  await fill(page, { "ii1.sessions": "4" });
  await page.click("nav >> text=Tài khoản");
  await page.click("[data-testid=sign-out]");
  await page.waitForSelector("[data-testid=signed-out-kept]");
  assert.match(await page.textContent("[data-testid=signed-out-kept]"), /^Đã đăng xuất\. 1 mục chưa gửi được giữ lại trên máy này/);
  assert.equal((await localCounts(page)).reports, 1);
  // The same official again: the edit goes, and signing out now leaves nothing
  // of theirs for the next person.
  await page.unroute("**/api/sync/push");
  await signIn(page, "xa.dakbla");
  await waitAllSent(page);
  await page.click("nav >> text=Tài khoản");
  await page.click("[data-testid=sign-out]");
  await page.waitForSelector("[data-testid=signed-out-cleared]");
  assert.deepEqual(await localCounts(page), { reports: 0, outbox: 0, blobs: 0, uploads: 0, cached: 0 });

  await signIn(page, "tp.kontum");
  await page.click("nav >> text=Nhiệm vụ");
  await page.waitForSelector("[data-testid=unit-name]");
  assert.equal(await page.textContent("[data-testid=unit-name]"), "Thành phố Kon Tum");
  const ids = await page.$$eval("[data-testid=task]", (rows) => rows.map((r) => r.dataset.obligation));
  assert.ok(ids.includes("III.1.implementation-plan"), "a district has its own implementation plan to issue");
  assert.ok(ids.includes("III.2"), "a district coordinates with its party mass-mobilisation board");

  // After a reload the cache is the district's, not the commune's.
  await page.reload();
  await page.waitForSelector("[data-testid=unit-name]");
  assert.equal(await page.textContent("[data-testid=unit-name]"), "Thành phố Kon Tum");
  assertNoCspViolations(page);
});

test("English is available as a second language and the choice is kept", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const page = await (await phoneContext(browser)).newPage();
  await page.goto(server.url);
  await page.waitForSelector("#username");
  assert.equal(await page.textContent("button[type=submit]"), "Đăng nhập");
  assert.equal(await page.getAttribute("html", "lang"), "vi");

  await page.click("[data-testid=lang-switch]");
  assert.equal(await page.textContent("button[type=submit]"), "Sign in");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await signIn(page, "xa.dakbla");
  await page.waitForSelector("[data-testid=task]");
  assert.equal(await page.textContent("h1"), "My tasks");
  const statuses = await page.$$eval("[data-testid=task-status]", (s) => s.map((e) => e.textContent));
  assert.ok(statuses.every((s) => /^(\d+ days? left|Due today|\d+ days? overdue|Ongoing|Ended \(31\/12\/2024\))$/.test(s)), statuses.join(", "));

  await page.reload();
  await page.waitForSelector("[data-testid=task]");
  assert.equal(await page.textContent("h1"), "My tasks");
  await page.click("nav >> text=Account");
  await page.click("[data-testid=lang-switch]");
  assert.equal(await page.textContent("h1"), "Tài khoản");
  assertNoCspViolations(page);
});
