//! The demo's history (`DANVAN_DEMO=1`, see `config.rs`): a first look at the app
//! should show dashboards with a story in them, not rows of zeros. Once per
//! database (recorded as the package `demo/history`) this
//!
//! - publishes a demo plan for this year, `kh-mau-<year>`: plan 413/KH-UBND copied
//!   to the year (`catalog::plans::copy_to_year`), marked `demo` and titled as a
//!   demo, so nobody mistakes it for a real document;
//! - files the reports of 2024 (plan 413, the Kon Tum units) and of this year (the
//!   demo plan, the Quảng Ngãi units) through the real push
//!   (`sync::push_at`, with the server clock set to when each step happened), so
//!   versions, revisions, figures and first submissions are what the app would
//!   have made: most on time, some late, some returned with a reason, a few
//!   missing or left as drafts; most accepted a few days after;
//! - records III.1 implementation plans and "Dân vận khéo" models at each step.
//!
//! Reports are filed by an account of the unit itself (a demo account where the
//! README has one, else a hidden account `demo.<unit>` with a random password) and
//! reviewed by the district above a commune or, above that, the province's Sở Nội
//! vụ, as `access::may_review_report_of` allows. Everything is drawn from a seeded
//! generator: two fresh databases on the same day get the same story.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, SubsecRound, Utc, Weekday};
use danvan_core::aggregate::{expects_report, implementation_plan_obligation, owes_implementation_plan, ModelField};
use danvan_core::api::Role;
use danvan_core::form::{parse_count, FieldKind, PeriodKind, Rule};
use danvan_core::sync::{Mutation, MutationOp, MutationResult, PushRequest, MAX_PUSH_MUTATIONS, SYNC_SCHEMA_VERSION};
use danvan_core::time::{start_of_day, vn_date};
use danvan_core::{OrgUnit, Period, Plan, ReportForm, ReportKey, ReportStatus, UnitKind, UnitTree, Values};

use crate::auth::{hash_password, password_work, random_hex};
use crate::catalog::plans::{check_plan, copy_to_year, PlanDocument};
use crate::catalog::{Catalog, CatalogError};
use crate::seed::DEMO_ACCOUNTS;
use crate::state::AppState;
use crate::store::{Actor, NewAudit, NewUser, StoreError, User};

/// Recorded in `catalog_packages` once the history is written.
pub const PACKAGE: &str = "demo/history";

/// The plan the demo plan is copied from, and whose 2024 the history fills.
pub const SOURCE_PLAN: &str = "kh-413-ubnd-2024";

/// The demo plan of `year`. Not `kh-413-ubnd-<year>`: that is the id an
/// administrator's own copy of 413 gets (the end-to-end tests make one).
pub fn demo_plan_id(year: i32) -> String {
    format!("kh-mau-{year}")
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("kế hoạch mẫu: {0}")]
    Plan(String),
    #[error("tài khoản của dữ liệu mẫu: {0}")]
    Account(String),
    #[error("báo cáo mẫu {report}: {message}")]
    Report { report: String, message: String },
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> DemoError {
        DemoError::Store(StoreError::Db(e))
    }
}

/// What [`prepare`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub demo_plan: String,
    /// Reports by their status at the end, by `ReportStatus::as_str`.
    pub reports: BTreeMap<&'static str, usize>,
    /// Mutations applied.
    pub mutations: usize,
    /// Mutations not applied: the reports they were for already existed.
    pub skipped: usize,
    pub pushes: usize,
    pub implementation_plans: usize,
    /// Registered, recognised, commended.
    pub models: [usize; 3],
    /// Hidden filer and reviewer accounts created.
    pub accounts_created: usize,
}

/// Writes the demo's history unless this database has it (then nothing is
/// written and `None` comes back). Reloads the catalog after publishing the demo
/// plan, so the caller's state serves it at once.
pub async fn prepare(state: &AppState) -> Result<Option<Summary>, DemoError> {
    if state.store.package_applied(PACKAGE).await? {
        return Ok(None);
    }
    let started = Instant::now();
    let now = Utc::now().trunc_subsecs(0);
    let today = vn_date(now);
    let demo_plan = publish_demo_plan(state, today.year(), now).await?;
    state.catalog_cell.reload(&state.store).await?;
    let catalog = state.catalog();

    let mut cast = Cast::default();
    let mut events = Vec::new();
    let mut registers = Registers::default();
    for plan_id in [SOURCE_PLAN, demo_plan.as_str()] {
        let (Some(plan), Some(form)) = (catalog.plan(plan_id), catalog.form_for_plan(plan_id)) else { continue };
        reports_story(&catalog, plan, form, now, &mut cast, &mut events);
        registers_story(&catalog, plan, now, &mut cast, &mut registers);
    }
    // Only the past: what is still to come stays undone (a review after today,
    // a late report not sent yet).
    events.retain(|e| e.at < now);
    registers.cut(today);

    let mut people = cast.resolve(state).await?;
    let mut summary = Summary { demo_plan, accounts_created: people.created, ..Summary::default() };
    // A run stopped half-way (the server killed during its first start) left its
    // devices behind: filing again would only collide with what it filed.
    for p in &people.list {
        if state.store.client(&p.client_id).await?.is_some() {
            tracing::warn!("dữ liệu mẫu đã được tạo dở dang ở lần khởi động trước; không tạo lại");
            state.store.record_package(PACKAGE, "interrupted", now).await?;
            return Ok(Some(summary));
        }
    }
    file_events(state, &mut people, events, &mut summary).await?;
    write_registers(state, &people, &registers, &mut summary).await?;
    state.store.record_package(PACKAGE, &format!("demo-{}", today.year()), now).await?;
    tracing::info!(
        plan = %summary.demo_plan,
        reports = ?summary.reports,
        pushes = summary.pushes,
        skipped = summary.skipped,
        implementation_plans = summary.implementation_plans,
        models = ?summary.models,
        accounts = summary.accounts_created,
        ms = started.elapsed().as_millis() as u64,
        "đã tạo dữ liệu mẫu (báo cáo 2024 và kế hoạch mẫu năm nay)"
    );
    Ok(Some(summary))
}

// --- The demo plan -------------------------------------------------------------------

/// Publishes `kh-mau-<year>` unless it exists; its id either way.
async fn publish_demo_plan(state: &AppState, year: i32, now: DateTime<Utc>) -> Result<String, DemoError> {
    let id = demo_plan_id(year);
    let catalog = state.catalog();
    if catalog.plan(&id).is_some() {
        return Ok(id);
    }
    let checked =
        check_plan(&catalog, demo_plan_document(&catalog, year)?).map_err(|e| DemoError::Plan(e.join("; ")))?;
    let actor = Actor { user_id: None, name: "demo".into(), address: None };
    let audit = NewAudit {
        action: "plan.publish",
        target: Some(&id),
        unit_id: None,
        detail: Some(format!("kế hoạch mẫu chạy thử (DANVAN_DEMO=1): {}", checked.changes.summary_vi())),
    };
    state.store.publish_plan(&checked.doc.plan, checked.doc.form.as_ref(), &actor, &audit, now).await?;
    Ok(id)
}

/// Plan 413 copied to `year` as the demo plan, not yet checked.
fn demo_plan_document(catalog: &Catalog, year: i32) -> Result<PlanDocument, DemoError> {
    let id = demo_plan_id(year);
    let source =
        catalog.plan(SOURCE_PLAN).ok_or_else(|| DemoError::Plan(format!("không có kế hoạch {SOURCE_PLAN}")))?;
    let (mut doc, _notes) = copy_to_year(&catalog.tree, source, catalog.form_for_plan(SOURCE_PLAN), year);
    let plan = &mut doc.plan;
    plan.id = id.clone();
    plan.demo = true;
    plan.number = "Bản mẫu/KH-UBND".into();
    // The province of the year, not the one 413 was issued by (Kon Tum became
    // part of Quảng Ngãi on 01/07/2025).
    let province = |date| catalog.root_on(date).map(|u| u.name.trim_start_matches("Tỉnh ").to_string());
    if let (Some(old), Some(new)) = (province(source.validity().first), province(plan.validity().first)) {
        for text in [&mut plan.title, &mut plan.issued_by, &mut plan.place] {
            *text = text.replace(&old, &new);
        }
    }
    plan.title = format!("[Bản mẫu chạy thử] {}", plan.title);
    // A made-up plan carries no real official's signature.
    plan.signer = None;
    if let Some(form) = &mut doc.form {
        form.id = format!("{id}.bao-cao");
        form.plan_id = id;
    }
    Ok(doc)
}

