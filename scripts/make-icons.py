#!/usr/bin/env python3
"""Draws the app icons (a yellow five-pointed star on red, the colours of official
documents' seals) as PNGs with the standard library only. Run once; the PNGs are
committed. Usage: python3 scripts/make-icons.py public/icons"""
import math, struct, sys, zlib
from pathlib import Path

RED, YELLOW = (166, 27, 27), (255, 205, 0)

def star(cx, cy, r_out, r_in):
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts

def inside(poly, x, y):
    hit = False
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]; xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit

def icon(size, scale):
    poly = star(size / 2, size * 0.53, size * 0.36 * scale, size * 0.145 * scale)
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 2x2 supersampling for smooth edges
            cover = sum(inside(poly, x + dx, y + dy) for dx in (0.25, 0.75) for dy in (0.25, 0.75)) / 4
            row += bytes(round(RED[k] * (1 - cover) + YELLOW[k] * cover) for k in range(3))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")

out = Path(sys.argv[1] if len(sys.argv) > 1 else "public/icons")
out.mkdir(parents=True, exist_ok=True)
(out / "icon-192.png").write_bytes(icon(192, 1.0))
(out / "icon-512.png").write_bytes(icon(512, 1.0))
# Maskable icons keep their content inside the central 80% safe zone.
(out / "icon-maskable-512.png").write_bytes(icon(512, 0.75))
