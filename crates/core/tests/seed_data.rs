//! The seed data shipped in `data/seed` must load into the core types and say what the
//! plan says: Kế hoạch 413/KH-UBND and Kon Tum's unit tree as of 2024.

use chrono::NaiveDate;
use danvan_core::plan::PlanItem;
use danvan_core::task::tasks_for;
use danvan_core::{Assignee, DueRule, OrgUnit, Plan, UnitKind, UnitTree};

const PLAN_JSON: &str = include_str!("../../../data/seed/plans/kh-413-ubnd-2024.json");
const UNITS_JSON: &str = include_str!("../../../data/seed/units/kon-tum-2024.json");

const DISTRICTS: [&str; 10] = [
    "kontum.tpkontum",
    "kontum.dakglei",
    "kontum.ngochoi",
    "kontum.dakto",
    "kontum.konplong",
    "kontum.konray",
    "kontum.dakha",
    "kontum.sathay",
    "kontum.tumorong",
    "kontum.iahdrai",
];

fn plan() -> Plan {
    serde_json::from_str(PLAN_JSON).expect("the plan seed parses")
}

fn units() -> Vec<OrgUnit> {
    serde_json::from_str(UNITS_JSON).expect("the unit seed parses")
}

fn tree() -> UnitTree {
    UnitTree::new(units()).expect("the unit seed is a valid tree")
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn item<'a>(plan: &'a Plan, id: &str) -> &'a PlanItem {
    plan.item(id).unwrap_or_else(|| panic!("item {id} missing"))
}

#[test]
fn plan_parses_and_validates() {
    let p = plan();
    assert_eq!(p.validate(), Ok(()));
    assert_eq!(p.id, "kh-413-ubnd-2024");
    assert_eq!(p.number, "413/KH-UBND");
    assert_eq!(p.issued_on, d(2024, 2, 1));
    assert_eq!(p.issued_by, "Ủy ban nhân dân tỉnh Kon Tum");
    assert!(p.title.starts_with("Tăng cường công tác dân vận"));
    assert!(p.preamble.starts_with("Thực hiện Chỉ thị số 33/CT-TTg"));
    assert_eq!(p.purposes.len(), 2);
    assert_eq!(p.requirements.len(), 2);
    assert!(p.closing.starts_with("Trên đây là Kế hoạch"));
    assert!(!p.recipients.is_empty());
    for r in &p.recipients {
        assert!(!r.is_empty() && !r.starts_with("- ") && !r.ends_with(';') && !r.ends_with('.'), "{r:?}");
    }
    let signer = p.signer.as_ref().expect("signer");
    assert_eq!(signer.name, "Y Ngọc");
    assert_eq!(signer.capacity, ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]);
}

#[test]
fn plan_has_the_twelve_items_in_order() {
    let p = plan();
    let numbers: Vec<_> = p.items.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(
        numbers,
        ["II.1", "II.2", "II.3", "II.4", "II.5", "II.6", "II.7", "III.1", "III.2", "III.3", "III.4", "III.5"]
    );
    for i in &p.items {
        assert_eq!(i.id, i.number);
        let section =
            if i.number.starts_with("III.") { "III. TỔ CHỨC THỰC HIỆN" } else { "II. NỘI DUNG TRIỂN KHAI" };
        assert_eq!(i.section, section, "{}", i.id);
        assert!(!i.title.is_empty() && i.title.chars().count() <= 70, "{}", i.id);
        assert!(!i.obligations.is_empty(), "{}", i.id);
    }
}

