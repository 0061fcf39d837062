// From an imported spreadsheet to a signed-in phone, and back out: the
// administrator imports accounts from an XLSX and prints the enrolment sheet; a new
// phone opens the sheet's link, sets a password and sees its unit's tasks; the
// administrator ends that device; the phone's next sync says so, and its unsent
// edit is still on the phone and in the backup file. No CSP violation anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { serverAndBrowser, phoneContext, recordCspViolations, assertNoCspViolations, signIn } from "./harness.mjs";
import { thisPeriod, publishThisYearsPlan, openReport, fill, unsent, syncNow, offlineReady } from "./reports.mjs";

const shots = fileURLToPath(new URL("../../.tmp/screenshots", import.meta.url));
mkdirSync(shots, { recursive: true });
const NEW_PASSWORD = "Sông Pô Kô mùa nước lên";

test("import, enrolment sheet, enrolment on a phone, device ended by the administrator", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const errors = [];
  // The province has published this year's plan: the new officials have work.
  await publishThisYearsPlan(server.url);

  // 1. The administrator, on a desktop screen, downloads the XLSX template and imports it.
  const desk = await recordCspViolations(await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" }));
  const admin = await desk.newPage();
  admin.on("pageerror", (e) => errors.push(String(e)));
  await admin.goto(server.url);
  await signIn(admin, "admin");
  await admin.click("[data-testid=nav-admin]");
  await admin.waitForSelector("[data-testid=account-row][data-username=admin]");
  await admin.goto(new URL("/quan-tri/nhap", server.url).href);
  const [template] = await Promise.all([
    admin.waitForEvent("download"),
    admin.click("text=Tải tệp mẫu Excel"),
  ]);
  const xlsx = readFileSync(await template.path());
  assert.equal(xlsx.subarray(0, 2).toString(), "PK", "the template is an XLSX (zip) file");
  await admin.setInputFiles("[data-testid=import-file]", {
    name: "tai-khoan.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: xlsx,
  });
  await admin.waitForSelector("[data-testid=import-row]");
  assert.equal((await admin.$$("[data-testid=import-row]")).length, 2);
  assert.equal((await admin.$$(".import-error")).length, 0);
  await admin.click("[data-testid=import-commit]");
  await admin.waitForSelector("[data-testid=import-result]");
  assert.match(await admin.textContent("[data-testid=import-result]"), /2 tài khoản/);

  // 2. The enrolment sheets: one per unit, each with a QR code, the link and the code.
  await admin.click("[data-testid=print-sheets]");
  await admin.waitForSelector("[data-testid=enrolment-sheet]");
  assert.equal((await admin.$$("[data-testid=enrolment-sheet]")).length, 2);
  const entry = admin.locator("[data-testid=enrolment-entry]", { hasText: "xa.vidu" });
  assert.equal(await entry.locator("svg").count(), 1, "a QR code");
  const link = (await entry.locator("[data-testid=enrolment-link]").textContent()).trim();
  assert.match(link, new RegExp(`^${server.url}/kich-hoat#ma=[A-Z2-9]{12}$`));
  assert.match(await entry.locator("[data-testid=enrolment-code]").textContent(), /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  await admin.emulateMedia({ media: "print" });
  await admin.screenshot({ path: join(shots, "enrolment-sheet.png"), fullPage: true });
  await admin.emulateMedia({ media: "screen" });

  // 3. A new phone opens the link, sets a password and sees its unit's tasks.
  const phoneContextA = await phoneContext(browser);
  const phone = await phoneContextA.newPage();
  phone.on("pageerror", (e) => errors.push(String(e)));
  await phone.goto(link);
  await phone.waitForSelector("[data-testid=enrol-username]");
  assert.equal((await phone.textContent("[data-testid=enrol-username]")).trim(), "xa.vidu");
  assert.ok(!phone.url().includes("#ma="), "the code leaves the address bar");
  await phone.fill("[data-testid=enrol-password]", "xa.vidu123");
  await phone.fill("[data-testid=enrol-confirm]", "xa.vidu123");
  assert.ok(await phone.isDisabled("[data-testid=enrol-submit]"), "a password with the username is refused on the phone");
  await phone.fill("[data-testid=enrol-password]", NEW_PASSWORD);
  await phone.fill("[data-testid=enrol-confirm]", NEW_PASSWORD);
  await phone.click("[data-testid=enrol-submit]");
  await phone.waitForSelector("[data-testid=task]");
  await phone.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await offlineReady(phone);
  // The template's example commune: the first commune-level unit of today's tree.
  assert.match(await phone.textContent("body"), /Xã Tịnh Khê/);
  await phone.screenshot({ path: join(shots, "enrolled-phone.png") });

  // 4. Offline, the official starts this month's report: the edit exists only on the phone.
  const period = thisPeriod();
  await phoneContextA.setOffline(true);
  await openReport(phone, period);
  await fill(phone, { "ii1.result": "Đối thoại với bà con thôn Kon Rờ Bàng 1 về đường liên thôn." });
  assert.equal(await unsent(phone), 1);

  // 5. The administrator ends that device.
  await admin.goto(new URL("/quan-tri", server.url).href);
  const row = "[data-testid=account-row][data-username='xa.vidu']";
  await admin.waitForSelector(row);
  await admin.click(`${row} a, ${row}`);
  await admin.waitForSelector("[data-testid=device-row]");
  await admin.click("[data-testid=device-end]");
  await admin.click("[data-testid=device-end-confirm]");
  await admin.waitForFunction(() => !document.querySelector("[data-testid=device-end]"));

  // 6. Back online, the phone's next sync is told, in Vietnamese; nothing is dropped.
  await phoneContextA.setOffline(false);
  await syncNow(phone);
  await phone.waitForSelector("[data-testid=signed-out]");
  assert.match(await phone.textContent("[data-testid=signed-out-message]"), /Quản trị viên đã đăng xuất thiết bị này/);
  assert.equal(await unsent(phone), 1, "the unsent edit is still on the phone");
  await phone.screenshot({ path: join(shots, "device-ended.png") });
  const [backup] = await Promise.all([phone.waitForEvent("download"), phone.click("[data-testid=signed-out-backup]")]);
  const saved = JSON.parse(readFileSync(await backup.path(), "utf8"));
  assert.match(JSON.stringify(saved), /Kon Rờ Bàng 1/, "the edit is in the backup file");
  await phone.waitForSelector("[data-testid=signed-out-backup-done]");

  // The server never received it: the device could not send once ended.
  const adminToken = await (await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "danvan2024" }),
  })).json();
  const devices = await (await fetch(`${server.url}/api/admin/accounts`, {
    headers: { Authorization: `Bearer ${adminToken.token}` },
  })).json();
  const vidu = devices.accounts.find((a) => a.username === "xa.vidu");
  assert.equal(vidu.active_devices, 0);
  assert.equal(vidu.has_password, true);

  // The other administration screens and the account screen open without a CSP
  // violation or a page error either.
  await admin.goto(new URL("/quan-tri/nhat-ky", server.url).href);
  await admin.waitForSelector("[data-testid=audit-row]");
  const log = await admin.textContent("body");
  assert.match(log, /Nhập danh sách tài khoản/);
  assert.match(log, /Kích hoạt tài khoản/);
  assert.match(log, /Đăng xuất một thiết bị/);
  await admin.goto(new URL("/quan-tri/tao", server.url).href);
  await admin.waitForSelector("[data-testid=acc-username]");
  await admin.goto(new URL("/tai-khoan", server.url).href);
  await admin.waitForSelector("[data-testid=my-device]");

  assert.deepEqual(errors, []);
  assertNoCspViolations(admin);
  assertNoCspViolations(phone);
});
