// Offline report drafting and exactly-once sync, end to end: the real server
// binary on its own SQLite file, Chromium, the built app with its service worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serverAndBrowser, startServer, launchBrowser, persistentPhone, phoneContext, login, vnToday, PASSWORD, assertNoCspViolations } from "./harness.mjs";
import { PLAN, DAKBLA, testPeriod, reportId, FULL_REPORT, apiLogin, serverReports, revisions, signedIn, openReport, fill, fieldValues, unsent, waitAllSent, syncNow, offlineReady, publishCorrection } from "./reports.mjs";

const shots = fileURLToPath(new URL("../../.tmp/screenshots", import.meta.url));
mkdirSync(shots, { recursive: true });

test("(a) a report filled offline survives a reload and reaches the server exactly once", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const { context, page, errors } = await signedIn(browser, server);
  const period = testPeriod();

  await context.setOffline(true);
  await openReport(page, period);
  assert.equal(await page.textContent("[data-testid=report-status]"), "Bản nháp");
  // Plan 413 applied to 2024: its months are shown as ended, not as 700 days overdue.
  assert.match(await page.textContent("[data-testid=report-deadline]"), /^Hạn: 14\/11\/2024 · Đã kết thúc \(31\/12\/2024\)$/);

  // Inline Vietnamese validation, and the bad value is kept as typed.
  await page.fill("[data-testid=report-field][data-field='ii6.petitions_received']", "3");
  await page.fill("[data-testid=report-field][data-field='ii6.petitions_resolved']", "5");
  await page.waitForSelector("[data-testid=save-status][data-state=saved]");
  const error = await page.textContent(".field-invalid [data-testid=field-error]");
  assert.match(error, /Không được lớn hơn «Số đơn thư tiếp nhận» \(3\)/);

  await fill(page, FULL_REPORT);
  assert.match(await page.textContent("[data-testid=save-status]"), /^Đã lưu trên máy lúc \d\d:\d\d:\d\d$/);
  assert.ok((await unsent(page)) >= 1, "the edits wait in the outbox");
  assert.match(await page.textContent("[data-testid=unsent-count]"), /\d+ mục chưa gửi/);
  await page.screenshot({ path: join(shots, "report-offline.png"), fullPage: true });

  // Reload with no network: the draft is intact.
  await page.reload();
  await page.waitForSelector("[data-testid=report-field]");
  await page.waitForFunction((v) => document.querySelector("[data-testid=report-field][data-field='ii1.participants']")?.value === v, FULL_REPORT["ii1.participants"]);
  assert.deepEqual(await fieldValues(page, Object.keys(FULL_REPORT)), FULL_REPORT);

  // Submit, still offline: the report locks at once.
  await page.click("[data-testid=submit-report]");
  await page.waitForSelector("[data-testid=report-status][data-status=submitted]");
  assert.ok(await page.isDisabled("[data-testid=report-field][data-field='ii1.sessions']"), "a submitted report is locked");

  // Back online: it syncs by itself.
  const pushEncodings = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/api/sync/push")) pushEncodings.push(r.headers()["content-encoding"] ?? "identity");
  });
  await context.setOffline(false);
  await waitAllSent(page);
  // The whole report is over 1 KB of JSON: it travels gzipped.
  assert.ok(pushEncodings.includes("gzip"), `push encodings: ${pushEncodings}`);

  const token = await apiLogin(server.url, "xa.dakbla");
  const reports = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1, "exactly one copy on the server");
  assert.equal(reports[0].status, "submitted");
  assert.deepEqual(reports[0].values, FULL_REPORT);
  const revs = await revisions(server.url, token, reportId(period));
  assert.deepEqual(revs.map((r) => r.op), ["save", "submit"], "one save (folded edits) and one submit");
  assert.deepEqual(errors, []);
  assertNoCspViolations(page);
});

