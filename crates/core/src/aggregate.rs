//! Aggregation over a unit subtree for one period: completeness and timeliness (the
//! dashboard) and the consolidation of accepted reports (tổng hợp). Pure functions
//! over plain data so the server, its benchmark and the app compute the same thing.
//!
//! Timeliness uses the *first* submission's time, recorded by the server: a unit that
//! filed before the deadline and was then returned for a correction did meet the
//! deadline; while it is returned it shows as "returned" until it is sent again.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::form::{parse_count, FieldKind, PeriodKind, ReportForm, Values};
use crate::period::Period;
use crate::plan::{DueRule, Plan};
use crate::report::ReportStatus;
use crate::unit::{OrgUnit, UnitKind, UnitTree};

/// Where a unit stands for one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// First submitted before the deadline (and not returned now).
    OnTime,
    /// First submitted after the deadline (and not returned now).
    Late,
    /// Returned by the reviewer, waiting for the unit to send it again.
    Returned,
    /// Not submitted and the deadline has passed.
    Missing,
    /// Not submitted yet, still before the deadline.
    NotDue,
}

impl Timeliness {
    pub const ALL: [Timeliness; 5] =
        [Timeliness::OnTime, Timeliness::Late, Timeliness::Returned, Timeliness::Missing, Timeliness::NotDue];

    pub fn as_str(self) -> &'static str {
        match self {
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
            Timeliness::Returned => "returned",
            Timeliness::Missing => "missing",
            Timeliness::NotDue => "not_due",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Timeliness::OnTime => "Đúng hạn",
            Timeliness::Late => "Trễ hạn",
            Timeliness::Returned => "Bị trả lại",
            Timeliness::Missing => "Chưa nộp (quá hạn)",
            Timeliness::NotDue => "Chưa nộp (còn hạn)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Timeliness::OnTime => "On time",
            Timeliness::Late => "Late",
            Timeliness::Returned => "Returned",
            Timeliness::Missing => "Missing",
            Timeliness::NotDue => "Not yet due",
        }
    }
}

/// What the dashboard needs of one report (not its values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSummary {
    pub unit_id: String,
    pub status: ReportStatus,
    #[serde(default)]
    pub first_submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub return_reason: Option<String>,
}

/// Where one unit's report stands against the period's deadline at `now`.
pub fn classify(report: Option<&ReportSummary>, deadline: DateTime<FixedOffset>, now: DateTime<Utc>) -> Timeliness {
    let unsent = || if now < deadline { Timeliness::NotDue } else { Timeliness::Missing };
    let Some(r) = report else { return unsent() };
    match r.status {
        ReportStatus::Draft => unsent(),
        ReportStatus::Returned => Timeliness::Returned,
        ReportStatus::Submitted | ReportStatus::Accepted => {
            // A report submitted before `first_submitted_at` was recorded (older
            // data) falls back to its last submission.
            match r.first_submitted_at.or(r.submitted_at) {
                Some(t) if t < deadline => Timeliness::OnTime,
                Some(_) => Timeliness::Late,
                None => unsent(),
            }
        }
    }
}

/// Counts of units per [`Timeliness`], plus how many submitted ones are accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub expected: u32,
    pub on_time: u32,
    pub late: u32,
    pub returned: u32,
    pub missing: u32,
    pub not_due: u32,
    /// Of on_time + late: accepted by the reviewer.
    pub accepted: u32,
}

impl Counts {
    pub fn add(&mut self, t: Timeliness, accepted: bool) {
        self.expected += 1;
        match t {
            Timeliness::OnTime => self.on_time += 1,
            Timeliness::Late => self.late += 1,
            Timeliness::Returned => self.returned += 1,
            Timeliness::Missing => self.missing += 1,
            Timeliness::NotDue => self.not_due += 1,
        }
        if accepted {
            self.accepted += 1;
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        self.expected += other.expected;
        self.on_time += other.on_time;
        self.late += other.late;
        self.returned += other.returned;
        self.missing += other.missing;
        self.not_due += other.not_due;
        self.accepted += other.accepted;
    }

    pub fn get(&self, t: Timeliness) -> u32 {
        match t {
            Timeliness::OnTime => self.on_time,
            Timeliness::Late => self.late,
            Timeliness::Returned => self.returned,
            Timeliness::Missing => self.missing,
            Timeliness::NotDue => self.not_due,
        }
    }

    /// Submitted (on time or late) per expected, in whole percent.
    pub fn completeness_percent(&self) -> u32 {
        if self.expected == 0 {
            return 0;
        }
        (self.on_time + self.late) * 100 / self.expected
    }
}

/// Whether `unit` owes a report for periods of `kind` under `plan` (an obligation
/// with a monthly or yearly deadline assigned to it).
pub fn expects_report(plan: &Plan, unit: &OrgUnit, kind: PeriodKind) -> bool {
    plan.items.iter().any(|item| {
        item.obligations.iter().any(|o| {
            let periodic = matches!(
                (o.due, kind),
                (DueRule::Monthly { .. }, PeriodKind::Month) | (DueRule::Yearly { .. }, PeriodKind::Year)
            );
            periodic && o.applies_to(item, unit)
        })
    })
}

pub fn period_kind(period: &Period) -> PeriodKind {
    match period {
        Period::Month { .. } => PeriodKind::Month,
        Period::Year { .. } => PeriodKind::Year,
    }
}

/// One unit's line on the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitRow {
    pub unit_id: String,
    pub name: String,
    pub kind: UnitKind,
    /// Whether the unit itself owes a report (a province root does not).
    pub expected: bool,
    pub timeliness: Option<Timeliness>,
    pub status: Option<ReportStatus>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    /// Its whole subtree (itself included), for the charts and the drill-down.
    pub subtree: Counts,
    pub has_children: bool,
}

