//! The official exports of a consolidation, checked as a reader gets them: the
//! .docx converted by LibreOffice to PDF and read back with poppler (text, page
//! size, fonts) and its XML checked for the decree's layout; the .xlsx read back
//! with calamine; the CSV parsed.
//!
//! Needs `soffice` (LibreOffice) and poppler-utils (`pdftotext`, `pdfinfo`,
//! `pdffonts`); a missing tool fails the test with what to install.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use danvan_core::aggregate::{consolidate, figures, AcceptedReport, Consolidation, ModelCounts, ModelField};
use danvan_core::{OrgUnit, Period, Plan, ReportForm, UnitTree, Values};
use danvan_server::export::{csv, docx, xlsx, DocxInput, ExportError};

const UNITS_JSON: &str = include_str!("../../../data/seed/units/kon-tum-2024.json");
const PLAN_JSON: &str = include_str!("../../../data/seed/plans/kh-413-ubnd-2024.json");
const FORM_JSON: &str = include_str!("../../../data/seed/forms/kh-413-ubnd-2024.json");

const CITY: &str = "kontum.tpkontum";
const DAKBLA: &str = "kontum.tpkontum.dakbla";
const QUANGTRUNG: &str = "kontum.tpkontum.quangtrung";
const DUYTAN: &str = "kontum.tpkontum.duytan";

/// Special characters in a narrative: XML must escape them once, not twice.
const DAKBLA_II1: &str = "Tuyên truyền Luật Đất đai & Luật Nhà ở tại thôn <Kon Rơ Wang>";

