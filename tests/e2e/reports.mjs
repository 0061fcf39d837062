// Report helpers shared by the end-to-end tests: the seed's plan and commune, a
// complete monthly report, API shortcuts, and the editor's and status bar's moves.
import assert from "node:assert/strict";
import { phoneContext, login, vnToday, PASSWORD } from "./harness.mjs";

export const PLAN = "kh-413-ubnd-2024";
export const DAKBLA = "kontum.tpkontum.dakbla";

/** The month these tests file reports for: 11/2024, under plan 413 (2024). The
 * demo accounts' units are Kon Tum's of 2024, closed since the 2025 reform, so
 * today's month belongs to no plan of theirs (tests/e2e/catalog.test.mjs files
 * under this year's plan). */
export function testPeriod() {
  return "2024-11";
}

/** The Decree 09 monthly period that contains today in Vietnam ("2026-12"). */
export function thisPeriod() {
  const { y, m, d } = vnToday();
  const [py, pm] = d >= 15 ? (m === 12 ? [y + 1, 1] : [y, m + 1]) : [y, m];
  return `${py}-${String(pm).padStart(2, "0")}`;
}

/** The province publishes this year's plan: plan 413 copied to this year through
 * the administrator's API. Returns its id. */
export async function publishThisYearsPlan(url) {
  const token = await apiLogin(url, "admin");
  const year = vnToday().y;
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const copy = await fetch(`${url}/api/admin/plans/${PLAN}/copy`, { method: "POST", headers: auth, body: JSON.stringify({ year }) });
  assert.equal(copy.status, 200, await copy.clone().text());
  const { plan_id } = await copy.json();
  const published = await (await fetch(`${url}/api/admin/plans/${plan_id}/publish`, { method: "POST", headers: auth })).json();
  assert.ok(published.committed, JSON.stringify(published));
  return plan_id;
}

/** The province publishes a correction of plan 413: `change` edits the plan
 * document (`{plan, form}`) of a new draft, which is then published. */
export async function publishCorrection(url, change) {
  const token = await apiLogin(url, "admin");
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const started = await fetch(`${url}/api/admin/plans/${PLAN}/draft`, { method: "POST", headers: auth });
  assert.equal(started.status, 200, await started.clone().text());
  const { doc } = await started.json();
  change(doc);
  const saved = await fetch(`${url}/api/admin/plans/${PLAN}/draft`, { method: "PUT", headers: auth, body: JSON.stringify(doc) });
  assert.equal(saved.status, 200, await saved.clone().text());
  const published = await (await fetch(`${url}/api/admin/plans/${PLAN}/publish`, { method: "POST", headers: auth })).json();
  assert.ok(published.committed, JSON.stringify(published));
}

export const reportId = (period) => `${PLAN}~${DAKBLA}~${period}`;

/** Every required field of the monthly form, with Vietnamese text. */
export const FULL_REPORT = {
  "ii1.sessions": "12",
  "ii1.participants": "860",
  "ii1.result": "Tổ chức 12 buổi tuyên truyền Luật Thực hiện dân chủ ở cơ sở tại các thôn.",
  "ii2.sessions_remote": "4",
  "ii2.sessions_ethnic": "6",
  "ii2.sessions_religious": "2",
  "ii2.participants": "410",
  "ii3.models_registered": "3",
  "ii3.models_recognised": "1",
  "ii3.collectives_commended": "2",
  "ii3.individuals_commended": "5",
  "ii4.dossiers_received": "148",
  "ii4.dossiers_on_time": "146",
  "ii5.inspections": "1",
  "ii5.officials_disciplined": "0",
  "ii6.reception_sessions": "4",
  "ii6.petitions_received": "7",
  "ii6.petitions_resolved": "6",
  "ii6.dialogues": "2",
  "ii7.supervisions": "1",
  "ii7.critiques": "0",
  "assessment": "Công tác dân vận chính quyền được triển khai đồng bộ; người dân đồng thuận.",
  "next_tasks": "Tiếp tục đối thoại với Nhân dân về giải phóng mặt bằng đường liên thôn.",
};

export async function apiLogin(url, username) {
  const r = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).token;
}

/** Every report the user may see on the server, by a fresh client reading from 0. */
export async function serverReports(url, token) {
  const all = [];
  let cursor = 0;
  for (;;) {
    const r = await fetch(`${url}/api/sync/pull`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ client_id: `checker${Date.now()}`, cursor }),
    });
    assert.equal(r.status, 200);
    const page = await r.json();
    all.push(...page.changes);
    cursor = page.cursor;
    if (!page.has_more) return all;
  }
}

export async function revisions(url, token, id) {
  const r = await fetch(`${url}/api/reports/${encodeURIComponent(id)}/revisions`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200);
  return (await r.json()).revisions;
}

export async function signedIn(browser, server, username = "xa.dakbla") {
  const context = await phoneContext(browser);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await login(page, server.url, username);
  await page.waitForSelector("[data-testid=task]");
  // The service worker holds the shell, and the form reached IndexedDB.
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector("[data-testid=refresh-status]")?.textContent.startsWith("Cập nhật lúc"));
  await offlineReady(page);
  return { context, page, errors };
}

/** Waits until the service worker keeps the signed-in role's screens (and the
 * sync module) for offline use: it fetches them in the background after the first
 * screen (public/sw.js, index.html). */
export async function offlineReady(page) {
  await page.waitForFunction(() => (document.documentElement.dataset.offlineGroups || "").split(" ").includes("sync"), null, {
    timeout: 60_000,
  });
}

/** Opens this period's report through the app's own navigation. */
export async function openReport(page, period) {
  await page.click("nav.bottom-nav a[href='/bao-cao']");
  await page.click(`[data-testid=report-row][data-period='${period}'] a`);
  await page.waitForSelector("[data-testid=report-field]");
}

export async function fill(page, values) {
  for (const [field, value] of Object.entries(values)) {
    await page.fill(`[data-testid=report-field][data-field='${field}']`, value);
  }
  await page.waitForSelector("[data-testid=save-status][data-state=saved]");
}

export async function fieldValues(page, fields) {
  const out = {};
  for (const f of fields) out[f] = await page.inputValue(`[data-testid=report-field][data-field='${f}']`);
  return out;
}

export async function unsent(page) {
  return Number(await page.getAttribute("[data-testid=sync-status]", "data-unsent"));
}

export async function waitAllSent(page) {
  await page.waitForFunction(
    () => document.querySelector("[data-testid=sync-status]")?.dataset.unsent === "0",
    null,
    { timeout: 30_000 },
  );
}

/** The status bar's refresh button asks for a sync now. */
export async function syncNow(page) {
  await page.click(".status-refresh");
}

