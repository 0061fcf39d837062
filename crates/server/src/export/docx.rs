//! The consolidation as an official report (.docx) in the format of Nghị định
//! 30/2020/NĐ-CP (Phụ lục I): A4, Times New Roman, margins 20/20/30/15 mm, the
//! issuing body and the national name side by side in a borderless table, the
//! title, the body by form section, "Nơi nhận" and the signature block, page
//! numbers centred at the top from page 2.

use std::io::Cursor;

use danvan_core::aggregate::ModelField;
use danvan_core::form::FieldKind;
use danvan_core::time::format_date;
use docx_rs::{
    AlignmentType, BorderType, Docx, FieldCharType, Header, InstrPAGE, InstrText, LineSpacing, LineSpacingType,
    PageMargin, Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Run, RunFonts,
    SpecialIndentType, Table, TableBorders, TableCell, TableCellMargins, TableLayoutType, TableRow, WidthType,
};

use super::{
    check_form, count_fields, date_line_vi, format_number_vi, lower_first, upper_first, DocxInput, ExportError,
};

const FONT: &str = "Times New Roman";

/// A4 in twentieths of a point.
const PAGE_W: u32 = 11906;
const PAGE_H: u32 = 16838;
/// 20 mm, 20 mm, 30 mm, 15 mm (1 mm = 56.69 twips).
const MARGIN_TOP: i32 = 1134;
const MARGIN_BOTTOM: i32 = 1134;
const MARGIN_LEFT: i32 = 1701;
const MARGIN_RIGHT: i32 = 850;
/// The page number sits 10 mm from the top edge, inside the 20 mm margin.
const HEADER_DISTANCE: i32 = 567;
const TEXT_W: usize = (PAGE_W as i32 - MARGIN_LEFT - MARGIN_RIGHT) as usize;

/// Columns of the two top and bottom tables: issuing body | national name,
/// recipients | signature.
const HEAD_LEFT: usize = 3686;
const HEAD_RIGHT: usize = TEXT_W - HEAD_LEFT;
const FOOT_LEFT: usize = 4253;
const FOOT_RIGHT: usize = TEXT_W - FOOT_LEFT;
/// Left and right padding of those tables' cells.
const CELL_PAD: usize = 57;

/// Body text 14 pt (13–14 allowed), first line indented 1 cm, 6 pt between paragraphs.
const BODY_PT: usize = 14;
const FIRST_LINE: i32 = 567;

pub fn docx(input: &DocxInput<'_>) -> Result<Vec<u8>, ExportError> {
    let c = input.consolidation;
    check_form(c, input.form)?;
    if c.period != input.period.key() {
        return Err(ExportError::PeriodMismatch { consolidation: c.period.clone(), requested: input.period.key() });
    }

    let mut doc = Docx::new()
        .page_size(PAGE_W, PAGE_H)
        .page_margin(
            PageMargin::new()
                .top(MARGIN_TOP)
                .bottom(MARGIN_BOTTOM)
                .left(MARGIN_LEFT)
                .right(MARGIN_RIGHT)
                .header(HEADER_DISTANCE)
                .footer(HEADER_DISTANCE)
                .gutter(0),
        )
        // The document's own date, not 1970 (midnight in Vietnam).
        .created_at(&format!("{}T00:00:00+07:00", input.date))
        .updated_at(&format!("{}T00:00:00+07:00", input.date))
        .default_fonts(fonts())
        .default_size(BODY_PT * 2)
        // Page numbers from page 2: the default header carries the PAGE field, the
        // first page gets its own, empty header (`first_header` also sets
        // <w:titlePg/>, "different first page").
        .header(Header::new().add_paragraph(page_number()))
        .first_header(Header::new().add_paragraph(Paragraph::new().size(2 * BODY_PT).fonts(fonts())));

    doc = doc.add_table(head_table(input));
    for p in title_block(input) {
        doc = doc.add_paragraph(p);
    }
    for p in body(input) {
        doc = doc.add_paragraph(p);
    }
    doc = doc.add_paragraph(spacer(6));
    doc = doc.add_table(foot_table(input));

    let mut out = Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| ExportError::Docx(e.to_string()))?;
    deflate(&out.into_inner()).map_err(|e| ExportError::Docx(e.to_string()))
}

