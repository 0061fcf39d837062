#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/<target>/) from the real data in
data/seed/ and request bodies like those of crates/server/tests/. Run once when
the formats change; libFuzzer grows its own copy under target/fuzz-corpus/.
Files are named by content, so running it again changes nothing."""
import hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed(path, mode="r"):
    with open(os.path.join(ROOT, "data", "seed", path), mode) as f:
        return f.read()


def js(v):
    # The way serde_json writes: no spaces, UTF-8 as is.
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def fnv(key, base, op):
    """crates/core/src/sync.rs `content_hash`: FNV-1a 64 of the JSON of (key, base, op)."""
    h = 0xCBF29CE484222325
    for b in js([key, base, op]).encode():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def mutation(i, key, base, op, device_time=None):
    m = {"id": i, "key": key, "base_version": base, "op": op, "content_hash": fnv(key, base, op)}
    if device_time:
        m["device_time"] = device_time
    return m


PLAN = "kh-413-ubnd-2024"
FORM = "kh-413-ubnd-2024.bao-cao"
DAKBLA = "kontum.tpkontum.dakbla"


def key(unit=DAKBLA, period="2024-03"):
    return {"plan_id": PLAN, "unit_id": unit, "period": period}


def save(pairs, attach=None, detach=None):
    body = {"form_id": FORM, "set": dict(sorted(pairs.items()))}
    if attach:
        body["attach"] = attach
    if detach:
        body["detach"] = detach
    return {"save": body}


PHOTO = {
    "id": "a1b2c3d4e5f60718",
    "section": "II.1",
    "name": "ảnh buổi tiếp dân.jpg",
    "mime": "image/jpeg",
    "size": 182344,
    "sha256": "ab" * 32,
}
FULL = {
    "ii1.sessions": "4", "ii1.participants": "120", "ii1.result": "Tổ chức 4 buổi tuyên truyền",
    "ii2.sessions_remote": "2", "ii2.sessions_ethnic": "1", "ii2.sessions_religious": "0",
    "ii2.participants": "60", "ii3.models_registered": "1", "ii3.models_recognised": "0",
    "ii3.collectives_commended": "0", "ii3.individuals_commended": "1", "ii4.dossiers_received": "30",
    "ii4.dossiers_on_time": "29", "ii5.inspections": "1", "ii5.officials_disciplined": "0",
    "ii6.reception_sessions": "2", "ii6.petitions_received": "5", "ii6.petitions_resolved": "5",
    "ii6.dialogues": "1", "ii7.supervisions": "1", "ii7.critiques": "0",
    "assessment": "Hoàn thành tốt", "next_tasks": "Tiếp tục",
}


def push(mutations, client="phone-1", epoch=None, schema=1):
    body = {"client_id": client, "schema_version": schema, "mutations": mutations}
    if epoch:
        body["epoch"] = epoch
    return js(body)


def sync():
    k = key()
    put("sync_push", push([mutation(1, k, 0, save({"ii1.sessions": "3"}))]))
    put("sync_push", push([
        mutation(1, k, 0, save(FULL, attach=[PHOTO])),
        mutation(2, k, 1, "submit", "2024-03-14T15:00:00Z"),
        mutation(3, k, 2, {"return": {"reason": "Thiếu số liệu mục II.4"}}),
        mutation(4, k, 3, save({"ii4.dossiers_on_time": "30", "ii4.dossiers_received": "30"}, detach=[PHOTO["id"]])),
        mutation(5, k, 4, "submit"),
        mutation(6, k, 5, "accept"),
    ], epoch="0190f3a2-7c1e-7000-8000-000000000001"))
    put("sync_push", push([mutation(1, key(period="2024"), 0, save({"assessment": "Năm 2024", "ii1.sessions": "-1"}))]))
    put("sync_push", push([mutation(1, key(unit="kontum.sonoivu", period="2024-12"), 0, save({"zz": "x"}))]))
    put("sync_push", push([], client="a b", schema=99))
    put("sync_push", '{"client_id":"phone-1","schema_version":1,"mutations":[{"id":1}]}')
    pull = {"client_id": "phone-1", "cursor": 0}
    put("sync_pull", js(pull))
    put("sync_pull", js({"client_id": "phone-1", "cursor": 412, "epoch": "0190f3a2-7c1e-7000-8000-000000000001"}))
    put("sync_pull", js({"client_id": "x" * 65, "cursor": 18446744073709551615, "epoch": None}))


def ids():
    for s in ["2024-03", "2024", "1900-01", "9999-12", "2024-13", "2024-3", "+2024", "kh-413-ubnd-2024~kontum.tpkontum.dakbla~2024-03",
              "kh-413-ubnd-2024~quangngai.23284~2025", "p~u~2024~x", "0190f3a2-7c1e_Ab", "ab" * 32,
              "image/jpeg; charset=binary", "APPLICATION/PDF", "AB" * 32 + " "]:
        put("report_ids", s)


def attachments():
    put("attachment_ref", js(PHOTO))
    put("attachment_ref", js(dict(PHOTO, id="../../admin", mime="image/svg+xml")))
    put("attachment_ref", js(dict(PHOTO, name="a\u0000b.jpg", size=0)))
    put("attachment_ref", "IMG_20240314_101500.jpg")


def units():
    put("unit_file", xlsx([["mã", "tên", "loại", "mã cấp trên", "hiệu lực từ"],
                           ["9901", "Xã Thử", "xã", "62", "01/01/2024"]]))
    put("unit_file", seed("units/kon-tum-2024.json"))
    put("unit_file", seed("units/quang-ngai-2025.csv"))
    put("unit_file", "loại,tên,mã,mã cấp trên,hiệu lực từ\r\nphường,Phường Đăk Cấm,23284,51,01/07/2025\r\n,,,,\r\n")
    put("unit_file", '[{"id": "p", "code": "62", "name": "Tỉnh", "kind": "province", "parent": null},'
                     '{"code": "1", "name": "Phường A", "kind": "commune", "designation": "ward", "parent_code": "62"}]')
    put("unit_file", "code;name;kind;parent;valid_from;valid_to;successors\n"
                     "99;Tỉnh Thử;tỉnh;;2024-01-01;;\n"
                     "9901;Xã Một;xã;99;01/01/2024;30/06/2025;9902\n"
                     "9902;Phường Hai;phường;99;01/07/2025;;\n")


def plans():
    plan = json.loads(seed("plans/kh-413-ubnd-2024.json"))
    form = json.loads(seed("forms/kh-413-ubnd-2024.json"))
    put("plan_import", js({"plan": plan, "form": form}))
    # The next version: a field more, the title changed.
    form2 = json.loads(json.dumps(form))
    form2["sections"][-1]["fields"].append({"id": "ghi_chu", "label": "Ghi chú", "label_en": "Notes", "kind": {"text": {"max_chars": 500}}})
    plan2 = dict(plan, title=plan["title"] + " (sửa đổi)")
    put("plan_import", js({"plan": plan2, "form": form2}))
    # A new plan for another year, without a form and with a one-off obligation only.
    plan3 = json.loads(json.dumps(plan))
    plan3["id"] = "kh-thu-2026"
    plan3["issued_on"] = "2026-01-15"
    for item in plan3["items"]:
        for o in item["obligations"]:
            o["due"] = "continuous"
    put("plan_import", js({"plan": plan3}))


def xlsx(rows):
    """A minimal .xlsx (one sheet, inline strings), as calamine reads it."""
    import io, zipfile
    from xml.sax.saxutils import escape
    def cell(r, c, v):
        ref = chr(ord("A") + c) + str(r + 1)
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
    sheet = "".join(f'<row r="{r + 1}">' + "".join(cell(r, c, v) for c, v in enumerate(row)) + "</row>"
                    for r, row in enumerate(rows))
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{sheet}</sheetData></worksheet>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, text in files.items():
            # A fixed date: the same bytes on every run.
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, text)
    return buf.getvalue()


def accounts():
    put("account_import", xlsx([["Tên đăng nhập", "Họ và tên", "Mã đơn vị", "Vai trò", "Điện thoại"],
                                ["xa.ngocbay", "Nguyễn Văn A", 23293, "Cán bộ báo cáo", 912345678]]))
    put("account_import", "Tên đăng nhập,Họ và tên,Mã đơn vị,Vai trò,Điện thoại,Email\r\n"
                          "xa.ngocbay,Nguyễn Văn A,23293,Cán bộ báo cáo,0912 345 678,a@example.vn\r\n"
                          "tp.kontum2,Trần Thị B,kontum.tpkontum,reviewer,,\r\n")
    put("account_import", "\ufeffusername;name;unit;role\nxa.dakbla;X;1;admin\nXA.DAKBLA ; Y ;00001;quản trị\n")
    put("account_import", 'username,full name,unit code,role\n"a,b","say ""hi""",51,aggregator\n')
    for s in ["xa.dakbla\u0000Matkhau-moi-2025!", "ABCD-EFGH-JKMN", "#ma=abcd efgh jkmn&x=1",
              "Cán bộ thẩm định", " Tổng hợp cấp tỉnh ", "danvan2024", "Xa.DakBla \u0000xa.dakbla123"]:
        put("account_text", s)


def local_reports():
    k = key()
    report = {"key": k, "form_id": FORM, "status": "draft", "values": {"ii1.sessions": "3"}, "attachments": [PHOTO],
              "version": 2, "updated_at": "2024-03-10T03:00:00Z", "updated_by": "Nguyễn Văn A",
              "submitted_at": None, "return_reason": None}
    base = dict(report, values={"ii1.sessions": "2", "ii1.result": "x"}, attachments=[])
    put("local_report", js([{"report": report, "base": base, "last_mutation": 7, "saved_at": "2024-03-10T04:00:00Z"}]))
    put("local_report", js([{"report": dict(report, status="returned", return_reason="Thiếu",
                                            first_sent_on_device_at="2024-03-14T15:00:00Z", values={"": ""})}]))


if __name__ == "__main__":
    sync(); ids(); attachments(); units(); plans(); accounts(); local_reports()
    print("corpus written to", OUT, file=sys.stderr)
