#!/usr/bin/env python3
"""chaos-summary.py RUNS.TSV: the table of RELIABILITY.md from the per-run lines
the fault harness appends (crates/server/tests/chaos.rs, CHAOS_SUMMARY): one row
per engine, then the total.

Columns of a line: engine, seed, devices, reviewer, edits, kills, requests,
faults, acknowledged mutations, conflicts answered, milliseconds, violations,
saves of a month outside the plan (absent from lines written before the harness
made them: counted as 0).
"""
import collections
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
rows = [r + ["0"] * (13 - len(r)) for r in rows]
engines = collections.OrderedDict()
for r in rows:
    engines.setdefault(r[0], []).append(r)

print("| Engine | Runs | Seeds | Devices | Edits | Kills | Requests | Faults injected "
      "| Mutations acknowledged | Conflicts answered | Saves outside the plan | Violations | Wall time |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
total = collections.Counter()
for engine, rs in engines.items():
    col = lambda i: sum(int(r[i]) for r in rs)
    seeds = [int(r[1]) for r in rs]
    failed = sum(1 for r in rs if int(r[11]) > 0)
    ms = col(10)
    print(f"| {engine} | {len(rs)} | {min(seeds)}–{max(seeds)} | {col(2)} | {col(4)} | {col(5)} | {col(6)} "
          f"| {col(7)} | {col(8)} | {col(9)} | {col(12)} | {col(11)} ({failed} runs) "
          f"| {ms / 60000:.1f} min ({ms / len(rs) / 1000:.1f} s/run) |")
    for key, i in [("devices", 2), ("edits", 4), ("kills", 5), ("requests", 6), ("faults", 7),
                   ("acked", 8), ("conflicts", 9), ("ms", 10), ("violations", 11), ("outside", 12)]:
        total[key] += col(i)
    total["runs"] += len(rs)
    total["failed"] += failed
if len(engines) > 1:
    print(f"| all | {total['runs']} | | {total['devices']} | {total['edits']} | {total['kills']} "
          f"| {total['requests']} | {total['faults']} | {total['acked']} | {total['conflicts']} | {total['outside']} "
          f"| {total['violations']} ({total['failed']} runs) | {total['ms'] / 60000:.1f} min |")