struct Fixture {
    units: UnitTree,
    plan: Plan,
    form: ReportForm,
    c: Consolidation,
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Thành phố Kon Tum, March 2024: three communes' accepted reports.
fn fixture() -> Fixture {
    fixture_with(DAKBLA_II1)
}

/// [`fixture`] with another text for Đăk Blà's II.1 result.
fn fixture_with(dakbla_ii1: &str) -> Fixture {
    let units: Vec<OrgUnit> = serde_json::from_str(UNITS_JSON).expect("seed units parse");
    let units = UnitTree::new(units).expect("seed units form a tree");
    let plan: Plan = serde_json::from_str(PLAN_JSON).expect("seed plan parses");
    let form: ReportForm = serde_json::from_str(FORM_JSON).expect("seed form parses");

    let common = |sessions: u64, participants: u64, received: u64, pet_rec: u64, pet_res: u64| {
        counts(&[
            ("ii1.sessions", sessions),
            ("ii1.participants", participants),
            ("ii2.sessions_remote", 1),
            ("ii2.sessions_ethnic", 1),
            ("ii2.sessions_religious", 0),
            ("ii2.participants", 50),
            ("ii3.models_registered", 1),
            ("ii3.models_recognised", 0),
            ("ii3.collectives_commended", 0),
            ("ii3.individuals_commended", 2),
            ("ii4.dossiers_received", received),
            ("ii4.dossiers_on_time", received),
            ("ii5.inspections", 1),
            ("ii5.officials_disciplined", 0),
            ("ii6.reception_sessions", 2),
            ("ii6.petitions_received", pet_rec),
            ("ii6.petitions_resolved", pet_res),
            ("ii6.dialogues", 1),
            ("ii7.supervisions", 1),
            ("ii7.critiques", 0),
        ])
    };
    let mut reports: Vec<(&str, Values)> = vec![
        (DAKBLA, common(5, 600, 1500, 3, 3).into_iter().collect()),
        (QUANGTRUNG, common(7, 450, 320, 4, 2).into_iter().collect()),
        (DUYTAN, common(2, 180, 187, 5, 5).into_iter().collect()),
    ];
    let text = |r: &mut Values, k: &str, v: &str| {
        r.insert(k.to_string(), v.to_string());
    };
    text(&mut reports[0].1, "ii1.result", dakbla_ii1);
    text(&mut reports[0].1, "assessment", "Cán bộ xã gần dân, sát dân hơn.");
    text(&mut reports[1].1, "ii6.result", "Tiếp 12 lượt công dân.\nĐối thoại về chỉnh trang đô thị.");
    text(&mut reports[2].1, "proposals", "Đề nghị hỗ trợ kinh phí in tờ rơi song ngữ.");

    let figs: Vec<_> = reports.iter().map(|(_, v)| figures(&form, v)).collect();
    let accepted: HashMap<String, AcceptedReport<'_>> = reports
        .iter()
        .zip(&figs)
        .map(|((unit, values), figures)| (unit.to_string(), AcceptedReport { figures, values }))
        .collect();
    let mut models = ModelCounts { registered: 3, recognised: 1, commended: 0, ..Default::default() };
    models.by_field.insert(ModelField::Economy, [2, 1, 0]);
    models.by_field.insert(ModelField::PoliticalSystem, [1, 0, 0]);
    let period = Period::Month { year: 2024, month: 3 };
    let now = Utc.with_ymd_and_hms(2024, 3, 15, 3, 0, 0).unwrap();
    let c = consolidate(&plan, &form, &units, CITY, &period, &accepted, &models, now).expect("the city is in the tree");

    // The sums the documents must show, computed here by hand.
    assert_eq!(c.totals["ii1.sessions"], 14);
    assert_eq!(c.totals["ii1.participants"], 1230);
    assert_eq!(c.totals["ii4.dossiers_received"], 2007);
    assert_eq!(c.totals["ii6.petitions_resolved"], 10);
    assert_eq!(c.sources.len(), 3);
    Fixture { units, plan, form, c }
}

// ---------------------------------------------------------------------------
// Tools.

/// Runs a tool to completion (at most `limit`), failing the test with what to
/// install when it is missing.
fn run_tool(program: &str, args: &[&str], limit: Duration) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            let package =
                if program == "soffice" { "LibreOffice Writer (libreoffice-writer-nogui)" } else { "poppler-utils" };
            panic!(
                "`{program}` could not be started ({e}). The export tests need {package}: run `make setup`, \
                 which installs it (or `apt-get install libreoffice-writer-nogui poppler-utils`)."
            )
        });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for the tool").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{program} {}` took longer than {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("the tool's output");
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Whitespace runs to one space: justified lines and line wraps do not matter.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The .docx as LibreOffice prints it: the PDF's path, in a temp dir kept alive
/// by the first value.
fn print_docx(bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("bao-cao.docx");
    std::fs::write(&path, bytes).expect("written");
    let profile = format!("-env:UserInstallation=file://{}", dir.path().join("lo-profile").display());
    let outdir = dir.path().display().to_string();
    run_tool(
        "soffice",
        &[&profile, "--headless", "--convert-to", "pdf", "--outdir", &outdir, &path.display().to_string()],
        Duration::from_secs(180),
    );
    let pdf = dir.path().join("bao-cao.pdf");
    assert!(pdf.exists(), "soffice wrote no PDF");
    let pdf = pdf.display().to_string();
    (dir, pdf)
}

fn docx_part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a zip");
    let mut part = zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the .docx"));
    let mut xml = String::new();
    part.read_to_string(&mut xml).expect("UTF-8 XML");
    xml
}

// ---------------------------------------------------------------------------

