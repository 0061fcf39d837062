//! Changing the unit tree from a file: rows of (code, name, kind, parent code,
//! valid from / to, successor codes), read from CSV, XLSX or JSON by the server,
//! checked here against the tree as it stands, and turned into the new tree plus a
//! preview of what would change. Nothing is applied unless every row is valid.
//!
//! Codes are not unique over time (23284 was Phường Duy Tân until 30/06/2025 and is
//! Phường Đăk Cấm since), so a code is always read *on a date*:
//! - a row that closes a unit (valid_to) names the unit with that code on its last day;
//! - any other row names the unit with that code on its first day (valid_from), or
//!   today; when none exists, the row adds a unit;
//! - a parent code is read on the row's first day, successor codes on the day after
//!   its last one, among the units as they will be after the import.
//!
//! Units are never deleted: a unit absent from the file is left as it is.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::time::format_date;
use crate::unit::{Designation, OrgUnit, UnitKind, UnitTree, UnitTreeError};

/// One row of an import file, as text (the server turns CSV/XLSX/JSON into these).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRow {
    /// 1-based line in the file (the header is line 1), for error messages.
    pub line: usize,
    /// Optional: names an existing unit exactly (files exported by danvan).
    #[serde(default)]
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub parent_code: String,
    /// dd/mm/yyyy or yyyy-mm-dd; empty: no change (or "since always" for a new unit).
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
    /// Codes separated by ";" or ",".
    #[serde(default)]
    pub successor_codes: String,
}

/// A problem with one row (or, with line 0, with the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub line: usize,
    /// The column: "code", "name", "kind", "parent_code", "valid_from", "valid_to",
    /// "successor_codes", or "" for the row as a whole.
    pub field: String,
    pub message: String,
}

/// One unit in the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitChange {
    pub id: String,
    pub code: String,
    pub name: String,
    /// What it was, for renames and moves ("Xã Đăk Blà" → …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The new parent's or successors' names, the closing date…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What an import would change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TreeChanges {
    pub added: Vec<UnitChange>,
    pub renamed: Vec<UnitChange>,
    pub moved: Vec<UnitChange>,
    pub closed: Vec<UnitChange>,
    /// Other edits (code, kind, dates, successors of a unit already closed).
    pub updated: Vec<UnitChange>,
    pub unchanged: usize,
}

impl TreeChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.renamed.is_empty()
            && self.moved.is_empty()
            && self.closed.is_empty()
            && self.updated.is_empty()
    }

    /// "thêm 96, đổi tên 0, chuyển 0, đóng 133, sửa 0": for the audit log.
    pub fn summary_vi(&self) -> String {
        format!(
            "thêm {}, đổi tên {}, chuyển cấp trên {}, đóng {}, sửa khác {}, không đổi {}",
            self.added.len(),
            self.renamed.len(),
            self.moved.len(),
            self.closed.len(),
            self.updated.len(),
            self.unchanged
        )
    }
}

/// A checked import: the whole tree after it, and the preview.
#[derive(Clone, Debug)]
pub struct TreeImport {
    pub units: Vec<OrgUnit>,
    pub changes: TreeChanges,
}

/// Reads a kind as people write it: "xã", "Phường", "đặc khu", "Sở", "huyện",
/// "province"… (case and surrounding spaces ignored).
pub fn parse_kind(text: &str) -> Option<(UnitKind, Option<Designation>)> {
    let t = text.trim().to_lowercase();
    Some(match t.as_str() {
        "tỉnh" | "thành phố trực thuộc trung ương" | "province" => (UnitKind::Province, None),
        "sở" | "ban" | "ngành" | "sở, ban, ngành" | "cơ quan" | "department" => (UnitKind::Department, None),
        "huyện" | "thị xã" | "thành phố" | "quận" | "huyện, thành phố" | "district" => {
            (UnitKind::District, None)
        }
        "xã" | "commune" => (UnitKind::Commune, Some(Designation::Commune)),
        "phường" | "ward" => (UnitKind::Commune, Some(Designation::Ward)),
        "thị trấn" | "township" => (UnitKind::Commune, Some(Designation::Township)),
        "đặc khu" | "special_zone" | "special zone" => (UnitKind::Commune, Some(Designation::SpecialZone)),
        "cấp xã" => (UnitKind::Commune, None),
        _ => return None,
    })
}