/// docx-rs writes every part "stored" (uncompressed): 75 kB for a three-page
/// report. Deflated it is about a sixth of that, which matters on 2G.
fn deflate(stored: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut archive = zip::ZipArchive::new(Cursor::new(stored))?;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(stored.len() / 4)));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i)?;
        let name = part.name()?.to_string();
        if part.is_dir() {
            writer.add_directory(name, options)?;
        } else {
            writer.start_file(name, options)?;
            std::io::copy(&mut part, &mut writer)?;
        }
    }
    Ok(writer.finish()?.into_inner())
}

// ---------------------------------------------------------------------------
// Building blocks.

/// Times New Roman in every slot, so Word never falls back to a theme font for
/// Vietnamese (whose letters it may class as East Asian or complex script).
fn fonts() -> RunFonts {
    RunFonts::new().ascii(FONT).hi_ansi(FONT).east_asia(FONT).cs(FONT)
}

/// What may go into XML text: the characters XML 1.0 allows, less the control
/// characters it would keep but Word shows as boxes; the tab stays. (U+FFFE and
/// U+FFFF are not XML characters: Word refuses a file holding one.)
fn clean(text: &str) -> String {
    text.chars().filter(|&c| c == '\t' || (!c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))).collect()
}

#[derive(Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
}

const PLAIN: Style = Style { bold: false, italic: false };
const BOLD: Style = Style { bold: true, italic: false };
const ITALIC: Style = Style { bold: false, italic: true };
const BOLD_ITALIC: Style = Style { bold: true, italic: true };

fn run(text: &str, pt: usize, style: Style) -> Run {
    let mut r = Run::new().add_text(clean(text)).size(pt * 2).fonts(fonts());
    if style.bold {
        r = r.bold();
    }
    if style.italic {
        r = r.italic();
    }
    r
}

fn spacing(before: u32, after: u32) -> LineSpacing {
    LineSpacing::new().before(before).after(after).line(240).line_rule(LineSpacingType::Auto)
}

/// A paragraph of runs at `pt`, its mark at the same size (an empty line keeps the
/// height of its text).
fn para(align: AlignmentType, pt: usize, runs: Vec<Run>) -> Paragraph {
    runs.into_iter()
        .fold(Paragraph::new(), Paragraph::add_run)
        .align(align)
        .size(pt * 2)
        .fonts(fonts())
        .line_spacing(spacing(0, 0))
        .widow_control(true)
}

fn centred(text: &str, pt: usize, style: Style) -> Paragraph {
    para(AlignmentType::Center, pt, vec![run(text, pt, style)])
}

/// A body paragraph: justified, first line indented, 6 pt after.
fn body_para(runs: Vec<Run>) -> Paragraph {
    para(AlignmentType::Both, BODY_PT, runs)
        .indent(None, Some(SpecialIndentType::FirstLine(FIRST_LINE)), None, None)
        .line_spacing(spacing(0, 120))
}

fn body_text(text: &str, style: Style) -> Paragraph {
    body_para(vec![run(text, BODY_PT, style)])
}

fn heading(text: &str) -> Paragraph {
    body_text(text, BOLD).keep_next(true).line_spacing(spacing(60, 120))
}

/// An empty line of `pt` points.
fn spacer(pt: usize) -> Paragraph {
    para(AlignmentType::Left, pt, vec![])
}

