//! The official exports of a consolidation (tổng hợp): a Word report laid out per
//! Nghị định 30/2020/NĐ-CP ([`docx`]), the indicator table as Excel ([`xlsx`]) and
//! as CSV ([`csv`]). Pure functions over plain data: no HTTP, no database, so the
//! routes only fetch, call and send the bytes.

mod docx;
mod table;

use chrono::NaiveDate;
use danvan_core::aggregate::{period_kind, Consolidation};
use danvan_core::form::{Field, FieldKind};
use danvan_core::{OrgUnit, Period, Plan, ReportForm, UnitKind, UnitTree};

pub use self::docx::docx;
pub use self::table::{csv, xlsx};

/// Why an export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("bảng tổng hợp thuộc kỳ {consolidation}, không phải kỳ {requested} của văn bản")]
    PeriodMismatch { consolidation: String, requested: String },
    #[error("không đọc được kỳ báo cáo «{0}» của bảng tổng hợp")]
    BadPeriod(String),
    #[error("bảng tổng hợp dùng mẫu báo cáo {consolidation}, không phải mẫu {requested}")]
    FormMismatch { consolidation: String, requested: String },
    #[error("không có đơn vị {0} trong danh sách đơn vị")]
    UnknownUnit(String),
    #[error("không tạo được tệp Word (.docx): {0}")]
    Docx(String),
    #[error("không tạo được tệp Excel (.xlsx): {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The issuing body as the top-left of the document names it (Nghị định 30/2020,
/// Phụ lục I, mục II.2), and what follows from it. Every field is public so a
/// caller can correct what the derivation from unit names gets wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuingBody {
    /// The managing body above, in capitals, abbreviated ("UBND TỈNH KON TUM").
    /// None for a People's Committee, which names itself alone.
    pub parent_line: Option<String>,
    /// The issuing body in capitals, one entry per printed line
    /// (["ỦY BAN NHÂN DÂN", "THÀNH PHỐ KON TUM"], ["SỞ NỘI VỤ"]).
    pub lines: Vec<String>,
    /// As written inside a sentence: "Ủy ban nhân dân thành phố Kon Tum", "Sở Nội vụ".
    pub name_in_text: String,
    /// After "BC-" in the document number: "UBND", "SNV".
    pub abbreviation: String,
    /// The signing capacity, in capitals: ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], ["GIÁM ĐỐC"].
    pub signer_capacity: Vec<String>,
}

impl IssuingBody {
    /// Derives the header lines from the unit and its parent in the tree.
    ///
    /// - a province, district or commune issues as its People's Committee:
    ///   "Thành phố Kon Tum" → "ỦY BAN NHÂN DÂN" / "THÀNH PHỐ KON TUM", signed
    ///   "TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH";
    /// - a department issues under its managing committee: "Sở Nội vụ" under
    ///   "Tỉnh Kon Tum" → "UBND TỈNH KON TUM" / "SỞ NỘI VỤ", signed by its head
    ///   ("GIÁM ĐỐC" for a Sở).
    pub fn for_unit(unit: &OrgUnit, parent: Option<&OrgUnit>) -> IssuingBody {
        let name = unit.name.trim();
        match unit.kind {
            UnitKind::Province | UnitKind::District | UnitKind::Commune => IssuingBody {
                parent_line: None,
                lines: vec!["ỦY BAN NHÂN DÂN".to_string(), name.to_uppercase()],
                name_in_text: format!("Ủy ban nhân dân {}", lower_first(name)),
                abbreviation: "UBND".to_string(),
                signer_capacity: vec!["TM. ỦY BAN NHÂN DÂN".to_string(), "CHỦ TỊCH".to_string()],
            },
            UnitKind::Department => IssuingBody {
                parent_line: parent.map(|p| match p.kind {
                    UnitKind::Department => p.name.trim().to_uppercase(),
                    _ => format!("UBND {}", p.name.trim().to_uppercase()),
                }),
                lines: vec![name.to_uppercase()],
                name_in_text: name.to_string(),
                abbreviation: initials(name),
                signer_capacity: vec![head_of(name).to_string()],
            },
        }
    }