/// dd/mm/yyyy (d/m/yyyy too) or yyyy-mm-dd.
pub fn parse_import_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    crate::time::parse_date(t).or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

/// The longest unit id: ids go into report ids, URLs and file names.
pub const MAX_UNIT_ID_LEN: usize = 100;

/// Whether `id` may name a unit: 1–100 lowercase ASCII letters, digits, `.`, `-`
/// or `_` ("quangngai.23284"). Ids are written into report ids (`plan~unit~period`)
/// and URLs unescaped, so nothing else may go in — not even from a unit code
/// that looks like an id.
pub fn is_unit_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_UNIT_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// A code's part of a new unit's id: its slug, "u" when it has no letter or digit.
fn code_segment(code: &str) -> String {
    let s = slug(code);
    if s.is_empty() {
        "u".into()
    } else {
        s
    }
}

/// ASCII letters and digits of a name, for ids: "Tỉnh Quảng Ngãi" → "quangngai"
/// (the designation word dropped).
pub fn slug(text: &str) -> String {
    const FOLD: &[(&str, char)] = &[
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ìíịỉĩ", 'i'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ỳýỵỷỹ", 'y'),
        ("đ", 'd'),
    ];
    let lower = text.trim().to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let skip = match words.as_slice() {
        [first, second, _, ..] if matches!((*first, *second), ("thị", "trấn") | ("đặc", "khu") | ("thành", "phố")) => {
            2
        }
        [first, _, ..] if matches!(*first, "tỉnh" | "xã" | "phường" | "huyện" | "quận") => 1,
        _ => 0,
    };
    words[skip..]
        .iter()
        .flat_map(|w| w.chars())
        .filter_map(|c| {
            let folded = FOLD.iter().find(|(from, _)| from.contains(c)).map(|(_, to)| *to).unwrap_or(c);
            (folded.is_ascii_alphanumeric() || folded == '-').then_some(folded)
        })
        .collect()
}

struct Parsed {
    line: usize,
    id: Option<String>,
    code: String,
    name: String,
    kind: UnitKind,
    designation: Option<Designation>,
    parent: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    successors: Vec<String>,
}

impl Parsed {
    /// The day on which the row's own code is read.
    fn own_day(&self, today: NaiveDate) -> NaiveDate {
        self.to.or(self.from).unwrap_or(today)
    }
}

