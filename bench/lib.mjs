// Shared helpers of the node benchmarks: machine description, the current period,
// percentiles, the sync content hash, and replacing one section of BENCHMARKS.md.
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { vnToday } from "../tests/e2e/harness.mjs";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

const sh = (cmd) => {
  try {
    return execSync(cmd, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "";
  }
};

export const commit = () => sh("git rev-parse --short HEAD") || "?";
export const today = () => new Date().toISOString().slice(0, 10);
export const machine = () => {
  const model = (cpus()[0]?.model ?? "?").trim();
  return `${sh("nproc") || cpus().length} × ${model} (shared machine)`;
};

/** The monthly period (Decree 09 window: from the 15th it is next month's) of today in Vietnam. */
export function currentPeriodKey() {
  const { y, m, d } = vnToday();
  let [year, month] = [y, m];
  if (d >= 15) {
    month += 1;
    if (month === 13) [year, month] = [year + 1, 1];
  }
  return `${year}-${String(month).padStart(2, "0")}`;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

/** Replaces the section whose first line is `heading` (up to the next `## `), or appends it. */
export function writeSection(heading, section) {
  if (process.env.BENCH_NO_WRITE) return;
  const path = join(ROOT, "BENCHMARKS.md");
  let text = existsSync(path)
    ? readFileSync(path, "utf8")
    : "# Benchmarks\n\nEach section says how to reproduce it. Ratios, not absolute times, are what to compare across machines.\n";
  const body = section.trim() + "\n";
  const start = text.indexOf(heading + "\n");
  if (start < 0) {
    text = text.trimEnd() + "\n\n" + body;
  } else {
    const next = text.indexOf("\n## ", start + heading.length);
    text = text.slice(0, start) + body + (next < 0 ? "" : "\n" + text.slice(next + 1));
  }
  writeFileSync(path, text);
}

/** As `writeSection`, but a section not yet in the file goes right before the section
 * headed `before` (so related sections stay together), or at the end if that is missing. */
export function writeSectionBefore(heading, section, before) {
  if (process.env.BENCH_NO_WRITE) return;
  const path = join(ROOT, "BENCHMARKS.md");
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const at = text.indexOf("\n" + before + "\n");
  if (text.includes(heading + "\n") || at < 0) return writeSection(heading, section);
  writeFileSync(path, text.slice(0, at + 1) + section.trim() + "\n\n" + text.slice(at + 1));
}

/** FNV-1a 64 over UTF-8 bytes, as `danvan_core::sync::content_hash`. */
export function fnv1a64(text) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}
