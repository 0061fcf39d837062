//! The administrative unit tree. It is data of any depth (province → department |
//! district → commune, or, after the 2025 reform, province → commune): nothing in the
//! code assumes a fixed number of levels.
//!
//! The tree also changes over time. A unit is valid from a date to a date; a unit
//! that ends is closed, never deleted (its reports stay where they were filed), and
//! may name the units that took over its work (its successors, e.g. the communes it
//! merged into on 01/07/2025). One `UnitTree` holds every unit that ever existed;
//! [`UnitTree::as_of`] gives the tree of one day, [`UnitTree::is_within`] follows
//! successors so a new unit's officials see what its predecessors filed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::time::format_date;

/// The level of a unit. Plans assign work by level (every commune-level unit), so
/// xã, phường, thị trấn and đặc khu are one kind with a [`Designation`] each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    Department,
    District,
    Commune,
}

impl UnitKind {
    pub const ALL: [UnitKind; 4] = [UnitKind::Province, UnitKind::Department, UnitKind::District, UnitKind::Commune];

    pub fn label_vi(self) -> &'static str {
        match self {
            UnitKind::Province => "Tỉnh",
            UnitKind::Department => "Sở, ban, ngành",
            UnitKind::District => "Huyện, thành phố",
            UnitKind::Commune => "Cấp xã (xã, phường, thị trấn, đặc khu)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::Department => "department",
            UnitKind::District => "district",
            UnitKind::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a commune-level unit is called: xã (rural), phường (urban ward), thị trấn
/// (township, abolished in 2025) or đặc khu (special zone, e.g. Lý Sơn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Designation {
    Commune,
    Ward,
    Township,
    SpecialZone,
}

impl Designation {
    pub const ALL: [Designation; 4] =
        [Designation::Commune, Designation::Ward, Designation::Township, Designation::SpecialZone];

    pub fn label_vi(self) -> &'static str {
        match self {
            Designation::Commune => "Xã",
            Designation::Ward => "Phường",
            Designation::Township => "Thị trấn",
            Designation::SpecialZone => "Đặc khu",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Designation::Commune => "commune",
            Designation::Ward => "ward",
            Designation::Township => "township",
            Designation::SpecialZone => "special_zone",
        }
    }

    pub fn parse(s: &str) -> Option<Designation> {
        Designation::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// From the start of an official name ("Phường Đăk Bla" → Ward).
    pub fn from_name(name: &str) -> Option<Designation> {
        Designation::ALL.into_iter().find(|d| name.strip_prefix(d.label_vi()).is_some_and(|rest| rest.starts_with(' ')))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgUnit {
    /// Stable slug, e.g. `kontum.dakglei.dakman`. Never reused: a code may be (23284
    /// was Phường Duy Tân until 30/06/2025 and is Phường Đăk Cấm since), an id not.
    pub id: String,
    /// Administrative code where one exists (mã đơn vị hành chính), else the slug.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
    /// For commune-level units; when absent, read from the name (see
    /// [`OrgUnit::designation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation: Option<Designation>,
    /// First day the unit exists; None: since before any data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit exists (closed); None: still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    /// Ids of the units that took over when it closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<String>,
}

impl OrgUnit {
    /// An open unit with no history, as most tests and the original seed need.
    pub fn new(id: &str, code: &str, name: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit {
            id: id.into(),
            code: code.into(),
            name: name.into(),
            kind,
            parent: parent.map(Into::into),
            designation: None,
            valid_from: None,
            valid_to: None,
            successors: Vec::new(),
        }
    }

    /// Whether the unit exists on `date`.
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_to.is_none_or(|t| date <= t)
    }

    /// Whether the unit exists on some day of `first..=last`.
    pub fn valid_during(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= last) && self.valid_to.is_none_or(|t| first <= t)
    }

    pub fn is_closed(&self) -> bool {
        self.valid_to.is_some()
    }

    /// Xã / phường / thị trấn / đặc khu of a commune-level unit.
    pub fn designation(&self) -> Option<Designation> {
        if self.kind != UnitKind::Commune {
            return None;
        }
        self.designation.or_else(|| Designation::from_name(&self.name))
    }

    /// "Phường", "Xã", "Sở, ban, ngành"…: the most precise label for lists.
    pub fn kind_label_vi(&self) -> &'static str {
        self.designation().map(Designation::label_vi).unwrap_or(self.kind.label_vi())
    }

