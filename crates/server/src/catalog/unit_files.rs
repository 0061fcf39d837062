//! Unit-tree files as administrators have them: CSV or XLSX with a header row
//! (Vietnamese or English column names, any order), or JSON (an array of units,
//! either rows with codes or danvan's own units with ids, like
//! `data/seed/units/kon-tum-2024.json`). Everything is turned into
//! `danvan_core::tree_import::UnitRow`s; the checks are in core.

use danvan_core::tree_import::{RowError, UnitRow};
use serde::Deserialize;

use crate::tables::read_table;

/// The columns, the names accepted for each (compared in lower case), and
/// whether the column must be there.
const COLUMNS: [(&str, &[&str], bool); 8] = [
    ("code", &["mã", "mã đơn vị", "code", "ma", "ma don vi"], true),
    ("name", &["tên", "tên đơn vị", "name", "ten", "ten don vi"], true),
    ("kind", &["loại", "loại đơn vị", "kind", "loai"], true),
    (
        "parent_code",
        &["mã cấp trên", "mã đơn vị cấp trên", "parent code", "parent_code", "parent", "ma cap tren"],
        false,
    ),
    ("valid_from", &["hiệu lực từ", "từ ngày", "valid from", "valid_from", "hieu luc tu"], false),
    ("valid_to", &["hiệu lực đến", "đến ngày", "valid to", "valid_to", "hieu luc den"], false),
    (
        "successor_codes",
        &["mã đơn vị kế thừa", "kế thừa", "đơn vị kế thừa", "successor codes", "successor_codes", "successors"],
        false,
    ),
    ("id", &["id", "mã hệ thống"], false),
];

/// The header of a unit file, for templates and error messages.
pub const HEADER: [&str; 7] = ["mã", "tên", "loại", "mã cấp trên", "hiệu lực từ", "hiệu lực đến", "mã đơn vị kế thừa"];

fn file_error(message: String) -> Vec<RowError> {
    vec![RowError { line: 0, field: String::new(), message }]
}

/// Reads a unit file: JSON when it starts with `[`, XLSX when it is a zip, CSV
/// otherwise. Errors name the line (the header is line 1).
pub fn read_unit_file(bytes: &[u8]) -> Result<Vec<UnitRow>, Vec<RowError>> {
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &bytes[i..]).unwrap_or(&[]);
    let text_start = text_start.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text_start);
    if text_start.starts_with(b"[") {
        return read_json(bytes);
    }
    let table = read_table(bytes).map_err(file_error)?;
    let mut lines = table.into_iter().enumerate().filter(|(_, row)| row.iter().any(|c| !c.trim().is_empty()));
    let Some((_, header)) = lines.next() else {
        return Err(file_error("Tệp trống".into()));
    };
    let norm: Vec<String> = header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase()).collect();
    let mut at = [usize::MAX; 8];
    for (i, (_, names, required)) in COLUMNS.iter().enumerate() {
        match norm.iter().position(|h| names.contains(&h.as_str())) {
            Some(p) => at[i] = p,
            None if !required => {}
            None => {
                return Err(file_error(format!(
                    "Dòng đầu phải là tiêu đề cột: {} (thiếu cột «{}»)",
                    HEADER.join(", "),
                    names[0]
                )))
            }
        }
    }
    Ok(lines
        .map(|(i, row)| {
            let cell = |c: usize| row.get(at[c]).map(|s| s.trim().to_string()).unwrap_or_default();
            UnitRow {
                line: i + 1,
                code: cell(0),
                name: cell(1),
                kind: cell(2),
                parent_code: cell(3),
                valid_from: cell(4),
                valid_to: cell(5),
                successor_codes: cell(6),
                id: cell(7),
            }
        })
        .collect())
}

/// One unit in a JSON file: either form of references.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonUnit {
    #[serde(default)]
    id: Option<String>,
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    designation: Option<String>,
    /// A parent's id (danvan's own files).
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    parent_code: Option<String>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_to: Option<String>,
    /// Successors' ids.
    #[serde(default)]
    successors: Vec<String>,
    #[serde(default)]
    successor_codes: Option<String>,
}

