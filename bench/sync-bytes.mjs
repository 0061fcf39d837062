// Sync wire bytes: what one filled monthly report costs to push, what submitting
// it costs, and what an empty pull (nothing changed) costs, over real HTTP against
// the release server binary on a fresh database.
//
// Usage: node bench/sync-bytes.mjs   (part of `make bench`; needs `make server`)
// Prints a markdown table and replaces the "## Sync: wire bytes" section of
// BENCHMARKS.md (BENCH_NO_WRITE=1: print only).
import http from "node:http";
import { randomBytes } from "node:crypto";
import zlib from "node:zlib";
import { startServer } from "../tests/e2e/harness.mjs";
import { commit, currentPeriodKey, fnv1a64, machine, today, writeSection } from "./lib.mjs";

const HEADING = "## Sync: wire bytes";
const PLAN = "kh-413-ubnd-2024";
const UNIT = "kontum.tpkontum.dakbla";
// What Chromium sends; the server compresses its answers accordingly.
const ACCEPT_ENCODING = "gzip, deflate, br";

// A filled monthly report of Đăk Blà commune: every field of the form, counts that
// satisfy the form's rules, short narratives (1–3 sentences) as a commune official
// writes them.
const VALUES = {
  "ii1.sessions": "6",
  "ii1.participants": "415",
  "ii1.result":
    "Tổ chức 6 buổi tuyên truyền Luật Đất đai năm 2024 và chính sách hỗ trợ hộ nghèo tại các thôn. " +
    "Lồng ghép nội dung vào các buổi sinh hoạt chi bộ và họp thôn.",
  "ii2.sessions_remote": "2",
  "ii2.sessions_ethnic": "4",
  "ii2.sessions_religious": "1",
  "ii2.participants": "260",
  "ii2.result":
    "Tuyên truyền bằng tiếng Ba Na tại thôn Kon Rơ Bàng 1 và Kon Jơ Ri, có già làng, người có uy tín tham gia. " +
    "Bà con đồng thuận với chủ trương chuyển đổi cây trồng.",
  "ii3.models_registered": "3",
  "ii3.models_recognised": "1",
  "ii3.collectives_commended": "2",
  "ii3.individuals_commended": "5",
  "ii3.result":
    "Mô hình \"Dân vận khéo\" trong vận động nhân dân hiến đất làm đường giao thông nông thôn được huyện công nhận. " +
    "Hai mô hình về giữ gìn vệ sinh môi trường đang được theo dõi, đánh giá.",
  "ii4.dossiers_received": "148",
  "ii4.dossiers_on_time": "146",
  "ii4.result":
    "Bộ phận một cửa tiếp nhận 148 hồ sơ, giải quyết đúng hạn 146 hồ sơ; 2 hồ sơ trễ hạn do phải xác minh nguồn gốc đất. " +
    "Tỷ lệ hồ sơ nộp trực tuyến đạt 41%.",
  "ii5.inspections": "1",
  "ii5.officials_disciplined": "0",
  "ii5.result":
    "Kiểm tra việc chấp hành giờ giấc làm việc tại trụ sở Ủy ban nhân dân xã, không phát hiện vi phạm.",
  "ii6.reception_sessions": "4",
  "ii6.petitions_received": "7",
  "ii6.petitions_resolved": "6",
  "ii6.dialogues": "1",
  "ii6.result":
    "Chủ tịch Ủy ban nhân dân xã tiếp công dân định kỳ 4 buổi, tiếp nhận 7 đơn chủ yếu về tranh chấp ranh giới đất. " +
    "Đã giải quyết 6 đơn, 1 đơn đang xác minh. Tổ chức 1 buổi đối thoại với nhân dân thôn Kon Mơ Nay Kơ Tu.",
  "ii7.supervisions": "2",
  "ii7.critiques": "1",
  "ii7.result":
    "Phối hợp với Mặt trận Tổ quốc xã giám sát việc bình xét hộ nghèo năm 2024 và góp ý dự thảo quy hoạch khu dân cư.",
  "assessment":
    "Công tác dân vận của chính quyền xã được triển khai đồng bộ, nhân dân đồng tình ủng hộ. " +
    "Hạn chế: tuyên truyền ở vùng đồng bào dân tộc thiểu số còn thiếu tài liệu song ngữ; " +
    "một số cán bộ thôn chưa nắm chắc quy trình tiếp nhận đơn thư.",
  "difficulties":
    "Địa bàn rộng, đường vào một số thôn bị sạt lở trong mùa mưa; kinh phí cho hoạt động tuyên truyền còn hạn chế.",
  "proposals":
    "Đề nghị huyện hỗ trợ in tài liệu tuyên truyền song ngữ Việt – Ba Na và bố trí kinh phí sửa chữa đường vào thôn Kon Jơ Ri.",
  "next_tasks":
    "Tiếp tục tuyên truyền Luật Đất đai năm 2024; hoàn thành giải quyết đơn còn tồn đọng. " +
    "Chuẩn bị hội nghị đối thoại giữa Chủ tịch Ủy ban nhân dân xã với thanh niên.",
};