/// Checks `rows` against `tree` on `today` (the import date, Vietnam) and builds
/// the tree after the import. Every problem of every row, or the result.
pub fn plan_tree_import(tree: &UnitTree, rows: &[UnitRow], today: NaiveDate) -> Result<TreeImport, Vec<RowError>> {
    let mut errors = Vec::new();
    let err = |errors: &mut Vec<RowError>, line: usize, field: &str, message: String| {
        errors.push(RowError { line, field: field.into(), message })
    };
    if rows.is_empty() {
        return Err(vec![RowError {
            line: 0, field: String::new(), message: "Tệp không có dòng đơn vị nào".into()
        }]);
    }

    // 1. Each row on its own.
    let mut parsed = Vec::with_capacity(rows.len());
    for r in rows {
        let code = r.code.trim().to_string();
        let name = r.name.trim().to_string();
        if code.is_empty() {
            err(&mut errors, r.line, "code", "Thiếu mã đơn vị".into());
        } else if code.chars().count() > 64 || code.chars().any(char::is_whitespace) {
            err(
                &mut errors,
                r.line,
                "code",
                format!("Mã đơn vị «{code}» không hợp lệ (không có dấu cách, tối đa 64 ký tự)"),
            );
        }
        if name.is_empty() {
            err(&mut errors, r.line, "name", "Thiếu tên đơn vị".into());
        } else if name.chars().count() > 200 {
            err(&mut errors, r.line, "name", "Tên đơn vị dài quá 200 ký tự".into());
        }
        let kind = parse_kind(&r.kind);
        if kind.is_none() {
            err(
                &mut errors,
                r.line,
                "kind",
                format!(
                    "Loại đơn vị «{}» không rõ (tỉnh, sở, huyện, xã, phường, thị trấn hoặc đặc khu)",
                    r.kind.trim()
                ),
            );
        }
        let date = |errors: &mut Vec<RowError>, field: &str, text: &str| {
            if text.trim().is_empty() {
                return None;
            }
            let d = parse_import_date(text);
            if d.is_none() {
                err(errors, r.line, field, format!("Ngày «{}» không hợp lệ (dạng dd/mm/yyyy)", text.trim()));
            }
            d
        };
        let from = date(&mut errors, "valid_from", &r.valid_from);
        let to = date(&mut errors, "valid_to", &r.valid_to);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                err(
                    &mut errors,
                    r.line,
                    "valid_to",
                    format!("Ngày kết thúc {} trước ngày bắt đầu {}", format_date(t), format_date(f)),
                );
            }
        }
        let successors: Vec<String> =
            r.successor_codes.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        if !successors.is_empty() && to.is_none() {
            err(&mut errors, r.line, "successor_codes", "Chỉ đơn vị có ngày kết thúc mới có đơn vị kế thừa".into());
        }
        let id = Some(r.id.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(id) = &id {
            if !is_unit_id(id) {
                err(
                    &mut errors,
                    r.line,
                    "id",
                    format!("Mã hệ thống «{id}» chỉ gồm chữ thường không dấu, số, «.», «-», «_»"),
                );
            }
        }
        if let Some((kind, designation)) = kind {
            parsed.push(Parsed {
                line: r.line,
                id,
                code,
                name,
                kind,
                designation,
                parent: Some(r.parent_code.trim().to_string()).filter(|s| !s.is_empty()),
                from,
                to,
                successors,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // A code names one unit on any day: two rows with one code must not overlap.
    for (i, p) in parsed.iter().enumerate() {
        let span = |q: &Parsed| (q.from.unwrap_or(NaiveDate::MIN), q.to.unwrap_or(NaiveDate::MAX));
        let (f, t) = span(p);
        if let Some(q) = parsed[..i].iter().find(|q| same_code(&q.code, &p.code) && span(q).0 <= t && f <= span(q).1) {
            err(&mut errors, p.line, "code", format!("Đơn vị «{}» đã có ở dòng {}", p.code, q.line));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // 2. Which existing unit each row names: closing rows first, so a code reused
    //    by a new unit on the next day is not taken for the unit it replaces.
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by_key(|&i| parsed[i].to.is_none());
    let mut matched: Vec<Option<String>> = vec![None; parsed.len()];
    let mut taken: HashMap<String, usize> = HashMap::new();
    for &i in &order {
        let p = &parsed[i];
        let found = match &p.id {
            // An id names the unit exactly; an unknown one is a new unit's.
            Some(id) => tree.get(id).map(|u| u.id.clone()),
            None => {
                let day = p.own_day(today);
                let candidates: Vec<&OrgUnit> = tree
                    .all()
                    .iter()
                    .filter(|u| same_code(&u.code, &p.code) && u.valid_on(day) && !taken.contains_key(&u.id))
                    // A row opening a unit on a date names a unit that opened then;
                    // an older unit still holding the code is another unit.
                    .filter(|u| p.to.is_some() || p.from.is_none() || u.valid_from == p.from)
                    .collect();
                match candidates.as_slice() {
                    [] => None,
                    [one] => Some(one.id.clone()),
                    _ => {
                        err(
                            &mut errors,
                            p.line,
                            "code",
                            format!(
                                "Có nhiều đơn vị mã «{}» vào ngày {}: thêm cột id để chỉ rõ",
                                p.code,
                                format_date(day)
                            ),
                        );
                        None
                    }
                }
            }
        };
        if let Some(id) = found {
            if let Some(&other) = taken.get(&id) {
                err(&mut errors, p.line, "code", format!("Đơn vị «{}» đã có ở dòng {}", p.code, parsed[other].line));
                continue;
            }
            taken.insert(id.clone(), i);
            matched[i] = Some(id);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // 3. The units after the import: existing ones updated in place, new ones
    //    appended in file order, with ids made from their parent and code.
    let mut units: Vec<OrgUnit> = tree.all().to_vec();
    let position: HashMap<String, usize> = units.iter().enumerate().map(|(i, u)| (u.id.clone(), i)).collect();
    let mut used_ids: HashSet<String> = units.iter().map(|u| u.id.clone()).collect();
    let mut row_unit: Vec<usize> = Vec::with_capacity(parsed.len());
    for (i, p) in parsed.iter().enumerate() {
        match &matched[i] {
            Some(id) => {
                let u = &mut units[position[id]];
                u.code = p.code.clone();
                u.name = p.name.clone();
                u.kind = p.kind;
                u.designation = p.designation;
                if p.from.is_some() {
                    u.valid_from = p.from;
                }
                if p.to.is_some() {
                    u.valid_to = p.to;
                }
                row_unit.push(position[id]);
            }
            None => {
                units.push(OrgUnit {
                    id: String::new(),
                    code: p.code.clone(),
                    name: p.name.clone(),
                    kind: p.kind,
                    parent: None,
                    designation: p.designation,
                    valid_from: p.from,
                    valid_to: p.to,
                    successors: Vec::new(),
                });
                row_unit.push(units.len() - 1);
            }
        }
    }
    // New units with an id of their own have it before references are read.
    for (i, p) in parsed.iter().enumerate() {
        if let (Some(id), None) = (&p.id, &matched[i]) {
            units[row_unit[i]].id = id.clone();
            used_ids.insert(id.clone());
        }
    }
    // Parents by code, on each row's first day, among the units after the import.
    let resolve = |units: &[OrgUnit], code: &str, day: NaiveDate, except: usize| -> Result<Option<usize>, String> {
        let hits: Vec<usize> = units
            .iter()
            .enumerate()
            .filter(|(i, u)| *i != except && (same_code(&u.code, code) || u.id == code) && u.valid_on(day))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(format!("có nhiều đơn vị mã «{code}» vào ngày {}", format_date(day))),
        }
    };
    let mut parents: Vec<Option<usize>> = vec![None; parsed.len()];
    for (i, p) in parsed.iter().enumerate() {
        let Some(code) = &p.parent else { continue };
        let me = row_unit[i];
        // A closed unit's parent is read on its last day, any other on its first.
        let day = units[me].valid_to.or(units[me].valid_from).unwrap_or(today);
        match resolve(&units, code, day, me) {
            Ok(Some(parent)) => parents[i] = Some(parent),
            Ok(None) => err(
                &mut errors,
                p.line,
                "parent_code",
                format!("Không có đơn vị cấp trên mã «{code}» vào ngày {}", format_date(day)),
            ),
            Err(m) => err(&mut errors, p.line, "parent_code", m),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Ids of new units: `parent.code` for official numeric codes (23284 under
    // quangngai → quangngai.23284), the code itself when it is already a slug
    // ("quangngai.sonoivu"), the name's slug for a root ("quangngai"). A parent
    // that is new too gets its id first (passes until nothing is left).
    let mut pending: Vec<usize> = (0..parsed.len()).filter(|&i| units[row_unit[i]].id.is_empty()).collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|&i| {
            let p = &parsed[i];
            let own = p.code.to_lowercase();
            let base = if p.code.contains('.') && is_unit_id(&own) {
                own
            } else {
                match parents[i] {
                    Some(parent) if units[parent].id.is_empty() => return true,
                    Some(parent) => format!("{}.{}", units[parent].id, code_segment(&p.code)),
                    None => slug(&p.name),
                }
            };
            // A root whose name has no letter or digit, or a branch so deep the
            // joined id is too long: "u" and the code's slug, still a valid id
            // with room for a "-2" suffix.
            let base = if is_unit_id(&base) && base.len() <= MAX_UNIT_ID_LEN - 8 {
                base
            } else {
                format!("u{}", slug(&p.code)).chars().take(MAX_UNIT_ID_LEN - 8).collect()
            };
            let mut id = base.clone();
            let mut n = 2;
            while used_ids.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            used_ids.insert(id.clone());
            units[row_unit[i]].id = id;
            false
        });
        if pending.len() == before {
            // Only a cycle among new units can stall; the tree check reports it.
            for &i in &pending {
                let id = format!("u{}", slug(&parsed[i].code));
                units[row_unit[i]].id = id;
            }
            break;
        }
    }
    for (i, p) in parsed.iter().enumerate() {
        let me = row_unit[i];
        let parent = match parents[i] {
            Some(parent) => Some(units[parent].id.clone()),
            // An existing unit's row without a parent code keeps its parent.
            None if p.parent.is_none() && matched[i].is_some() => units[me].parent.clone(),
            None => None,
        };
        units[me].parent = parent;
    }
    for (i, p) in parsed.iter().enumerate() {
        let me = row_unit[i];
        let Some(last) = units[me].valid_to else { continue };
        let Some(day) = last.succ_opt() else { continue };
        let mut ids = Vec::new();
        for code in &p.successors {
            match resolve(&units, code, day, me) {
                Ok(Some(s)) => ids.push(units[s].id.clone()),
                Ok(None) => err(
                    &mut errors,
                    p.line,
                    "successor_codes",
                    format!("Không có đơn vị kế thừa mã «{code}» vào ngày {}", format_date(day)),
                ),
                Err(m) => err(&mut errors, p.line, "successor_codes", m),
            }
        }
        if !p.successors.is_empty() {
            units[me].successors = ids;
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // 4. One code, one unit on any day.
    let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        by_code.entry(code_key(&u.code)).or_default().push(i);
    }
    for (i, p) in parsed.iter().enumerate() {
        let me = &units[row_unit[i]];
        let clash = by_code[&code_key(&me.code)].iter().map(|&j| &units[j]).find(|other| {
            other.id != me.id
                && other.valid_from.is_none_or(|f| me.valid_to.is_none_or(|t| f <= t))
                && me.valid_from.is_none_or(|f| other.valid_to.is_none_or(|t| f <= t))
        });
        if let Some(other) = clash {
            err(
                &mut errors,
                p.line,
                "code",
                format!(
                    "Mã «{}» đang là của «{}» trong cùng thời gian: đóng đơn vị đó (ngày kết thúc) trong cùng tệp trước khi dùng lại mã",
                    me.code, other.name
                ),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // 5. The result must still be a valid tree; say which row broke it.
    let line_of =
        |id: &str| -> usize { row_unit.iter().position(|&u| units[u].id == id).map(|i| parsed[i].line).unwrap_or(0) };
    if let Err(e) = UnitTree::new(units.clone()) {
        let (id, field) = match &e {
            UnitTreeError::DuplicateId(id) | UnitTreeError::Cycle(id) => (id.clone(), "parent_code"),
            UnitTreeError::MissingParent { child, .. } | UnitTreeError::OutlivesParent { child, .. } => {
                (child.clone(), "parent_code")
            }
            UnitTreeError::InvertedValidity(id) => (id.clone(), "valid_to"),
            UnitTreeError::MissingSuccessor { unit, .. } | UnitTreeError::SuccessorNotValidAfter { unit, .. } => {
                (unit.clone(), "successor_codes")
            }
            UnitTreeError::SuccessorOfOpenUnit(id) => (id.clone(), "successor_codes"),
        };
        let name = units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or(id.clone());
        let message = match &e {
            UnitTreeError::OutlivesParent { parent, .. } => {
                let parent = units.iter().find(|u| &u.id == parent).map(|u| u.name.as_str()).unwrap_or(parent);
                format!("{name} tồn tại ngoài thời gian của đơn vị cấp trên {parent}")
            }
            other => format!("{name}: {other}"),
        };
        return Err(vec![RowError { line: line_of(&id), field: field.into(), message }]);
    }

    let changes = diff(tree, &units, &row_unit);
    Ok(TreeImport { units, changes })
}

/// A code as compared: numeric codes without leading zeros.
fn code_key(code: &str) -> String {
    code.parse::<u64>().map(|n| n.to_string()).unwrap_or_else(|_| code.to_string())
}

/// Codes compared as typed, and numerically (Excel turns "02" into 2).
fn same_code(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<u64>(), b.parse::<u64>()), (Ok(x), Ok(y)) if x == y)
}

fn diff(tree: &UnitTree, after: &[OrgUnit], touched: &[usize]) -> TreeChanges {
    let name_of =
        |id: &str| after.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string());
    let mut changes = TreeChanges::default();
    let touched: HashSet<usize> = touched.iter().copied().collect();
    for (i, u) in after.iter().enumerate() {
        let change = |before: Option<String>, detail: Option<String>| UnitChange {
            id: u.id.clone(),
            code: u.code.clone(),
            name: u.name.clone(),
            before,
            detail,
        };
        let Some(old) = tree.get(&u.id) else {
            let parent = u.parent.as_deref().map(name_of);
            let from = u.valid_from.map(|d| format!("từ {}", format_date(d)));
            let detail = [parent, from].into_iter().flatten().collect::<Vec<_>>().join(", ");
            changes.added.push(change(None, Some(detail).filter(|d| !d.is_empty())));
            continue;
        };
        if !touched.contains(&i) || old == u {
            changes.unchanged += 1;
            continue;
        }
        let mut other = false;
        if old.name != u.name {
            changes.renamed.push(change(Some(old.name.clone()), None));
        }
        if old.parent != u.parent {
            changes.moved.push(change(
                old.parent.as_deref().map(name_of),
                Some(u.parent.as_deref().map(name_of).unwrap_or_else(|| "(cấp cao nhất)".into())),
            ));
        }
        if old.valid_to.is_none() && u.valid_to.is_some() {
            let successors: Vec<String> = u.successors.iter().map(|s| name_of(s)).collect();
            let mut detail = format!("đến hết {}", u.valid_to.map(format_date).unwrap_or_default());
            if !successors.is_empty() {
                detail.push_str(&format!(" → {}", successors.join(", ")));
            }
            changes.closed.push(change(None, Some(detail)));
        } else if old.valid_to != u.valid_to || old.successors != u.successors {
            other = true;
        }
        if old.code != u.code
            || old.kind != u.kind
            || old.designation() != u.designation()
            || old.valid_from != u.valid_from
        {
            other = true;
        }
        if other {
            changes.updated.push(change(None, Some(u.validity_label_vi()).filter(|s| !s.is_empty())));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn tree() -> UnitTree {
        UnitTree::new(vec![
            OrgUnit::new("kt", "62", "Tỉnh Kon Tum", UnitKind::Province, None),
            OrgUnit::new("kt.snv", "kt.snv", "Sở Nội vụ", UnitKind::Department, Some("kt")),
            OrgUnit::new("kt.tp", "608", "Thành phố Kon Tum", UnitKind::District, Some("kt")),
            OrgUnit::new("kt.tp.duytan", "23284", "Phường Duy Tân", UnitKind::Commune, Some("kt.tp")),
            OrgUnit::new("kt.tp.ngomay", "23296", "Phường Ngô Mây", UnitKind::Commune, Some("kt.tp")),
        ])
        .unwrap()
    }

    fn row(line: usize, code: &str, name: &str, kind: &str, parent: &str) -> UnitRow {
        UnitRow {
            line,
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent_code: parent.into(),
            ..UnitRow::default()
        }
    }

    fn closing(line: usize, code: &str, name: &str, kind: &str, parent: &str, successors: &str) -> UnitRow {
        UnitRow {
            valid_to: "30/06/2025".into(),
            successor_codes: successors.into(),
            ..row(line, code, name, kind, parent)
        }
    }

    fn opening(line: usize, code: &str, name: &str, kind: &str, parent: &str) -> UnitRow {
        UnitRow { valid_from: "01/07/2025".into(), ..row(line, code, name, kind, parent) }
    }

    /// The 2025 reform in miniature: a new province, a reused code, closures.
    fn reform_rows() -> Vec<UnitRow> {
        vec![
            opening(2, "51", "Tỉnh Quảng Ngãi", "tỉnh", ""),
            opening(3, "qn.snv", "Sở Nội vụ", "sở", "51"),
            opening(4, "23284", "Phường Đăk Cấm", "phường", "51"),
            closing(5, "62", "Tỉnh Kon Tum", "tỉnh", "", "51"),
            closing(6, "kt.snv", "Sở Nội vụ", "sở", "62", "qn.snv"),
            closing(7, "608", "Thành phố Kon Tum", "thành phố", "62", ""),
            closing(8, "23284", "Phường Duy Tân", "phường", "608", "23284"),
            closing(9, "23296", "Phường Ngô Mây", "phường", "608", "23284"),
        ]
    }

    #[test]
    fn the_reform_adds_new_units_and_closes_old_ones_with_successors() {
        let t = tree();
        let import = plan_tree_import(&t, &reform_rows(), d(2026, 12, 2)).unwrap();
        let c = &import.changes;
        let added: Vec<&str> = c.added.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(added, ["quangngai", "qn.snv", "quangngai.23284"]);
        let closed: Vec<&str> = c.closed.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(closed, ["kt", "kt.snv", "kt.tp", "kt.tp.duytan", "kt.tp.ngomay"]);
        assert_eq!(c.closed[3].detail.as_deref(), Some("đến hết 30/06/2025 → Phường Đăk Cấm"));
        assert!(c.renamed.is_empty() && c.moved.is_empty(), "{c:?}");
        let after = UnitTree::new(import.units).unwrap();
        let new = after.get("quangngai.23284").unwrap();
        assert_eq!(new.designation(), Some(Designation::Ward));
        assert_eq!(new.parent.as_deref(), Some("quangngai"));
        assert_eq!(after.get("kt.tp.duytan").unwrap().successors, ["quangngai.23284"]);
        assert!(after.is_within("kt.tp.ngomay", "quangngai.23284"));
        assert_eq!(after.get("kt").unwrap().successors, ["quangngai"]);
        // The same file again changes nothing.
        let again = plan_tree_import(&after, &reform_rows(), d(2026, 12, 2)).unwrap();
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(again.changes.unchanged, 8);
    }

    #[test]
    fn renames_and_moves_are_previewed() {
        let t = tree();
        let rows = vec![row(2, "23284", "Phường Duy Tân (mới)", "phường", "62")];
        let c = plan_tree_import(&t, &rows, d(2024, 5, 1)).unwrap().changes;
        assert_eq!(c.renamed[0].before.as_deref(), Some("Phường Duy Tân"));
        assert_eq!(c.moved[0].before.as_deref(), Some("Thành phố Kon Tum"));
        assert_eq!(c.moved[0].detail.as_deref(), Some("Tỉnh Kon Tum"));
        assert_eq!(c.unchanged, 4);
    }

    #[test]
    fn every_bad_row_is_named_with_its_field() {
        let t = tree();
        let rows = vec![
            row(2, "", "Xã A", "xã", "608"),
            row(3, "1", "", "xã", "608"),
            row(4, "2", "Xã B", "làng", "608"),
            UnitRow { valid_from: "31/02/2025".into(), ..row(5, "3", "Xã C", "xã", "608") },
            UnitRow { successor_codes: "23284".into(), ..row(6, "4", "Xã D", "xã", "608") },
            UnitRow {
                valid_from: "01/07/2025".into(),
                valid_to: "01/01/2025".into(),
                ..row(7, "5", "Xã E", "xã", "608")
            },
        ];
        let errors = plan_tree_import(&t, &rows, d(2026, 1, 1)).unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [(2, "code"), (3, "name"), (4, "kind"), (5, "valid_from"), (6, "successor_codes"), (7, "valid_to")]
        );
        assert_eq!(
            errors[2].message,
            "Loại đơn vị «làng» không rõ (tỉnh, sở, huyện, xã, phường, thị trấn hoặc đặc khu)"
        );
        assert_eq!(errors[3].message, "Ngày «31/02/2025» không hợp lệ (dạng dd/mm/yyyy)");
    }

    #[test]
    fn references_are_checked_on_their_dates() {
        let t = tree();
        // A parent that does not exist yet on the row's first day.
        let rows = vec![opening(2, "51", "Tỉnh Quảng Ngãi", "tỉnh", ""), row(3, "21211", "Xã Tịnh Khê", "xã", "51")];
        let errors = plan_tree_import(&t, &rows, d(2025, 3, 1)).unwrap_err();
        assert_eq!((errors[0].line, errors[0].field.as_str()), (3, "parent_code"));
        assert_eq!(errors[0].message, "Không có đơn vị cấp trên mã «51» vào ngày 01/03/2025");
        // A successor that does not exist the day after.
        let rows = vec![closing(2, "23296", "Phường Ngô Mây", "phường", "608", "99999")];
        let errors = plan_tree_import(&t, &rows, d(2026, 1, 1)).unwrap_err();
        assert_eq!(errors[0].message, "Không có đơn vị kế thừa mã «99999» vào ngày 01/07/2025");
        // A commune outliving its district.
        let rows = vec![closing(2, "608", "Thành phố Kon Tum", "thành phố", "62", "")];
        let errors = plan_tree_import(&t, &rows, d(2026, 1, 1)).unwrap_err();
        assert_eq!(errors[0].line, 0, "the commune is not in the file");
        assert!(errors[0].message.contains("ngoài thời gian của đơn vị cấp trên Thành phố Kon Tum"), "{errors:?}");
        // The same unit twice.
        let rows = vec![row(2, "23284", "A", "phường", "608"), row(3, "23284", "B", "phường", "608")];
        let errors = plan_tree_import(&t, &rows, d(2024, 5, 1)).unwrap_err();
        assert_eq!(errors[0].message, "Đơn vị «23284» đã có ở dòng 2");
    }

    #[test]
    fn a_code_is_reused_only_after_its_unit_closes() {
        let t = tree();
        let rows = vec![
            opening(2, "51", "Tỉnh Quảng Ngãi", "tỉnh", ""),
            opening(3, "23284", "Phường Đăk Cấm", "phường", "51"),
        ];
        let errors = plan_tree_import(&t, &rows, d(2026, 1, 1)).unwrap_err();
        assert_eq!((errors[0].line, errors[0].field.as_str()), (3, "code"));
        assert!(errors[0].message.contains("đang là của «Phường Duy Tân»"), "{errors:?}");
    }

    #[test]
    fn new_units_get_ids_that_are_safe_in_report_ids_and_urls() {
        let rows = vec![
            // Looks like an id (it has a dot) but holds what ids may not: "~"
            // separates the parts of a report id, "/" and "?" break URLs.
            row(2, "kt.a~b/c?d", "Sở Tư pháp", "sở", "62"),
            // Nothing of it is a letter or a digit.
            row(3, "@@", "Xã Ia Chim", "xã", "608"),
            // A proper dotted code is still taken as the id.
            row(4, "KT.SoTC", "Sở Tài chính", "sở", "62"),
        ];
        let import = plan_tree_import(&tree(), &rows, d(2025, 1, 1)).expect("valid rows");
        let ids: Vec<&str> = import.units.iter().skip(5).map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["kt.ktabcd", "kt.tp.u", "kt.sotc"]);
        assert!(import.units.iter().all(|u| is_unit_id(&u.id)));
        UnitTree::new(import.units).expect("the tree builds");

        // An explicit id must be a unit id too.
        let bad = UnitRow { id: "kt.x~1".into(), ..row(2, "99", "Sở Y tế", "sở", "62") };
        let errors = plan_tree_import(&tree(), &[bad], d(2025, 1, 1)).unwrap_err();
        assert_eq!(errors[0].field, "id");
        assert!(!is_unit_id("") && !is_unit_id("Kt") && !is_unit_id(&"a".repeat(101)));
        assert!(is_unit_id("quangngai.23284") && is_unit_id("kontum.tpkontum.dakbla"));
    }

    #[test]
    fn slugs_and_kinds() {
        assert_eq!(slug("Tỉnh Quảng Ngãi"), "quangngai");
        assert_eq!(slug("Đặc khu Lý Sơn"), "lyson");
        assert_eq!(slug("Xã Đăk Rơ Wa"), "dakrowa");
        assert_eq!(slug("23284"), "23284");
        assert_eq!(parse_kind(" Phường "), Some((UnitKind::Commune, Some(Designation::Ward))));
        assert_eq!(parse_kind("ĐẶC KHU"), Some((UnitKind::Commune, Some(Designation::SpecialZone))));
        assert_eq!(parse_kind("Sở"), Some((UnitKind::Department, None)));
        assert_eq!(parse_import_date("2025-07-01"), Some(d(2025, 7, 1)));
        assert_eq!(parse_import_date("1/7/2025"), Some(d(2025, 7, 1)));
    }
}