/// The dashboard of `root`'s subtree for one period: totals, then one row for the
/// root and one per direct child, each with its subtree's counts (drill down by
/// asking again for a child). Rows stay few however many communes lie below, which
/// keeps the answer small on 2G.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub plan_id: String,
    pub unit_id: String,
    pub period: String,
    pub deadline: DateTime<FixedOffset>,
    pub generated_at: DateTime<Utc>,
    pub totals: Counts,
    pub rows: Vec<UnitRow>,
}

/// Builds the dashboard. `reports` holds the period's reports by unit id (any
/// units; only `root`'s subtree is read).
pub fn dashboard(
    plan: &Plan,
    tree: &UnitTree,
    root: &str,
    period: &Period,
    reports: &HashMap<String, ReportSummary>,
    now: DateTime<Utc>,
) -> Option<Dashboard> {
    let root_unit = tree.get(root)?;
    let deadline = period.deadline();
    let kind = period_kind(period);

    // One post-order pass: each unit's subtree counts = own + children's.
    let mut counts: HashMap<&str, Counts> = HashMap::new();
    let order = tree.subtree(root);
    for unit in order.iter().rev() {
        let mut c = Counts::default();
        if expects_report(plan, unit, kind) {
            let r = reports.get(&unit.id);
            c.add(classify(r, deadline, now), r.is_some_and(|r| r.status == ReportStatus::Accepted));
        }
        for child in tree.children(&unit.id) {
            if let Some(cc) = counts.get(child.id.as_str()) {
                c.merge(cc);
            }
        }
        counts.insert(unit.id.as_str(), c);
    }

    let row = |unit: &OrgUnit, subtree: Counts| {
        let expected = expects_report(plan, unit, kind);
        let r = reports.get(&unit.id);
        UnitRow {
            unit_id: unit.id.clone(),
            name: unit.name.clone(),
            kind: unit.kind,
            expected,
            timeliness: expected.then(|| classify(r, deadline, now)),
            status: r.map(|r| r.status),
            first_submitted_at: r.and_then(|r| r.first_submitted_at.or(r.submitted_at)),
            return_reason: r.filter(|r| r.status == ReportStatus::Returned).and_then(|r| r.return_reason.clone()),
            subtree,
            has_children: tree.children(&unit.id).next().is_some(),
        }
    };
    let totals = counts.get(root).copied().unwrap_or_default();
    let mut rows = vec![row(root_unit, totals)];
    for child in tree.children(root) {
        rows.push(row(child, counts.get(child.id.as_str()).copied().unwrap_or_default()));
    }
    Some(Dashboard {
        plan_id: plan.id.clone(),
        unit_id: root.to_string(),
        period: period.key(),
        deadline,
        generated_at: now,
        totals,
        rows,
    })
}

// ---------------------------------------------------------------------------
// III.1: each unit's own implementation plan.

/// Where a unit stands on a one-off obligation (its implementation plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObligationState {
    Done,
    Late,
    Missing,
    NotDue,
}

impl ObligationState {
    pub fn label_vi(self) -> &'static str {
        match self {
            ObligationState::Done => "Đã ban hành đúng hạn",
            ObligationState::Late => "Ban hành trễ hạn",
            ObligationState::Missing => "Chưa ban hành (quá hạn)",
            ObligationState::NotDue => "Chưa ban hành (còn hạn)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ObligationState::Done => "Issued on time",
            ObligationState::Late => "Issued late",
            ObligationState::Missing => "Not issued (overdue)",
            ObligationState::NotDue => "Not issued (not yet due)",
        }
    }

    /// The wire name (`data-state`, CSS classes).
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationState::Done => "done",
            ObligationState::Late => "late",
            ObligationState::Missing => "missing",
            ObligationState::NotDue => "not_due",
        }
    }
}

