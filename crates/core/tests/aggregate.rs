//! Dashboard and consolidation over the real Kon Tum seed (plan, units, form).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use danvan_core::aggregate::*;
use danvan_core::form::PeriodKind;
use danvan_core::{OrgUnit, Period, Plan, ReportForm, ReportStatus, UnitTree, Values};

const PLAN_JSON: &str = include_str!("../../../data/seed/plans/kh-413-ubnd-2024.json");
const UNITS_JSON: &str = include_str!("../../../data/seed/units/kon-tum-2024.json");
const FORM_JSON: &str = include_str!("../../../data/seed/forms/kh-413-ubnd-2024.json");

fn plan() -> Plan {
    serde_json::from_str(PLAN_JSON).unwrap()
}
fn tree() -> UnitTree {
    UnitTree::new(serde_json::from_str::<Vec<OrgUnit>>(UNITS_JSON).unwrap()).unwrap()
}
fn form() -> ReportForm {
    serde_json::from_str(FORM_JSON).unwrap()
}
fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}
fn summary(unit: &str, status: ReportStatus, first: Option<DateTime<Utc>>) -> ReportSummary {
    ReportSummary {
        unit_id: unit.into(),
        status,
        first_submitted_at: first,
        submitted_at: first,
        return_reason: (status == ReportStatus::Returned).then(|| "Thiếu số liệu II.6".into()),
    }
}

const CITY: &str = "kontum.tpkontum";
const DAKBLA: &str = "kontum.tpkontum.dakbla";
const QUANGTRUNG: &str = "kontum.tpkontum.quangtrung";
const DUYTAN: &str = "kontum.tpkontum.duytan";

#[test]
fn deadline_is_midnight_vietnam_time_on_the_15th() {
    let march = Period::month(2024, 3).unwrap();
    let deadline = march.deadline();
    // 14/03 23:59 in Hà Nội is 16:59 UTC: on time. 15/03 00:00 +07 is 14/03 17:00 UTC: late.
    let on = summary(DAKBLA, ReportStatus::Submitted, Some(utc(2024, 3, 14, 16)));
    let late = summary(DAKBLA, ReportStatus::Accepted, Some(utc(2024, 3, 14, 17)));
    assert_eq!(classify(Some(&on), deadline, utc(2024, 4, 1, 0)), Timeliness::OnTime);
    assert_eq!(classify(Some(&late), deadline, utc(2024, 4, 1, 0)), Timeliness::Late);
}

#[test]
fn unsent_is_not_due_before_the_deadline_and_missing_after() {
    let deadline = Period::month(2024, 3).unwrap().deadline();
    let draft = summary(DAKBLA, ReportStatus::Draft, None);
    assert_eq!(classify(None, deadline, utc(2024, 3, 10, 0)), Timeliness::NotDue);
    assert_eq!(classify(Some(&draft), deadline, utc(2024, 3, 10, 0)), Timeliness::NotDue);
    assert_eq!(classify(None, deadline, utc(2024, 3, 20, 0)), Timeliness::Missing);
    assert_eq!(classify(Some(&draft), deadline, utc(2024, 3, 20, 0)), Timeliness::Missing);
}

#[test]
fn a_returned_report_counts_as_returned_and_its_first_submission_decides_timeliness_later() {
    let deadline = Period::month(2024, 3).unwrap().deadline();
    let mut r = summary(DAKBLA, ReportStatus::Returned, Some(utc(2024, 3, 10, 3)));
    assert_eq!(classify(Some(&r), deadline, utc(2024, 3, 20, 0)), Timeliness::Returned);
    // Sent again after the deadline: the unit met the deadline with its first filing.
    r.status = ReportStatus::Submitted;
    r.submitted_at = Some(utc(2024, 3, 18, 3));
    assert_eq!(classify(Some(&r), deadline, utc(2024, 3, 20, 0)), Timeliness::OnTime);
}

#[test]
fn who_owes_monthly_reports() {
    let (plan, tree) = (plan(), tree());
    let owes = |id: &str| expects_report(&plan, tree.get(id).unwrap(), PeriodKind::Month);
    assert!(owes(DAKBLA));
    assert!(owes(CITY));
    assert!(owes("kontum.sonoivu"));
    assert!(!owes("kontum"), "the province itself files nothing to itself");
}