test("(b) a push whose response is lost after the commit is retried and applied once, and a later edit goes on its own", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const { context, page, errors } = await signedIn(browser, server);
  const period = testPeriod();
  await openReport(page, period);

  // The first push reaches the server and commits; its answer never arrives.
  let dropped = 0;
  let pushes = 0;
  await page.route("**/api/sync/push", async (route) => {
    pushes += 1;
    if (dropped === 0) {
      const response = await route.fetch();
      assert.equal(response.status(), 200);
      dropped += 1;
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  await fill(page, { "ii1.sessions": "9", "ii1.participants": "300", "assessment": "Ổn định" });
  await syncNow(page);
  const deadline = Date.now() + 20_000;
  while (dropped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(dropped, 1, "the response was dropped");
  // Still unsent on the device: it has no acknowledgement.
  assert.ok((await unsent(page)) >= 1);

  // The official types on before the retry: the entry already sent must not
  // change (the server has it; a changed resend would be refused as a replay
  // that does not match), so this edit waits in an entry of its own.
  await fill(page, { "ii1.sessions": "10" });
  await page.waitForFunction(() => document.querySelector("[data-testid=sync-status]")?.dataset.unsent === "2", null, { timeout: 5_000 });

  // The retry replays the same mutation id; the server answers from its record.
  await syncNow(page);
  await waitAllSent(page);
  assert.ok(pushes >= 2);

  const token = await apiLogin(server.url, "xa.dakbla");
  const reports = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].values, { "ii1.sessions": "10", "ii1.participants": "300", "assessment": "Ổn định" });
  assert.equal(reports[0].version, 2, "each edit applied once");
  assert.deepEqual((await revisions(server.url, token, reportId(period))).map((r) => r.op), ["save", "save"]);
  assert.equal(await page.inputValue("[data-testid=report-field][data-field='ii1.sessions']"), "10");
  // What was only a lost answer shows the official no error.
  assert.equal(await page.locator("[data-testid=server-error]").count(), 0);
  assert.equal(await page.locator("[data-testid=sync-error]").count(), 0);
  assert.equal(await page.locator("[data-testid=conflict-screen]").count(), 0);
  assert.deepEqual(errors, []);
  assertNoCspViolations(page);
  await context.close();
});

test("(c) two devices edit the same report offline: the second sees the conflict and nothing is lost", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const a = await signedIn(browser, server);
  const b = await signedIn(browser, server);
  const period = testPeriod();
  await openReport(a.page, period);
  await openReport(b.page, period);

  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await fill(a.page, { "ii1.sessions": "5", "assessment": "Viết trên máy A" });
  await fill(b.page, { "ii1.sessions": "7", "ii1.participants": "30" });

  await a.context.setOffline(false);
  await waitAllSent(a.page);
  await b.context.setOffline(false);
  await b.page.waitForSelector("[data-testid=conflict-screen]", { timeout: 30_000 });
  await b.page.screenshot({ path: join(shots, "conflict.png"), fullPage: true });

  // Only the field both changed is asked about, with both values.
  const rows = await b.page.$$eval("[data-testid=conflict-field]", (els) =>
    els.map((e) => ({
      field: e.dataset.field,
      mine: e.querySelector("[data-testid=mine-value]").textContent,
      theirs: e.querySelector("[data-testid=theirs-value]").textContent,
    })),
  );
  assert.deepEqual(rows, [{ field: "ii1.sessions", mine: "7", theirs: "5" }]);
  // Until the person chooses, the phone still shows its own values.
  assert.equal(await b.page.inputValue("[data-testid=report-field][data-field='ii1.sessions']"), "7");

  await b.page.check("[data-testid=conflict-field][data-field='ii1.sessions'] [data-testid=choose-mine]");
  await b.page.click("[data-testid=resolve-conflict]");
  await b.page.waitForSelector("[data-testid=conflict-screen]", { state: "detached" });
  await waitAllSent(b.page);

  const token = await apiLogin(server.url, "xa.dakbla");
  const reports = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].values, {
    "ii1.sessions": "7", // B's choice
    "ii1.participants": "30", // B's own change
    "assessment": "Viết trên máy A", // A's change, merged without asking
  });
  // Device A catches up on its next sync.
  await syncNow(a.page);
  await a.page.waitForFunction(() => document.querySelector("[data-testid=report-field][data-field='ii1.participants']")?.value === "30", null, { timeout: 30_000 });
  assert.equal(await a.page.inputValue("[data-testid=report-field][data-field='ii1.sessions']"), "7");
  assert.deepEqual([...a.errors, ...b.errors], []);
  assertNoCspViolations(a.page);
  assertNoCspViolations(b.page);
});

