// The whole review loop across three phones: the commune files offline, the city
// returns it with a reason, the commune fixes and resubmits, the city accepts, and
// Sở Nội vụ's dashboard and the city's consolidation show it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serverAndBrowser, assertNoCspViolations } from "./harness.mjs";
import { DAKBLA, testPeriod, reportId, FULL_REPORT, apiLogin, revisions, signedIn, openReport, fill, waitAllSent, syncNow } from "./reports.mjs";

const shots = fileURLToPath(new URL("../../.tmp/screenshots", import.meta.url));
mkdirSync(shots, { recursive: true });
const CITY = "kontum.tpkontum";
const REASON = "Số đơn thư đã giải quyết chưa khớp sổ tiếp dân, đề nghị kiểm tra lại mục II.6.";

/** Syncs until the review queue shows the report with the wanted status. */
async function reviewItem(page, id, status) {
  const selector = `[data-testid=review-item][data-report='${id}'][data-status=${status}]`;
  for (let i = 0; i < 10; i++) {
    await syncNow(page);
    await waitAllSent(page);
    await page.goto(new URL("/duyet", page.url()).href);
    if (await page.waitForSelector(selector, { timeout: 3_000 }).catch(() => null)) return selector;
  }
  throw new Error(`${id} never showed as ${status} in the review queue`);
}