    /// "01/07/2025 – nay", "– 30/06/2025", or "" for a unit with no dates.
    pub fn validity_label_vi(&self) -> String {
        match (self.valid_from, self.valid_to) {
            (None, None) => String::new(),
            (Some(f), None) => format!("từ {}", format_date(f)),
            (None, Some(t)) => format!("đến {}", format_date(t)),
            (Some(f), Some(t)) => format!("{} – {}", format_date(f), format_date(t)),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnitTreeError {
    #[error("mã đơn vị bị trùng: {0}")]
    DuplicateId(String),
    #[error("đơn vị {child} trỏ tới đơn vị cha không tồn tại {parent}")]
    MissingParent { child: String, parent: String },
    #[error("cây đơn vị có vòng lặp tại {0}")]
    Cycle(String),
    #[error("đơn vị {0}: ngày kết thúc trước ngày bắt đầu")]
    InvertedValidity(String),
    #[error("đơn vị {child} tồn tại ngoài thời gian của đơn vị cha {parent}")]
    OutlivesParent { child: String, parent: String },
    #[error("đơn vị {unit} kế thừa bởi đơn vị không tồn tại {successor}")]
    MissingSuccessor { unit: String, successor: String },
    #[error("đơn vị {0} chưa đóng (không có ngày kết thúc) nên không thể có đơn vị kế thừa")]
    SuccessorOfOpenUnit(String),
    #[error("đơn vị kế thừa {successor} của {unit} phải còn hoạt động ngay sau ngày {unit} kết thúc")]
    SuccessorNotValidAfter { unit: String, successor: String },
}

/// An indexed, validated unit tree (every unit of every time).
#[derive(Clone, Debug, Default)]
pub struct UnitTree {
    units: Vec<OrgUnit>,
    index: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
    /// Reverse of `successors`: who a unit took over from.
    predecessors: HashMap<String, Vec<usize>>,
}

impl UnitTree {
    pub fn new(units: Vec<OrgUnit>) -> Result<UnitTree, UnitTreeError> {
        let mut index = HashMap::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            if index.insert(u.id.clone(), i).is_some() {
                return Err(UnitTreeError::DuplicateId(u.id.clone()));
            }
        }
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        let mut predecessors: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            if let (Some(f), Some(t)) = (u.valid_from, u.valid_to) {
                if t < f {
                    return Err(UnitTreeError::InvertedValidity(u.id.clone()));
                }
            }
            if let Some(p) = &u.parent {
                let Some(&pi) = index.get(p) else {
                    return Err(UnitTreeError::MissingParent { child: u.id.clone(), parent: p.clone() });
                };
                let parent = &units[pi];
                // A unit exists only while its parent does (a commune of a district
                // closed on 30/06/2025 cannot outlive it).
                let starts_before = match (u.valid_from, parent.valid_from) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(c), Some(p)) => c < p,
                };
                let ends_after = match (u.valid_to, parent.valid_to) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(c), Some(p)) => c > p,
                };
                if starts_before || ends_after {
                    return Err(UnitTreeError::OutlivesParent { child: u.id.clone(), parent: p.clone() });
                }
                children.entry(p.clone()).or_default().push(i);
            }
            if !u.successors.is_empty() && u.valid_to.is_none() {
                return Err(UnitTreeError::SuccessorOfOpenUnit(u.id.clone()));
            }
            for s in &u.successors {
                let Some(&si) = index.get(s) else {
                    return Err(UnitTreeError::MissingSuccessor { unit: u.id.clone(), successor: s.clone() });
                };
                // Successors come later in time, so following them always ends.
                let day_after = u.valid_to.and_then(|t| t.succ_opt());
                if si == i || !day_after.is_some_and(|d| units[si].valid_on(d)) {
                    return Err(UnitTreeError::SuccessorNotValidAfter { unit: u.id.clone(), successor: s.clone() });
                }
                predecessors.entry(s.clone()).or_default().push(i);
            }
        }
        let tree = UnitTree { units, index, children, predecessors };
        for u in &tree.units {
            let mut seen = HashSet::new();
            let mut cur = Some(u);
            while let Some(c) = cur {
                if !seen.insert(c.id.as_str()) {
                    return Err(UnitTreeError::Cycle(u.id.clone()));
                }
                cur = c.parent.as_deref().and_then(|p| tree.get(p));
            }
        }
        Ok(tree)
    }

    /// A tree from part of the list (the units a phone may see): a parent or a
    /// successor outside it is dropped, so it always builds. The phone only needs
    /// what it was given; the server checks the whole tree with [`UnitTree::new`].
    pub fn partial(units: Vec<OrgUnit>) -> UnitTree {
        let ids: HashSet<String> = units.iter().map(|u| u.id.clone()).collect();
        let units: Vec<OrgUnit> = units
            .into_iter()
            .map(|mut u| {
                u.parent = u.parent.filter(|p| ids.contains(p));
                u.successors.retain(|s| ids.contains(s));
                u
            })
            .collect();
        UnitTree::new(units.clone()).unwrap_or_else(|_| {
            // Still inconsistent (a cycle, validity): a flat list keeps names.
            let flat = units
                .into_iter()
                .map(|u| OrgUnit { parent: None, successors: Vec::new(), valid_from: None, valid_to: None, ..u })
                .collect();
            UnitTree::new(flat).unwrap_or_default()
        })
    }

    pub fn get(&self, id: &str) -> Option<&OrgUnit> {
        self.index.get(id).map(|&i| &self.units[i])
    }

    pub fn all(&self) -> &[OrgUnit] {
        &self.units
    }

    pub fn children(&self, id: &str) -> impl Iterator<Item = &OrgUnit> {
        self.children.get(id).into_iter().flatten().map(|&i| &self.units[i])
    }

    /// The units `id` took over from (those naming it as a successor).
    pub fn predecessors(&self, id: &str) -> impl Iterator<Item = &OrgUnit> {
        self.predecessors.get(id).into_iter().flatten().map(|&i| &self.units[i])
    }

    /// The unit and everything below it, parents before children (units of every
    /// time: use [`UnitTree::as_of`] first for one day's tree).
    pub fn subtree(&self, id: &str) -> Vec<&OrgUnit> {
        let mut out = Vec::new();
        let Some(root) = self.get(id) else { return out };
        let mut stack = vec![root];
        while let Some(u) = stack.pop() {
            out.push(u);
            let mut kids: Vec<&OrgUnit> = self.children(&u.id).collect();
            kids.reverse();
            stack.extend(kids);
        }
        out
    }

    /// Ancestors from the parent up to the root.
    pub fn ancestors(&self, id: &str) -> Vec<&OrgUnit> {
        let mut out = Vec::new();
        let mut cur = self.get(id).and_then(|u| u.parent.as_deref()).and_then(|p| self.get(p));
        while let Some(u) = cur {
            out.push(u);
            cur = u.parent.as_deref().and_then(|p| self.get(p));
        }
        out
    }

    /// Whether `unit` falls under `scope`: it is `scope` or lies below it, or it (or
    /// a unit above it) closed into a successor that does. So the officials of a
    /// commune formed on 01/07/2025 see the reports of the communes merged into it,
    /// and the province that absorbed another sees all of the latter's history; a
    /// commune does not see its former district's own reports.
    pub fn is_within(&self, unit: &str, scope: &str) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![unit];
        while let Some(id) = stack.pop() {
            if id == scope {
                return true;
            }
            if !seen.insert(id) {
                continue;
            }
            let Some(u) = self.get(id) else { continue };
            stack.extend(u.parent.as_deref());
            stack.extend(u.successors.iter().map(String::as_str));
        }
        false
    }

    /// Every unit under `scope` in the sense of [`UnitTree::is_within`] (its
    /// subtree and all its predecessors' history), in tree order.
    pub fn scope(&self, scope: &str) -> Vec<&OrgUnit> {
        if self.get(scope).is_none() {
            return Vec::new();
        }
        self.in_order().into_iter().filter(|u| self.is_within(&u.id, scope)).collect()
    }

    /// Every unit, each root followed by its subtree (the order lists show).
    pub fn in_order(&self) -> Vec<&OrgUnit> {
        self.units.iter().filter(|u| u.parent.is_none()).flat_map(|r| self.subtree(&r.id)).collect()
    }

    /// The tree as it was on `date`: only the units that existed that day.
    pub fn as_of(&self, date: NaiveDate) -> UnitTree {
        let units: Vec<OrgUnit> = self.units.iter().filter(|u| u.valid_on(date)).cloned().collect();
        // Parents cover their children's validity (checked in `new`), so the day's
        // units form a tree by themselves; successors may point outside it.
        let keep: HashSet<&str> = units.iter().map(|u| u.id.as_str()).collect();
        let units = units
            .iter()
            .map(|u| OrgUnit {
                successors: u.successors.iter().filter(|s| keep.contains(s.as_str())).cloned().collect(),
                ..u.clone()
            })
            .collect();
        UnitTree::new(units).unwrap_or_default()
    }

    /// The units that stand for `scope` on `date`: itself when it existed then,
    /// otherwise the topmost of the units that later became part of it (for the
    /// province of Quảng Ngãi on a 2024 date: Tỉnh Kon Tum).
    pub fn stand_ins(&self, scope: &str, date: NaiveDate) -> Vec<&OrgUnit> {
        let Some(unit) = self.get(scope) else { return Vec::new() };
        if unit.valid_on(date) {
            return vec![unit];
        }
        self.in_order()
            .into_iter()
            .filter(|u| u.valid_on(date) && self.is_within(&u.id, scope))
            .filter(|u| !u.parent.as_deref().is_some_and(|p| self.is_within(p, scope)))
            .collect()
    }

    /// The tree to report on `scope` as it was on `date`, and the root to start
    /// from: `scope` itself when it existed then; its single stand-in (Quảng Ngãi
    /// on a 2024 date → Tỉnh Kon Tum); or, with several stand-ins (a commune formed
    /// from three), `scope` as a root above them. None when nothing of `scope`
    /// existed on that date.
    pub fn view_on(&self, scope: &str, date: NaiveDate) -> Option<(UnitTree, String)> {
        let unit = self.get(scope)?;
        let day = self.as_of(date);
        if unit.valid_on(date) {
            return Some((day, scope.to_string()));
        }
        let stand_ins: Vec<String> = self.stand_ins(scope, date).into_iter().map(|u| u.id.clone()).collect();
        match stand_ins.as_slice() {
            [] => None,
            [one] => Some((day, one.clone())),
            _ => {
                let mut units = day.units;
                for u in units.iter_mut().filter(|u| stand_ins.contains(&u.id)) {
                    u.parent = Some(scope.to_string());
                }
                units.insert(
                    0,
                    OrgUnit { parent: None, valid_from: None, valid_to: None, successors: Vec::new(), ..unit.clone() },
                );
                UnitTree::new(units).ok().map(|t| (t, scope.to_string()))
            }
        }
    }

    /// The roots (units without a parent) that exist on `date`.
    pub fn roots_on(&self, date: NaiveDate) -> Vec<&OrgUnit> {
        self.units.iter().filter(|u| u.parent.is_none() && u.valid_on(date)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit::new(id, id, id, kind, parent)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn closed(mut unit: OrgUnit, last: NaiveDate, successors: &[&str]) -> OrgUnit {
        unit.valid_to = Some(last);
        unit.successors = successors.iter().map(|s| s.to_string()).collect();
        unit
    }

    fn opened(mut unit: OrgUnit, first: NaiveDate) -> OrgUnit {
        unit.valid_from = Some(first);
        unit
    }

    /// Kon Tum 2024 (province → district → commune) merged on 01/07/2025 into
    /// Quảng Ngãi (province → commune), the way the shipped data has it.
    fn reform() -> UnitTree {
        let end = d(2025, 6, 30);
        let start = d(2025, 7, 1);
        UnitTree::new(vec![
            closed(u("kt", UnitKind::Province, None), end, &["qn"]),
            closed(u("kt.snv", UnitKind::Department, Some("kt")), end, &["qn.snv"]),
            closed(u("kt.d1", UnitKind::District, Some("kt")), end, &[]),
            closed(u("kt.d1.a", UnitKind::Commune, Some("kt.d1")), end, &["qn.x"]),
            closed(u("kt.d1.b", UnitKind::Commune, Some("kt.d1")), end, &["qn.x"]),
            closed(u("kt.d1.c", UnitKind::Commune, Some("kt.d1")), end, &["qn.y"]),
            u("qn", UnitKind::Province, None),
            opened(u("qn.snv", UnitKind::Department, Some("qn")), start),
            opened(u("qn.x", UnitKind::Commune, Some("qn")), start),
            opened(u("qn.y", UnitKind::Commune, Some("qn")), start),
        ])
        .unwrap()
    }

    fn ids<'a>(units: impl IntoIterator<Item = &'a OrgUnit>) -> Vec<&'a str> {
        units.into_iter().map(|u| u.id.as_str()).collect()
    }

    #[test]
    fn the_tree_of_a_day() {
        let t = reform();
        let before = t.as_of(d(2024, 3, 14));
        assert_eq!(ids(before.subtree("kt")), ["kt", "kt.snv", "kt.d1", "kt.d1.a", "kt.d1.b", "kt.d1.c"]);
        assert_eq!(ids(before.subtree("qn")), ["qn"], "the open province existed, its new units not yet");
        let after = t.as_of(d(2026, 11, 14));
        assert!(after.get("kt").is_none());
        assert_eq!(ids(after.subtree("qn")), ["qn", "qn.snv", "qn.x", "qn.y"]);
        // The last and the first day.
        assert!(t.as_of(d(2025, 6, 30)).get("kt.d1.a").is_some());
        assert!(t.as_of(d(2025, 7, 1)).get("kt.d1.a").is_none());
        assert_eq!(ids(t.roots_on(d(2025, 7, 1))), ["qn"]);
    }

    #[test]
    fn successors_carry_history_into_the_new_units() {
        let t = reform();
        assert!(t.is_within("kt.d1.a", "qn.x"));
        assert!(t.is_within("kt.d1.b", "qn.x"));
        assert!(!t.is_within("kt.d1.c", "qn.x"));
        assert!(!t.is_within("kt.d1", "qn.x"), "a commune does not see its former district's own reports");
        assert!(t.is_within("kt.d1", "qn"), "the province sees all of the absorbed province");
        assert!(t.is_within("kt.snv", "qn.snv"));
        assert!(!t.is_within("qn.x", "kt.d1.a"), "an old unit does not see its successor");
        assert_eq!(ids(t.scope("qn.x")), ["kt.d1.a", "kt.d1.b", "qn.x"]);
        assert_eq!(ids(t.predecessors("qn.x")), ["kt.d1.a", "kt.d1.b"]);
        assert_eq!(ids(t.stand_ins("qn", d(2024, 5, 1))), ["qn"], "an open unit stands for itself");
        assert_eq!(ids(t.stand_ins("qn.x", d(2024, 5, 1))), ["kt.d1.a", "kt.d1.b"]);
        assert_eq!(ids(t.stand_ins("qn.x", d(2026, 5, 1))), ["qn.x"]);
    }

    #[test]
    fn views_of_a_scope_on_a_past_date() {
        let t = reform();
        let (tree, root) = t.view_on("qn", d(2024, 3, 14)).unwrap();
        assert_eq!(root, "qn", "the province existed (its Kon Tum part is reached through kt)");
        assert_eq!(ids(tree.subtree(&root)), ["qn"]);
        let (tree, root) = t.view_on("qn.snv", d(2024, 3, 14)).unwrap();
        assert_eq!((root.as_str(), ids(tree.subtree("kt.snv"))), ("kt.snv", vec!["kt.snv"]));
        // Several stand-ins: the new commune above the old ones.
        let (tree, root) = t.view_on("qn.x", d(2024, 3, 14)).unwrap();
        assert_eq!(root, "qn.x");
        assert_eq!(ids(tree.subtree("qn.x")), ["qn.x", "kt.d1.a", "kt.d1.b"]);
        let (tree, root) = t.view_on("qn.x", d(2026, 3, 14)).unwrap();
        assert_eq!((root.as_str(), tree.subtree("qn.x").len()), ("qn.x", 1));
        assert!(t.view_on("qn.x", d(2025, 7, 1)).is_some());
    }

    #[test]
    fn designations_and_labels() {
        let mut ward = u("w", UnitKind::Commune, None);
        ward.name = "Phường Đăk Bla".into();
        assert_eq!(ward.designation(), Some(Designation::Ward));
        assert_eq!(ward.kind_label_vi(), "Phường");
        let mut zone = u("z", UnitKind::Commune, None);
        zone.name = "Lý Sơn".into();
        zone.designation = Some(Designation::SpecialZone);
        assert_eq!(zone.kind_label_vi(), "Đặc khu");
        let mut xa = u("x", UnitKind::Commune, None);
        xa.name = "Xãkhông".into();
        assert_eq!(xa.designation(), None, "a prefix is a whole word");
        assert_eq!(u("s", UnitKind::Department, None).kind_label_vi(), "Sở, ban, ngành");
        let closed_unit = closed(opened(u("c", UnitKind::Commune, None), d(2020, 1, 1)), d(2025, 6, 30), &[]);
        assert_eq!(closed_unit.validity_label_vi(), "01/01/2020 – 30/06/2025");
    }

    #[test]
    fn rejects_broken_histories() {
        let end = d(2025, 6, 30);
        let inverted = UnitTree::new(vec![opened(closed(u("a", UnitKind::Province, None), end, &[]), d(2026, 1, 1))]);
        assert_eq!(inverted.unwrap_err(), UnitTreeError::InvertedValidity("a".into()));
        let outlives = UnitTree::new(vec![
            closed(u("p", UnitKind::Province, None), end, &[]),
            u("p.c", UnitKind::Commune, Some("p")),
        ]);
        assert!(matches!(outlives.unwrap_err(), UnitTreeError::OutlivesParent { .. }));
        let open_with_successor = UnitTree::new(
            vec![u("a", UnitKind::Province, None), u("b", UnitKind::Province, None)]
                .into_iter()
                .map(|mut x| {
                    if x.id == "a" {
                        x.successors = vec!["b".into()];
                    }
                    x
                })
                .collect(),
        );
        assert_eq!(open_with_successor.unwrap_err(), UnitTreeError::SuccessorOfOpenUnit("a".into()));
        let missing = UnitTree::new(vec![closed(u("a", UnitKind::Province, None), end, &["zz"])]);
        assert!(matches!(missing.unwrap_err(), UnitTreeError::MissingSuccessor { .. }));
        // A successor that closed at the same time took nothing over.
        let gone = UnitTree::new(vec![
            closed(u("a", UnitKind::Province, None), end, &["b"]),
            closed(u("b", UnitKind::Province, None), end, &[]),
        ]);
        assert!(matches!(gone.unwrap_err(), UnitTreeError::SuccessorNotValidAfter { .. }));
    }

    fn sample() -> UnitTree {
        UnitTree::new(vec![
            u("p", UnitKind::Province, None),
            u("p.snv", UnitKind::Department, Some("p")),
            u("p.d1", UnitKind::District, Some("p")),
            u("p.d1.c1", UnitKind::Commune, Some("p.d1")),
            u("p.d1.c2", UnitKind::Commune, Some("p.d1")),
            u("p.d2", UnitKind::District, Some("p")),
        ])
        .unwrap()
    }

    #[test]
    fn subtree_and_ancestors() {
        let t = sample();
        let ids: Vec<_> = t.subtree("p.d1").iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["p.d1", "p.d1.c1", "p.d1.c2"]);
        let anc: Vec<_> = t.ancestors("p.d1.c2").iter().map(|u| u.id.as_str()).collect();
        assert_eq!(anc, ["p.d1", "p"]);
        assert!(t.is_within("p.d1.c2", "p"));
        assert!(t.is_within("p.d1", "p.d1"));
        assert!(!t.is_within("p.d1.c1", "p.d2"));
        assert!(t.subtree("nope").is_empty());
    }

    #[test]
    fn rejects_broken_trees() {
        let dup = UnitTree::new(vec![u("a", UnitKind::Province, None), u("a", UnitKind::District, None)]);
        assert_eq!(dup.unwrap_err(), UnitTreeError::DuplicateId("a".into()));
        let orphan = UnitTree::new(vec![u("a", UnitKind::District, Some("x"))]);
        assert!(matches!(orphan.unwrap_err(), UnitTreeError::MissingParent { .. }));
        let cycle = UnitTree::new(vec![u("a", UnitKind::District, Some("b")), u("b", UnitKind::District, Some("a"))]);
        assert!(matches!(cycle.unwrap_err(), UnitTreeError::Cycle(_)));
    }
}