// --- Who files and who reviews --------------------------------------------------------

/// The units whose accounts act in the story, by index; made into accounts once
/// the story is known ([`Cast::resolve`]).
#[derive(Default)]
struct Cast {
    units: Vec<OrgUnit>,
    index: HashMap<String, usize>,
}

impl Cast {
    fn person(&mut self, unit: &OrgUnit) -> usize {
        if let Some(&i) = self.index.get(&unit.id) {
            return i;
        }
        self.units.push(unit.clone());
        self.index.insert(unit.id.clone(), self.units.len() - 1);
        self.units.len() - 1
    }

    /// One account per unit: the README's demo account of that unit if it exists,
    /// else a hidden one (created if missing).
    async fn resolve(self, state: &AppState) -> Result<People, DemoError> {
        let mut people = People { list: Vec::with_capacity(self.units.len()), created: 0 };
        let mut hidden_hash: Option<String> = None;
        for unit in &self.units {
            let mut user = None;
            for a in DEMO_ACCOUNTS.iter().filter(|a| a.unit_id == unit.id && a.role != Role::Admin) {
                // Unless an administrator has since moved or disabled it.
                match state.store.user_by_username(a.username).await? {
                    Some(found) if found.user.unit_id == unit.id && !found.disabled => {
                        user = Some(found.user);
                        break;
                    }
                    _ => {}
                }
            }
            let user = match user {
                Some(u) => u,
                None => {
                    let hash = match &hidden_hash {
                        Some(h) => h.clone(),
                        None => {
                            // One random password nobody is told, hashed once: the
                            // accounts exist to file, never to sign in (an
                            // administrator can still issue an enrolment code).
                            let cost = state.password_cost;
                            let secret = random_hex(24);
                            let h = password_work(move || hash_password(cost, &secret))
                                .await
                                .and_then(|r| r)
                                .map_err(|e| DemoError::Account(e.to_string()))?;
                            hidden_hash = Some(h.clone());
                            h
                        }
                    };
                    let (u, created) = hidden_account(state, unit, &hash).await?;
                    people.created += usize::from(created);
                    u
                }
            };
            let client_id = client_id_for(&user.username);
            people.list.push(Person { user, client_id, next_mutation: 1 });
        }
        Ok(people)
    }
}

struct Person {
    user: User,
    client_id: String,
    next_mutation: u64,
}

struct People {
    list: Vec<Person>,
    created: usize,
}

/// The device the history's pushes come from: one per account.
fn client_id_for(username: &str) -> String {
    format!("demo-{}", username.replace('.', "-"))
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(crate::sync::MAX_CLIENT_ID_CHARS)
        .collect()
}

/// `demo.<unit id>` (or `demo.u<hash>` when that is not a valid username).
fn hidden_username(unit: &OrgUnit) -> String {
    let name = format!("demo.{}", unit.id);
    if danvan_core::account::check_username(&name).is_ok() {
        name
    } else {
        format!("demo.u{:012x}", Rng::seeded(&[&unit.id]).next() >> 16)
    }
}

fn hidden_role(unit: &OrgUnit) -> Role {
    match unit.kind {
        UnitKind::District | UnitKind::Province => Role::Reviewer,
        UnitKind::Department if is_home_affairs(unit) => Role::Aggregator,
        UnitKind::Department | UnitKind::Commune => Role::Reporter,
    }
}

/// Sở Nội vụ: it follows the plan for the province and reviews what districts and
/// departments send.
fn is_home_affairs(unit: &OrgUnit) -> bool {
    unit.kind == UnitKind::Department && unit.name == "Sở Nội vụ"
}

async fn hidden_account(state: &AppState, unit: &OrgUnit, hash: &str) -> Result<(User, bool), DemoError> {
    let username = hidden_username(unit);
    let display_name = person_name(unit);
    // Created when the unit's officials would have been, not today.
    let created_at = office_time_at(unit.valid_from.unwrap_or(date(2024, 1, 15)), 8 * 60);
    let new = NewUser {
        username: &username,
        display_name: &display_name,
        password_hash: hash,
        role: hidden_role(unit),
        unit_id: &unit.id,
    };
    let created = state.store.create_user_if_absent(&new, created_at).await?;
    let found = state
        .store
        .user_by_username(&username)
        .await?
        .ok_or_else(|| DemoError::Account(format!("không tạo được tài khoản {username}")))?;
    if found.user.unit_id != unit.id {
        return Err(DemoError::Account(format!("tên {username} đã dùng cho đơn vị khác")));
    }
    Ok((found.user, created))
}

/// Who reviews `unit`'s reports in `tree`: the district above a commune, else the
/// province's Sở Nội vụ; none for Sở Nội vụ itself (nobody reviews their own).
fn reviewer_of<'t>(tree: &'t UnitTree, unit: &OrgUnit) -> Option<&'t OrgUnit> {
    let ancestors = tree.ancestors(&unit.id);
    if let Some(district) = ancestors.iter().find(|a| a.kind == UnitKind::District) {
        return Some(district);
    }
    let root = ancestors.last()?;
    tree.children(&root.id).find(|u| is_home_affairs(u) && u.id != unit.id)
}

// --- The reports ----------------------------------------------------------------------

/// One step of a report's life, made by `person` at `at`.
struct Event {
    at: DateTime<Utc>,
    person: usize,
    key: ReportKey,
    op: MutationOp,
}

/// Every step of every report of `plan` whose period has begun by `now`.
fn reports_story(
    catalog: &Catalog,
    plan: &Plan,
    form: &ReportForm,
    now: DateTime<Utc>,
    cast: &mut Cast,
    events: &mut Vec<Event>,
) {
    for kind in [PeriodKind::Month, PeriodKind::Year] {
        for period in plan.periods(kind) {
            if utc(start_of_day(period.window().first)) > now {
                continue;
            }
            // The units of the day the report fell due, as the dashboard counts.
            let tree = catalog.tree.as_of(period.due_date());
            let values = period_values(plan, form, &tree, &period, kind);
            for unit in tree.in_order() {
                let Some(vals) = values.get(&unit.id) else { continue };
                let story = ReportStory {
                    plan,
                    form,
                    period: &period,
                    kind,
                    unit,
                    reviewer: reviewer_of(&tree, unit),
                    values: vals,
                    now,
                };
                story.tell(cast, events);
            }
        }
    }
}

struct ReportStory<'a> {
    plan: &'a Plan,
    form: &'a ReportForm,
    period: &'a Period,
    kind: PeriodKind,
    unit: &'a OrgUnit,
    reviewer: Option<&'a OrgUnit>,
    values: &'a Values,
    now: DateTime<Utc>,
}