/// A short horizontal rule, centred in a column `column` twips wide: the bottom
/// border of an empty paragraph 3 pt high, indented from both sides (a drawn line
/// would need a floating shape; a border stays put in Word and LibreOffice alike).
fn rule(length: usize, column: usize) -> Paragraph {
    let side = column.saturating_sub(2 * CELL_PAD + length) / 2;
    let side = side as i32;
    let mut p = para(AlignmentType::Center, 1, vec![])
        .indent(Some(side), None, Some(side), None)
        .line_spacing(LineSpacing::new().before(0).after(0).line(60).line_rule(LineSpacingType::Exact));
    // Only the bottom border (`set_border` would start from a full box).
    p.property = p.property.set_borders(ParagraphBorders::with_empty().set(
        ParagraphBorder::new(ParagraphBorderPosition::Bottom).val(BorderType::Single).size(6).space(0).color("000000"),
    ));
    p
}

fn no_borders() -> TableBorders {
    TableBorders::new().clear_all()
}

fn cell(width: usize, paragraphs: Vec<Paragraph>) -> TableCell {
    paragraphs.into_iter().fold(TableCell::new().width(width, WidthType::Dxa), TableCell::add_paragraph)
}

fn two_columns(left: usize, right: usize, rows: Vec<(Vec<Paragraph>, Vec<Paragraph>)>) -> Table {
    let rows = rows.into_iter().map(|(l, r)| TableRow::new(vec![cell(left, l), cell(right, r)]).cant_split()).collect();
    Table::new(rows)
        .set_borders(no_borders())
        .set_grid(vec![left, right])
        .width(left + right, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .margins(TableCellMargins::new().margin(0, CELL_PAD, 0, CELL_PAD))
}

/// The page number, centred, for the header of pages 2 onwards.
fn page_number() -> Paragraph {
    let field = Run::new()
        .size(BODY_PT * 2)
        .fonts(fonts())
        .add_field_char(FieldCharType::Begin, false)
        .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
        .add_field_char(FieldCharType::Separate, false)
        .add_text("2")
        .add_field_char(FieldCharType::End, false);
    para(AlignmentType::Center, BODY_PT, vec![field])
}

// ---------------------------------------------------------------------------
// The document's parts.

/// Issuing body and document number on the left, national name, motto and the
/// place and date on the right. The number and the date are a second row so they
/// stay on one line whatever the length of the names above.
fn head_table(input: &DocxInput<'_>) -> Table {
    let issuer = &input.issuer;
    let mut left = Vec::new();
    if let Some(parent) = &issuer.parent_line {
        left.push(centred(parent, 13, PLAIN));
    }
    for line in &issuer.lines {
        left.push(centred(line, 13, BOLD));
    }
    // Decree: a rule of 1/3 to 1/2 of the line above it.
    left.push(rule(HEAD_LEFT / 3, HEAD_LEFT));

    let right = vec![
        centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, BOLD),
        centred("Độc lập - Tự do - Hạnh phúc", 13, BOLD),
        // As long as the motto itself (about 2.2 inches in bold 13 pt).
        rule(3170, HEAD_RIGHT),
    ];

    let number = format!("Số:        /BC-{}", issuer.abbreviation);
    let second = (
        vec![centred(&number, 13, PLAIN).line_spacing(spacing(120, 0))],
        vec![centred(&date_line_vi(input.place, input.date), 14, ITALIC).line_spacing(spacing(120, 0))],
    );
    two_columns(HEAD_LEFT, HEAD_RIGHT, vec![(left, right), second])
}

/// "BÁO CÁO" and the subject with its rule.
fn title_block(input: &DocxInput<'_>) -> Vec<Paragraph> {
    let subject = subject(input);
    vec![
        spacer(10),
        centred("BÁO CÁO", 14, BOLD).line_spacing(spacing(240, 0)).keep_next(true),
        centred(&subject, 14, BOLD).keep_next(true),
        rule(TEXT_W / 4, TEXT_W + 2 * CELL_PAD),
        spacer(8),
    ]
}

