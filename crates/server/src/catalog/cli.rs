//! `danvan-server` catalog commands: the same checks and previews as the admin
//! screens (`routes/catalog.rs`), audited as `cli`. Without `--apply` a command
//! only shows what it would change. A running server picks the change up within
//! `CATALOG_POLL` (see `watch`).
//!
//! ```text
//! danvan-server import-units FILE [--apply]     # .csv, .xlsx or .json
//! danvan-server export-units                    # the tree as CSV, to stdout
//! danvan-server import-plan PLAN.json [FORM.json] [--apply]
//! danvan-server list-plans
//! danvan-server move-accounts UNIT_CODE SUCCESSOR_CODE
//! ```

use chrono::Utc;
use danvan_core::catalog::PlanDocument;
use danvan_core::plan_changes::{Change, PlanChanges};
use danvan_core::time::{format_date, vn_date};
use danvan_core::tree_import::{plan_tree_import, RowError, TreeChanges, UnitChange};

use super::plans::check_plan;
use super::unit_files::{export_csv, read_unit_file};
use super::Catalog;
use crate::store::{Actor, NewAudit, Store};

type CliResult = Result<(), Box<dyn std::error::Error>>;

pub async fn run(store: &Store, command: &str, args: &[String]) -> CliResult {
    let apply = args.iter().any(|a| a == "--apply");
    let files: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--apply").collect();
    let catalog = Catalog::load(store).await?;
    match command {
        "import-units" => {
            import_units(store, &catalog, files.first().ok_or("thiếu tên tệp: import-units TỆP")?, apply).await
        }
        "export-units" => {
            print!("{}", export_csv(&catalog.tree));
            Ok(())
        }
        "import-plan" => {
            let plan = files.first().ok_or("thiếu tệp kế hoạch: import-plan KẾ-HOẠCH.json [MẪU.json]")?;
            import_plan(store, &catalog, plan, files.get(1).copied(), apply).await
        }
        "list-plans" => {
            println!("mã,số hiệu,thời gian áp dụng,phiên bản,bản nháp");
            let versions = store.plan_versions(None).await?;
            let mut ids: Vec<&str> = versions.iter().map(|v| v.plan.id.as_str()).collect();
            ids.dedup();
            for id in ids {
                let published = versions.iter().filter(|v| v.plan.id == id && v.published).map(|v| v.version).max();
                let draft = versions.iter().find(|v| v.plan.id == id && !v.published);
                let shown = versions.iter().find(|v| v.plan.id == id).map(|v| &v.plan);
                let Some(plan) = shown else { continue };
                println!(
                    "{},{},{},{},{}",
                    id,
                    plan.number,
                    plan.validity_label(),
                    published.map(|v| v.to_string()).unwrap_or_else(|| "chưa công bố".into()),
                    draft.map(|d| format!("có (phiên bản {})", d.version)).unwrap_or_default()
                );
            }
            Ok(())
        }
        "move-accounts" => {
            let (from, to) = match files.as_slice() {
                [from, to] => (*from, *to),
                _ => return Err("cần hai mã: move-accounts MÃ-ĐƠN-VỊ-ĐÃ-ĐÓNG MÃ-ĐƠN-VỊ-KẾ-THỪA".into()),
            };
            // A reused code names the closed unit here (the one that held it last).
            let unit = catalog
                .tree
                .all()
                .iter()
                .filter(|u| (u.code == from || u.id == from) && u.is_closed())
                .max_by_key(|u| u.valid_to)
                .ok_or_else(|| format!("không có đơn vị đã đóng mã {from}"))?;
            let successor = unit
                .successors
                .iter()
                .filter_map(|s| catalog.tree.get(s))
                .find(|s| s.code == to || s.id == to)
                .ok_or_else(|| format!("{to} không phải đơn vị kế thừa của {}", unit.name))?;
            let audit = NewAudit {
                action: "units.move_accounts",
                target: Some(&unit.id),
                unit_id: Some(&successor.id),
                detail: None,
            };
            let moved = store.move_accounts(&unit.id, &successor.id, &Actor::cli(), &audit, Utc::now()).await?;
            println!("Đã chuyển {moved} tài khoản của {} sang {}", unit.name, successor.name);
            Ok(())
        }
        other => Err(format!("lệnh không rõ: {other}").into()),
    }
}

fn print_row_errors(errors: &[RowError]) {
    for e in errors {
        match (e.line, e.field.as_str()) {
            (0, _) => eprintln!("Lỗi: {}", e.message),
            (line, "") => eprintln!("Dòng {line}: {}", e.message),
            (line, field) => eprintln!("Dòng {line}, cột {field}: {}", e.message),
        }
    }
}