/**
 * A mutation exactly as the app serialises it (serde_json, compact; fields in
 * declaration order; `set` a BTreeMap, so keys sorted by bytes; empty attach/detach
 * left out). The hash is over the JSON of (key, base_version, op).
 */
function mutation(id, key, baseVersion, op) {
  return { id, key, base_version: baseVersion, op, content_hash: fnv1a64(JSON.stringify([key, baseVersion, op])) };
}

function sortedSet(values) {
  const out = {};
  for (const k of Object.keys(values).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) out[k] = values[k];
  return out;
}

/**
 * POSTs `body` (a string) on a connection of its own and counts the socket's bytes
 * both ways: the request as node writes it (request line, headers, body) and the
 * response as it arrives (status line, headers, body as sent, compressed or not).
 */
function post(url, path, json, token, acceptEncoding = ACCEPT_ENCODING) {
  return new Promise((ok, fail) => {
    // As the app does (src/api.rs, GZIP_ABOVE): pushes over 1 KB go gzipped, made
    // by the browser's CompressionStream (zlib's default level, as here).
    const gzipped = path === "/api/sync/push" && Buffer.byteLength(json) > 1024;
    const body = gzipped ? zlib.gzipSync(Buffer.from(json)) : json;
    const headers = {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "Accept-Encoding": acceptEncoding,
    };
    if (gzipped) headers["Content-Encoding"] = "gzip";
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = http.request(`${url}${path}`, { method: "POST", headers, agent: false });
    let socket;
    req.on("socket", (s) => (socket = s));
    req.on("error", fail);
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const wire = Buffer.concat(chunks);
        const enc = res.headers["content-encoding"];
        const decoded =
          enc === "br" ? zlib.brotliDecompressSync(wire) : enc === "gzip" ? zlib.gunzipSync(wire) : enc === "deflate" ? zlib.inflateSync(wire) : wire;
        const finish = () =>
          ok({
            status: res.statusCode,
            encoding: enc ?? "identity",
            json: JSON.parse(decoded.toString("utf8")),
            reqBody: Buffer.byteLength(body),
            reqJson: Buffer.byteLength(json),
            reqEncoding: gzipped ? "gzip" : "identity",
            reqTotal: socket.bytesWritten,
            resBodyWire: wire.length,
            resBodyDecoded: decoded.length,
            resTotal: socket.bytesRead,
          });
        // bytesRead is final once the socket has read everything; close it to be sure.
        if (socket.destroyed) finish();
        else {
          socket.once("close", finish);
          socket.destroy();
        }
      });
    });
    req.end(body);
  });
}

const gzipSize = (s) => zlib.gzipSync(Buffer.from(s), { level: 9 }).length;
const brSize = (s) => zlib.brotliCompressSync(Buffer.from(s)).length;

