//! The consolidation's indicators as a table: one row per unit whose accepted
//! report was summed, one column per count field, and the total. As Excel
//! (numbers stay numbers) and as CSV.

use danvan_core::aggregate::Consolidation;
use danvan_core::form::Field;
use danvan_core::{Period, ReportForm};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use super::{check_form, count_fields, ExportError};

pub const SHEET_NAME: &str = "Chỉ tiêu";
const TOTAL_LABEL: &str = "Tổng cộng";

/// Sheet "Chỉ tiêu": a title row, the header (STT, Đơn vị, one column per count
/// field), a row per unit, a bold "Tổng cộng" row; the header and the first two
/// columns stay in view when scrolling.
pub fn xlsx(c: &Consolidation, form: &ReportForm) -> Result<Vec<u8>, ExportError> {
    check_form(c, form)?;
    let fields = count_fields(c, form);
    let last_col = (fields.len() + 1) as u16;

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;

    let font = |f: Format| f.set_font_name("Times New Roman").set_font_size(12);
    let title = font(Format::new()).set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let header = font(Format::new())
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color("#E7EEF7");
    let text = font(Format::new()).set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
    let stt = text.clone().set_align(FormatAlign::Center);
    let number = text.clone().set_num_format("#,##0");
    let total_text = text.clone().set_bold();
    let total_number = number.clone().set_bold();

    let heading = format!("Tổng hợp chỉ tiêu công tác dân vận - {} - {}", c.unit_name, period_label(c));
    if last_col > 0 {
        sheet.merge_range(0, 0, 0, last_col, &heading, &title)?;
    } else {
        sheet.write_string_with_format(0, 0, &heading, &title)?;
    }
    sheet.set_row_height(0, 24)?;

    sheet.write_string_with_format(1, 0, "STT", &header)?;
    sheet.write_string_with_format(1, 1, "Đơn vị", &header)?;
    for (i, f) in fields.iter().enumerate() {
        sheet.write_string_with_format(1, (i + 2) as u16, f.label.trim(), &header)?;
    }
    // Labels are long ("Số cán bộ, công chức, viên chức bị xử lý kỷ luật"): wrap
    // them in columns of a fixed width, over up to five lines.
    sheet.set_row_height(1, 80)?;
    sheet.set_column_width(0, 6)?;
    let name_width = c.sources.iter().map(|s| s.name.chars().count()).max().unwrap_or(10).clamp(14, 40);
    sheet.set_column_width(1, name_width as f64 + 2.0)?;
    for i in 0..fields.len() {
        sheet.set_column_width((i + 2) as u16, 16)?;
    }

    let mut row = 2u32;
    for (n, source) in c.sources.iter().enumerate() {
        sheet.write_number_with_format(row, 0, (n + 1) as f64, &stt)?;
        sheet.write_string_with_format(row, 1, &source.name, &text)?;
        for (i, f) in fields.iter().enumerate() {
            let col = (i + 2) as u16;
            match source.figures.get(&f.id) {
                Some(v) => sheet.write_number_with_format(row, col, *v as f64, &number)?,
                None => sheet.write_blank(row, col, &number)?,
            };
        }
        row += 1;
    }
    sheet.write_blank(row, 0, &total_text)?;
    sheet.write_string_with_format(row, 1, TOTAL_LABEL, &total_text)?;
    for (i, f) in fields.iter().enumerate() {
        let total = c.totals.get(&f.id).copied().unwrap_or(0);
        sheet.write_number_with_format(row, (i + 2) as u16, total as f64, &total_number)?;
    }

    sheet.set_freeze_panes(2, 2)?;
    Ok(workbook.save_to_buffer()?)
}

/// The same table as CSV (RFC 4180): UTF-8 with a byte-order mark so Excel reads
/// the Vietnamese right, CRLF line ends. Columns: unit id, unit name, one per count
/// field headed by its label; the total row last. A unit's missing figure is an
/// empty cell; a total is never empty.
pub fn csv(c: &Consolidation, form: &ReportForm) -> String {
    let fields = count_fields(c, form);
    let mut out = String::from('\u{FEFF}');
    let mut line = |cells: Vec<String>| {
        let cells: Vec<String> = cells.iter().map(|s| quote(s)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    let mut header = vec!["Mã đơn vị".to_string(), "Đơn vị".to_string()];
    header.extend(fields.iter().map(|f| f.label.trim().to_string()));
    line(header);
    for source in &c.sources {
        let mut cells = vec![source.unit_id.clone(), source.name.clone()];
        cells.extend(fields.iter().map(|f| source.figures.get(&f.id).map(u64::to_string).unwrap_or_default()));
        line(cells);
    }
    let mut total = vec![String::new(), TOTAL_LABEL.to_string()];
    total.extend(totals(c, &fields));
    line(total);
    out
}

fn totals(c: &Consolidation, fields: &[&Field]) -> Vec<String> {
    fields.iter().map(|f| c.totals.get(&f.id).copied().unwrap_or(0).to_string()).collect()
}

/// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn period_label(c: &Consolidation) -> String {
    Period::parse_key(&c.period).map(|p| p.label_vi()).unwrap_or_else(|_| c.period.clone())
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(quote("Xã Đăk Blà"), "Xã Đăk Blà");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote("mô hình \"Dân vận khéo\""), "\"mô hình \"\"Dân vận khéo\"\"\"");
        assert_eq!(quote("a\nb"), "\"a\nb\"");
    }
}
