// Next year's plan without writing JSON, and the 2025 reform, end to end: the
// administrator copies plan 413 (2024) to this year, edits an item and adds a form
// field, publishes; moves the accounts of Xã Đăk Blà (closed on 30/06/2025) to its
// successor; the commune's phone syncs, gets this year's tasks and the new field,
// and still opens its 2024 report offline. Quảng Ngãi's two-level tree, loaded from
// CSV (data/seed/units/quang-ngai-2025.csv), shows its 96 commune-level units in the
// province dashboard.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { serverAndBrowser, recordCspViolations, assertNoCspViolations, signIn, vnToday, ddmmyyyy } from "./harness.mjs";
import { PLAN, FULL_REPORT, testPeriod, thisPeriod, signedIn, openReport, fill, waitAllSent, syncNow } from "./reports.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const shots = join(root, ".tmp/screenshots");
mkdirSync(shots, { recursive: true });
const NEW_FIELD = "Số buổi tuyên truyền trên nền tảng số";

test("a plan copied to this year and a merged commune: the phone gets the new tasks and field, and keeps its 2024 report", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const errors = [];
  const year = vnToday().y;
  const newPlan = `kh-413-ubnd-${year}`;

  // 1. Xã Đăk Blà files its 11/2024 report (its unit closed on 30/06/2025 since).
  const commune = await signedIn(browser, server, "xa.dakbla");
  commune.page.on("pageerror", (e) => errors.push(String(e)));
  await recordCspViolations(commune.context);
  const period2024 = testPeriod();
  await openReport(commune.page, period2024);
  await fill(commune.page, FULL_REPORT);
  await commune.page.click("[data-testid=submit-report]");
  await commune.page.waitForSelector("[data-testid=report-status][data-status=submitted]");
  await waitAllSent(commune.page);

  // 2. The administrator, on a desktop screen, copies the plan to this year.
  const desk = await recordCspViolations(await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" }));
  const admin = await desk.newPage();
  admin.on("pageerror", (e) => errors.push(String(e)));
  await admin.goto(server.url);
  await signIn(admin, "admin");
  await admin.waitForSelector("[data-testid=online-status]");
  await admin.goto(new URL("/quan-tri/ke-hoach", server.url).href);
  const card = `[data-testid=plan-card][data-plan='${PLAN}']`;
  await admin.waitForSelector(card);
  await admin.fill(`${card} [data-testid=copy-year]`, String(year));
  await admin.click(`${card} [data-testid=plan-copy]`);
  await admin.waitForSelector("[data-testid=plan-editor] [data-testid=item-editor]");
  assert.match(await admin.textContent("[data-testid=copy-notes]"), /Sở Nội vụ → Sở Nội vụ/, "Kon Tum's departments' work goes to Quảng Ngãi's");
  assert.equal(await admin.inputValue("[data-testid=plan-issued-on]"), `${year}-02-01`);

  // An item edited, a field added to the first section of the form, published.
  const title = `Tuyên truyền, phổ biến chủ trương, chính sách năm ${year}`;
  await admin.fill("[data-testid=item-editor] >> nth=0 >> [data-testid=item-title]", title);
  const section = admin.locator("[data-testid=section-editor]").first();
  await section.locator("[data-testid=field-add]").click();
  await section.locator("[data-testid=field-label]").last().fill(NEW_FIELD);
  await admin.click("[data-testid=draft-save]");
  await admin.waitForSelector("[data-testid=plan-check][data-valid=true]");
  assert.match(await admin.textContent("[data-testid=plan-check]"), /Kế hoạch mới/);
  await admin.screenshot({ path: join(shots, "plan-editor.png"), fullPage: false });
  await admin.click("[data-testid=draft-publish]");
  await admin.waitForSelector("[data-testid=plan-check][data-committed=true]");

  // 3. The accounts of the closed commune move to its successor, Xã Đăk Rơ Wa.
  await admin.goto(new URL("/quan-tri/don-vi", server.url).href);
  const closed = "[data-testid=closed-unit][data-unit='kontum.tpkontum.dakbla']";
  await admin.waitForSelector(closed);
  await admin.click(`${closed} [data-testid=move-accounts][data-to='quangngai.23332']`);
  await admin.waitForSelector("[data-testid=move-message]");
  assert.match(await admin.textContent("[data-testid=move-message]"), /Đã chuyển tài khoản: 1/);

  // The Quảng Ngãi tree as CSV: already in (loaded through the same import at
  // the first start), so the preview says nothing would change.
  const csv = readFileSync(join(root, "data/seed/units/quang-ngai-2025.csv"));
  await admin.setInputFiles("[data-testid=units-file]", { name: "quang-ngai-2025.csv", mimeType: "text/csv", buffer: csv });
  await admin.waitForSelector("[data-testid=units-preview][data-valid=true]");
  assert.match(await admin.textContent("[data-testid=units-preview]"), /Không có gì thay đổi/);
  assert.match(await admin.textContent("[data-testid=units-summary]"), /109 đơn vị đang hoạt động/);
  await admin.screenshot({ path: join(shots, "units-admin.png"), fullPage: false });

  // 4. The phone syncs: this year's tasks, under its new unit, with Vietnam-time deadlines.
  const phone = commune.page;
  await phone.click("nav.bottom-nav a[href='/']");
  // A sync already under way when asked is not started twice: ask until one
  // runs after the publication and fetches the new catalog.
  const moved = () => phone.waitForFunction(() => document.querySelector("[data-testid=unit-name]")?.textContent === "Xã Đăk Rơ Wa", null, { timeout: 5_000 }).then(() => true, () => false);
  let seen = false;
  for (let i = 0; i < 8 && !seen; i++) {
    await syncNow(phone);
    seen = await moved();
  }
  assert.ok(seen, "the phone took the new catalog and its new unit at a sync");
  const monthly = phone.locator(`[data-testid=task][data-obligation='III.1.monthly-report'] >> nth=0`);
  const today = vnToday();
  const due = today.d >= 15
    ? (today.m === 12 ? { y: today.y + 1, m: 1, d: 14 } : { y: today.y, m: today.m + 1, d: 14 })
    : { y: today.y, m: today.m, d: 14 };
  if (due.y === year) {
    assert.equal((await monthly.locator("[data-testid=task-due]").textContent()).trim(), `Hạn: ${ddmmyyyy(due)}`);
  }
  await phone.screenshot({ path: join(shots, "tasks-new-plan.png") });

  // This period's report of the new plan has the new field.
  const current = thisPeriod();
  await phone.click("nav.bottom-nav a[href='/bao-cao']");
  const row = `[data-testid=report-row][data-plan='${newPlan}'][data-period='${current}'] a`;
  if (await phone.locator(row).count()) {
    await phone.click(row);
    await phone.waitForSelector("[data-testid=report-field]");
    assert.match(await phone.textContent("main"), new RegExp(NEW_FIELD));
  } else {
    // After 15/12 this period is next year's, outside this year's plan: its last month instead.
    await phone.click(`[data-testid=report-row][data-plan='${newPlan}'] a`);
    await phone.waitForSelector("[data-testid=report-field]");
    assert.match(await phone.textContent("main"), new RegExp(NEW_FIELD));
  }

  // 5. Offline, the 2024 report of Xã Đăk Blà still opens, read only.
  await commune.context.setOffline(true);
  await phone.click("nav.bottom-nav a[href='/bao-cao']");
  const old = `[data-testid=report-row][data-plan='${PLAN}'][data-unit='kontum.tpkontum.dakbla'][data-period='${period2024}']`;
  await phone.waitForSelector(old);
  assert.match(await phone.textContent(`${old} [data-testid=report-row-note]`), /Xã Đăk Blà/);
  await phone.click(`${old} a`);
  await phone.waitForSelector("[data-testid=report-field]");
  assert.equal(await phone.inputValue("[data-testid=report-field][data-field='ii1.sessions']"), FULL_REPORT["ii1.sessions"]);
  assert.ok(await phone.isDisabled("[data-testid=report-field][data-field='ii1.sessions']"), "a predecessor's report is read only");
  await commune.context.setOffline(false);

  // 6. The province dashboard of this year's plan: Quảng Ngãi, two levels, 96 communes.
  const march = `${year}-03`;
  await admin.goto(new URL(`/tong-quan?ky=${march}`, server.url).href);
  await admin.waitForSelector(`[data-testid=dashboard][data-period='${march}'] [data-testid=unit-row][data-unit='quangngai.21548']`, { timeout: 30_000 });
  const rows = await admin.$$eval("[data-testid=unit-row]", (rs) => rs.map((r) => r.dataset.unit));
  assert.equal(rows.filter((u) => /^quangngai\.\d+$/.test(u)).length, 96, "the 96 commune-level units, directly under the province");
  assert.ok(!rows.some((u) => u.startsWith("kontum")), "no unit of the old tree in this year's dashboard");
  assert.match(await admin.textContent("[data-testid=dashboard]"), /Đặc khu Lý Sơn/);
  await admin.screenshot({ path: join(shots, "dashboard-quang-ngai.png"), fullPage: false });
  const api = await (await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "danvan2024" }),
  })).json();
  const lastMonth = `${year}-12`;
  const dash = await (await fetch(`${server.url}/api/dashboard?plan=${newPlan}&period=${lastMonth}`, {
    headers: { Authorization: `Bearer ${api.token}` },
  })).json();
  assert.equal(dash.dashboard.unit_id, "quangngai");
  assert.equal(dash.dashboard.rows.filter((r) => r.kind === "commune").length, 96);

  assert.deepEqual(errors, []);
  assertNoCspViolations(admin);
  assertNoCspViolations(phone);
});