impl ReportStory<'_> {
    fn tell(&self, cast: &mut Cast, events: &mut Vec<Event>) {
        let mut rng = Rng::seeded(&["report", &self.plan.id, &self.unit.id, &self.period.key()]);
        let filer = cast.person(self.unit);
        let reviewer = self.reviewer.map(|r| cast.person(r));
        let key = ReportKey { plan_id: self.plan.id.clone(), unit_id: self.unit.id.clone(), period: *self.period };
        let save =
            |set: Values| MutationOp::Save { form_id: self.form.id.clone(), set, attach: vec![], detach: vec![] };
        let mut step = |at: DateTime<Utc>, person: usize, op: MutationOp| {
            events.push(Event { at, person, key: key.clone(), op });
        };
        let due = self.period.due_date();
        let deadline = utc(self.period.deadline());

        if deadline > self.now {
            // The period under way: a few have sent it early, some have a draft.
            let fate = rng.below(100);
            if fate >= 40 {
                return;
            }
            let from = utc(start_of_day(self.period.window().first)).max(self.now - Duration::days(14));
            let to = self.now - Duration::hours(1);
            let Some(at) = time_between(&mut rng, from, to) else { return };
            if fate < 20 {
                step(at, filer, save(self.values.clone()));
                step(at, filer, MutationOp::Submit);
                if let Some(r) = reviewer {
                    let day = self.review_day(&mut rng, vn_date(at));
                    step(self.session(day), r, MutationOp::Accept);
                }
            } else {
                step(at, filer, save(self.draft()));
            }
            return;
        }

        let fate = rng.below(1000);
        if fate < 50 {
            // Missing: nothing was ever written.
            return;
        }
        if fate < 75 {
            // Missing, with a draft started before the deadline and never sent.
            let day = weekday_back(add_days(due, -(rng.range(2, 12) as i64)));
            step(office_time(&mut rng, day), filer, save(self.draft()));
            return;
        }
        let submitted = if fate < 180 {
            // Late, by up to twelve days.
            let day = weekday_forward(add_days(due, rng.range(1, 12) as i64));
            office_time(&mut rng, day)
        } else {
            // On time, mostly in the last days before the deadline.
            const DAYS_BEFORE: [i64; 12] = [0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 9];
            let back = rng.pick(&DAYS_BEFORE).copied().unwrap_or(0);
            office_time(&mut rng, weekday_back(add_days(due, -back)))
        };
        step(submitted, filer, save(self.values.clone()));
        step(submitted, filer, MutationOp::Submit);
        let Some(reviewer) = reviewer else { return };
        let first_look = self.session(self.review_day(&mut rng, vn_date(submitted)));
        let review = rng.below(100);
        if review < 10 {
            let Some((reason, fix)) = rng.pick(RETURNS) else { return };
            step(first_look, reviewer, MutationOp::Return { reason: (*reason).to_string() });
            if review < 5 {
                // Still with the unit.
                return;
            }
            let day = weekday_forward(add_days(vn_date(first_look), rng.range(1, 4) as i64));
            let again = office_time(&mut rng, day);
            if let Some(set) = fix.apply(self.form, self.values) {
                step(again, filer, save(set));
            }
            step(again, filer, MutationOp::Submit);
            let accepted = self.session(self.review_day(&mut rng, vn_date(again)));
            step(accepted, reviewer, MutationOp::Accept);
        } else if review < 16 {
            // The reviewer has not got to it.
        } else {
            step(first_look, reviewer, MutationOp::Accept);
        }
    }

    /// The day the reviewer takes up a report sent on `sent`: reviewers go through
    /// a period's reports on a few days around its deadline (the first such day
    /// after it was sent, now and then the next one), else two days later.
    fn review_day(&self, rng: &mut Rng, sent: NaiveDate) -> NaiveDate {
        const DAYS_FROM_DUE: [i64; 6] = [-4, 2, 6, 13, 25, 40];
        let due = self.period.due_date();
        let mut days = DAYS_FROM_DUE.iter().map(|d| weekday_forward(add_days(due, *d))).filter(|d| *d > sent);
        let first = days.next().unwrap_or_else(|| weekday_forward(add_days(sent, 2)));
        if rng.chance(250) {
            days.next().unwrap_or(first)
        } else {
            first
        }
    }

    /// When the reviewer sits down to the reports on `day`: one time per reviewer
    /// and day, so a day's reviews go up as one push, as from one phone.
    fn session(&self, day: NaiveDate) -> DateTime<Utc> {
        let who = self.reviewer.map(|r| r.id.as_str()).unwrap_or("");
        let minute = Rng::seeded(&[who, &day.to_string()]).range(14 * 60, 16 * 60 + 30);
        office_time_at(day, minute as u32)
    }

    /// The first half of the form, as a draft left unfinished.
    fn draft(&self) -> Values {
        let fields: Vec<_> = self.form.fields_for(self.kind).collect();
        let half = fields.len().div_ceil(2);
        fields.iter().take(half).filter_map(|f| self.values.get(&f.id).map(|v| (f.id.clone(), v.clone()))).collect()
    }
}

/// Every reporting unit's values for one period: counts drawn per unit, a
/// district's report adding up its communes' (it is their consolidation plus its
/// own work), then the narratives, which quote the counts.
fn period_values(
    plan: &Plan,
    form: &ReportForm,
    tree: &UnitTree,
    period: &Period,
    kind: PeriodKind,
) -> HashMap<String, Values> {
    let mut counts: HashMap<String, BTreeMap<String, u64>> = HashMap::new();
    // Children come after their parent in tree order: backwards, they come first.
    for unit in tree.in_order().into_iter().rev() {
        if !expects_report(plan, unit, kind) {
            continue;
        }
        let mut rng = Rng::seeded(&["counts", &plan.id, &unit.id, &period.key()]);
        let mut own = draw_counts(&mut rng, form, kind);
        for child in tree.children(&unit.id) {
            if let Some(theirs) = counts.get(&child.id) {
                for (k, v) in theirs {
                    *own.entry(k.clone()).or_insert(0) += v;
                }
            }
        }
        respect_rules(form, &mut own);
        counts.insert(unit.id.clone(), own);
    }
    counts
        .into_iter()
        .map(|(unit_id, numbers)| {
            let mut rng = Rng::seeded(&["texts", &plan.id, &unit_id, &period.key()]);
            let mut values: Values = numbers.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
            // A commune writes a line where a district or a department, whose
            // narratives the province reads in its consolidation, writes more.
            let brief = tree.get(&unit_id).is_none_or(|u| u.kind == UnitKind::Commune);
            let (filled, sentences) = if brief { (350, 1) } else { (650, 2) };
            for field in form.fields_for(kind) {
                let FieldKind::Text { max_chars } = field.kind else { continue };
                if !field.required && !rng.chance(filled) {
                    continue;
                }
                let text = compose(&mut rng, &field.id, &values, sentences);
                values.insert(field.id.clone(), text.chars().take(max_chars as usize).collect());
            }
            (unit_id, values)
        })
        .collect()
}