/// `issued_on` is the date on the unit's document; `due` the last day allowed.
pub fn classify_once(issued_on: Option<NaiveDate>, due: NaiveDate, today: NaiveDate) -> ObligationState {
    match issued_on {
        Some(d) if d <= due => ObligationState::Done,
        Some(_) => ObligationState::Late,
        None if today > due => ObligationState::Missing,
        None => ObligationState::NotDue,
    }
}

/// The plan's implementation-plan obligation (the first one-off obligation of an
/// item that assigns it): its id and due date.
pub fn implementation_plan_obligation(plan: &Plan) -> Option<(&str, NaiveDate)> {
    plan.items.iter().flat_map(|i| &i.obligations).find_map(|o| match o.due {
        DueRule::Once { date } if o.id.ends_with("implementation-plan") => Some((o.id.as_str(), date)),
        _ => None,
    })
}

/// Whether `unit` must issue its own implementation plan under `plan`.
pub fn owes_implementation_plan(plan: &Plan, unit: &OrgUnit) -> bool {
    plan.items.iter().any(|item| {
        item.obligations.iter().any(|o| {
            matches!(o.due, DueRule::Once { .. }) && o.id.ends_with("implementation-plan") && o.applies_to(item, unit)
        })
    })
}

// ---------------------------------------------------------------------------
// "Dân vận khéo" models.

/// The four fields of the "Dân vận khéo" movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelField {
    Economy,
    CultureSociety,
    DefenceSecurity,
    PoliticalSystem,
}

impl ModelField {
    pub const ALL: [ModelField; 4] =
        [ModelField::Economy, ModelField::CultureSociety, ModelField::DefenceSecurity, ModelField::PoliticalSystem];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelField::Economy => "economy",
            ModelField::CultureSociety => "culture_society",
            ModelField::DefenceSecurity => "defence_security",
            ModelField::PoliticalSystem => "political_system",
        }
    }

    pub fn parse(s: &str) -> Option<ModelField> {
        ModelField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            ModelField::Economy => "Kinh tế",
            ModelField::CultureSociety => "Văn hóa - xã hội",
            ModelField::DefenceSecurity => "Quốc phòng - an ninh",
            ModelField::PoliticalSystem => "Xây dựng hệ thống chính trị",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ModelField::Economy => "Economy",
            ModelField::CultureSociety => "Culture and society",
            ModelField::DefenceSecurity => "Defence and security",
            ModelField::PoliticalSystem => "Building the political system",
        }
    }
}

/// A model's step in the movement: registered by the unit, recognised by the level
/// above, commended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelStage {
    Registered,
    Recognised,
    Commended,
}

impl ModelStage {
    /// The wire name (`data-stage`).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStage::Registered => "registered",
            ModelStage::Recognised => "recognised",
            ModelStage::Commended => "commended",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            ModelStage::Registered => "Đã đăng ký",
            ModelStage::Recognised => "Đã công nhận",
            ModelStage::Commended => "Đã khen thưởng",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ModelStage::Registered => "Registered",
            ModelStage::Recognised => "Recognised",
            ModelStage::Commended => "Commended",
        }
    }
}

/// A "Dân vận khéo" model as the register holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementModel {
    pub id: i64,
    pub plan_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub name: String,
    pub field: ModelField,
    #[serde(default)]
    pub description: String,
    pub registered_on: NaiveDate,
    #[serde(default)]
    pub recognised_on: Option<NaiveDate>,
    #[serde(default)]
    pub commended_on: Option<NaiveDate>,
    #[serde(default)]
    pub commendation: Option<String>,
}

impl MovementModel {
    pub fn stage(&self) -> ModelStage {
        if self.commended_on.is_some() {
            ModelStage::Commended
        } else if self.recognised_on.is_some() {
            ModelStage::Recognised
        } else {
            ModelStage::Registered
        }
    }
}

/// Per field: how many models were registered, recognised and commended in a
/// window of dates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelCounts {
    pub registered: u32,
    pub recognised: u32,
    pub commended: u32,
    pub by_field: BTreeMap<ModelField, [u32; 3]>,
}