test("(d) a photo attached offline arrives on the server intact", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const { context, page, errors } = await signedIn(browser, server);
  const period = testPeriod();
  await openReport(page, period);

  // A large photo, as a phone camera takes it (made by the browser itself).
  const png = await page.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 2400;
    c.height = 1800;
    const x = c.getContext("2d");
    for (let i = 0; i < 40; i++) {
      x.fillStyle = `hsl(${i * 9}, 70%, ${30 + (i % 5) * 10}%)`;
      x.fillRect((i % 8) * 300, Math.floor(i / 8) * 360, 300, 360);
    }
    x.fillStyle = "#fff";
    x.font = "120px sans-serif";
    x.fillText("Họp dân thôn Kon Klor", 100, 900);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });

  await context.setOffline(true);
  await page.setInputFiles("[data-testid=photo-input][data-section='II.1']", {
    name: "hop-dan.png",
    mimeType: "image/png",
    buffer: Buffer.from(png),
  });
  await page.waitForSelector("[data-testid=photo-thumb] img");
  await page.reload();
  await page.waitForSelector("[data-testid=photo-thumb] img");
  const attachmentId = await page.getAttribute("[data-testid=photo-thumb]", "data-attachment");

  // The bytes as the phone stored them (resized, JPEG).
  const local = await page.evaluate(async (id) => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("danvan");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const blob = await new Promise((ok, fail) => {
      const r = db.transaction("blobs").objectStore("blobs").get(id);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const bitmap = await createImageBitmap(blob);
    return { bytes: Array.from(new Uint8Array(await blob.arrayBuffer())), type: blob.type, w: bitmap.width, h: bitmap.height };
  }, attachmentId);
  assert.equal(local.type, "image/jpeg");
  assert.deepEqual([local.w, local.h], [1600, 1200], "resized on the device");
  assert.ok(local.bytes.length < png.length, "compressed on the device");

  await context.setOffline(false);
  await waitAllSent(page);

  const token = await apiLogin(server.url, "xa.dakbla");
  const [report] = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(report.attachments.length, 1);
  const ref = report.attachments[0];
  assert.equal(ref.id, attachmentId);
  assert.equal(ref.section, "II.1");
  const r = await fetch(`${server.url}/api/attachments/${ref.id}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "image/jpeg");
  const onServer = Buffer.from(await r.arrayBuffer());
  assert.ok(onServer.equals(Buffer.from(local.bytes)), "the server has the very bytes the phone stored");
  assert.equal(createHash("sha256").update(onServer).digest("hex"), ref.sha256);
  assert.equal(ref.size, onServer.length);

  // Another phone of the commune sees the photo, and keeps it for offline.
  const other = await signedIn(browser, server);
  await openReport(other.page, period);
  await other.page.waitForSelector("[data-testid=photo-thumb] img", { timeout: 30_000 });
  await other.context.setOffline(true);
  await other.page.reload();
  await other.page.waitForSelector("[data-testid=photo-thumb] img");

  // A photo the server will never take (the unit's space is used up) does not
  // hold back the rest: the edit made after it still reaches the server, and
  // the report says which photo did not go and why.
  let refusals = 0;
  await page.route("**/api/attachments/**", (route) => {
    if (route.request().method() !== "PUT") return route.continue();
    refusals += 1;
    return route.fulfill({
      status: 409,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "unit_quota", message: "Đơn vị đã dùng hết dung lượng tệp đính kèm (1024 MiB); hãy báo quản trị hệ thống" } }),
    });
  });
  await page.setInputFiles("[data-testid=photo-input][data-section='II.2']", {
    name: "doi-thoai.png",
    mimeType: "image/png",
    buffer: Buffer.from(png),
  });
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=photo-thumb] img").length === 2);
  await fill(page, { "ii2.result": "Đối thoại với bà con thôn 5" });
  await syncNow(page);
  await waitAllSent(page);
  assert.equal(refusals, 1, "tried once, then set aside");
  await page.waitForSelector("[data-testid=photo-refused]");
  assert.equal(
    await page.textContent("[data-testid=photo-refused]"),
    "Ảnh «doi-thoai.png» không gửi được lên máy chủ: Đơn vị đã dùng hết dung lượng tệp đính kèm (1024 MiB); hãy báo quản trị hệ thống",
  );
  assert.equal(await page.locator("[data-testid=server-error]").count(), 0, "the report itself went");
  const [after] = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(after.values["ii2.result"], "Đối thoại với bà con thôn 5");
  // Later syncs do not send it again.
  await syncNow(page);
  await page.waitForFunction(() => document.querySelector("[data-testid=sync-status]")?.dataset.unsent === "0");
  assert.equal(refusals, 1);
  assert.deepEqual([...errors, ...other.errors], []);
  assertNoCspViolations(page);
  assertNoCspViolations(other.page);
});

test("(e) a full disk is a visible error and leaves nothing half written", async (t) => {
  const server = await startServer();
  t.after(() => server.cleanup());
  const context = await persistentPhone(t);
  const period = testPeriod();
  const ready = async (page, url) => {
    await login(page, url, "xa.dakbla");
    await page.waitForSelector("[data-testid=task]");
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector("[data-testid=refresh-status]")?.textContent.startsWith("Cập nhật lúc"));
    await offlineReady(page);
    await openReport(page, period);
  };
  // What a signed-in phone with this report open stores (shell cache + data),
  // measured on one origin...
  const probe = await context.newPage();
  await ready(probe, server.url);
  await fill(probe, { "ii1.sessions": "4" });
  const usage = await probe.evaluate(async () => (await navigator.storage.estimate()).usage);
  await probe.close();
  // ...then the same server under another origin whose quota (set through the
  // DevTools protocol before it stores anything) leaves ~600 KB to spare.
  const url = server.url.replace("127.0.0.1", "localhost");
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: url, quotaSize: usage + 600_000 });
  await ready(page, url);
  // Chromium 156 (Debian, 12/2026) reports the override as active through the
  // DevTools protocol but neither shows nor enforces it in the page, even on a
  // page with no app at all. Without a quota there is no full disk to test.
  const quota = await page.evaluate(async () => (await navigator.storage.estimate()).quota);
  if (quota > usage + 10_000_000) {
    t.skip(`this Chromium ignores the DevTools storage-quota override (quota ${quota} B)`);
    return;
  }
  await context.setOffline(true);
  await fill(page, { "ii1.sessions": "4" });
  const before = await unsent(page);

  // A photo of noise compresses badly: well over the space left.
  const photo = await page.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 1600;
    c.height = 1200;
    const x = c.getContext("2d");
    const img = x.createImageData(1600, 1200);
    let seed = 7;
    for (let i = 0; i < img.data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      img.data[i] = i % 4 === 3 ? 255 : seed >>> 24;
    }
    x.putImageData(img, 0, 0);
    const blob = await new Promise((r) => c.toBlob(r, "image/png"));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  await page.setInputFiles("[data-testid=photo-input][data-section='II.1']", {
    name: "anh-lon.png",
    mimeType: "image/png",
    buffer: Buffer.from(photo),
  });
  await page.waitForSelector("[data-testid=save-status][data-state=failed]", { timeout: 30_000 });
  assert.match(await page.textContent("[data-testid=save-status]"), /Bộ nhớ của máy đã đầy/);
  assert.equal(await page.$$eval("[data-testid=photo-thumb]", (l) => l.length), 0);

  // A reload shows the report exactly as before the failed write.
  await page.reload();
  await page.waitForSelector("[data-testid=report-field]");
  await page.waitForFunction(() => document.querySelector("[data-testid=report-field][data-field='ii1.sessions']")?.value === "4");
  assert.equal(await page.$$eval("[data-testid=photo-thumb]", (l) => l.length), 0, "no photo without its bytes");
  assert.equal(await unsent(page), before, "no outbox entry for the failed write");
  assertNoCspViolations(context);
});

test("(f) a server restored from an older backup gets back what the phone holds", async (t) => {
  const first = await startServer();
  const { dir, port } = first;
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, errors } = await signedIn(browser, first);
  const period = testPeriod();
  await openReport(page, period);
  await fill(page, { "ii1.sessions": "1" });
  await syncNow(page);
  await waitAllSent(page);

  // The nightly backup is taken here...
  await first.stop();
  copyFileSync(join(dir, "danvan.db"), join(dir, "backup.db"));
  const second = await startServer({ dir, port });
  await page.reload();
  await page.waitForSelector("[data-testid=report-field]");
  await fill(page, { "ii1.participants": "40" });
  await syncNow(page);
  await waitAllSent(page);

  // ...and restored after the disk failed: the server forgets the second edit
  // and this phone's last mutation ids.
  await second.stop();
  copyFileSync(join(dir, "backup.db"), join(dir, "danvan.db"));
  for (const f of ["danvan.db-wal", "danvan.db-shm"]) rmSync(join(dir, f), { force: true });
  const restored = await startServer({ dir, port });
  t.after(() => restored.stop());

  await page.reload();
  await page.waitForSelector("[data-testid=report-field]");
  // The phone still shows everything and, seeing the server's copy went back,
  // sends its own version again by itself.
  assert.equal(await page.inputValue("[data-testid=report-field][data-field='ii1.participants']"), "40");
  await syncNow(page);
  const token0 = await apiLogin(restored.url, "xa.dakbla");
  let back;
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    back = (await serverReports(restored.url, token0)).filter((r) => r.key.period === period);
    if (back[0]?.values["ii1.participants"] === "40") break;
  }
  assert.deepEqual(back[0].values, { "ii1.sessions": "1", "ii1.participants": "40" });
  await waitAllSent(page);
  // And editing goes on as usual.
  await fill(page, { "assessment": "Sau khi khôi phục" });
  await syncNow(page);
  await waitAllSent(page);
  // The restored copy is an ancestor of the phone's: nothing to choose.
  assert.equal(await page.$("[data-testid=conflict-screen]"), null);
  const token = await apiLogin(restored.url, "xa.dakbla");
  const reports = (await serverReports(restored.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1);
  assert.deepEqual(reports[0].values, { "ii1.sessions": "1", "ii1.participants": "40", "assessment": "Sau khi khôi phục" });
  assert.deepEqual(errors, []);
  assertNoCspViolations(page);
});

test("(g) a sync while the official types keeps the field, its focus and every keystroke", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const { context, page, errors } = await signedIn(browser, server, "xa.dakbla");
  const period = testPeriod();
  await openReport(page, period);
  const selector = "[data-testid=report-field][data-field='ii1.result']";
  await page.click(selector);
  await page.keyboard.type("Họp dân thôn Kon Rơ Bàng", { delay: 20 });
  const field = await page.$(selector);
  // A sync runs (push, pull) by itself — the connection comes back — while the
  // field keeps the focus; the editor reloads what the phone holds afterwards
  // (src/pages/report.rs): an unchanged form must not be rebuilt under the fingers.
  await context.setOffline(true);
  await context.setOffline(false);
  await waitAllSent(page);
  // The reload after the sync reads IndexedDB: give it time to land.
  await page.waitForTimeout(500);
  await page.keyboard.type(" về nước sạch.", { delay: 20 });
  await page.waitForSelector("[data-testid=save-status][data-state=saved]");
  assert.equal(await field.evaluate((e) => e.isConnected && document.activeElement === e), true, "the same field, still focused");
  assert.equal(await page.inputValue(selector), "Họp dân thôn Kon Rơ Bàng về nước sạch.");
  await syncNow(page);
  await waitAllSent(page);
  const token = await apiLogin(server.url, "xa.dakbla");
  const reports = (await serverReports(server.url, token)).filter((r) => r.key.period === period);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].values["ii1.result"], "Họp dân thôn Kon Rơ Bàng về nước sạch.");
  assert.deepEqual(errors, []);
});

test("(h) a plan shortened while the phone was offline: the refused values are shown once to note down, never sent again", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const { context, page, errors } = await signedIn(browser, server, "xa.dakbla");
  const period = testPeriod();
  await openReport(page, period);
  await context.setOffline(true);
  await fill(page, { "ii1.sessions": "4" });
  // Meanwhile the province corrects the plan: it ends on 30/06/2024, so the
  // server refuses any save for November 2024 (`invalid`) and always will.
  await publishCorrection(server.url, (doc) => {
    doc.plan.valid_to = "2024-06-30";
  });
  const pushes = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/api/sync/push")) pushes.push(r.url());
  });
  await context.setOffline(false);
  await syncNow(page);
  await page.waitForSelector("[data-testid=conflict-screen]", { timeout: 30_000 });
  assert.equal(await page.textContent("[data-testid=conflict-screen] h2"), "Máy chủ không nhận thay đổi này");
  assert.equal(await page.textContent("[data-testid=conflict-not-on-server]"), "Máy chủ chưa có báo cáo này.");
  assert.match(await page.textContent("[data-testid=conflict-locked]"), /Gửi lại cũng sẽ bị từ chối/);
  // Nothing to choose: the typed values are listed.
  assert.equal(await page.locator("[data-testid=conflict-field]").count(), 0);
  assert.match(await page.textContent("[data-testid=mine-values]"), /4/);
  // The sync brought the corrected plan: the page says why there is no report to file.
  await page.waitForSelector("[data-testid=not-filed]", { timeout: 30_000 });
  const reason = /Tháng 11\/2024 nằm ngoài thời gian áp dụng của kế hoạch 413\/KH-UBND \(01\/02\/2024 – 30\/06\/2024\)/;
  assert.match(await page.textContent("[data-testid=not-filed]"), reason);
  // The server's reason is the same words: said once on the page, not again on the card
  // nor as an error line.
  const text = await page.textContent("main");
  assert.equal(text.split("nằm ngoài thời gian áp dụng").length - 1, 1, text);
  assert.equal(await page.locator("[data-testid=server-error]").count(), 0);
  assert.equal(await page.locator("[data-testid=report-deadline]").count(), 0);
  await page.screenshot({ path: join(shots, "conflict-refused.png"), fullPage: true });
  const pushed = pushes.length;
  assert.ok(pushed >= 1);

  assert.equal(await page.textContent("[data-testid=resolve-conflict]"), "Đã ghi lại, xoá bản trên máy này");
  await page.click("[data-testid=resolve-conflict]");
  await page.waitForSelector("[data-testid=conflict-screen]", { state: "detached" });
  await waitAllSent(page);
  const sessions = "[data-testid=report-field][data-field='ii1.sessions']";
  assert.equal(await page.inputValue(sessions), "");
  assert.ok(await page.isDisabled(sessions), "nothing to type into");
  assert.ok(await page.isDisabled("[data-testid=submit-report]"));
  // Another sync: nothing goes out again and the conflict does not come back.
  await syncNow(page);
  await page.waitForFunction(() => document.querySelector("[data-testid=refresh-status]")?.textContent.startsWith("Cập nhật lúc"));
  await page.waitForTimeout(1000);
  assert.equal(pushes.length, pushed, "the refused values were not sent again");
  assert.equal(await page.$("[data-testid=conflict-screen]"), null);
  const token = await apiLogin(server.url, "xa.dakbla");
  assert.deepEqual((await serverReports(server.url, token)).filter((r) => r.key.period === period), []);
  // No empty draft of it is left on the phone either.
  const local = await page.evaluate(async (id) => {
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("danvan");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const found = await new Promise((ok, fail) => {
      const get = db.transaction("reports").objectStore("reports").get(id);
      get.onsuccess = () => ok(get.result ?? null);
      get.onerror = () => fail(get.error);
    });
    db.close();
    return found;
  }, reportId(period));
  assert.equal(local, null);

  // An old link to a month outside the plan opens read only, with the reason.
  await page.goto(`${server.url}/bao-cao/2024-01?ke-hoach=${PLAN}`);
  await page.waitForSelector("[data-testid=not-filed]");
  assert.match(await page.textContent("[data-testid=not-filed]"), /Tháng 01\/2024 nằm ngoài thời gian áp dụng/);
  assert.ok(await page.isDisabled(sessions));
  assert.deepEqual(errors, []);
});