/// "Kết quả thực hiện công tác dân vận … tháng 03/2024": the form's title without
/// its leading "Báo cáo", then the period.
fn subject(input: &DocxInput<'_>) -> String {
    let title = input.form.title.trim();
    let rest = ["Báo cáo ", "BÁO CÁO ", "báo cáo "].iter().find_map(|p| title.strip_prefix(p)).unwrap_or(title);
    format!("{} {}", upper_first(rest.trim()), lower_first(&input.period.label_vi()))
}

fn body(input: &DocxInput<'_>) -> Vec<Paragraph> {
    let c = input.consolidation;
    let form = input.form;
    let plan = input.plan;
    let issuer = &input.issuer;
    let period_label = lower_first(&input.period.label_vi());
    let mut out = Vec::new();

    let issued_by = if plan.issued_by.is_empty() { String::new() } else { format!(" của {}", plan.issued_by) };
    out.push(body_text(
        &format!(
            "Thực hiện Kế hoạch số {} ngày {}{} về {}, {} báo cáo kết quả thực hiện {} (từ ngày {} đến ngày {}) như sau:",
            plan.number,
            format_date(plan.issued_on),
            issued_by,
            lower_first(plan.title.trim()),
            issuer.name_in_text,
            period_label,
            format_date(input.period.window().first),
            format_date(input.period.window().last),
        ),
        PLAIN,
    ));

    // Whose reports the figures come from, and who is missing.
    if c.sources.is_empty() {
        out.push(body_text("Trong kỳ chưa có báo cáo nào của đơn vị trực thuộc được duyệt.", PLAIN));
    } else {
        let names: Vec<String> = c
            .sources
            .iter()
            .map(|s| {
                if s.own {
                    s.name.clone()
                } else {
                    format!("{} (tổng hợp {} báo cáo của các đơn vị trực thuộc)", s.name, s.reports)
                }
            })
            .collect();
        out.push(body_text(
            &format!(
                "Số liệu được tổng hợp từ báo cáo đã được duyệt của {} đơn vị: {}.",
                c.sources.len(),
                names.join(", ")
            ),
            PLAIN,
        ));
    }
    if !c.without_accepted.is_empty() {
        let names: Vec<String> = c
            .without_accepted
            .iter()
            .map(|id| input.units.get(id).map(|u| u.name.clone()).unwrap_or_else(|| id.clone()))
            .collect();
        out.push(body_text(
            &format!("Đơn vị chưa có báo cáo được duyệt ({}): {}.", names.len(), names.join(", ")),
            ITALIC,
        ));
    }

    let kind = danvan_core::aggregate::period_kind(&input.period);
    let counts = count_fields(c, form);
    let is_content = |s: &&danvan_core::form::FormSection| {
        s.plan_item.is_some() || s.fields.iter().any(|f| f.kind == FieldKind::Count)
    };
    let content: Vec<_> = form.sections.iter().filter(is_content).collect();
    let closing: Vec<_> = form.sections.iter().filter(|s| !is_content(s)).collect();

    let mut roman = Roman::default();
    let mut models_written = false;
    if !content.is_empty() {
        out.push(heading(&format!("{}. KẾT QUẢ THỰC HIỆN", roman.next_numeral())));
    }
    for (i, section) in content.iter().enumerate() {
        out.push(heading(&format!("{}. {}", i + 1, section.title.trim())));
        for f in section.fields.iter().filter(|f| counts.contains(f)) {
            let total = c.totals.get(&f.id).copied().unwrap_or(0);
            out.push(body_text(&format!("- {}: {}.", f.label.trim(), format_number_vi(total)), PLAIN));
        }
        narratives(&mut out, input, &section.id, section.fields.iter().filter(|f| f.applies_to(kind)).count() > 1);
        if !models_written && section.title.contains("Dân vận khéo") {
            out.push(models_paragraph(input));
            models_written = true;
        }
    }
    if !models_written {
        out.push(heading(&format!("{}. Mô hình \"Dân vận khéo\"", content.len() + 1)));
        out.push(models_paragraph(input));
    }

    for section in closing {
        out.push(heading(&format!("{}. {}", roman.next_numeral(), section.title.trim().to_uppercase())));
        if !narratives(&mut out, input, &section.id, false) {
            out.push(body_text("Không có nội dung từ các đơn vị.", ITALIC));
        }
    }
    out.push(body_text(
        &format!("Trên đây là báo cáo kết quả thực hiện công tác dân vận {period_label} của {}.", issuer.name_in_text),
        PLAIN,
    ));
    out
}