/// Counts the events (registration, recognition, commendation) dated in
/// `first..=last`.
pub fn count_models<'a>(
    models: impl IntoIterator<Item = &'a MovementModel>,
    first: NaiveDate,
    last: NaiveDate,
) -> ModelCounts {
    let mut c = ModelCounts::default();
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| first <= d && d <= last);
    for m in models {
        let e = c.by_field.entry(m.field).or_insert([0; 3]);
        if within(Some(m.registered_on)) {
            e[0] += 1;
            c.registered += 1;
        }
        if within(m.recognised_on) {
            e[1] += 1;
            c.recognised += 1;
        }
        if within(m.commended_on) {
            e[2] += 1;
            c.commended += 1;
        }
    }
    c
}

// ---------------------------------------------------------------------------
// Consolidation.

/// The numbers of a report's count fields that hold a valid number.
pub fn figures(form: &ReportForm, values: &Values) -> BTreeMap<String, u64> {
    form.fields()
        .filter(|f| matches!(f.kind, FieldKind::Count))
        .filter_map(|f| {
            let raw = values.get(&f.id)?;
            parse_count(raw).ok().flatten().map(|n| (f.id.clone(), n))
        })
        .collect()
}

/// An accepted report as the consolidation reads it. `values` (the narratives) is
/// read only for the consolidating unit's direct children; deeper reports may
/// pass [`NO_VALUES`].
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptedReport<'a> {
    pub figures: &'a BTreeMap<String, u64>,
    pub values: &'a Values,
}

/// Empty values, for accepted reports whose narratives are not read.
pub static NO_VALUES: Values = Values::new();