/// How a count is drawn for one unit's month (a year's report: about eleven
/// months' worth).
#[derive(Clone, Copy)]
enum Draw {
    Range(u64, u64),
    /// A share, in percent, of a count drawn before it ("of which", "resolved").
    Share(&'static str, u64, u64),
    /// 1 now and then (per thousand reports), else 0.
    Rare(u64),
}

const COUNTS: &[(&str, Draw)] = &[
    ("ii1.sessions", Draw::Range(1, 6)),
    ("ii1.participants", Draw::Range(40, 420)),
    ("ii2.sessions_remote", Draw::Share("ii1.sessions", 0, 70)),
    ("ii2.sessions_ethnic", Draw::Share("ii1.sessions", 20, 90)),
    ("ii2.sessions_religious", Draw::Share("ii1.sessions", 0, 40)),
    ("ii2.participants", Draw::Share("ii1.participants", 30, 80)),
    ("ii3.models_registered", Draw::Range(0, 2)),
    ("ii3.models_recognised", Draw::Range(0, 1)),
    ("ii3.collectives_commended", Draw::Range(0, 2)),
    ("ii3.individuals_commended", Draw::Range(0, 4)),
    ("ii4.dossiers_received", Draw::Range(25, 320)),
    ("ii4.dossiers_on_time", Draw::Share("ii4.dossiers_received", 93, 100)),
    ("ii5.inspections", Draw::Range(0, 2)),
    ("ii5.officials_disciplined", Draw::Rare(25)),
    ("ii6.reception_sessions", Draw::Range(2, 5)),
    ("ii6.petitions_received", Draw::Range(0, 9)),
    ("ii6.petitions_resolved", Draw::Share("ii6.petitions_received", 70, 100)),
    ("ii6.dialogues", Draw::Range(0, 2)),
    ("ii7.supervisions", Draw::Range(0, 3)),
    ("ii7.critiques", Draw::Range(0, 1)),
];

/// Every count field of the form for `kind`: the table above for the fields of
/// 413's form, a small number for any other.
fn draw_counts(rng: &mut Rng, form: &ReportForm, kind: PeriodKind) -> BTreeMap<String, u64> {
    let year = kind == PeriodKind::Year;
    let mut out = BTreeMap::new();
    for field in form.fields_for(kind).filter(|f| f.kind == FieldKind::Count) {
        let draw = COUNTS.iter().find(|(id, _)| *id == field.id).map(|(_, d)| *d).unwrap_or(Draw::Range(0, 5));
        let n = match draw {
            Draw::Range(lo, hi) if year => rng.range(lo * 10, hi * 11),
            Draw::Range(lo, hi) => rng.range(lo, hi),
            Draw::Share(of, lo, hi) => {
                let base = out.get(of).copied().unwrap_or(0);
                base * rng.range(lo, hi) / 100
            }
            Draw::Rare(per_mille) => u64::from(rng.chance(if year { per_mille * 8 } else { per_mille })),
        };
        out.insert(field.id.clone(), n);
    }
    respect_rules(form, &mut out);
    out
}

/// Lowers what breaks a `NotMoreThan` rule to its limit (sums of valid reports
/// never do; a form of another shape might).
fn respect_rules(form: &ReportForm, counts: &mut BTreeMap<String, u64>) {
    for _ in 0..=form.rules.len() {
        let mut changed = false;
        for rule in &form.rules {
            let Rule::NotMoreThan { field, limit } = rule;
            if let (Some(&v), Some(&max)) = (counts.get(field), counts.get(limit)) {
                if v > max {
                    counts.insert(field.clone(), max);
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Up to `most` sentences for a narrative field (what officials write on a
/// phone); a sentence quoting a count is used only when that count is not zero.
fn compose(rng: &mut Rng, field_id: &str, values: &Values, most: u64) -> String {
    let bank = TEXTS.iter().find(|(id, _)| *id == field_id).map(|(_, b)| *b).unwrap_or(GENERIC_TEXTS);
    let mut usable: Vec<String> = bank.iter().filter_map(|t| fill(t, values)).collect();
    let wanted = rng.range(1, most) as usize;
    let mut chosen = Vec::new();
    while chosen.len() < wanted && !usable.is_empty() {
        let i = rng.below(usable.len() as u64) as usize;
        chosen.push(usable.swap_remove(i));
    }
    if chosen.is_empty() {
        return GENERIC_TEXTS.first().map(|s| s.to_string()).unwrap_or_default();
    }
    chosen.join(" ")
}

/// `template` with each `{field}` replaced by its value; None if one is 0 or missing.
fn fill(template: &str, values: &Values) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let value = values.get(&after[..close])?;
        if parse_count(value).ok().flatten().unwrap_or(0) == 0 {
            return None;
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// What the unit changes before sending a returned report again.
enum Fix {
    /// Lower a count to this percent of itself (not below the counts it limits).
    Lower(&'static str, u64),
    /// Write a narrative field.
    Write(&'static str, &'static str),
}

impl Fix {
    /// The changes to save, or None when the form has no such field.
    fn apply(&self, form: &ReportForm, values: &Values) -> Option<Values> {
        match *self {
            Fix::Lower(field, percent) => {
                let now = parse_count(values.get(field)?).ok().flatten()?;
                let floor = form
                    .rules
                    .iter()
                    .filter_map(|Rule::NotMoreThan { field: f, limit }| (limit == field).then_some(f))
                    .filter_map(|f| parse_count(values.get(f)?).ok().flatten())
                    .max()
                    .unwrap_or(0);
                let lowered = (now * percent / 100).max(floor);
                Some(Values::from([(field.to_string(), lowered.to_string())]))
            }
            Fix::Write(field, text) => {
                form.field(field)?;
                let old = values.get(field).map(String::as_str).unwrap_or("");
                let new = if old.is_empty() { text.to_string() } else { format!("{old} {text}") };
                let max = match form.field(field)?.kind {
                    FieldKind::Text { max_chars } => max_chars as usize,
                    FieldKind::Count => return None,
                };
                Some(Values::from([(field.to_string(), new.chars().take(max).collect())]))
            }
        }
    }
}

const RETURNS: &[(&str, Fix)] = &[
    (
        "Số hồ sơ giải quyết đúng hạn chưa khớp với số liệu của bộ phận Một cửa, đề nghị rà soát lại.",
        Fix::Lower("ii4.dossiers_on_time", 97),
    ),
    (
        "Số lượt người tham dự tuyên truyền cao bất thường so với kỳ trước, đề nghị kiểm tra lại.",
        Fix::Lower("ii1.participants", 80),
    ),
    (
        "Phần tiếp công dân, giải quyết đơn thư còn sơ sài; đề nghị bổ sung kết quả đối thoại với Nhân dân.",
        Fix::Write(
            "ii6.result",
            "Bổ sung: các kiến nghị tại buổi đối thoại đã được trả lời trực tiếp hoặc bằng văn bản; không có vụ việc phức tạp, kéo dài.",
        ),
    ),
    (
        "Chưa nêu khó khăn, vướng mắc và đề xuất cụ thể; đề nghị bổ sung trước khi tổng hợp.",
        Fix::Write(
            "difficulties",
            "Địa bàn rộng, một số thôn chưa có sóng điện thoại ổn định nên việc nắm tình hình còn chậm.",
        ),
    ),
];

const TEXTS: &[(&str, &[&str])] = &[
    (
        "ii1.result",
        &[
            "Tổ chức {ii1.sessions} buổi tuyên truyền, phổ biến chủ trương của Đảng, chính sách, pháp luật của Nhà nước với {ii1.participants} lượt người tham dự.",
            "Lồng ghép tuyên truyền Chỉ thị số 33/CT-TTg của Thủ tướng Chính phủ vào các cuộc họp thôn, tổ dân phố và sinh hoạt chi hội.",
            "Phát tin, bài về công tác dân vận chính quyền trên hệ thống loa truyền thanh cơ sở và trang thông tin điện tử.",
            "Quán triệt đến cán bộ, công chức các văn bản mới của cấp trên về công tác dân vận và thực hiện dân chủ ở cơ sở.",
        ],
    ),
    (
        "ii2.result",
        &[
            "Phối hợp với già làng, người có uy tín tuyên truyền bằng tiếng dân tộc tại các thôn vùng sâu, vùng xa.",
            "Tổ chức {ii2.sessions_ethnic} buổi tuyên truyền tại thôn đồng bào dân tộc thiểu số về phòng, chống tảo hôn và hôn nhân cận huyết thống.",
            "Vận động đồng bào có đạo sống “tốt đời, đẹp đạo”, chấp hành tốt chính sách, pháp luật về tín ngưỡng, tôn giáo.",
            "Cán bộ, công chức về thôn nắm bắt tâm tư, nguyện vọng của Nhân dân, kịp thời giải thích, hướng dẫn.",
        ],
    ),
    (
        "ii3.result",
        &[
            "Đăng ký mới {ii3.models_registered} mô hình “Dân vận khéo” gắn với phát triển kinh tế, xây dựng nông thôn mới.",
            "Tiếp tục duy trì, nhân rộng mô hình “Dân vận khéo” vận động Nhân dân hiến đất làm đường giao thông nông thôn.",
            "Biểu dương {ii3.collectives_commended} tập thể và {ii3.individuals_commended} cá nhân điển hình trong phong trào thi đua “Dân vận khéo”.",
            "Hướng dẫn các thôn, tổ dân phố xây dựng mô hình “Dân vận khéo” phù hợp với điều kiện của từng địa bàn.",
        ],
    ),
    (
        "ii4.result",
        &[
            "Tiếp nhận {ii4.dossiers_received} hồ sơ thủ tục hành chính, giải quyết đúng hạn {ii4.dossiers_on_time} hồ sơ.",
            "Bộ phận Một cửa hướng dẫn người dân nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia và nộp phí, lệ phí không dùng tiền mặt.",
            "Đẩy mạnh số hóa hồ sơ, kết quả giải quyết thủ tục hành chính; niêm yết công khai thủ tục tại trụ sở.",
            "Rà soát, kiện toàn tổ chức bộ máy, bố trí cán bộ, công chức theo vị trí việc làm.",
        ],
    ),
    (
        "ii5.result",
        &[
            "Cán bộ, công chức chấp hành tốt quy định về đạo đức công vụ, văn hóa công sở và giờ giấc làm việc.",
            "Tổ chức {ii5.inspections} cuộc kiểm tra công vụ, nhắc nhở, chấn chỉnh việc thực hiện quy tắc ứng xử khi tiếp xúc với Nhân dân.",
            "Công khai số điện thoại đường dây nóng để người dân phản ánh thái độ phục vụ của cán bộ, công chức.",
        ],
    ),
    (
        "ii6.result",
        &[
            "Tổ chức {ii6.reception_sessions} buổi tiếp công dân định kỳ; tiếp nhận {ii6.petitions_received} đơn thư, đã giải quyết {ii6.petitions_resolved} đơn thư.",
            "Người đứng đầu tổ chức {ii6.dialogues} cuộc đối thoại trực tiếp với Nhân dân về bồi thường, giải phóng mặt bằng và cấp giấy chứng nhận quyền sử dụng đất.",
            "Công khai kịp thời thông tin về quy hoạch, dự án, ngân sách trên bảng tin tại trụ sở và trang thông tin điện tử.",
            "Kiến nghị của cử tri được tiếp nhận, phân loại và chuyển cơ quan có thẩm quyền giải quyết đúng thời hạn.",
        ],
    ),
    (
        "ii7.result",
        &[
            "Phối hợp với Ủy ban Mặt trận Tổ quốc Việt Nam và các đoàn thể tổ chức {ii7.supervisions} cuộc giám sát việc thực hiện chính sách hỗ trợ hộ nghèo, hộ cận nghèo.",
            "Tạo điều kiện để Mặt trận và các tổ chức chính trị - xã hội tham gia góp ý xây dựng chính quyền, phản biện dự thảo văn bản của địa phương.",
            "Tổ chức {ii7.critiques} hội nghị lấy ý kiến phản biện xã hội đối với dự thảo kế hoạch phát triển kinh tế - xã hội.",
        ],
    ),
    (
        "assessment",
        &[
            "Công tác dân vận chính quyền được quan tâm lãnh đạo, chỉ đạo, gắn với nhiệm vụ phát triển kinh tế - xã hội của địa phương.",
            "Tinh thần, thái độ phục vụ Nhân dân của cán bộ, công chức có chuyển biến tích cực; người dân hài lòng hơn khi đến giải quyết thủ tục hành chính.",
            "Hạn chế: một số cán bộ, công chức chưa chủ động nắm bắt tâm tư, nguyện vọng của Nhân dân; việc nhân rộng mô hình “Dân vận khéo” còn chậm.",
            "Hạn chế: chất lượng tuyên truyền ở một số thôn vùng sâu, vùng xa chưa cao do địa bàn rộng, đi lại khó khăn.",
            "Việc tiếp công dân, giải quyết đơn thư được thực hiện đúng quy định, không để phát sinh điểm nóng.",
        ],
    ),
    (
        "difficulties",
        &[
            "Địa bàn rộng, dân cư phân tán; mùa mưa nhiều tuyến đường bị sạt lở, ảnh hưởng đến việc đi lại tuyên truyền.",
            "Một bộ phận người dân còn hạn chế về tiếng phổ thông, việc tuyên truyền phải qua người phiên dịch.",
            "Trang thiết bị phục vụ chuyển đổi số tại bộ phận Một cửa còn thiếu, đường truyền internet chưa ổn định.",
            "Kinh phí bố trí cho hoạt động dân vận còn hạn chế.",
        ],
    ),
    (
        "proposals",
        &[
            "Đề nghị cấp trên tổ chức tập huấn nghiệp vụ công tác dân vận cho cán bộ, công chức cấp xã.",
            "Đề nghị hỗ trợ kinh phí duy trì, nhân rộng các mô hình “Dân vận khéo” tiêu biểu.",
            "Đề nghị bổ sung trang thiết bị cho bộ phận tiếp nhận và trả kết quả thủ tục hành chính.",
        ],
    ),
    (
        "next_tasks",
        &[
            "Tiếp tục tổ chức tiếp công dân, đối thoại trực tiếp với Nhân dân; giải quyết dứt điểm các đơn thư tồn đọng.",
            "Đẩy mạnh tuyên truyền, vận động Nhân dân tham gia xây dựng nông thôn mới, giữ gìn an ninh trật tự.",
            "Hướng dẫn người dân sử dụng dịch vụ công trực tuyến; nâng cao mức độ hài lòng của người dân.",
            "Rà soát, đăng ký mô hình “Dân vận khéo”; biểu dương các điển hình tiên tiến.",
        ],
    ),
];

const GENERIC_TEXTS: &[&str] = &[
    "Đã triển khai thực hiện theo kế hoạch.",
    "Thực hiện nghiêm túc, đúng tiến độ đề ra.",
    "Không phát sinh vướng mắc.",
];

/// Files the events in the order they happened, each group of one account at one
/// instant as one push (a phone sending its queue). A report the database already
/// had a life for (filed by hand before the demo was turned on) answers with a
/// conflict or a refusal: it is left as it is, with the rest of its story.
async fn file_events(
    state: &AppState,
    people: &mut People,
    mut events: Vec<Event>,
    summary: &mut Summary,
) -> Result<(), DemoError> {
    // Stable: a save and the submit made with it keep their order.
    events.sort_by_key(|e| (e.at, e.person));
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut statuses: HashMap<String, ReportStatus> = HashMap::new();
    let mut left_alone: HashSet<String> = HashSet::new();
    let mut start = 0;
    while start < events.len() {
        let (at, person) = (events[start].at, events[start].person);
        let mut end = start;
        while end < events.len()
            && events[end].at == at
            && events[end].person == person
            && end - start < MAX_PUSH_MUTATIONS
        {
            end += 1;
        }
        let batch: Vec<&Event> = events[start..end].iter().filter(|e| !left_alone.contains(&e.key.id())).collect();
        start = end;
        if batch.is_empty() {
            continue;
        }
        let p =
            people.list.get_mut(person).ok_or_else(|| DemoError::Account(format!("không có người thứ {person}")))?;
        let mut mutations = Vec::with_capacity(batch.len());
        for e in &batch {
            let id = e.key.id();
            let base = versions.get(&id).copied().unwrap_or(0);
            mutations.push(Mutation::new(p.next_mutation, e.key.clone(), base, e.op.clone()));
            p.next_mutation += 1;
            // Each applied mutation moves the report one version on.
            versions.insert(id, base + 1);
        }
        let req =
            PushRequest { client_id: p.client_id.clone(), epoch: None, schema_version: SYNC_SCHEMA_VERSION, mutations };
        // Only a failure of the whole push (the database) stops the start-up.
        let done = crate::sync::push_at(state, &p.user, req, at)
            .await
            .map_err(|e| DemoError::Report { report: batch[0].key.id(), message: e.to_string() })?;
        // A push that stopped early recorded less than was sent.
        p.next_mutation = done.last_mutation_id + 1;
        for (i, e) in batch.iter().enumerate() {
            let id = e.key.id();
            match done.results.get(i).map(|o| &o.result) {
                Some(MutationResult::Applied { version }) => {
                    versions.insert(id.clone(), *version);
                    let status = match &e.op {
                        MutationOp::Save { .. } => statuses.get(&id).copied().unwrap_or(ReportStatus::Draft),
                        MutationOp::Submit => ReportStatus::Submitted,
                        MutationOp::Return { .. } => ReportStatus::Returned,
                        MutationOp::Accept => ReportStatus::Accepted,
                    };
                    statuses.insert(id, status);
                    summary.mutations += 1;
                }
                other => {
                    tracing::debug!(report = %id, op = e.op.name(), result = ?other, "báo cáo mẫu bỏ qua");
                    statuses.remove(&id);
                    left_alone.insert(id);
                    summary.skipped += 1;
                }
            }
        }
        summary.pushes += 1;
    }
    for status in statuses.values() {
        *summary.reports.entry(status.as_str()).or_insert(0) += 1;
    }
    if !left_alone.is_empty() {
        tracing::warn!(
            reports = left_alone.len(),
            "dữ liệu mẫu: để nguyên {} báo cáo đã có trong cơ sở dữ liệu",
            left_alone.len()
        );
    }
    Ok(())
}

// --- III.1 implementation plans and "Dân vận khéo" models ---------------------------

#[derive(Default)]
struct Registers {
    implementation_plans: Vec<ImplementationPlan>,
    models: Vec<Model>,
}

struct ImplementationPlan {
    plan_id: String,
    unit_id: String,
    doc_number: String,
    issued_on: NaiveDate,
    recorded_at: DateTime<Utc>,
    person: usize,
}

struct Model {
    plan_id: String,
    unit_id: String,
    name: &'static str,
    field: ModelField,
    description: String,
    registered_on: NaiveDate,
    person: usize,
    /// Date and the reviewer's person.
    recognised: Option<(NaiveDate, usize)>,
    commended: Option<(NaiveDate, String)>,
}

impl Registers {
    /// Drops what would happen after `today`.
    fn cut(&mut self, today: NaiveDate) {
        self.implementation_plans.retain(|p| p.issued_on <= today && vn_date(p.recorded_at) <= today);
        self.models.retain(|m| m.registered_on <= today);
        for m in &mut self.models {
            if m.recognised.is_some_and(|(on, _)| on > today) {
                m.recognised = None;
            }
            if m.recognised.is_none() || m.commended.as_ref().is_some_and(|(on, _)| *on > today) {
                m.commended = None;
            }
        }
    }
}

fn registers_story(catalog: &Catalog, plan: &Plan, now: DateTime<Utc>, cast: &mut Cast, out: &mut Registers) {
    let today = vn_date(now);
    let validity = plan.validity();
    if let Some((_, due)) = implementation_plan_obligation(plan) {
        let tree = catalog.tree.as_of(due);
        for unit in tree.in_order().into_iter().filter(|u| owes_implementation_plan(plan, u)) {
            let mut rng = Rng::seeded(&["iii1", &plan.id, &unit.id]);
            let fate = rng.below(100);
            if fate < 7 {
                // Never issued.
                continue;
            }
            let issued_on = if fate < 22 {
                weekday_forward(add_days(due, rng.range(3, 45) as i64))
            } else {
                let on = weekday_back(add_days(due, -(rng.range(0, 20) as i64)));
                on.max(validity.first)
            };
            let day = weekday_forward(add_days(issued_on, rng.range(0, 3) as i64));
            let recorded_at = office_time(&mut rng, day);
            out.implementation_plans.push(ImplementationPlan {
                plan_id: plan.id.clone(),
                unit_id: unit.id.clone(),
                doc_number: format!("{}/KH-{}", rng.range(8, 160), issuer_code(unit)),
                issued_on,
                recorded_at,
                person: cast.person(unit),
            });
        }
    }

    let tree = catalog.tree.as_of(validity.first);
    let last = validity.last.min(today);
    for unit in tree.in_order().into_iter().filter(|u| expects_report(plan, u, PeriodKind::Month)) {
        let mut rng = Rng::seeded(&["models", &plan.id, &unit.id]);
        if !rng.chance(280) {
            continue;
        }
        let span = (last - validity.first).num_days() - 20;
        if span <= 0 {
            continue;
        }
        let Some(&(name, field)) = rng.pick(MODELS) else { continue };
        let registered_on = weekday_forward(add_days(validity.first, 7 + rng.below(span as u64) as i64));
        let reviewer = reviewer_of(&tree, unit);
        let recognised = reviewer
            .filter(|_| rng.chance(600))
            .map(|r| (weekday_forward(add_days(registered_on, rng.range(20, 75) as i64)), cast.person(r)));
        let commended = match (recognised, reviewer) {
            (Some((on, _)), Some(r)) if rng.chance(450) => {
                let note = if r.kind == UnitKind::District {
                    format!("Giấy khen của Chủ tịch Ủy ban nhân dân {}", r.name)
                } else {
                    rng.pick(PROVINCE_COMMENDATIONS).map(|s| s.to_string()).unwrap_or_default()
                };
                Some((weekday_forward(add_days(on, rng.range(10, 60) as i64)), note))
            }
            _ => None,
        };
        let description = rng.pick(MODEL_DESCRIPTIONS).map(|d| d.replace("{unit}", &unit.name)).unwrap_or_default();
        out.models.push(Model {
            plan_id: plan.id.clone(),
            unit_id: unit.id.clone(),
            name,
            field,
            description,
            registered_on,
            person: cast.person(unit),
            recognised,
            commended,
        });
    }
}

async fn write_registers(
    state: &AppState,
    people: &People,
    registers: &Registers,
    summary: &mut Summary,
) -> Result<(), DemoError> {
    let user_id = |person: usize| {
        people
            .list
            .get(person)
            .map(|p| p.user.id)
            .ok_or_else(|| DemoError::Account(format!("không có người thứ {person}")))
    };
    // Logged as the person who did it, from no address (made on the server).
    let actor = |person: usize| {
        people
            .list
            .get(person)
            .map(|p| crate::store::Actor { user_id: Some(p.user.id), name: p.user.username.clone(), address: None })
            .ok_or_else(|| DemoError::Account(format!("không có người thứ {person}")))
    };
    // A record an official entered stays.
    let mut recorded: HashSet<(String, String)> = HashSet::new();
    for plan_id in registers.implementation_plans.iter().map(|p| p.plan_id.as_str()).collect::<HashSet<_>>() {
        for row in state.store.implementation_plans(plan_id).await? {
            recorded.insert((plan_id.to_string(), row.unit_id));
        }
    }
    for p in &registers.implementation_plans {
        if recorded.contains(&(p.plan_id.clone(), p.unit_id.clone())) {
            continue;
        }
        state
            .store
            .put_implementation_plan(
                &p.plan_id,
                &p.unit_id,
                &p.doc_number,
                p.issued_on,
                user_id(p.person)?,
                &actor(p.person)?,
                p.recorded_at,
            )
            .await?;
        summary.implementation_plans += 1;
    }
    for m in &registers.models {
        let created_at = office_time_at(m.registered_on, 9 * 60 + 15);
        let id = state
            .store
            .insert_model(
                &m.plan_id,
                &m.unit_id,
                m.name,
                m.field,
                &m.description,
                m.registered_on,
                user_id(m.person)?,
                &actor(m.person)?,
                created_at,
            )
            .await?;
        summary.models[0] += 1;
        if let Some((on, reviewer)) = m.recognised {
            let decided_at = office_time_at(on, 14 * 60);
            let row = state.store.model(id).await?.ok_or_else(|| DemoError::Account(format!("mô hình {id}")))?;
            state.store.recognise_model(&row, on, user_id(reviewer)?, &actor(reviewer)?, decided_at).await?;
            summary.models[1] += 1;
            if let Some((on, note)) = &m.commended {
                let row = state.store.model(id).await?.ok_or_else(|| DemoError::Account(format!("mô hình {id}")))?;
                let decided_at = office_time_at(*on, 14 * 60);
                state.store.commend_model(&row, *on, note, user_id(reviewer)?, &actor(reviewer)?, decided_at).await?;
                summary.models[2] += 1;
            }
        }
    }
    Ok(())
}

/// The issuer's code in a document number: "UBND" for a district's people's
/// committee, a department's initials otherwise ("Sở Nội vụ" → "SNV", "Sở Giáo
/// dục và Đào tạo" → "SGDĐT").
fn issuer_code(unit: &OrgUnit) -> String {
    if unit.kind != UnitKind::Department {
        return "UBND".into();
    }
    let code: String = unit
        .name
        .split_whitespace()
        .filter(|w| !matches!(*w, "và" | "tỉnh"))
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphabetic())
        .map(base_capital)
        .collect();
    if code.is_empty() {
        "UBND".into()
    } else {
        code
    }
}

/// The capital without its tone and vowel marks, as document codes write it; Đ stays.
fn base_capital(c: char) -> char {
    const GROUPS: [(char, &str); 6] = [
        ('A', "aàáảãạăằắẳẵặâầấẩẫậ"),
        ('E', "eèéẻẽẹêềếểễệ"),
        ('I', "iìíỉĩị"),
        ('O', "oòóỏõọôồốổỗộơờớởỡợ"),
        ('U', "uùúủũụưừứửữự"),
        ('Y', "yỳýỷỹỵ"),
    ];
    let lower = c.to_lowercase().next().unwrap_or(c);
    if lower == 'đ' {
        return 'Đ';
    }
    GROUPS.iter().find(|(_, g)| g.contains(lower)).map(|(base, _)| *base).unwrap_or(c.to_ascii_uppercase())
}

const MODELS: &[(&str, ModelField)] = &[
    ("Vận động Nhân dân hiến đất làm đường giao thông nông thôn", ModelField::Economy),
    ("Tổ hợp tác trồng cà phê bền vững", ModelField::Economy),
    ("Liên kết tiêu thụ nông sản cho hộ nghèo", ModelField::Economy),
    ("Trồng sâm dưới tán rừng gắn với bảo vệ rừng", ModelField::Economy),
    ("Xóa bỏ tảo hôn, hôn nhân cận huyết thống", ModelField::CultureSociety),
    ("Thôn không có trẻ em bỏ học", ModelField::CultureSociety),
    ("Đội cồng chiêng thanh thiếu niên giữ gìn văn hóa truyền thống", ModelField::CultureSociety),
    ("Tuyến đường hoa, cây xanh tự quản", ModelField::CultureSociety),
    ("Tổ tự quản an ninh trật tự thôn, tổ dân phố", ModelField::DefenceSecurity),
    ("Camera an ninh do Nhân dân đóng góp", ModelField::DefenceSecurity),
    ("Khu dân cư không có tội phạm và tệ nạn ma túy", ModelField::DefenceSecurity),
    ("Bộ phận Một cửa thân thiện, hướng dẫn dịch vụ công trực tuyến", ModelField::PoliticalSystem),
    ("Người đứng đầu đối thoại với Nhân dân hằng tháng", ModelField::PoliticalSystem),
    ("Cán bộ, công chức bám thôn, giúp dân", ModelField::PoliticalSystem),
    ("Nhóm Zalo kết nối chính quyền với Nhân dân", ModelField::PoliticalSystem),
];

const MODEL_DESCRIPTIONS: &[&str] = &[
    "Mô hình do {unit} triển khai, huy động sự tham gia của Nhân dân và các đoàn thể.",
    "{unit} phối hợp với Mặt trận và các đoàn thể xây dựng, duy trì mô hình; bước đầu được Nhân dân đồng tình hưởng ứng.",
    "Mô hình được {unit} đăng ký trong phong trào thi đua “Dân vận khéo”, có kế hoạch nhân rộng ra các thôn, tổ dân phố.",
];

const PROVINCE_COMMENDATIONS: &[&str] =
    &["Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "Giấy khen của Giám đốc Sở Nội vụ"];

// --- People's names -------------------------------------------------------------------

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Đinh", "Lương",
];
const MIDDLE_MEN: &[&str] = &["Văn", "Minh", "Quốc", "Đức", "Hữu", "Thanh", "Công"];
const MIDDLE_WOMEN: &[&str] = &["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ"];
const GIVEN_MEN: &[&str] =
    &["Hùng", "Dũng", "Tuấn", "Hải", "Long", "Nam", "Sơn", "Phúc", "Khánh", "Quang", "Thắng", "Bình", "Toàn", "Trung"];
const GIVEN_WOMEN: &[&str] =
    &["Lan", "Hương", "Mai", "Thảo", "Hạnh", "Trang", "Nga", "Hiền", "Hoa", "Linh", "Yến", "Phương", "Nhung"];
/// Ba Na, Xơ Đăng and Gia Rai officials often go by "A" (men) or "Y" (women)
/// and a given name.
const ETHNIC: &[&str] = &["A Thuận", "A Khang", "A Tiếp", "A Vương", "A Dũng", "Y Hlen", "Y Bích", "Y Thư", "Y Mai"];

/// A name for the unit's hidden account, the same on every run.
fn person_name(unit: &OrgUnit) -> String {
    let mut rng = Rng::seeded(&["name", &unit.id]);
    if unit.kind == UnitKind::Commune && rng.chance(250) {
        return rng.pick(ETHNIC).map(|s| s.to_string()).unwrap_or_default();
    }
    let family = rng.pick(FAMILY).copied().unwrap_or("Nguyễn");
    let (middle, given) = if rng.chance(500) { (MIDDLE_WOMEN, GIVEN_WOMEN) } else { (MIDDLE_MEN, GIVEN_MEN) };
    let middle = rng.pick(middle).copied().unwrap_or("Văn");
    let given = rng.pick(given).copied().unwrap_or("Nam");
    format!("{family} {middle} {given}")
}

// --- Time ------------------------------------------------------------------------------

fn utc(t: DateTime<chrono::FixedOffset>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(days)).unwrap_or(d)
}

/// `minute` minutes after midnight of `day`, Vietnam time.
fn office_time_at(day: NaiveDate, minute: u32) -> DateTime<Utc> {
    let start = utc(start_of_day(day));
    start.checked_add_signed(Duration::minutes(i64::from(minute))).unwrap_or(start)
}

/// Some time in office hours (07:30–17:00) of `day`.
fn office_time(rng: &mut Rng, day: NaiveDate) -> DateTime<Utc> {
    office_time_at(day, rng.range(7 * 60 + 30, 17 * 60 - 1) as u32)
}

/// Office hours of a day between `from` and `to`, or, failing that, any time
/// between them; None when the two are in the wrong order.
fn time_between(rng: &mut Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let span = (to - from).num_minutes();
    if span <= 0 {
        return None;
    }
    let raw = from.checked_add_signed(Duration::minutes(rng.below(span as u64) as i64))?;
    let office = office_time(rng, vn_date(raw));
    Some(if from <= office && office < to { office } else { raw })
}

/// Friday for a weekend day (a report sent before the weekend).
fn weekday_back(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => add_days(d, -1),
        Weekday::Sun => add_days(d, -2),
        _ => d,
    }
}

/// Monday for a weekend day (work picked up after the weekend).
fn weekday_forward(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => add_days(d, 2),
        Weekday::Sun => add_days(d, 1),
        _ => d,
    }
}

// --- A small seeded generator (SplitMix64, as in examples/dashboard_bench.rs) --------

struct Rng(u64);

impl Rng {
    /// Seeded from the parts (FNV-1a): one stream per report, unit or name, so
    /// nothing depends on the order things are drawn in.
    fn seeded(parts: &[&str]) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `lo..=hi` (`lo` when the range is empty).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        let i = self.below(xs.len() as u64) as usize;
        xs.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_codes_read_like_document_numbers() {
        let dept = |name: &str| OrgUnit::new("x", "x", name, UnitKind::Department, Some("p"));
        assert_eq!(issuer_code(&dept("Sở Nội vụ")), "SNV");
        assert_eq!(issuer_code(&dept("Sở Giáo dục và Đào tạo")), "SGDĐT");
        assert_eq!(issuer_code(&dept("Văn phòng Ủy ban nhân dân tỉnh")), "VPUBND");
        assert_eq!(issuer_code(&dept("Sở Lao động - Thương binh và Xã hội")), "SLĐTBXH");
        let district = OrgUnit::new("d", "d", "Huyện Đăk Hà", UnitKind::District, Some("p"));
        assert_eq!(issuer_code(&district), "UBND");
    }

    #[test]
    fn templates_quote_only_counts_that_are_not_zero() {
        let values = Values::from([("a".to_string(), "3".to_string()), ("b".to_string(), "0".to_string())]);
        assert_eq!(fill("Tổ chức {a} buổi.", &values).as_deref(), Some("Tổ chức 3 buổi."));
        assert_eq!(fill("Tổ chức {b} buổi.", &values), None);
        assert_eq!(fill("Tổ chức {c} buổi.", &values), None);
        assert_eq!(fill("Không có số.", &values).as_deref(), Some("Không có số."));
    }

    #[test]
    fn drawn_counts_pass_the_form_and_its_rules() {
        let doc = crate::catalog::packages::shipped_plans().remove(0);
        let form = doc.form.unwrap();
        for kind in [PeriodKind::Month, PeriodKind::Year] {
            for seed in 0..200 {
                let mut rng = Rng::seeded(&["t", &seed.to_string()]);
                let counts = draw_counts(&mut rng, &form, kind);
                let mut values: Values = counts.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
                for field in form.fields_for(kind) {
                    if let FieldKind::Text { .. } = field.kind {
                        values.insert(field.id.clone(), compose(&mut rng, &field.id, &values, 2));
                    }
                }
                let issues = form.validate(&values, kind, danvan_core::form::Stage::Submit);
                assert!(issues.is_empty(), "{issues:?} in {values:?}");
                for (reason, fix) in RETURNS {
                    assert!(!reason.is_empty());
                    let mut fixed = values.clone();
                    fixed.extend(fix.apply(&form, &values).expect("413's form has the fields the fixes name"));
                    let issues = form.validate(&fixed, kind, danvan_core::form::Stage::Submit);
                    assert!(issues.is_empty(), "{issues:?} after {reason}");
                }
            }
        }
    }

    #[test]
    fn hidden_accounts_have_valid_usernames_and_device_ids() {
        let tree = crate::catalog::packages::shipped_tree(date(2026, 12, 2)).unwrap();
        for unit in tree.all() {
            let name = hidden_username(unit);
            assert_eq!(danvan_core::account::check_username(&name), Ok(()), "{name}");
            assert!(crate::sync::is_plain_id(&client_id_for(&name)), "{name}");
            assert!(!person_name(unit).is_empty());
        }
        for a in DEMO_ACCOUNTS {
            assert!(crate::sync::is_plain_id(&client_id_for(a.username)), "{}", a.username);
        }
    }

    #[test]
    fn reviewers_are_the_district_or_the_provinces_home_affairs() {
        let tree = crate::catalog::packages::shipped_tree(date(2026, 12, 2)).unwrap();
        let y2024 = tree.as_of(date(2024, 3, 14));
        let commune = y2024.get("kontum.tpkontum.dakbla").unwrap();
        assert_eq!(reviewer_of(&y2024, commune).map(|u| u.id.as_str()), Some("kontum.tpkontum"));
        let district = y2024.get("kontum.tpkontum").unwrap();
        assert_eq!(reviewer_of(&y2024, district).map(|u| u.id.as_str()), Some("kontum.sonoivu"));
        assert!(reviewer_of(&y2024, y2024.get("kontum.sonoivu").unwrap()).is_none());
        let y2026 = tree.as_of(date(2026, 3, 14));
        let commune = y2026.get("quangngai.23332").unwrap();
        assert_eq!(reviewer_of(&y2026, commune).map(|u| u.id.as_str()), Some("quangngai.sonoivu"));
    }

    /// The shipped catalog with the demo plan of 2026, without a database, and a
    /// fixed "now" in that year.
    fn shipped_catalog() -> (Catalog, DateTime<Utc>) {
        let now = DateTime::parse_from_rfc3339("2026-12-02T04:00:00Z").unwrap().with_timezone(&Utc);
        let docs = crate::catalog::packages::shipped_plans();
        let mut catalog = Catalog {
            tree: crate::catalog::packages::shipped_tree(vn_date(now)).unwrap(),
            plans: docs.iter().map(|d| d.plan.clone()).collect(),
            forms: docs.iter().filter_map(|d| d.form.clone()).collect(),
            version: 1,
        };
        let demo = check_plan(&catalog, demo_plan_document(&catalog, 2026).unwrap()).unwrap().doc;
        catalog.plans.push(demo.plan);
        catalog.forms.extend(demo.form);
        (catalog, now)
    }

    #[test]
    fn the_demo_plan_is_413_for_the_year_said_to_be_a_demo() {
        let (catalog, _) = shipped_catalog();
        let plan = catalog.plan("kh-mau-2026").unwrap();
        assert!(plan.demo);
        assert_eq!(plan.validity_label(), "01/02/2026 – 31/12/2026");
        assert_eq!(plan.issued_by, "Ủy ban nhân dân tỉnh Quảng Ngãi");
        assert!(plan.title.starts_with("[Bản mẫu chạy thử] ") && plan.title.ends_with("tỉnh Quảng Ngãi năm 2026"));
        assert_eq!(catalog.form_for_plan("kh-mau-2026").unwrap().id, "kh-mau-2026.bao-cao");
        // Work named for a closed Kon Tum department went to its successor.
        assert!(plan
            .items
            .iter()
            .any(|i| i.assigned_to.contains(&danvan_core::Assignee::Unit("quangngai.sonoivu".into()))));
    }

    #[test]
    fn this_years_story_stops_today_with_the_current_period_under_way() {
        let (catalog, now) = shipped_catalog();
        let plan = catalog.plan("kh-mau-2026").unwrap();
        let form = catalog.form_for_plan("kh-mau-2026").unwrap();
        let (mut cast, mut events) = (Cast::default(), Vec::new());
        reports_story(&catalog, plan, form, now, &mut cast, &mut events);
        events.retain(|e| e.at < now);
        assert!(cast.units.iter().all(|u| u.id.starts_with("quangngai.")), "the Quảng Ngãi units file");
        let current = Period::month(2026, 12).unwrap();
        let of = |p: Period| events.iter().filter(move |e| e.key.period == p);
        let sent = of(current).filter(|e| e.op == MutationOp::Submit).count();
        let started: HashSet<_> = of(current).map(|e| &e.key.unit_id).collect();
        assert!(sent > 5 && started.len() > sent && started.len() < 60, "{sent} sent, {} started", started.len());
        let november: HashSet<_> = of(Period::month(2026, 11).unwrap())
            .filter(|e| e.op == MutationOp::Submit)
            .map(|e| &e.key.unit_id)
            .collect();
        assert!(november.len() > 90, "{}", november.len());
    }

    #[test]
    fn the_story_is_the_same_on_every_run_and_mostly_on_time() {
        let (catalog, now) = shipped_catalog();
        let plan = catalog.plan(SOURCE_PLAN).unwrap();
        let form = catalog.form_for_plan(SOURCE_PLAN).unwrap();
        let tell = || {
            let (mut cast, mut events) = (Cast::default(), Vec::new());
            reports_story(&catalog, plan, form, now, &mut cast, &mut events);
            let units: Vec<String> = cast.units.iter().map(|u| u.id.clone()).collect();
            let events: Vec<_> = events.into_iter().map(|e| (e.at, e.person, e.key, e.op)).collect();
            (units, events)
        };
        let (units, events) = tell();
        assert_eq!((units.clone(), events.clone()), tell());

        // 132 units × (11 months + the year); per report: first submission against
        // the deadline, or none.
        let mut first: HashMap<&ReportKey, DateTime<Utc>> = HashMap::new();
        let mut reports = HashSet::new();
        for (at, _, key, op) in &events {
            reports.insert(key);
            if *op == MutationOp::Submit {
                first.entry(key).and_modify(|t| *t = (*t).min(*at)).or_insert(*at);
            }
        }
        let expected = 132 * 12;
        let on_time = first.iter().filter(|(k, at)| **at < utc(k.period.deadline())).count();
        let late = first.len() - on_time;
        let percent = |n: usize| n * 100 / expected;
        assert!((74..=84).contains(&percent(on_time)), "on time {on_time} of {expected}");
        assert!((7..=13).contains(&percent(late)), "late {late} of {expected}");
        assert!((5..=10).contains(&percent(expected - first.len())), "missing {}", expected - first.len());
        assert!(reports.len() < expected && reports.len() > first.len(), "some drafts, some nothing");
        let returns = events.iter().filter(|e| matches!(e.3, MutationOp::Return { .. })).count();
        assert!((4..=14).contains(&(returns * 100 / first.len())), "{returns} returns");
        // Everything happened in office hours of a working day, Vietnam time.
        for (at, ..) in &events {
            let local = at.with_timezone(&danvan_core::time::vn_offset());
            assert!(!matches!(local.weekday(), Weekday::Sat | Weekday::Sun), "{local}");
            assert!((7..17).contains(&chrono::Timelike::hour(&local)), "{local}");
        }
    }

    #[test]
    fn the_generator_is_deterministic() {
        let draw = || {
            let mut r = Rng::seeded(&["a", "b"]);
            (0..5).map(|_| r.range(1, 100)).collect::<Vec<_>>()
        };
        assert_eq!(draw(), draw());
        assert_ne!(Rng::seeded(&["ab", ""]).next(), Rng::seeded(&["a", "b"]).next());
    }
}
