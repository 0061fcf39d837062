//! Tables uploaded by administrators (account lists, unit trees): XLSX or CSV to
//! rows of text cells, the header row included.

use std::io::Cursor;

/// What kind of file an upload is, from its first bytes (a phone may send any
/// Content-Type): XLSX is a zip (`PK\x03\x04`), everything else is read as CSV text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The cells of every row, header included, as text; the apostrophe `csv_cell`
/// puts before a value that would read as a formula is taken off again, so an
/// exported file imports back unchanged.
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let mut rows = if is_xlsx(bytes) { read_xlsx(bytes)? } else { read_csv(bytes)? };
    for cell in rows.iter_mut().flatten() {
        if let Some(rest) = cell.strip_prefix('\'') {
            if rest.starts_with(ESCAPED_STARTS) {
                *cell = rest.to_string();
            }
        }
    }
    Ok(rows)
}

/// First characters a spreadsheet reads as the start of a formula (`=`, `+`,
/// `-`, `@`, tab, carriage return: OWASP's list), and the apostrophe itself, so
/// that a value that really starts with one survives the round trip.
const ESCAPED_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|_| "Tệp không phải bảng tính Excel (.xlsx) đọc được".to_string())?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("Bảng tính không có trang nào")?
        .map_err(|_| "Không đọc được trang đầu của bảng tính".to_string())?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    // Whole numbers (unit codes, phones typed as numbers) without ".0".
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                    // Dates typed into Excel are serial day numbers: write them the
                    // way the import reads dates (yyyy-mm-dd).
                    Data::DateTime(d) if !d.is_duration() => excel_date(d.as_f64()),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

/// RFC 4180 CSV (quotes, doubled quotes, CRLF), UTF-8 with or without BOM; `;`
/// as the separator when the header uses it (Excel in some locales).
fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "Tệp CSV phải được lưu ở mã UTF-8 (trong Excel: Lưu thành → CSV UTF-8)".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("");
    let sep = if first_line.contains(';') && !first_line.contains(',') { ';' } else { ',' };
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, c) if c == sep => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("Tệp CSV có dấu ngoặc kép chưa đóng".into());
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    Ok(rows)
}

/// One CSV cell (RFC 4180), a leading `=`, `+`, `-`, `@`, tab or carriage return
/// defused with an apostrophe so a spreadsheet does not run a value chosen as a
/// formula (a leading apostrophe gets one more, see `read_table`).
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(ESCAPED_STARTS) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// A CSV line of cells, CRLF-terminated.
pub fn csv_line(cells: &[&str]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// An Excel serial date (days since 30/12/1899, the 1900 leap-year bug included
/// for dates after February 1900) as yyyy-mm-dd.
fn excel_date(serial: f64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| serial.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_bom_and_semicolons() {
        let rows = read_csv("\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n1,\r\n".as_bytes()).unwrap();
        assert_eq!(rows, vec![vec!["a", "b"], vec!["x, y", "say \"hi\""], vec!["1", ""]]);
        let rows = read_csv("a;b\nc;d".as_bytes()).unwrap();
        assert_eq!(rows, vec![vec!["a", "b"], vec!["c", "d"]]);
        assert!(read_csv(b"a,\"b\n").is_err());
        assert!(read_csv(&[0xff, 0xfe, 0x00]).is_err());
    }

    #[test]
    fn exported_cells_read_back_unchanged() {
        let values =
            ["=1+1", "-5", "+84 912", "@a", "'quoted", "''two", "'plain", "\tx", "a,b \"c\"", "", "Xã Ia Chim"];
        let csv: String = values.iter().map(|v| csv_line(&[v, "x"])).collect();
        // Nothing a spreadsheet would run.
        for line in csv.lines() {
            let first = line.trim_start_matches('"');
            assert!(!first.starts_with(['=', '+', '-', '@', '\t']), "{line}");
        }
        let rows = read_table(csv.as_bytes()).unwrap();
        let back: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(back, values);
        // A hand-made file's apostrophe before ordinary text is kept.
        assert_eq!(read_table(b"'abc,'=x\r\n").unwrap(), vec![vec!["'abc", "=x"]]);
    }

    #[test]
    fn excel_serial_dates() {
        assert_eq!(excel_date(45839.0), "2025-07-01");
        assert_eq!(excel_date(45292.5), "2024-01-01");
    }
}