/// The section's narratives, "- Unit: text" per unit (a line per paragraph of the
/// text); each field under its label when the section has several. Whether any
/// was written.
fn narratives(out: &mut Vec<Paragraph>, input: &DocxInput<'_>, section_id: &str, labelled: bool) -> bool {
    let Some(section) = input.consolidation.narratives.iter().find(|s| s.section_id == section_id) else {
        return false;
    };
    let mut any = false;
    for field in &section.fields {
        if field.entries.is_empty() {
            continue;
        }
        if labelled {
            out.push(body_text(&format!("{}:", field.label.trim()), ITALIC).keep_next(true));
        }
        for entry in &field.entries {
            let mut lines = entry.text.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("");
            out.push(body_para(vec![
                run("- ", BODY_PT, PLAIN),
                run(&format!("{}: ", entry.unit_name), BODY_PT, ITALIC),
                run(first, BODY_PT, PLAIN),
            ]));
            for line in lines {
                out.push(body_text(line, PLAIN));
            }
            any = true;
        }
    }
    any
}

/// The "Dân vận khéo" register for the period: totals, then per field.
fn models_paragraph(input: &DocxInput<'_>) -> Paragraph {
    let m = &input.consolidation.models;
    let per_field: Vec<String> = ModelField::ALL
        .iter()
        .map(|f| {
            let [reg, rec, com] = m.by_field.get(f).copied().unwrap_or([0; 3]);
            format!("{} {}/{}/{}", f.label_vi(), reg, rec, com)
        })
        .collect();
    body_text(
        &format!(
            "Mô hình \"Dân vận khéo\" trong kỳ (theo sổ theo dõi): {} mô hình đăng ký mới, {} mô hình được công nhận, {} mô hình được khen thưởng. Theo lĩnh vực (đăng ký/công nhận/khen thưởng): {}.",
            m.registered,
            m.recognised,
            m.commended,
            per_field.join("; ")
        ),
        PLAIN,
    )
}

/// "Nơi nhận" on the left, the signature block on the right.
fn foot_table(input: &DocxInput<'_>) -> Table {
    let mut left = vec![para(AlignmentType::Left, 12, vec![run("Nơi nhận:", 12, BOLD_ITALIC)])];
    let n = input.recipients.len();
    for (i, r) in input.recipients.iter().enumerate() {
        let end = if i + 1 == n { "." } else { ";" };
        let r = r.trim().trim_start_matches('-').trim().trim_end_matches([';', '.']);
        left.push(para(AlignmentType::Left, 11, vec![run(&format!("- {r}{end}"), 11, PLAIN)]));
    }

    let mut right: Vec<Paragraph> = input.issuer.signer_capacity.iter().map(|line| centred(line, 14, BOLD)).collect();
    for _ in 0..4 {
        right.push(spacer(14));
    }
    right.push(match input.signer_name {
        Some(name) => centred(name, 14, BOLD),
        None => centred("……………………………", 14, PLAIN),
    });
    two_columns(FOOT_LEFT, FOOT_RIGHT, vec![(left, right)])
}

/// I, II, III, … for the parts of the report.
#[derive(Default)]
struct Roman(usize);

impl Roman {
    fn next_numeral(&mut self) -> &'static str {
        const NUMERALS: [&str; 12] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];
        let n = NUMERALS[self.0.min(NUMERALS.len() - 1)];
        self.0 += 1;
        n
    }
}