#[test]
fn city_dashboard_counts_its_communes_and_itself() {
    let (plan, tree) = (plan(), tree());
    let period = Period::month(2024, 3).unwrap();
    let now = utc(2024, 3, 20, 0);
    let reports: HashMap<String, ReportSummary> = [
        summary(DAKBLA, ReportStatus::Accepted, Some(utc(2024, 3, 10, 0))),
        summary(QUANGTRUNG, ReportStatus::Submitted, Some(utc(2024, 3, 16, 0))),
        summary(DUYTAN, ReportStatus::Returned, Some(utc(2024, 3, 12, 0))),
        // Another district's commune: not in the city's dashboard.
        summary("kontum.dakha.dakmar", ReportStatus::Accepted, Some(utc(2024, 3, 1, 0))),
    ]
    .into_iter()
    .map(|s| (s.unit_id.clone(), s))
    .collect();
    let d = dashboard(&plan, &tree, CITY, &period, &reports, now).unwrap();
    let communes = tree.children(CITY).count() as u32;
    assert_eq!(d.totals.expected, communes + 1, "21 communes and the city itself");
    assert_eq!(d.totals.on_time, 1);
    assert_eq!(d.totals.late, 1);
    assert_eq!(d.totals.returned, 1);
    assert_eq!(d.totals.missing, communes + 1 - 3);
    assert_eq!(d.totals.accepted, 1);
    assert_eq!(d.rows.len(), communes as usize + 1);
    assert_eq!(d.rows[0].unit_id, CITY);
    let row = |id: &str| d.rows.iter().find(|r| r.unit_id == id).unwrap();
    assert_eq!(row(DAKBLA).timeliness, Some(Timeliness::OnTime));
    assert_eq!(row(DUYTAN).return_reason.as_deref(), Some("Thiếu số liệu II.6"));
    assert_eq!(row(QUANGTRUNG).subtree.late, 1);
}

#[test]
fn province_dashboard_rolls_communes_up_into_their_district() {
    let (plan, tree) = (plan(), tree());
    let period = Period::month(2024, 3).unwrap();
    let reports: HashMap<String, ReportSummary> =
        [(DAKBLA.to_string(), summary(DAKBLA, ReportStatus::Accepted, Some(utc(2024, 3, 10, 0))))].into();
    let d = dashboard(&plan, &tree, "kontum", &period, &reports, utc(2024, 3, 20, 0)).unwrap();
    let all_reporting = tree.all().len() as u32 - 1;
    assert_eq!(d.totals.expected, all_reporting);
    assert_eq!(d.totals.on_time, 1);
    assert!(!d.rows[0].expected);
    let city = d.rows.iter().find(|r| r.unit_id == CITY).unwrap();
    assert_eq!(city.subtree.on_time, 1);
    assert_eq!(city.subtree.expected, tree.subtree(CITY).len() as u32);
    assert!(city.has_children);
    assert_eq!(d.rows.len(), 1 + tree.children("kontum").count());
}

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn figures_skip_text_and_unparsable_numbers() {
    let f = figures(&form(), &values(&[("ii1.sessions", "4"), ("ii1.participants", "12a"), ("ii1.result", "Đã làm")]));
    assert_eq!(f, BTreeMap::from([("ii1.sessions".to_string(), 4)]));
}

#[test]
fn consolidation_sums_accepted_reports_and_keeps_unit_names_with_narratives() {
    let (plan, tree, form) = (plan(), tree(), form());
    let period = Period::month(2024, 3).unwrap();
    let a = values(&[("ii1.sessions", "3"), ("ii1.participants", "120"), ("ii1.result", "Tuyên truyền tại 3 thôn")]);
    let b = values(&[("ii1.sessions", "2"), ("ii1.participants", "80"), ("ii6.petitions_received", "5")]);
    let (fa, fb) = (figures(&form, &a), figures(&form, &b));
    let accepted: HashMap<String, AcceptedReport> = [
        (DAKBLA.to_string(), AcceptedReport { figures: &fa, values: &a }),
        (QUANGTRUNG.to_string(), AcceptedReport { figures: &fb, values: &b }),
    ]
    .into();
    let c = consolidate(&plan, &form, &tree, CITY, &period, &accepted, &ModelCounts::default(), utc(2024, 3, 20, 0))
        .unwrap();
    assert_eq!(c.totals["ii1.sessions"], 5);
    assert_eq!(c.totals["ii1.participants"], 200);
    assert_eq!(c.totals["ii6.petitions_received"], 5);
    assert_eq!(c.sources.len(), 2);
    assert_eq!(c.without_accepted.len(), tree.children(CITY).count() - 2);
    let ii1 = c.narratives.iter().find(|s| s.section_id == "II.1").expect("II.1 has a narrative");
    assert_eq!(ii1.fields[0].entries.len(), 1);
    assert_eq!(ii1.fields[0].entries[0].unit_name, tree.get(DAKBLA).unwrap().name);

    let pre = c.prefill();
    assert_eq!(pre["ii1.sessions"], "5");
    assert!(pre["ii1.result"].contains("Tuyên truyền tại 3 thôn"));
    assert!(pre["ii1.result"].starts_with(&format!("- {}: ", tree.get(DAKBLA).unwrap().name)));
}