/// Whose figures went into the consolidation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
///
/// One per direct child of the consolidating unit that contributed: its own
/// accepted report (`reports == 1`, `own`), or, when it has none, the sum of the
/// accepted reports of the units below it (`reports == n`, not `own`; their
/// narratives are on that child's own consolidation). This keeps the answer as
/// small as the number of direct children: the province reads ~30 lines, not
/// 10,000 communes' narratives.
pub struct SourceUnit {
    pub unit_id: String,
    pub name: String,
    /// Whether these are the unit's own accepted report.
    pub own: bool,
    /// How many accepted reports were summed.
    pub reports: u32,
    pub figures: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NarrativeEntry {
    pub unit_id: String,
    pub unit_name: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldNarratives {
    pub field_id: String,
    pub label: String,
    pub entries: Vec<NarrativeEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionNarratives {
    pub section_id: String,
    pub title: String,
    pub fields: Vec<FieldNarratives>,
}

/// The consolidated report of `unit_id` for a period: sums of indicators over the
/// accepted reports below it and their narratives per section with unit names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consolidation {
    pub plan_id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub period: String,
    pub form_id: String,
    pub generated_at: DateTime<Utc>,
    /// Sum per count field over `sources`.
    pub totals: BTreeMap<String, u64>,
    /// The accepted reports summed, in tree order.
    pub sources: Vec<SourceUnit>,
    /// Units that owe a report but have none accepted (nor any unit below them).
    pub without_accepted: Vec<String>,
    pub narratives: Vec<SectionNarratives>,
    /// The "Dân vận khéo" register over the subtree, events within the period.
    pub models: ModelCounts,
}

/// Which accepted reports a consolidation of `root` sums, in tree order, each with
/// the direct child of `root` it stands for when it lies deeper; and the units that
/// owe a report but have none accepted (nor anything accepted below them).
///
/// Each direct child contributes its own accepted report, which for a district is
/// already its communes' consolidation (a report of reports), so nothing is
/// counted twice. A child without an accepted report is replaced by its own
/// children, recursively, so a district that has not filed yet does not hide the
/// communes that have. Only the units returned here need their values loaded.
pub fn consolidation_sources<'t>(
    plan: &Plan,
    tree: &'t UnitTree,
    root: &str,
    kind: PeriodKind,
    is_accepted: impl Fn(&str) -> bool,
) -> (Vec<(&'t OrgUnit, Option<&'t str>)>, Vec<String>) {
    let mut sources = Vec::new();
    let mut without = Vec::new();
    // Depth-first with an explicit stack (children pushed in reverse) so the
    // order is the tree's and deep trees cannot overflow.
    let mut stack: Vec<(&OrgUnit, Option<&str>)> = tree.children(root).map(|c| (c, None)).collect();
    stack.reverse();
    // Units whose subtree turned out empty are only known after their children:
    // remember (unit, sources count before it) and check when popped again.
    enum Step<'t> {
        Enter(&'t OrgUnit, Option<&'t str>),
        Leave(&'t OrgUnit, usize),
    }
    let mut steps: Vec<Step> = stack.into_iter().map(|(u, v)| Step::Enter(u, v)).collect();
    while let Some(step) = steps.pop() {
        match step {
            Step::Enter(unit, via) => {
                if is_accepted(&unit.id) {
                    sources.push((unit, via));
                    continue;
                }
                steps.push(Step::Leave(unit, sources.len()));
                let top = via.unwrap_or(unit.id.as_str());
                let mut kids: Vec<&OrgUnit> = tree.children(&unit.id).collect();
                kids.reverse();
                steps.extend(kids.into_iter().map(|c| Step::Enter(c, Some(top))));
            }
            Step::Leave(unit, before) => {
                if sources.len() == before && expects_report(plan, unit, kind) {
                    without.push(unit.id.clone());
                }
            }
        }
    }
    (sources, without)
}

/// Adds `figures` into `sums`, cloning a key only the first time it is seen.
fn add_figures(sums: &mut BTreeMap<String, u64>, figures: &BTreeMap<String, u64>) {
    for (k, v) in figures {
        match sums.get_mut(k) {
            Some(t) => *t += v,
            None => {
                sums.insert(k.clone(), *v);
            }
        }
    }
}

/// Consolidates the accepted reports below `root` (see [`consolidation_sources`]);
/// `accepted` needs to hold only the units that function returns.
#[allow(clippy::too_many_arguments)]
pub fn consolidate(
    plan: &Plan,
    form: &ReportForm,
    tree: &UnitTree,
    root: &str,
    period: &Period,
    accepted: &HashMap<String, AcceptedReport<'_>>,
    models: &ModelCounts,
    now: DateTime<Utc>,
) -> Option<Consolidation> {
    let root_unit = tree.get(root)?;
    let kind = period_kind(period);
    let (sources, without) = consolidation_sources(plan, tree, root, kind, |id| accepted.contains_key(id));

    // Group the sources by the direct child they stand for, in tree order.
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut source_units: Vec<SourceUnit> = Vec::new();
    // The direct children's own reports: the narratives come from these only.
    let mut own: Vec<(&OrgUnit, &AcceptedReport)> = Vec::new();
    for (unit, via) in &sources {
        let r = &accepted[&unit.id];
        add_figures(&mut totals, r.figures);
        match via {
            None => {
                own.push((unit, r));
                source_units.push(SourceUnit {
                    unit_id: unit.id.clone(),
                    name: unit.name.clone(),
                    own: true,
                    reports: 1,
                    figures: r.figures.clone(),
                });
            }
            Some(top) => {
                if source_units.last().is_none_or(|s| s.unit_id != *top) {
                    let name = tree.get(top).map(|u| u.name.clone()).unwrap_or_default();
                    source_units.push(SourceUnit {
                        unit_id: top.to_string(),
                        name,
                        own: false,
                        reports: 0,
                        figures: BTreeMap::new(),
                    });
                }
                if let Some(group) = source_units.last_mut() {
                    group.reports += 1;
                    add_figures(&mut group.figures, r.figures);
                }
            }
        }
    }

    let narratives = form
        .sections
        .iter()
        .filter_map(|s| {
            let fields: Vec<FieldNarratives> = s
                .fields
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Text { .. }) && f.applies_to(kind))
                .filter_map(|f| {
                    let entries: Vec<NarrativeEntry> = own
                        .iter()
                        .filter_map(|(unit, r)| {
                            let text = r.values.get(&f.id)?.trim();
                            (!text.is_empty()).then(|| NarrativeEntry {
                                unit_id: unit.id.clone(),
                                unit_name: unit.name.clone(),
                                text: text.to_string(),
                            })
                        })
                        .collect();
                    (!entries.is_empty()).then(|| FieldNarratives {
                        field_id: f.id.clone(),
                        label: f.label.clone(),
                        entries,
                    })
                })
                .collect();
            (!fields.is_empty()).then(|| SectionNarratives { section_id: s.id.clone(), title: s.title.clone(), fields })
        })
        .collect();

    Some(Consolidation {
        plan_id: plan.id.clone(),
        unit_id: root.to_string(),
        unit_name: root_unit.name.clone(),
        period: period.key(),
        form_id: form.id.clone(),
        generated_at: now,
        totals,
        sources: source_units,
        without_accepted: without,
        narratives,
        models: models.clone(),
    })
}

impl Consolidation {
    /// Values to start the consolidating unit's own report from (a report of
    /// reports): every summed count, and each narrative as "Unit: text" lines.
    pub fn prefill(&self) -> Values {
        let mut values: Values = self.totals.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        for section in &self.narratives {
            for field in &section.fields {
                let text = field
                    .entries
                    .iter()
                    .map(|e| format!("- {}: {}", e.unit_name, e.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                values.insert(field.field_id.clone(), text);
            }
        }
        values
    }
}