const server = await startServer();
try {
  const login = await post(server.url, "/api/auth/login", JSON.stringify({ username: "xa.dakbla", password: "danvan2024" }));
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const token = login.json.token;
  // The app's client id: 16 random bytes as hex.
  const clientId = randomBytes(16).toString("hex");

  // First sync: the app pulls before anything else and keeps the epoch and cursor.
  const first = await post(server.url, "/api/sync/pull", JSON.stringify({ client_id: clientId, cursor: 0, epoch: null }), token);
  const epoch = first.json.epoch;

  const key = { plan_id: PLAN, unit_id: UNIT, period: currentPeriodKey() };
  // The report page records saves with an empty form_id (the server takes the plan's form).
  const save = mutation(1, key, 0, { save: { form_id: "", set: sortedSet(VALUES) } });
  const pushBody = JSON.stringify({ client_id: clientId, epoch, schema_version: 1, mutations: [save] });
  const push = await post(server.url, "/api/sync/push", pushBody, token);
  const r1 = push.json.results?.[0]?.result;
  if (push.status !== 200 || !r1?.applied) throw new Error(`push not applied: ${push.status} ${JSON.stringify(push.json)}`);

  const submit = mutation(2, key, r1.applied.version, "submit");
  const submitBody = JSON.stringify({ client_id: clientId, epoch, schema_version: 1, mutations: [submit] });
  const sub = await post(server.url, "/api/sync/push", submitBody, token);
  const r2 = sub.json.results?.[0]?.result;
  if (sub.status !== 200 || !r2?.applied) throw new Error(`submit not applied: ${sub.status} ${JSON.stringify(sub.json)}`);

  // After pushing, the app pulls: its own report comes back once…
  const pull1 = await post(server.url, "/api/sync/pull", JSON.stringify({ client_id: clientId, cursor: first.json.cursor, epoch }), token);
  if (pull1.json.changes.length !== 1) throw new Error(`expected the report back, got ${pull1.json.changes.length}`);
  // …and from then on, with nothing changed, a pull is empty.
  const empty = await post(server.url, "/api/sync/pull", JSON.stringify({ client_id: clientId, cursor: pull1.json.cursor, epoch }), token);
  if (empty.json.changes.length !== 0) throw new Error("expected an empty pull");
  // The same without compression, for comparison.
  const emptyIdentity = await post(server.url, "/api/sync/pull", JSON.stringify({ client_id: clientId, cursor: pull1.json.cursor, epoch }), token, "identity");

  const texts = Object.entries(VALUES).filter(([k]) => k.endsWith(".result") || !k.includes("."));
  const counts = Object.keys(VALUES).length - texts.length;
  const textChars = texts.reduce((n, [, v]) => n + [...v].length, 0);
  const textBytes = texts.reduce((n, [, v]) => n + Buffer.byteLength(v), 0);
  const setJson = JSON.stringify(sortedSet(VALUES));

  const row = (name, m) =>
    `| ${name} | ${m.reqBody} | ${m.reqTotal} | ${m.resBodyWire} (${m.encoding}; ${m.resBodyDecoded} decoded) | ${m.resTotal} | ${m.reqTotal + m.resTotal} |`;
  const pushLimit = 3000;
  const pullLimit = 300;
  const pushOk = push.reqBody <= pushLimit;
  const pullOk = empty.resTotal <= pullLimit;

  const section = `${HEADING}

Bytes on the wire for one report's sync, over real HTTP/1.1 against the release
server binary on a fresh database (\`node bench/sync-bytes.mjs\`, part of \`make bench\`),
as the demo reporter \`xa.dakbla\` on this month's report (\`${key.period}\`). Measured ${today()},
commit \`${commit()}\`, ${machine()}.

The report is filled completely, every field of the form (${counts} counts and ${texts.length}
narratives of 1–3 Vietnamese sentences, ${textChars} characters = ${textBytes} bytes of UTF-8 in all,
${Math.round(textChars / texts.length)} characters each on average), and pushed as the app sends
it: one Save mutation carrying all fields (edits fold into the open outbox entry),
serialised like serde_json, with the real FNV-1a content hash — the server answered
\`applied\` — then a Submit mutation. Requests: bodies as the app sends them; "request
total" adds the request line and headers as *node* writes them (Host, Content-Type,
Content-Length, Authorization: Bearer, Accept-Encoding, Connection), not Chromium's
longer set (User-Agent, Origin, Referer, sec-ch-* …, typically several hundred bytes
more). Responses: read from the socket with \`Accept-Encoding: ${ACCEPT_ENCODING}\` as
Chromium sends it, status line and headers included.

| exchange | request body | request total | response body on the wire | response total | both ways |
|---|---:|---:|---:|---:|---:|
${row("push: the filled report (1 Save, all fields)", push)}
${row("push: submit it", sub)}
${row("pull: the report comes back", pull1)}
${row("pull: nothing changed (empty)", empty)}
${row("(for comparison) the empty pull with `Accept-Encoding: identity`", emptyIdentity)}

- Push of one filled report ≤ 3 KB (3,000 B), the request body as the app sends it (${push.reqEncoding}; the JSON is ${push.reqJson} B): **${pushOk ? "met" : "MISSED"}** — ${push.reqBody} B
  (${Math.round((push.reqBody / pushLimit) * 100)} % of the budget; ${push.reqTotal} B with node's request headers).
  ${pushOk ? "" : `The narratives alone are ${textBytes} B of UTF-8 (Vietnamese letters with diacritics take 2–3 bytes each), the field ids, the counts and the JSON punctuation ${Buffer.byteLength(setJson) - textBytes} B, the envelope (client id, epoch, key, hash) the rest. For comparison, gzip -9 of the JSON would be ${gzipSize(pushBody)} B, brotli ${brSize(pushBody)} B.`}
- Empty pull ≤ 300 B: **${pullOk ? "met" : "MISSED"}** — ${empty.resTotal} B for the whole response
  (${empty.resBodyWire} B body as sent, ${empty.resBodyDecoded} B decoded, the rest status line and headers); the
  request is ${empty.reqBody} B of body, ${empty.reqTotal} B with node's headers. Compressing so small a body
  gains nothing: uncompressed the same answer is ${emptyIdentity.resTotal} B (compressed answers go out chunked with
  \`content-encoding\` and \`vary\` headers).
`;
  console.log(section);
  writeSection(HEADING, section);
} finally {
  await server.cleanup();
}