#[test]
fn docx_follows_decree_30_and_carries_the_figures() {
    let f = fixture();
    let date = NaiveDate::from_ymd_opt(2024, 3, 16).unwrap();
    let input = DocxInput::new(&f.c, &f.form, &f.plan, &f.units, date).expect("the city is in the tree");
    assert_eq!(input.issuer.full_name(), "ỦY BAN NHÂN DÂN THÀNH PHỐ KON TUM");
    let bytes = docx(&input).expect("renders");

    // Deflated (docx-rs alone stores the parts uncompressed): small on 2G.
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).expect("a .docx is a zip");
    assert_eq!(archive.by_name("word/document.xml").unwrap().compression(), zip::CompressionMethod::Deflated);
    assert!(bytes.len() < 30_000, "{} bytes", bytes.len());

    // The XML: page, margins, fonts, page numbers from page 2.
    let document = docx_part(&bytes, "word/document.xml");
    assert!(document.contains(r#"<w:pgSz w:w="11906" w:h="16838" />"#), "A4");
    assert!(
        document.contains(r#"<w:pgMar w:top="1134" w:right="850" w:bottom="1134" w:left="1701""#),
        "margins 20/15/20/30 mm"
    );
    assert!(document.contains(r#"<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman" w:eastAsia="Times New Roman" />"#));
    assert!(!document.contains("Calibri") && !document.contains("Arial"));
    assert!(document.contains("<w:titlePg />"), "a different first page, without the page number");
    assert!(document.contains(r#"<w:headerReference w:type="first""#));
    let headers: Vec<String> = ["word/header1.xml", "word/header2.xml"].iter().map(|h| docx_part(&bytes, h)).collect();
    assert_eq!(headers.iter().filter(|h| h.contains("<w:instrText>PAGE</w:instrText>")).count(), 1);
    assert!(docx_part(&bytes, "word/styles.xml").contains(r#"w:ascii="Times New Roman""#));
    // Escaped once: the PDF below shows the characters themselves.
    assert!(document.contains("Luật Đất đai &amp; Luật Nhà ở tại thôn &lt;Kon Rơ Wang&gt;"));

    // As LibreOffice prints it.
    let (_dir, pdf) = print_docx(&bytes);

    let info = run_tool("pdfinfo", &[&pdf], Duration::from_secs(30));
    let size = info.lines().find_map(|l| l.strip_prefix("Page size:")).expect("pdfinfo gives the page size");
    let dims: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).take(2).collect();
    assert!(
        dims.len() == 2 && (dims[0] - 595.0).abs() <= 1.0 && (dims[1] - 842.0).abs() <= 1.0,
        "A4 (595 x 842 pt), got {size}"
    );
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("pdfinfo gives the page count");
    assert!(pages >= 2, "the sample fills more than a page ({pages})");

    // Times New Roman, or LibreOffice's metric-compatible stand-in where it is not
    // installed; never a fallback font for missing Vietnamese glyphs.
    let fonts = run_tool("pdffonts", &[&pdf], Duration::from_secs(30));
    assert!(fonts.contains("TimesNewRoman") || fonts.contains("LiberationSerif"), "{fonts}");
    assert!(!fonts.contains("DejaVu"), "a glyph fell back to another font: {fonts}");

    let text = run_tool("pdftotext", &["-layout", &pdf, "-"], Duration::from_secs(30));
    let flat = squash(&text);
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN",
        "THÀNH PHỐ KON TUM",
        "/BC-UBND",
        "Kon Tum, ngày 16 tháng 3 năm 2024",
        "BÁO CÁO",
        "Kết quả thực hiện công tác dân vận của cơ quan hành chính nhà nước, chính quyền các cấp tháng 03/2024",
        "Thực hiện Kế hoạch số 413/KH-UBND ngày 01/02/2024",
        "Phổ biến, quán triệt, tuyên truyền chủ trương, chính sách, pháp luật",
        "- Số buổi tuyên truyền, phổ biến: 14.",
        "- Số lượt người tham dự: 1.230.",
        "- Số hồ sơ thủ tục hành chính tiếp nhận: 2.007.",
        "- Số đơn thư đã giải quyết: 10.",
        "Xã Đăk Blà: Tuyên truyền Luật Đất đai & Luật Nhà ở tại thôn <Kon Rơ Wang>",
        "Phường Quang Trung: Tiếp 12 lượt công dân.",
        "Đối thoại về chỉnh trang đô thị.",
        "ĐỀ XUẤT, KIẾN NGHỊ",
        "Phường Duy Tân: Đề nghị hỗ trợ kinh phí in tờ rơi song ngữ.",
        "Kinh tế 2/1/0",
        "Xây dựng hệ thống chính trị 1/0/0",
        "Nơi nhận:",
        "- Sở Nội vụ (b/c);",
        "- Lưu: VT.",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
    ] {
        assert!(flat.contains(expected), "the PDF lacks «{expected}»:\n{text}");
    }
    // The units still missing an accepted report are named.
    let missing = format!("Đơn vị chưa có báo cáo được duyệt ({}):", f.c.without_accepted.len());
    assert!(flat.contains(&missing) && flat.contains("Phường Ngô Mây"), "{text}");
    // No page number on the first page: it starts with the header table.
    assert!(text.trim_start().starts_with("ỦY BAN NHÂN DÂN"), "{}", &text[..200.min(text.len())]);
}

#[test]
fn docx_drops_characters_xml_cannot_hold_and_still_opens() {
    // Pasted from another program, a narrative can carry characters XML 1.0 has
    // no place for: control characters, U+FFFE and U+FFFF. (A lone surrogate
    // cannot reach here: JSON decoding refuses it and Rust strings cannot hold one.)
    let narrative = "Họp dân\u{FFFE} thôn\u{FFFF} Kon\u{1}\u{B}\u{1B} Rơ Wang\u{7F}\u{8}: 40 hộ\ttham dự";
    let f = fixture_with(narrative);
    let date = NaiveDate::from_ymd_opt(2024, 3, 16).unwrap();
    let input = DocxInput::new(&f.c, &f.form, &f.plan, &f.units, date).expect("the city is in the tree");
    let bytes = docx(&input).expect("renders");
    let document = docx_part(&bytes, "word/document.xml");
    let xml_char = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
    assert!(document.chars().all(xml_char), "a character XML cannot hold is in document.xml");
    assert!(document.contains("Họp dân thôn Kon Rơ Wang: 40 hộ"), "the text around them is kept");

    // And it opens: LibreOffice reads it and prints the narrative.
    let (_dir, pdf) = print_docx(&bytes);
    let text = run_tool("pdftotext", &["-layout", &pdf, "-"], Duration::from_secs(30));
    assert!(squash(&text).contains("Xã Đăk Blà: Họp dân thôn Kon Rơ Wang: 40 hộ tham dự"), "{text}");
}

#[test]
fn docx_refuses_a_period_or_form_that_is_not_the_consolidations() {
    let f = fixture();
    let date = NaiveDate::from_ymd_opt(2024, 3, 16).unwrap();
    let mut input = DocxInput::new(&f.c, &f.form, &f.plan, &f.units, date).unwrap();
    input.period = Period::Month { year: 2024, month: 4 };
    let err = docx(&input).unwrap_err();
    assert!(matches!(err, ExportError::PeriodMismatch { .. }));
    assert!(err.to_string().contains("2024-03"), "{err}");
    let mut other = f.form.clone();
    other.id = "another-form".into();
    assert!(matches!(xlsx(&f.c, &other), Err(ExportError::FormMismatch { .. })));
}

#[test]
fn xlsx_reads_back_with_labels_units_and_totals() {
    use calamine::{Data, Reader, Xlsx};

    let f = fixture();
    let bytes = xlsx(&f.c, &f.form).expect("renders");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a valid .xlsx");
    assert_eq!(book.sheet_names(), ["Chỉ tiêu"]);
    let sheet = book.worksheet_range("Chỉ tiêu").expect("the sheet");
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    let s = |v: &str| Data::String(v.to_string());

    match cell(0, 0) {
        Data::String(t) => assert!(t.contains("Thành phố Kon Tum") && t.contains("Tháng 03/2024"), "{t}"),
        other => panic!("title: {other:?}"),
    }
    assert_eq!(cell(1, 0), s("STT"));
    assert_eq!(cell(1, 1), s("Đơn vị"));
    assert_eq!(cell(1, 2), s("Số buổi tuyên truyền, phổ biến"));
    assert_eq!(cell(1, 3), s("Số lượt người tham dự"));
    let header: Vec<Data> = (0..sheet.width() as u32).map(|c| cell(1, c)).collect();
    let col =
        |label: &str| header.iter().position(|h| *h == s(label)).unwrap_or_else(|| panic!("column {label}")) as u32;
    // 2 + every count field of a monthly report (all of them in this form).
    let count_fields = f.form.fields().filter(|x| x.kind == danvan_core::form::FieldKind::Count).count();
    assert_eq!(header.len(), 2 + count_fields);

    // A unit row, numbers as numbers.
    let row = (2..sheet.height() as u32).find(|&r| cell(r, 1) == s("Xã Đăk Blà")).expect("Đăk Blà's row");
    assert_eq!(cell(row, 0), Data::Float(1.0 + f.c.sources.iter().position(|u| u.unit_id == DAKBLA).unwrap() as f64));
    assert_eq!(cell(row, 2), Data::Float(5.0));
    assert_eq!(cell(row, col("Số hồ sơ thủ tục hành chính tiếp nhận")), Data::Float(1500.0));

    // The total row last.
    let last = sheet.height() as u32 - 1;
    assert_eq!(last, 2 + f.c.sources.len() as u32);
    assert_eq!(cell(last, 1), s("Tổng cộng"));
    assert_eq!(cell(last, 2), Data::Float(14.0));
    assert_eq!(cell(last, 3), Data::Float(1230.0));
    assert_eq!(cell(last, col("Số hồ sơ thủ tục hành chính tiếp nhận")), Data::Float(2007.0));
    assert_eq!(cell(last, col("Số đơn thư đã giải quyết")), Data::Float(10.0));
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("a bare LF ends a record"),
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "the last record ends with CRLF");
    rows
}

#[test]
fn csv_has_a_bom_crlf_labels_and_the_total_last() {
    let f = fixture();
    let text = csv(&f.c, &f.form);
    let body = text.strip_prefix('\u{FEFF}').expect("UTF-8 byte-order mark first");
    assert!(body.ends_with("\r\n"));
    assert_eq!(body.matches('\n').count(), body.matches("\r\n").count(), "every line ends with CRLF");

    // Labels with a comma or quotes are quoted, quotes doubled.
    assert!(body.starts_with("Mã đơn vị,Đơn vị,\"Số buổi tuyên truyền, phổ biến\",Số lượt người tham dự,"));
    assert!(body.contains(",\"Số mô hình \"\"Dân vận khéo\"\" đăng ký\","));

    let rows = parse_csv(body);
    assert_eq!(rows.len(), 1 + f.c.sources.len() + 1);
    let header = &rows[0];
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!(header[2], "Số buổi tuyên truyền, phổ biến");
    assert_eq!(
        header[header.iter().position(|h| h.contains("Dân vận khéo")).unwrap()],
        "Số mô hình \"Dân vận khéo\" đăng ký"
    );
    let col = |label: &str| header.iter().position(|h| h == label).unwrap();

    let dakbla = rows.iter().find(|r| r[0] == DAKBLA).expect("Đăk Blà's row");
    assert_eq!(dakbla[1], "Xã Đăk Blà");
    assert_eq!(dakbla[2], "5");
    let total = rows.last().unwrap();
    assert_eq!(total[0], "");
    assert_eq!(total[1], "Tổng cộng");
    assert_eq!(total[2], "14");
    assert_eq!(total[col("Số lượt người tham dự")], "1230");
    assert_eq!(total[col("Số hồ sơ thủ tục hành chính tiếp nhận")], "2007");
    assert_eq!(total[col("Số đơn thư đã giải quyết")], "10");
}

#[test]
fn a_unit_name_with_a_comma_or_quotes_is_quoted() {
    let mut f = fixture();
    f.c.sources[0].name = "Xã \"Đăk Blà\", TP Kon Tum".into();
    let text = csv(&f.c, &f.form);
    assert!(text.contains(",\"Xã \"\"Đăk Blà\"\", TP Kon Tum\","), "{text}");
    let rows = parse_csv(text.trim_start_matches('\u{FEFF}'));
    assert_eq!(rows[1][1], "Xã \"Đăk Blà\", TP Kon Tum");
}