test("the review loop across three phones ends in the province dashboard, late as filed, with the right sums", async (t) => {
  const { server, browser } = await serverAndBrowser(t);
  const period = testPeriod();
  const id = reportId(period);

  // 1. The commune fills and submits with no network, then syncs.
  const commune = await signedIn(browser, server, "xa.dakbla");
  await commune.context.setOffline(true);
  await openReport(commune.page, period);
  await fill(commune.page, FULL_REPORT);
  await commune.page.click("[data-testid=submit-report]");
  await commune.page.waitForSelector("[data-testid=report-status][data-status=submitted]");
  await commune.context.setOffline(false);
  await waitAllSent(commune.page);

  // 2. The city's reviewer returns it with a reason.
  const city = await signedIn(browser, server, "tp.kontum");
  const submitted = await reviewItem(city.page, id, "submitted");
  await city.page.click(`${submitted} a, ${submitted}`);
  await city.page.waitForSelector("[data-testid=review-report]");
  await city.page.click("[data-testid=return-button]");
  await city.page.fill("[data-testid=return-reason-input]", REASON);
  await city.page.click("[data-testid=confirm-return]");
  await city.page.waitForSelector("[data-testid=report-status][data-status=returned]");
  await waitAllSent(city.page);

  // 3. The commune sees the reason (after a sync, then also offline), fixes, resubmits.
  await openReport(commune.page, period);
  const returned = "[data-testid=report-status][data-status=returned]";
  for (let i = 0; i < 10 && !(await commune.page.$(returned)); i++) {
    await syncNow(commune.page);
    await commune.page.waitForSelector(returned, { timeout: 3_000 }).catch(() => null);
  }
  await commune.context.setOffline(true);
  await commune.page.reload();
  await commune.page.waitForSelector(returned);
  assert.match(await commune.page.textContent("[data-testid=return-reason]"), /Số đơn thư đã giải quyết chưa khớp/);
  await fill(commune.page, { "ii6.petitions_resolved": "7" });
  await commune.page.click("[data-testid=submit-report]");
  await commune.page.waitForSelector("[data-testid=report-status][data-status=submitted]");
  await commune.context.setOffline(false);
  await waitAllSent(commune.page);

  // 4. The city accepts it; the history shows every step.
  const resubmitted = await reviewItem(city.page, id, "submitted");
  await city.page.click(`${resubmitted} a, ${resubmitted}`);
  await city.page.waitForSelector("[data-testid=review-report]");
  await city.page.click("[data-testid=accept-button]");
  await city.page.click("[data-testid=confirm-accept]");
  await city.page.waitForSelector("[data-testid=report-status][data-status=accepted]");
  await waitAllSent(city.page);
  await syncNow(city.page);
  await city.page.waitForSelector("[data-testid=revision][data-op=accept]", { timeout: 30_000 });
  const ops = await city.page.$$eval("[data-testid=revision]", (els) => els.map((e) => e.dataset.op));
  assert.deepEqual([...ops].sort(), ["accept", "return", "save", "save", "submit", "submit"].sort());
  const token = await apiLogin(server.url, "sonoivu");
  const revs = await revisions(server.url, token, id);
  assert.deepEqual(revs.map((r) => r.op), ["save", "submit", "return", "save", "submit", "accept"]);
  assert.equal(revs[2].reason, REASON);

  // 5. Sở Nội vụ: the province dashboard, drilled down to the city, shows Đăk Blà
  // late: its 11/2024 report reached the server today, after 14/11/2024.
  const snv = await signedIn(browser, server, "sonoivu");
  await snv.page.goto(`${server.url}/tong-quan/${CITY}?ky=${period}`);
  await snv.page.waitForSelector(`[data-testid=dashboard][data-period='${period}']`);
  const row = `[data-testid=unit-row][data-unit='${DAKBLA}']`;
  await snv.page.waitForSelector(row);
  assert.equal(await snv.page.getAttribute(row, "data-timeliness"), "late");
  assert.equal((await snv.page.textContent("[data-testid=total-late]")).trim(), "1");
  await snv.page.screenshot({ path: join(shots, "dashboard-e2e.png"), fullPage: true });

  // The city's consolidation sums its accepted communes: here Đăk Blà alone.
  await snv.page.goto(`${server.url}/tong-hop/${CITY}/${period}`);
  await snv.page.waitForSelector("[data-testid=consolidation]");
  const sum = async (field) => (await snv.page.textContent(`[data-testid=sum][data-field='${field}']`)).replace(/\D/g, "");
  assert.equal(await sum("ii1.sessions"), FULL_REPORT["ii1.sessions"]);
  assert.equal(await sum("ii1.participants"), FULL_REPORT["ii1.participants"]);
  assert.equal(await sum("ii6.petitions_resolved"), "7", "the corrected value, not the returned one");
  await snv.page.screenshot({ path: join(shots, "consolidation-e2e.png"), fullPage: true });

  // And the API agrees with the screen.
  const c = await (await fetch(`${server.url}/api/consolidation?period=${period}&unit=${CITY}`, {
    headers: { Authorization: `Bearer ${token}` },
  })).json();
  assert.equal(c.totals["ii1.sessions"], 12);
  assert.equal(c.totals["ii6.petitions_resolved"], 7);
  // 6. What was read online stays readable offline, dated "(đang ngoại tuyến)"
  // (src/hooks/use_cached_query.rs): Sở Nội vụ's dashboard and consolidation…
  await snv.context.setOffline(true);
  await snv.page.goto(`${server.url}/tong-quan/${CITY}?ky=${period}`);
  await snv.page.waitForSelector("[data-testid=as-of][data-offline=true]");
  assert.match(await snv.page.textContent("[data-testid=as-of]"), /đang ngoại tuyến/);
  assert.equal(await snv.page.getAttribute(row, "data-timeliness"), "late");
  await snv.page.goto(`${server.url}/tong-hop/${CITY}/${period}`);
  await snv.page.waitForSelector("[data-testid=as-of][data-offline=true]");
  assert.equal(await sum("ii6.petitions_resolved"), "7");
  await snv.context.setOffline(false);

  // …the city's own implementation plan (where it stands is the server's
  // answer), and the review page with the report's history.
  const implState = "[data-testid=impl-state]:not([data-state=unknown])";
  await city.page.goto(`${server.url}/ke-hoach-don-vi`);
  await city.page.waitForSelector(implState);
  assert.equal(await city.page.$("[data-testid=impl-cached]"), null, "fresh from the server");
  await city.context.setOffline(true);
  await city.page.reload();
  await city.page.waitForSelector("[data-testid=impl-cached]");
  await city.page.waitForSelector(implState);
  await city.page.goto(`${server.url}/duyet/${encodeURIComponent(id)}`);
  await city.page.waitForSelector("[data-testid=history-cached]");
  assert.equal((await city.page.$$("[data-testid=revision]")).length, 6);

  // 7. The city starts its own report from its communes' accepted reports, from
  // the copy of the consolidation kept on the phone while offline, then online.
  await city.page.goto(`${server.url}/bao-cao/${period}`);
  await city.page.waitForSelector("[data-testid=report-field]");
  await city.page.click("[data-testid=prefill-consolidation]");
  const message = await city.page.waitForSelector("[data-testid=prefill-message], [data-testid=prefill-confirm]");
  assert.equal(await message.getAttribute("data-testid"), "prefill-message", "nothing kept yet: it needs the network");
  await city.context.setOffline(false);
  await city.page.click("[data-testid=prefill-consolidation]");
  await city.page.waitForSelector("[data-testid=prefill-confirm]");
  assert.match(await city.page.textContent("[data-testid=prefill-confirm]"), /của 1 đơn vị cấp dưới \(số liệu lúc/);
  await city.page.click("[data-testid=cancel-prefill]");
  await city.context.setOffline(true);
  await city.page.click("[data-testid=prefill-consolidation]");
  await city.page.waitForSelector("[data-testid=prefill-confirm]");
  assert.match(await city.page.textContent("[data-testid=prefill-confirm]"), /bản lưu trên máy lúc/);
  await city.page.click("[data-testid=confirm-prefill]");
  await city.page.waitForSelector("[data-testid=save-status][data-state=saved]");
  assert.equal(await city.page.inputValue("[data-testid=report-field][data-field='ii1.sessions']"), FULL_REPORT["ii1.sessions"]);
  assert.equal(await city.page.inputValue("[data-testid=report-field][data-field='ii6.petitions_resolved']"), "7");
  await city.context.setOffline(false);

  for (const p of [commune, city, snv]) assert.deepEqual(p.errors, []);
  for (const p of [commune, city, snv]) assertNoCspViolations(p.page);
});
