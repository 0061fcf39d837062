//! The administrative unit tree. It is data of any depth (province → department |
//! district → commune, or, after the 2025 reform, province → commune): nothing in the
//! code assumes a fixed number of levels.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Province,
    Department,
    District,
    Commune,
}

impl UnitKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            UnitKind::Province => "Tỉnh",
            UnitKind::Department => "Sở, ban, ngành",
            UnitKind::District => "Huyện, thành phố",
            UnitKind::Commune => "Xã, phường, thị trấn",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    /// Stable slug, e.g. `kontum.dakglei.dakman`.
    pub id: String,
    /// Administrative code where one exists (mã đơn vị hành chính), else the slug.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnitTreeError {
    #[error("mã đơn vị bị trùng: {0}")]
    DuplicateId(String),
    #[error("đơn vị {child} trỏ tới đơn vị cha không tồn tại {parent}")]
    MissingParent { child: String, parent: String },
    #[error("cây đơn vị có vòng lặp tại {0}")]
    Cycle(String),
}

/// An indexed, validated unit tree.
#[derive(Clone, Debug, Default)]
pub struct UnitTree {
    units: Vec<OrgUnit>,
    index: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
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
        for (i, u) in units.iter().enumerate() {
            if let Some(p) = &u.parent {
                if !index.contains_key(p) {
                    return Err(UnitTreeError::MissingParent { child: u.id.clone(), parent: p.clone() });
                }
                children.entry(p.clone()).or_default().push(i);
            }
        }
        let tree = UnitTree { units, index, children };
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

    pub fn get(&self, id: &str) -> Option<&OrgUnit> {
        self.index.get(id).map(|&i| &self.units[i])
    }

    pub fn all(&self) -> &[OrgUnit] {
        &self.units
    }

    pub fn children(&self, id: &str) -> impl Iterator<Item = &OrgUnit> {
        self.children.get(id).into_iter().flatten().map(|&i| &self.units[i])
    }

    /// The unit and everything below it, parents before children.
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

    /// Whether `unit` is `ancestor` itself or lies below it.
    pub fn is_within(&self, unit: &str, ancestor: &str) -> bool {
        unit == ancestor || self.ancestors(unit).iter().any(|a| a.id == ancestor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit { id: id.into(), code: id.into(), name: id.into(), kind, parent: parent.map(Into::into) }
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
