//! What a new version of a plan (or a new plan) changes, for the preview an
//! administrator reads before publishing: plan items and obligations, report-form
//! fields, and the plan's own facts (number, title, dates).

use serde::{Deserialize, Serialize};

use crate::form::{FieldKind, ReportForm};
use crate::plan::Plan;

/// One changed thing, said for people: "II.3 Tăng cường đối thoại…".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanChanges {
    /// No published version yet: everything is new.
    pub new_plan: bool,
    /// Number, title, issuer, dates… (one line each).
    pub facts: Vec<Change>,
    pub items_added: Vec<Change>,
    pub items_changed: Vec<Change>,
    pub items_removed: Vec<Change>,
    pub fields_added: Vec<Change>,
    pub fields_changed: Vec<Change>,
    pub fields_retired: Vec<Change>,
}

impl PlanChanges {
    pub fn is_empty(&self) -> bool {
        !self.new_plan
            && self.facts.is_empty()
            && self.items_added.is_empty()
            && self.items_changed.is_empty()
            && self.items_removed.is_empty()
            && self.fields_added.is_empty()
            && self.fields_changed.is_empty()
            && self.fields_retired.is_empty()
    }

    /// One line for the audit log.
    pub fn summary_vi(&self) -> String {
        if self.new_plan {
            return format!("kế hoạch mới, {} mục", self.items_added.len());
        }
        format!(
            "mục: thêm {}, sửa {}, bỏ {}; trường mẫu báo cáo: thêm {}, sửa {}, ngừng {}; thông tin chung: {}",
            self.items_added.len(),
            self.items_changed.len(),
            self.items_removed.len(),
            self.fields_added.len(),
            self.fields_changed.len(),
            self.fields_retired.len(),
            self.facts.len()
        )
    }
}

fn change(id: &str, label: &str, detail: Option<String>) -> Change {
    Change { id: id.to_string(), label: label.to_string(), detail }
}