#[test]
fn province_uses_a_districts_own_report_and_falls_back_to_its_communes() {
    let (plan, tree, form) = (plan(), tree(), form());
    let period = Period::month(2024, 3).unwrap();
    let commune = values(&[("ii1.sessions", "3")]);
    let city = values(&[("ii1.sessions", "40")]);
    let other_commune = values(&[("ii1.sessions", "7"), ("ii1.result", "Chỉ ở cấp xã")]);
    let third_commune = values(&[("ii1.sessions", "1")]);
    let (fc, fcity, fo) = (figures(&form, &commune), figures(&form, &city), figures(&form, &other_commune));
    let f3 = figures(&form, &third_commune);
    let accepted: HashMap<String, AcceptedReport> = [
        // The city's own report already includes Đăk Blà: counted once, as the city's.
        (DAKBLA.to_string(), AcceptedReport { figures: &fc, values: &commune }),
        (CITY.to_string(), AcceptedReport { figures: &fcity, values: &city }),
        // Đăk Hà has no accepted report: its commune counts directly.
        ("kontum.dakha.dakmar".to_string(), AcceptedReport { figures: &fo, values: &other_commune }),
        ("kontum.dakha.dakpxi".to_string(), AcceptedReport { figures: &f3, values: &NO_VALUES }),
    ]
    .into();
    assert!(tree.get("kontum.dakha.dakpxi").is_some(), "seed commune");
    let c =
        consolidate(&plan, &form, &tree, "kontum", &period, &accepted, &ModelCounts::default(), utc(2024, 3, 20, 0))
            .unwrap();
    assert_eq!(c.totals["ii1.sessions"], 48);
    // One line per direct child: the city's own report; Đăk Hà's two communes summed.
    let ids: Vec<&str> = c.sources.iter().map(|s| s.unit_id.as_str()).collect();
    assert_eq!(ids, [CITY, "kontum.dakha"]);
    assert!(c.sources[0].own);
    assert_eq!((c.sources[1].own, c.sources[1].reports), (false, 2));
    assert_eq!(c.sources[1].figures["ii1.sessions"], 8);
    // Narratives only from the children's own reports (the communes' stay on Đăk Hà's).
    assert!(c.narratives.iter().all(|s| s.fields.iter().all(|f| f.entries.iter().all(|e| e.unit_id == CITY))));
    assert!(!c.without_accepted.contains(&"kontum.dakha".to_string()));
    assert!(c.without_accepted.contains(&"kontum.sonoivu".to_string()));
}

#[test]
fn implementation_plan_deadline_is_the_end_of_february() {
    let plan = plan();
    let (id, due) = implementation_plan_obligation(&plan).unwrap();
    assert_eq!(id, "III.1.implementation-plan");
    assert_eq!(due, NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    let tree = tree();
    assert!(owes_implementation_plan(&plan, tree.get(CITY).unwrap()));
    assert!(owes_implementation_plan(&plan, tree.get("kontum.sonoivu").unwrap()));
    assert!(!owes_implementation_plan(&plan, tree.get(DAKBLA).unwrap()));
    let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    assert_eq!(classify_once(Some(d(2, 29)), due, d(3, 5)), ObligationState::Done);
    assert_eq!(classify_once(Some(d(3, 1)), due, d(3, 5)), ObligationState::Late);
    assert_eq!(classify_once(None, due, d(3, 1)), ObligationState::Missing);
    assert_eq!(classify_once(None, due, d(2, 29)), ObligationState::NotDue);
}

#[test]
fn models_are_counted_by_the_date_of_each_step() {
    let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    let model = |field, reg, rec, com| MovementModel {
        id: 1,
        plan_id: "p".into(),
        unit_id: DAKBLA.into(),
        unit_name: "Xã Đăk Blà".into(),
        name: "Mô hình".into(),
        field,
        description: String::new(),
        registered_on: reg,
        recognised_on: rec,
        commended_on: com,
        commendation: None,
    };
    let models = [
        model(ModelField::Economy, d(2, 20), Some(d(3, 1)), None),
        model(ModelField::Economy, d(3, 2), None, None),
        model(ModelField::DefenceSecurity, d(1, 5), Some(d(1, 20)), Some(d(3, 10))),
    ];
    // March's window is 15/02–14/03 (Decree 09): both economy models were registered in it.
    let march = Period::month(2024, 3).unwrap().window();
    let c = count_models(&models, march.first, march.last);
    assert_eq!((c.registered, c.recognised, c.commended), (2, 1, 1));
    assert_eq!(c.by_field[&ModelField::Economy], [2, 1, 0]);
    assert_eq!(c.by_field[&ModelField::DefenceSecurity], [0, 0, 1]);
    assert_eq!(models[2].stage(), ModelStage::Commended);
    assert_eq!(ModelField::parse("culture_society"), Some(ModelField::CultureSociety));
}
