//! Plans and their report forms as runtime data: the checks before a plan is
//! published (imported from JSON or edited as a draft), and the copy of a plan to
//! a new year. A published version never changes; a correction is the next
//! version, and its form must keep every field of the last one (retired at most)
//! so that no value already filed becomes invalid.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
pub use danvan_core::catalog::{CopyNotes, PlanDocument};
use danvan_core::plan_changes::{plan_changes, PlanChanges};
use danvan_core::{Assignee, DueRule, Plan, ReportForm, UnitTree};

use super::Catalog;

/// A plan that passed every check, numbered as the next version, with the preview.
#[derive(Clone, Debug)]
pub struct CheckedPlan {
    pub doc: PlanDocument,
    pub changes: PlanChanges,
}

/// Whether `s` is usable as an id in addresses and report ids (`plan~unit~period`).
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

/// Every problem that keeps `doc` from being published, in Vietnamese, or the plan
/// numbered as the next version of what is published with the preview of changes.
pub fn check_plan(catalog: &Catalog, doc: PlanDocument) -> Result<CheckedPlan, Vec<String>> {
    let PlanDocument { mut plan, form } = doc;
    let mut errors = Vec::new();
    if !is_slug(&plan.id) {
        errors.push(format!(
            "Mã kế hoạch «{}» chỉ gồm chữ thường không dấu, số, «.», «-», «_» (tối đa 100 ký tự)",
            plan.id
        ));
    }
    for (value, label) in [(&plan.number, "Số hiệu"), (&plan.title, "Trích yếu"), (&plan.issued_by, "Cơ quan ban hành")]
    {
        if value.trim().is_empty() {
            errors.push(format!("{label} không được để trống"));
        }
    }
    if plan.items.is_empty() {
        errors.push("Kế hoạch chưa có mục nào".into());
    }
    for item in &plan.items {
        if item.title.trim().is_empty() {
            errors.push(format!("Mục {}: thiếu tiêu đề", item.id));
        }
        for o in &item.obligations {
            if o.title.trim().is_empty() {
                errors.push(format!("Mục {}, nghĩa vụ {}: thiếu nội dung", item.id, o.id));
            }
        }
    }
    if let Err(e) = plan.validate() {
        errors.push(format!("Kế hoạch: {e}"));
    }
    errors.extend(assignee_problems(&plan, &catalog.tree));
    let periodic = plan
        .items
        .iter()
        .flat_map(|i| &i.obligations)
        .any(|o| matches!(o.due, DueRule::Monthly { .. } | DueRule::Yearly { .. }));
    let previous = catalog.plan(&plan.id);
    let previous_form = previous.and_then(|p| catalog.form_for_plan(&p.id));
    match &form {
        None if periodic => errors.push("Kế hoạch có báo cáo tháng hoặc năm nên cần mẫu báo cáo".into()),
        None => {}
        Some(f) => {
            if f.plan_id != plan.id {
                errors.push(format!("Mẫu báo cáo thuộc kế hoạch «{}», không phải «{}»", f.plan_id, plan.id));
            }
            if !is_slug(&f.id) {
                errors.push(format!("Mã mẫu báo cáo «{}» không hợp lệ", f.id));
            }
            if let Err(e) = f.check_definition() {
                errors.push(format!("Mẫu báo cáo: {e}"));
            }
            for field in f.fields() {
                if field.label.trim().is_empty() {
                    errors.push(format!("Mẫu báo cáo: trường {} thiếu tên", field.id));
                }
                if !is_slug(&field.id.replace('_', "-")) {
                    errors.push(format!("Mẫu báo cáo: mã trường «{}» không hợp lệ", field.id));
                }
            }
            if let Some(old) = previous_form {
                if old.id != f.id {
                    errors.push(format!("Mẫu báo cáo phải giữ mã «{}» của phiên bản trước", old.id));
                }
                if let Err(e) = f.check_evolution(old) {
                    errors.push(format!("Mẫu báo cáo: {e}"));
                }
            } else if catalog.forms.iter().any(|other| other.id == f.id) {
                errors.push(format!("Mã mẫu báo cáo «{}» đã dùng cho kế hoạch khác", f.id));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    plan.version = previous.map(|p| p.version + 1).unwrap_or(1);
    let changes = plan_changes(previous.map(|p| (p, previous_form)), &plan, form.as_ref());
    if changes.is_empty() {
        return Err(vec![format!("Không có gì thay đổi so với phiên bản {} đang áp dụng", plan.version - 1)]);
    }
    Ok(CheckedPlan { doc: PlanDocument { plan, form }, changes })
}

/// Units a plan names that do not exist, or do not exist while it applies.
fn assignee_problems(plan: &Plan, tree: &UnitTree) -> Vec<String> {
    let v = plan.validity();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let named = plan
        .items
        .iter()
        .flat_map(|i| i.assigned_to.iter().chain(i.obligations.iter().flat_map(|o| o.assigned_to.iter().flatten())));
    for a in named {
        let Assignee::Unit(id) = a else { continue };
        if !seen.insert(id.clone()) {
            continue;
        }
        match tree.get(id) {
            None => out.push(format!("Kế hoạch giao việc cho đơn vị «{id}» không có trong danh sách đơn vị")),
            Some(u) if !u.valid_during(v.first, v.last) => out.push(format!(
                "Kế hoạch giao việc cho {} ({}), đơn vị không hoạt động trong thời gian {}",
                u.name,
                u.validity_label_vi(),
                plan.validity_label()
            )),
            Some(_) => {}
        }
    }
    out
}

/// "kh-413-ubnd-2024" → "kh-413-ubnd-2026"; a year added when there is none.
pub fn id_for_year(id: &str, from_year: i32, year: i32) -> String {
    match id.strip_suffix(&from_year.to_string()) {
        Some(base) => format!("{base}{year}"),
        None => format!("{id}-{year}"),
    }
}

fn shift_year(date: NaiveDate, years: i32) -> NaiveDate {
    let y = date.year() + years;
    NaiveDate::from_ymd_opt(y, date.month(), date.day())
        // 29/02 in a year without one.
        .or_else(|| NaiveDate::from_ymd_opt(y, date.month(), 28))
        .unwrap_or(date)
}

/// A draft of `source` for `year`: a new id, dates and one-off deadlines moved by
/// the difference in years, "năm 2024" in the texts made "năm 2026", work given
/// to units that have closed since handed to their successors, the form copied
/// without its retired fields (nothing has been filed under the new plan).
pub fn copy_to_year(tree: &UnitTree, source: &Plan, form: Option<&ReportForm>, year: i32) -> (PlanDocument, CopyNotes) {
    let from_year = source.issued_on.year();
    let years = year - from_year;
    let mut plan = source.clone();
    plan.id = id_for_year(&source.id, from_year, year);
    plan.version = 1;
    plan.issued_on = shift_year(source.issued_on, years);
    plan.valid_from = source.valid_from.map(|d| shift_year(d, years));
    plan.valid_to = source.valid_to.map(|d| shift_year(d, years));
    let say_year = |text: &str| text.replace(&format!("năm {from_year}"), &format!("năm {year}"));
    plan.title = say_year(&plan.title);
    plan.purposes = plan.purposes.iter().map(|t| say_year(t)).collect();
    plan.requirements = plan.requirements.iter().map(|t| say_year(t)).collect();
    plan.closing = say_year(&plan.closing);
    let start = plan.validity().first;
    let mut notes = CopyNotes::default();
    let mut map_assignees = |list: &mut Vec<Assignee>| {
        let mut out = Vec::new();
        for a in list.drain(..) {
            match &a {
                Assignee::Unit(id) => {
                    let now = current_units(tree, id, start);
                    if now.is_empty() {
                        let name = tree.get(id).map(|u| u.name.clone()).unwrap_or(id.clone());
                        if !notes.unresolved.contains(&name) {
                            notes.unresolved.push(name);
                        }
                        out.push(a.clone());
                    } else {
                        for successor in now {
                            if successor != *id {
                                let line = format!(
                                    "{} → {}",
                                    tree.get(id).map(|u| u.name.as_str()).unwrap_or(id),
                                    tree.get(&successor).map(|u| u.name.as_str()).unwrap_or(&successor)
                                );
                                if !notes.reassigned.contains(&line) {
                                    notes.reassigned.push(line);
                                }
                            }
                            let mapped = Assignee::Unit(successor);
                            if !out.contains(&mapped) {
                                out.push(mapped);
                            }
                        }
                    }
                }
                Assignee::Kind(_) => {
                    if !out.contains(&a) {
                        out.push(a.clone())
                    }
                }
            }
        }
        *list = out;
    };
    for item in &mut plan.items {
        item.body = say_year(&item.body);
        map_assignees(&mut item.assigned_to);
        for o in &mut item.obligations {
            if let DueRule::Once { date } = &mut o.due {
                *date = shift_year(*date, years);
            }
            if let Some(list) = &mut o.assigned_to {
                map_assignees(list);
            }
        }
    }
    let form = form.map(|f| {
        let mut f = f.clone();
        f.id = match f.id.strip_prefix(&source.id) {
            Some(rest) => format!("{}{rest}", plan.id),
            None => format!("{}.bao-cao", plan.id),
        };
        f.plan_id = plan.id.clone();
        for s in &mut f.sections {
            s.fields.retain(|x| !x.retired);
        }
        f.title = say_year(&f.title);
        f
    });
    (PlanDocument { plan, form }, notes)
}

/// The units that carry `id`'s work on `date`: itself if it exists then, else its
/// successors (followed through later reforms).
fn current_units(tree: &UnitTree, id: &str, date: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![id.to_string()];
    let mut seen = HashSet::new();
    while let Some(cur) = stack.pop() {
        if !seen.insert(cur.clone()) {
            continue;
        }
        let Some(u) = tree.get(&cur) else { continue };
        if u.valid_on(date) {
            out.push(cur);
        } else {
            stack.extend(u.successors.iter().rev().cloned());
        }
    }
    out
}