/// Compares `new` with the current published version (`old`, None for a new plan).
pub fn plan_changes(
    old: Option<(&Plan, Option<&ReportForm>)>,
    new: &Plan,
    new_form: Option<&ReportForm>,
) -> PlanChanges {
    let mut c = PlanChanges::default();
    let Some((old, old_form)) = old else {
        c.new_plan = true;
        c.items_added = new.items.iter().map(|i| change(&i.id, &format!("{} {}", i.number, i.title), None)).collect();
        c.fields_added =
            new_form.map(|f| f.fields().map(|x| change(&x.id, &x.label, None)).collect()).unwrap_or_default();
        return c;
    };
    let facts: [(&str, &str, String, String); 5] = [
        ("number", "Số hiệu", old.number.clone(), new.number.clone()),
        ("title", "Trích yếu", old.title.clone(), new.title.clone()),
        ("issued_by", "Cơ quan ban hành", old.issued_by.clone(), new.issued_by.clone()),
        (
            "issued_on",
            "Ngày ban hành",
            crate::time::format_date(old.issued_on),
            crate::time::format_date(new.issued_on),
        ),
        ("validity", "Thời gian áp dụng", old.validity_label(), new.validity_label()),
    ];
    for (id, label, before, after) in facts {
        if before != after {
            c.facts.push(change(id, label, Some(format!("{before} → {after}"))));
        }
    }
    for item in &new.items {
        match old.item(&item.id) {
            None => c.items_added.push(change(&item.id, &format!("{} {}", item.number, item.title), None)),
            Some(before) if before != item => {
                let mut what = Vec::new();
                if before.title != item.title || before.number != item.number {
                    what.push("tiêu đề");
                }
                if before.body != item.body {
                    what.push("nội dung");
                }
                if before.assigned_to != item.assigned_to {
                    what.push("đơn vị thực hiện");
                }
                if before.obligations != item.obligations {
                    what.push("nghĩa vụ, thời hạn");
                }
                if before.section != item.section {
                    what.push("phần");
                }
                c.items_changed.push(change(
                    &item.id,
                    &format!("{} {}", item.number, item.title),
                    Some(format!("sửa {}", what.join(", "))),
                ));
            }
            Some(_) => {}
        }
    }
    for item in &old.items {
        if new.item(&item.id).is_none() {
            c.items_removed.push(change(&item.id, &format!("{} {}", item.number, item.title), None));
        }
    }
    if let (Some(before), Some(after)) = (old_form, new_form) {
        for section in &after.sections {
            if let Some(prev) = before.sections.iter().find(|x| x.id == section.id) {
                if prev.title != section.title {
                    let detail = Some(format!("«{}» → «{}»", prev.title, section.title));
                    c.facts.push(change(&section.id, &format!("Phần {} của mẫu báo cáo", section.id), detail));
                }
            }
        }
    }
    let empty = Vec::new();
    let old_fields: Vec<_> = old_form.map(|f| f.fields().collect()).unwrap_or(empty.clone());
    for field in new_form.map(|f| f.fields().collect::<Vec<_>>()).unwrap_or(empty) {
        match old_fields.iter().find(|f| f.id == field.id) {
            None => c.fields_added.push(change(&field.id, &field.label, None)),
            Some(before) if field.retired && !before.retired => {
                c.fields_retired.push(change(&field.id, &field.label, None))
            }
            Some(before) if *before != field => {
                let detail = match (before.kind, field.kind) {
                    (FieldKind::Text { max_chars: a }, FieldKind::Text { max_chars: b }) if a != b => {
                        Some(format!("tối đa {a} → {b} ký tự"))
                    }
                    _ if before.label != field.label => Some(format!("«{}» → «{}»", before.label, field.label)),
                    _ if before.required != field.required => Some(if field.required {
                        "bắt buộc".to_string()
                    } else {
                        "không bắt buộc".to_string()
                    }),
                    _ => None,
                };
                c.fields_changed.push(change(&field.id, &field.label, detail));
            }
            Some(_) => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> (Plan, ReportForm) {
        let plan = serde_json::from_str(include_str!("../../../data/seed/plans/kh-413-ubnd-2024.json")).unwrap();
        let form = serde_json::from_str(include_str!("../../../data/seed/forms/kh-413-ubnd-2024.json")).unwrap();
        (plan, form)
    }

    #[test]
    fn a_new_version_lists_what_changed() {
        let (plan, form) = seed();
        assert!(plan_changes(Some((&plan, Some(&form))), &plan, Some(&form)).is_empty());
        let (mut next, mut next_form) = seed();
        next.items[0].title = "Tuyên truyền (sửa)".into();
        next.items.pop();
        next_form.sections[0].title = "Phần một".into();
        next_form.sections[0].fields[0].retired = true;
        let mut added = next_form.sections[0].fields[1].clone();
        added.id = "ii1.moi-1".into();
        next_form.sections[0].fields.push(added);
        let c = plan_changes(Some((&plan, Some(&form))), &next, Some(&next_form));
        assert_eq!(c.items_changed.len(), 1);
        assert_eq!(c.items_changed[0].detail.as_deref(), Some("sửa tiêu đề"));
        assert_eq!(c.items_removed.len(), 1);
        assert_eq!(c.fields_retired.len(), 1);
        assert_eq!(c.fields_added[0].id, "ii1.moi-1");
        assert!(c.facts.iter().any(|f| f.detail.as_deref().is_some_and(|d| d.ends_with("→ «Phần một»"))));
        assert!(c.summary_vi().starts_with("mục: thêm 0, sửa 1, bỏ 1; trường mẫu báo cáo: thêm 1, sửa 0, ngừng 1"));
        let new = plan_changes(None, &plan, Some(&form));
        assert!(new.new_plan && new.items_added.len() == plan.items.len());
    }
}