fn print_units(title: &str, list: &[UnitChange]) {
    if list.is_empty() {
        return;
    }
    println!("{title} ({}):", list.len());
    for u in list {
        let before = u.before.as_deref().map(|b| format!(" (trước: {b})")).unwrap_or_default();
        let detail = u.detail.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
        println!("  {} {}{before}{detail}", u.code, u.name);
    }
}

fn print_tree_changes(c: &TreeChanges) {
    print_units("Thêm", &c.added);
    print_units("Đổi tên", &c.renamed);
    print_units("Chuyển đơn vị cấp trên", &c.moved);
    print_units("Đóng", &c.closed);
    print_units("Sửa khác", &c.updated);
    println!("Không đổi: {}", c.unchanged);
}

async fn import_units(store: &Store, catalog: &Catalog, file: &str, apply: bool) -> CliResult {
    let bytes = std::fs::read(file).map_err(|e| format!("không đọc được {file}: {e}"))?;
    let now = Utc::now();
    let import = read_unit_file(&bytes).and_then(|rows| plan_tree_import(&catalog.tree, &rows, vn_date(now))).map_err(
        |errors| {
            print_row_errors(&errors);
            format!("{file}: {} lỗi, không có gì được thay đổi", errors.len())
        },
    )?;
    print_tree_changes(&import.changes);
    if import.changes.is_empty() {
        println!("Không có gì thay đổi.");
    } else if apply {
        let audit = NewAudit {
            action: "units.import",
            target: Some(file),
            unit_id: None,
            detail: Some(import.changes.summary_vi()),
        };
        store.save_units(&import.units, &Actor::cli(), &audit, now).await?;
        println!("Đã áp dụng ({}).", format_date(vn_date(now)));
    } else {
        println!("Chưa áp dụng: chạy lại với --apply.");
    }
    Ok(())
}

fn print_changes(title: &str, list: &[Change]) {
    if list.is_empty() {
        return;
    }
    println!("{title} ({}):", list.len());
    for c in list {
        let detail = c.detail.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
        println!("  {}{detail}", c.label);
    }
}

fn print_plan_changes(c: &PlanChanges) {
    if c.new_plan {
        println!("Kế hoạch mới.");
    }
    print_changes("Thông tin chung", &c.facts);
    print_changes("Mục thêm", &c.items_added);
    print_changes("Mục sửa", &c.items_changed);
    print_changes("Mục bỏ", &c.items_removed);
    print_changes("Trường thêm", &c.fields_added);
    print_changes("Trường sửa", &c.fields_changed);
    print_changes("Trường ngừng sử dụng", &c.fields_retired);
}

async fn import_plan(
    store: &Store,
    catalog: &Catalog,
    plan_file: &str,
    form_file: Option<&str>,
    apply: bool,
) -> CliResult {
    let read = |f: &str| std::fs::read_to_string(f).map_err(|e| format!("không đọc được {f}: {e}"));
    let plan_text = read(plan_file)?;
    // Either a document {"plan", "form"} or a plan alone (with its form beside it).
    let doc: PlanDocument = match serde_json::from_str::<PlanDocument>(&plan_text) {
        Ok(doc) if form_file.is_none() => doc,
        _ => PlanDocument {
            plan: serde_json::from_str(&plan_text).map_err(|e| format!("{plan_file}: kế hoạch không đọc được: {e}"))?,
            form: form_file
                .map(|f| serde_json::from_str(&read(f)?).map_err(|e| format!("{f}: mẫu báo cáo không đọc được: {e}")))
                .transpose()?,
        },
    };
    let checked = check_plan(catalog, doc).map_err(|errors| {
        for e in &errors {
            eprintln!("Lỗi: {e}");
        }
        format!("{plan_file}: {} lỗi, không có gì được công bố", errors.len())
    })?;
    println!("{} — {} (phiên bản {})", checked.doc.plan.number, checked.doc.plan.title, checked.doc.plan.version);
    print_plan_changes(&checked.changes);
    if apply {
        let detail = format!("phiên bản {}: {}", checked.doc.plan.version, checked.changes.summary_vi());
        let audit = NewAudit {
            action: "plan.publish",
            target: Some(&checked.doc.plan.id),
            unit_id: None,
            detail: Some(detail),
        };
        store.publish_plan(&checked.doc.plan, checked.doc.form.as_ref(), &Actor::cli(), &audit, Utc::now()).await?;
        println!("Đã công bố.");
    } else {
        println!("Chưa công bố: chạy lại với --apply.");
    }
    Ok(())
}