#[test]
fn plan_text_is_clean() {
    let p = plan();
    let mut texts: Vec<(&str, &str)> = vec![("preamble", &p.preamble), ("closing", &p.closing)];
    texts.extend(p.purposes.iter().map(|t| ("purpose", t.as_str())));
    texts.extend(p.requirements.iter().map(|t| ("requirement", t.as_str())));
    texts.extend(p.items.iter().map(|i| (i.id.as_str(), i.body.as_str())));
    for (what, text) in texts {
        assert!(!text.trim().is_empty(), "{what} is empty");
        for artefact in ["<sup>", "</sup>", "<sub>", "**", "---"] {
            assert!(!text.contains(artefact), "{what} contains {artefact}");
        }
        for para in text.split("\n\n") {
            assert_eq!(para, para.trim(), "{what}: stray whitespace");
            assert!(!para.is_empty(), "{what}: empty paragraph");
        }
    }
    // III.1 is an intro and three bullet points.
    let paras: Vec<_> = item(&p, "III.1").body.split("\n\n").collect();
    assert_eq!(paras.len(), 4);
    assert!(paras[1..].iter().all(|b| b.starts_with("- ")));
}

#[test]
fn iii_1_deadlines() {
    let p = plan();
    let iii1 = item(&p, "III.1");
    assert_eq!(iii1.assigned_to, [Assignee::Kind(UnitKind::Department), Assignee::Kind(UnitKind::District)]);
    let ob = |id: &str| iii1.obligations.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("{id} missing"));
    assert_eq!(ob("III.1.implementation-plan").due, DueRule::Once { date: d(2024, 2, 29) });
    assert_eq!(ob("III.1.implementation-plan").assigned_to, None);
    assert_eq!(ob("III.1.monitoring").due, DueRule::Continuous);
    let all = vec![
        Assignee::Kind(UnitKind::Department),
        Assignee::Kind(UnitKind::District),
        Assignee::Kind(UnitKind::Commune),
    ];
    assert_eq!(ob("III.1.monthly-report").due, DueRule::Monthly { before_day: 15 });
    assert_eq!(ob("III.1.monthly-report").assigned_to.as_ref(), Some(&all));
    assert_eq!(ob("III.1.yearly-report").due, DueRule::Yearly { before_month: 12, before_day: 15 });
    assert_eq!(ob("III.1.yearly-report").assigned_to.as_ref(), Some(&all));
}

#[test]
fn plan_unit_assignees_exist_in_the_tree() {
    let p = plan();
    let t = tree();
    for i in &p.items {
        let lists = std::iter::once(&i.assigned_to).chain(i.obligations.iter().filter_map(|o| o.assigned_to.as_ref()));
        for a in lists.flatten() {
            if let Assignee::Unit(id) = a {
                assert!(t.get(id).is_some(), "{} assigns unknown unit {id}", i.id);
            }
        }
    }
}

#[test]
fn unit_tree_builds() {
    let t = tree();
    let province = t.get("kontum").expect("province");
    assert_eq!(province.kind, UnitKind::Province);
    assert_eq!(province.parent, None);
    assert_eq!(province.code, "62");
    assert_eq!(t.all().iter().filter(|u| u.kind == UnitKind::Province).count(), 1);
    for u in t.all() {
        assert!(!u.name.trim().is_empty(), "{} has no name", u.id);
        assert!(!u.code.is_empty(), "{} has no code", u.id);
        assert!(
            u.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.'),
            "id {:?} is not a lowercase ASCII slug",
            u.id
        );
        // Ids nest under their parent's id.
        if let Some(p) = &u.parent {
            assert!(u.id.starts_with(&format!("{p}.")), "{} is not under {p}", u.id);
        }
    }
}

#[test]
fn units_are_in_the_documented_order() {
    let kinds: Vec<UnitKind> = units().iter().map(|u| u.kind).collect();
    let rank = |k: &UnitKind| match k {
        UnitKind::Province => 0,
        UnitKind::Department => 1,
        UnitKind::District => 2,
        UnitKind::Commune => 3,
    };
    assert!(kinds.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "province, departments, districts, communes");
}

#[test]
fn ten_districts() {
    let t = tree();
    let mut districts: Vec<_> =
        t.all().iter().filter(|u| u.kind == UnitKind::District).map(|u| u.id.as_str()).collect();
    let mut expected = DISTRICTS.to_vec();
    districts.sort();
    expected.sort();
    assert_eq!(districts, expected);
    for id in DISTRICTS {
        assert_eq!(t.get(id).unwrap().parent.as_deref(), Some("kontum"));
    }
    assert_eq!(t.get("kontum.tpkontum").unwrap().name, "Thành phố Kon Tum");
    assert_eq!(t.get("kontum.dakglei").unwrap().name, "Huyện Đắk Glei");
}