fn read_json(bytes: &[u8]) -> Result<Vec<UnitRow>, Vec<RowError>> {
    let units: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| file_error(format!("Tệp JSON không đọc được (dòng {}, cột {}): {e}", e.line(), e.column())))?;
    let mut rows = Vec::with_capacity(units.len());
    let mut errors = Vec::new();
    for (i, value) in units.into_iter().enumerate() {
        // "line" in a JSON file is the unit's position (1-based), said as such.
        let line = i + 1;
        match serde_json::from_value::<JsonUnit>(value) {
            Ok(u) => rows.push(UnitRow {
                line,
                id: u.id.unwrap_or_default(),
                code: u.code,
                name: u.name,
                // A designation is the more precise kind ("ward" rather than "commune").
                kind: u.designation.unwrap_or(u.kind),
                parent_code: u.parent_code.or(u.parent).unwrap_or_default(),
                valid_from: u.valid_from.unwrap_or_default(),
                valid_to: u.valid_to.unwrap_or_default(),
                successor_codes: u.successor_codes.unwrap_or_else(|| u.successors.join(";")),
            }),
            Err(e) => {
                errors.push(RowError { line, field: String::new(), message: format!("Đơn vị thứ {line}: {e}") })
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The whole tree as a CSV file in the import format (with ids), to edit in a
/// spreadsheet and import again.
pub fn export_csv(tree: &danvan_core::UnitTree) -> String {
    let mut out = String::from("\u{feff}");
    let mut header: Vec<&str> = HEADER.to_vec();
    header.push("id");
    out.push_str(&crate::tables::csv_line(&header));
    let code = |id: &str| tree.get(id).map(|u| u.code.clone()).unwrap_or_default();
    let date = |d: Option<chrono::NaiveDate>| d.map(danvan_core::time::format_date).unwrap_or_default();
    for u in tree.in_order() {
        let kind = u.designation().map(|d| d.label_vi().to_lowercase()).unwrap_or_else(|| {
            match u.kind {
                danvan_core::UnitKind::Province => "tỉnh",
                danvan_core::UnitKind::Department => "sở",
                danvan_core::UnitKind::District => "huyện",
                danvan_core::UnitKind::Commune => "cấp xã",
            }
            .to_string()
        });
        let successors: Vec<String> = u.successors.iter().map(|s| code(s)).collect();
        let cells = [
            u.code.clone(),
            u.name.clone(),
            kind,
            u.parent.as_deref().map(code).unwrap_or_default(),
            date(u.valid_from),
            date(u.valid_to),
            successors.join(";"),
            u.id.clone(),
        ];
        out.push_str(&crate::tables::csv_line(&cells.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_vietnamese_header_in_any_order() {
        let file = "loại,tên,mã,mã cấp trên,hiệu lực từ\r\nphường,Phường Đăk Cấm,23284,51,01/07/2025\r\n,,,,\r\n";
        let rows = read_unit_file(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].code, "23284");
        assert_eq!(rows[0].kind, "phường");
        assert_eq!(rows[0].valid_from, "01/07/2025");
        assert_eq!(rows[0].valid_to, "");
        let err = read_unit_file("tên,mã\nA,1\n".as_bytes()).unwrap_err();
        assert!(err[0].message.contains("thiếu cột «loại»"), "{err:?}");
    }

    #[test]
    fn json_with_ids_or_codes() {
        let file = r#"[{"id": "p", "code": "62", "name": "Tỉnh", "kind": "province", "parent": null},
                       {"code": "1", "name": "Phường A", "kind": "commune", "designation": "ward", "parent_code": "62"}]"#;
        let rows = read_unit_file(file.as_bytes()).unwrap();
        assert_eq!(rows[0].id, "p");
        assert_eq!(rows[1].kind, "ward");
        assert_eq!(rows[1].parent_code, "62");
        let err = read_unit_file(br#"[{"code": "1", "name": "A"}]"#).unwrap_err();
        assert!(err[0].message.starts_with("Đơn vị thứ 1: missing field `kind`"), "{err:?}");
        let err = read_unit_file(b"[{").unwrap_err();
        assert!(err[0].message.starts_with("Tệp JSON không đọc được (dòng 1"), "{err:?}");
    }
}