    /// Looks the unit and its parent up in the tree.
    pub fn from_tree(tree: &UnitTree, unit_id: &str) -> Result<IssuingBody, ExportError> {
        let unit = tree.get(unit_id).ok_or_else(|| ExportError::UnknownUnit(unit_id.to_string()))?;
        let parent = unit.parent.as_deref().and_then(|p| tree.get(p));
        Ok(IssuingBody::for_unit(unit, parent))
    }

    /// The whole name on one line: "ỦY BAN NHÂN DÂN THÀNH PHỐ KON TUM".
    pub fn full_name(&self) -> String {
        self.lines.join(" ")
    }
}

/// Who receives the report ("Nơi nhận"), without the leading dash and the final
/// punctuation: the level it reports to, then the file copy ("Lưu: VT").
pub fn default_recipients(unit: &OrgUnit, parent: Option<&OrgUnit>) -> Vec<String> {
    let mut out = Vec::new();
    match unit.kind {
        UnitKind::Province => {
            out.push("Bộ Nội vụ (b/c)".to_string());
            out.push("Thường trực Tỉnh ủy (b/c)".to_string());
        }
        // Plan III.1: departments and districts report to Sở Nội vụ; Sở Nội vụ
        // itself consolidates for the Provincial People's Committee (III.5).
        UnitKind::Department if unit.name.trim().eq_ignore_ascii_case("Sở Nội vụ") => {
            out.push("UBND tỉnh (b/c)".to_string());
        }
        UnitKind::Department | UnitKind::District => out.push("Sở Nội vụ (b/c)".to_string()),
        UnitKind::Commune => match parent {
            Some(p) => out.push(format!("UBND {} (b/c)", lower_first(p.name.trim()))),
            None => out.push("Cấp trên trực tiếp (b/c)".to_string()),
        },
    }
    out.push("Lưu: VT".to_string());
    out
}

/// Everything the Word report is made from.
#[derive(Clone, Debug)]
pub struct DocxInput<'a> {
    pub consolidation: &'a Consolidation,
    pub form: &'a ReportForm,
    /// The plan reported on: its number, date, issuer and title make the intro.
    pub plan: &'a Plan,
    /// To name the units listed by id (those without an accepted report).
    pub units: &'a UnitTree,
    pub issuer: IssuingBody,
    /// Must be the consolidation's period.
    pub period: Period,
    /// Before the date: "Kon Tum, ngày …".
    pub place: &'a str,
    /// The document's date, in Vietnam.
    pub date: NaiveDate,
    /// "Nơi nhận" entries without the dash and final punctuation ([`default_recipients`]).
    pub recipients: Vec<String>,
    /// Printed under the signature; a dotted line to fill in by hand when None.
    pub signer_name: Option<&'a str>,
}

impl<'a> DocxInput<'a> {
    /// The usual input: issuer and recipients derived from the consolidating unit
    /// in `units`, place from the plan.
    pub fn new(
        consolidation: &'a Consolidation,
        form: &'a ReportForm,
        plan: &'a Plan,
        units: &'a UnitTree,
        date: NaiveDate,
    ) -> Result<DocxInput<'a>, ExportError> {
        let period = Period::parse_key(&consolidation.period)
            .map_err(|_| ExportError::BadPeriod(consolidation.period.clone()))?;
        let unit =
            units.get(&consolidation.unit_id).ok_or_else(|| ExportError::UnknownUnit(consolidation.unit_id.clone()))?;
        let parent = unit.parent.as_deref().and_then(|p| units.get(p));
        Ok(DocxInput {
            consolidation,
            form,
            plan,
            units,
            issuer: IssuingBody::for_unit(unit, parent),
            period,
            place: if plan.place.is_empty() { "Kon Tum" } else { plan.place.as_str() },
            date,
            recipients: default_recipients(unit, parent),
            signer_name: None,
        })
    }
}