#[test]
fn named_departments_exist() {
    let t = tree();
    for (id, name) in [
        ("kontum.sonoivu", "Sở Nội vụ"),
        ("kontum.sotaichinh", "Sở Tài chính"),
        ("kontum.sotnmt", "Sở Tài nguyên và Môi trường"),
    ] {
        let u = t.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(u.kind, UnitKind::Department);
        assert_eq!(u.name, name);
        assert_eq!(u.parent.as_deref(), Some("kontum"));
    }
}

#[test]
fn communes_hang_under_districts() {
    let t = tree();
    let with_communes = DISTRICTS.iter().filter(|d| t.children(d).any(|c| c.kind == UnitKind::Commune)).count();
    assert!(with_communes >= 2, "only {with_communes} districts have communes");
    for u in t.all().iter().filter(|u| u.kind == UnitKind::Commune) {
        let parent = t.get(u.parent.as_deref().expect("a commune has a parent")).unwrap();
        assert_eq!(parent.kind, UnitKind::District, "{}", u.id);
        assert!(
            u.name.starts_with("Xã ") || u.name.starts_with("Phường ") || u.name.starts_with("Thị trấn "),
            "{}",
            u.name
        );
    }
    // The city and Đắk Glei are complete: 10 phường + 11 xã; 1 thị trấn + 11 xã.
    assert_eq!(t.children("kontum.tpkontum").count(), 21);
    assert_eq!(t.children("kontum.dakglei").count(), 12);
    let bla = t.get("kontum.tpkontum.dakbla").expect("the demo commune");
    assert_eq!(bla.kind, UnitKind::Commune);
    assert_eq!(bla.parent.as_deref(), Some("kontum.tpkontum"));
    assert!(t.is_within("kontum.tpkontum.dakbla", "kontum"));
}

#[test]
fn commune_official_gets_the_commune_tasks() {
    let p = plan();
    let t = tree();
    let commune = t.get("kontum.tpkontum.dakbla").unwrap();
    let tasks = tasks_for(&p, commune, d(2024, 3, 1));
    let ids: Vec<_> = tasks.iter().map(|t| t.obligation_id.as_str()).collect();
    assert!(ids.contains(&"III.1.monthly-report"), "{ids:?}");
    assert!(ids.contains(&"III.1.yearly-report"), "{ids:?}");
    for n in 1..=7 {
        assert!(ids.contains(&format!("II.{n}").as_str()), "II.{n} missing: {ids:?}");
    }
    for not in ["III.1.implementation-plan", "III.1.monitoring", "III.2", "III.3", "III.4", "III.5"] {
        assert!(!ids.contains(&not), "{not} should not apply to a commune: {ids:?}");
    }
    // Soonest first: the March 2024 monthly report is due on 14/03/2024.
    assert_eq!(tasks[0].obligation_id, "III.1.monthly-report");
    assert_eq!(tasks[0].next.as_ref().unwrap().due_date, d(2024, 3, 14));
}