/// The count fields a table of this consolidation shows, in form order: those of
/// its period kind (all of them when the period key does not parse).
pub(crate) fn count_fields<'f>(c: &Consolidation, form: &'f ReportForm) -> Vec<&'f Field> {
    let kind = Period::parse_key(&c.period).ok().map(|p| period_kind(&p));
    form.fields().filter(|f| f.kind == FieldKind::Count).filter(|f| kind.is_none_or(|k| f.applies_to(k))).collect()
}

pub(crate) fn check_form(c: &Consolidation, form: &ReportForm) -> Result<(), ExportError> {
    if c.form_id != form.id {
        return Err(ExportError::FormMismatch { consolidation: c.form_id.clone(), requested: form.id.clone() });
    }
    Ok(())
}

/// "1.234.567": Vietnamese groups thousands with dots.
pub fn format_number_vi(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// The date line of Nghị định 30/2020 (Phụ lục I, mục II.4): "ngày 05 tháng 3 năm
/// 2024" — a day below 10 and the months 1 and 2 take a leading zero, nothing else.
pub fn date_line_vi(place: &str, date: NaiveDate) -> String {
    use chrono::Datelike;
    let month = match date.month() {
        m @ (1 | 2) => format!("{m:02}"),
        m => m.to_string(),
    };
    format!("{place}, ngày {:02} tháng {month} năm {}", date.day(), date.year())
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Sở Lao động - Thương binh và Xã hội" → "SLĐTBXH" (the usual abbreviation of a
/// department in document numbers).
fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-' || c == ',')
        .filter(|w| !w.is_empty() && *w != "và")
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The head who signs for a department, by the kind of body its name says it is.
fn head_of(name: &str) -> &'static str {
    let lower = name.to_lowercase();
    if lower.starts_with("sở") {
        "GIÁM ĐỐC"
    } else if lower.starts_with("thanh tra") {
        "CHÁNH THANH TRA"
    } else if lower.starts_with("văn phòng") {
        "CHÁNH VĂN PHÒNG"
    } else if lower.starts_with("ban") {
        "TRƯỞNG BAN"
    } else {
        "THỦ TRƯỞNG CƠ QUAN"
    }
}

/// A consolidation of Thành phố Kon Tum for March 2024 built from the embedded
/// seed with three accepted commune reports: for the example that renders the
/// README screenshot, and for quick manual checks.
#[doc(hidden)]
pub fn sample_consolidation() -> (Consolidation, ReportForm, Plan, UnitTree) {
    use std::collections::HashMap;

    use chrono::{TimeZone, Utc};
    use danvan_core::aggregate::{consolidate, figures, AcceptedReport, ModelCounts, ModelField};
    use danvan_core::Values;

    use crate::catalog::packages::{shipped_plans, shipped_tree};
    let tree =
        shipped_tree(chrono::NaiveDate::from_ymd_opt(2024, 5, 1).expect("a date")).expect("the shipped tree is valid");
    let doc = shipped_plans().remove(0);
    let plan = doc.plan;
    let form = doc.form.expect("the plan has a form");
    let period = Period::Month { year: 2024, month: 3 };

    let reports: [(&str, &[(&str, &str)]); 3] = [
        (
            "kontum.tpkontum.dakbla",
            &[
                ("ii1.sessions", "6"),
                ("ii1.participants", "412"),
                ("ii1.result", "Tổ chức 06 buổi tuyên truyền Luật Đất đai năm 2024 tại các thôn, lồng ghép sinh hoạt cộng đồng bằng tiếng Ba Na."),
                ("ii2.sessions_remote", "3"),
                ("ii2.sessions_ethnic", "4"),
                ("ii2.sessions_religious", "1"),
                ("ii2.participants", "260"),
                ("ii3.models_registered", "2"),
                ("ii3.models_recognised", "1"),
                ("ii3.collectives_commended", "1"),
                ("ii3.individuals_commended", "3"),
                ("ii3.result", "Đăng ký mô hình \"Dân vận khéo\" trong phát triển cây dược liệu tại thôn Kon Rơ Wang."),
                ("ii4.dossiers_received", "157"),
                ("ii4.dossiers_on_time", "155"),
                ("ii5.inspections", "1"),
                ("ii5.officials_disciplined", "0"),
                ("ii6.reception_sessions", "4"),
                ("ii6.petitions_received", "5"),
                ("ii6.petitions_resolved", "4"),
                ("ii6.dialogues", "1"),
                ("ii6.result", "Đối thoại với Nhân dân thôn Kon Jơ Ri về giải phóng mặt bằng đường tránh."),
                ("ii7.supervisions", "2"),
                ("ii7.critiques", "0"),
                ("assessment", "Công tác dân vận chính quyền được triển khai đồng bộ; đội ngũ cán bộ gần dân, sát dân hơn."),
                ("difficulties", "Một số thôn ở xa, đường sá đi lại khó khăn vào mùa mưa."),
                ("next_tasks", "Tiếp tục tuyên truyền Luật Đất đai; sơ kết mô hình \"Dân vận khéo\"."),
            ],
        ),
        (
            "kontum.tpkontum.quangtrung",
            &[
                ("ii1.sessions", "4"),
                ("ii1.participants", "330"),
                ("ii1.result", "Phổ biến Chỉ thị 33/CT-TTg đến cán bộ, công chức và tổ dân phố."),
                ("ii2.sessions_remote", "0"),
                ("ii2.sessions_ethnic", "1"),
                ("ii2.sessions_religious", "2"),
                ("ii2.participants", "95"),
                ("ii3.models_registered", "1"),
                ("ii3.models_recognised", "0"),
                ("ii3.collectives_commended", "0"),
                ("ii3.individuals_commended", "1"),
                ("ii4.dossiers_received", "1210"),
                ("ii4.dossiers_on_time", "1198"),
                ("ii5.inspections", "2"),
                ("ii5.officials_disciplined", "0"),
                ("ii6.reception_sessions", "4"),
                ("ii6.petitions_received", "9"),
                ("ii6.petitions_resolved", "9"),
                ("ii6.dialogues", "2"),
                ("ii7.supervisions", "1"),
                ("ii7.critiques", "1"),
                ("assessment", "Cải cách hành chính có chuyển biến, tỷ lệ hồ sơ đúng hạn đạt 99%."),
                ("proposals", "Đề nghị thành phố hỗ trợ kinh phí in tài liệu tuyên truyền song ngữ."),
                ("next_tasks", "Nâng cao chất lượng tiếp công dân tại Bộ phận một cửa."),
            ],
        ),
        (
            "kontum.tpkontum.ngomay",
            &[
                ("ii1.sessions", "3"),
                ("ii1.participants", "185"),
                ("ii2.sessions_remote", "0"),
                ("ii2.sessions_ethnic", "0"),
                ("ii2.sessions_religious", "1"),
                ("ii2.participants", "40"),
                ("ii3.models_registered", "0"),
                ("ii3.models_recognised", "1"),
                ("ii3.collectives_commended", "0"),
                ("ii3.individuals_commended", "0"),
                ("ii4.dossiers_received", "640"),
                ("ii4.dossiers_on_time", "640"),
                ("ii5.inspections", "0"),
                ("ii5.officials_disciplined", "0"),
                ("ii6.reception_sessions", "3"),
                ("ii6.petitions_received", "2"),
                ("ii6.petitions_resolved", "1"),
                ("ii6.dialogues", "0"),
                ("ii7.supervisions", "1"),
                ("ii7.critiques", "0"),
                ("assessment", "Hoàn thành các chỉ tiêu của tháng."),
                ("next_tasks", "Chuẩn bị hội nghị đối thoại quý II."),
            ],
        ),
    ];
    let values: Vec<(String, Values)> = reports
        .iter()
        .map(|(unit, pairs)| (unit.to_string(), pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
        .collect();
    let figs: Vec<_> = values.iter().map(|(_, v)| figures(&form, v)).collect();
    let accepted: HashMap<String, AcceptedReport<'_>> = values
        .iter()
        .zip(&figs)
        .map(|((unit, v), f)| (unit.clone(), AcceptedReport { figures: f, values: v }))
        .collect();
    let mut models = ModelCounts { registered: 3, recognised: 2, commended: 1, ..Default::default() };
    models.by_field.insert(ModelField::Economy, [2, 1, 1]);
    models.by_field.insert(ModelField::CultureSociety, [1, 0, 0]);
    models.by_field.insert(ModelField::DefenceSecurity, [0, 1, 0]);
    let now = Utc.with_ymd_and_hms(2024, 3, 15, 2, 0, 0).unwrap();
    let c = consolidate(&plan, &form, &tree, "kontum.tpkontum", &period, &accepted, &models, now)
        .expect("Thành phố Kon Tum is in the seed");
    (c, form, plan, tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, kind: UnitKind) -> OrgUnit {
        OrgUnit::new(name, name, name, kind, None)
    }

    #[test]
    fn issuing_bodies_follow_the_decree() {
        let province = unit("Tỉnh Kon Tum", UnitKind::Province);
        let city = IssuingBody::for_unit(&unit("Thành phố Kon Tum", UnitKind::District), Some(&province));
        assert_eq!(city.full_name(), "ỦY BAN NHÂN DÂN THÀNH PHỐ KON TUM");
        assert_eq!(city.parent_line, None);
        assert_eq!(city.name_in_text, "Ủy ban nhân dân thành phố Kon Tum");
        let snv = IssuingBody::for_unit(&unit("Sở Nội vụ", UnitKind::Department), Some(&province));
        assert_eq!(snv.parent_line.as_deref(), Some("UBND TỈNH KON TUM"));
        assert_eq!(snv.lines, ["SỞ NỘI VỤ"]);
        assert_eq!(snv.abbreviation, "SNV");
        assert_eq!(snv.signer_capacity, ["GIÁM ĐỐC"]);
        let root = IssuingBody::for_unit(&province, None);
        assert_eq!(root.full_name(), "ỦY BAN NHÂN DÂN TỈNH KON TUM");
        let ldtbxh = IssuingBody::for_unit(&unit("Sở Lao động - Thương binh và Xã hội", UnitKind::Department), None);
        assert_eq!(ldtbxh.abbreviation, "SLĐTBXH");
        assert_eq!(ldtbxh.parent_line, None);
    }

    #[test]
    fn dates_and_numbers_are_written_the_vietnamese_way() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(date_line_vi("Kon Tum", d(2024, 3, 16)), "Kon Tum, ngày 16 tháng 3 năm 2024");
        assert_eq!(date_line_vi("Kon Tum", d(2024, 2, 5)), "Kon Tum, ngày 05 tháng 02 năm 2024");
        assert_eq!(date_line_vi("Kon Tum", d(2024, 12, 9)), "Kon Tum, ngày 09 tháng 12 năm 2024");
        assert_eq!(format_number_vi(0), "0");
        assert_eq!(format_number_vi(999), "999");
        assert_eq!(format_number_vi(2007), "2.007");
        assert_eq!(format_number_vi(1_234_567), "1.234.567");
    }

    #[test]
    fn recipients_go_to_the_level_above() {
        let province = unit("Tỉnh Kon Tum", UnitKind::Province);
        let city = unit("Thành phố Kon Tum", UnitKind::District);
        assert_eq!(default_recipients(&city, Some(&province)), ["Sở Nội vụ (b/c)", "Lưu: VT"]);
        assert_eq!(
            default_recipients(&unit("Xã Đăk Blà", UnitKind::Commune), Some(&city)),
            ["UBND thành phố Kon Tum (b/c)", "Lưu: VT"]
        );
        assert_eq!(
            default_recipients(&unit("Sở Nội vụ", UnitKind::Department), Some(&province)),
            ["UBND tỉnh (b/c)", "Lưu: VT"]
        );
    }
}