#[test]
fn departments_and_districts_get_their_tasks() {
    let p = plan();
    let t = tree();
    let ids = |unit: &str| -> Vec<String> {
        tasks_for(&p, t.get(unit).unwrap(), d(2024, 2, 10)).into_iter().map(|t| t.obligation_id).collect()
    };
    let snv = ids("kontum.sonoivu");
    assert!(snv.contains(&"III.5".to_string()), "{snv:?}");
    assert!(snv.contains(&"III.1.implementation-plan".to_string()), "{snv:?}");
    assert!(!snv.contains(&"III.3".to_string()));
    assert!(ids("kontum.sotaichinh").contains(&"III.3".to_string()));
    assert!(ids("kontum.sotnmt").contains(&"III.4".to_string()));
    let other = ids("kontum.soyte");
    assert!(!other.iter().any(|o| o == "III.3" || o == "III.4" || o == "III.5"), "{other:?}");
    let district = ids("kontum.dakglei");
    assert!(district.contains(&"III.2".to_string()));
    assert!(district.contains(&"III.1.implementation-plan".to_string()));
    // On 10/02 the monthly report due 14/02 comes first; on 20/02 the plan due 29/02 does.
    assert_eq!(district[0], "III.1.monthly-report");
    let later: Vec<_> = tasks_for(&p, t.get("kontum.dakglei").unwrap(), d(2024, 2, 20));
    assert_eq!(later[0].obligation_id, "III.1.implementation-plan");
    assert_eq!(later[0].next.as_ref().unwrap().due_date, d(2024, 2, 29));
}

const FORM_JSON: &str = include_str!("../../../data/seed/forms/kh-413-ubnd-2024.json");

fn form() -> danvan_core::ReportForm {
    serde_json::from_str(FORM_JSON).expect("form JSON")
}

#[test]
fn form_covers_every_content_item_and_the_closing_sections() {
    let form = form();
    let plan = plan();
    assert_eq!(form.plan_id, plan.id);
    form.check_definition().unwrap();
    let ids: Vec<&str> = form.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["II.1", "II.2", "II.3", "II.4", "II.5", "II.6", "II.7", "danh-gia", "vuong-mac", "de-xuat", "nhiem-vu-toi"]
    );
    for s in &form.sections {
        if let Some(item_id) = &s.plan_item {
            item(&plan, item_id);
        }
        assert!(!s.fields.is_empty(), "{}", s.id);
    }
    // The indicators the plan's evaluation needs.
    for id in [
        "ii1.sessions",
        "ii2.sessions_ethnic",
        "ii3.models_registered",
        "ii3.models_recognised",
        "ii3.individuals_commended",
        "ii6.reception_sessions",
        "ii6.petitions_received",
        "ii6.petitions_resolved",
        "ii6.dialogues",
        "ii5.inspections",
        "ii5.officials_disciplined",
        "ii7.supervisions",
    ] {
        assert_eq!(form.field(id).map(|f| f.kind), Some(danvan_core::form::FieldKind::Count), "{id}");
    }
}

#[test]
fn form_rules_catch_resolved_over_received() {
    use danvan_core::form::{IssueKind, PeriodKind, Stage};
    let form = form();
    let mut values = danvan_core::Values::new();
    values.insert("ii6.petitions_received".into(), "3".into());
    values.insert("ii6.petitions_resolved".into(), "5".into());
    let issues = form.validate(&values, PeriodKind::Month, Stage::Draft);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].kind, IssueKind::Exceeds { limit: "ii6.petitions_received".into() });
    assert!(issues[0].message.contains("Số đơn thư tiếp nhận"), "{}", issues[0].message);
    let submit = form.validate(&values, PeriodKind::Month, Stage::Submit);
    assert!(submit.iter().any(|i| i.field == "assessment" && i.kind == IssueKind::Required));
}

#[test]
fn obligation_dates_are_neither_future_nor_years_before_the_plan() {
    let p = plan();
    assert_eq!(p.issued_on, d(2024, 2, 1));
    let today = d(2026, 12, 3);
    assert_eq!(p.obligation_date_problem(d(2024, 2, 15), today), None);
    assert_eq!(p.obligation_date_problem(today, today), None);
    assert_eq!(p.obligation_date_problem(d(2023, 1, 31), today), None, "366 days before the plan");
    let future = p.obligation_date_problem(d(2026, 12, 4), today).unwrap();
    assert_eq!(future, "không được sau hôm nay (03/12/2026)");
    let old = p.obligation_date_problem(d(2023, 1, 30), today).unwrap();
    assert_eq!(old, "không được trước 31/01/2023 (một năm trước ngày ban hành kế hoạch 01/02/2024)");
    assert!(p.obligation_date_problem(d(1900, 1, 1), today).is_some());
}
