//! The catalog: units (with their history), plans and report forms. It lives in the
//! database and changes at runtime (imports, plan publishing); handlers read an
//! immutable snapshot ([`CatalogCell::current`]) that is swapped whole after each
//! change, so a request never sees half an import and nobody restarts the server.
//!
//! - `packages.rs`: the data shipped with the server (Kon Tum 2024, Quảng Ngãi from
//!   01/07/2025, plan 413/KH-UBND), each applied once to a database;
//! - `unit_files.rs`: unit-tree files (CSV, XLSX, JSON) to rows for
//!   `danvan_core::tree_import`;
//! - `plans.rs`: plan and form imports, drafts, copies to a new year, publishing.

use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use danvan_core::{OrgUnit, Plan, ReportForm, UnitTree};

use crate::store::{Store, StoreError};

pub mod cli;
pub mod packages;
pub mod plans;
pub mod unit_files;

/// Units, plans and forms as loaded from the database.
#[derive(Debug, Default)]
pub struct Catalog {
    pub tree: UnitTree,
    pub plans: Vec<Plan>,
    pub forms: Vec<ReportForm>,
    /// `sync_state.catalog_version` when loaded: phones compare it at each sync.
    pub version: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cây đơn vị trong cơ sở dữ liệu không hợp lệ: {0}")]
    Tree(#[from] danvan_core::unit::UnitTreeError),
}

impl Catalog {
    pub async fn load(store: &Store) -> Result<Catalog, CatalogError> {
        // The version first: a change committed while the rest is read is then
        // seen as newer than this snapshot and loaded again.
        let version = store.catalog_version().await?;
        let tree = UnitTree::new(store.units().await?)?;
        let plans = store.plans().await?;
        let forms = store.forms().await?;
        Ok(Catalog { tree, plans, forms, version })
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The report form of a plan.
    pub fn form_for_plan(&self, plan_id: &str) -> Option<&ReportForm> {
        self.forms.iter().find(|f| f.plan_id == plan_id)
    }

    /// The plan to show when none is asked for: the one that applies on `today`
    /// (the latest started, if several), else the most recent.
    pub fn default_plan(&self, today: NaiveDate) -> Option<&Plan> {
        self.plans
            .iter()
            .filter(|p| p.validity().contains(today))
            .max_by_key(|p| p.validity().first)
            .or_else(|| self.plans.iter().max_by_key(|p| p.validity().first))
    }

    /// The province: the root of the tree that exists on `date` (or any root).
    pub fn root_on(&self, date: NaiveDate) -> Option<&OrgUnit> {
        danvan_core::access::province_on(&self.tree, date).and_then(|id| self.tree.get(id))
    }
}

/// How often a server checks whether the catalog changed behind its back (a
/// `danvan-server import-units --apply` while it runs).
pub const CATALOG_POLL: std::time::Duration = std::time::Duration::from_secs(15);

/// Reloads the catalog whenever its version in the database moves; ends when the
/// database is closed. Changes made through this server reload at once; this is
/// for the command line (and, later, other server processes).
pub fn watch(cell: CatalogCell, store: Store, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let version = match store.catalog_version().await {
                Ok(v) => v,
                Err(_) if store.is_closed() => return,
                Err(e) => {
                    tracing::warn!(error = %e, "không đọc được phiên bản danh mục");
                    continue;
                }
            };
            if version != cell.current().version {
                match cell.reload(&store).await {
                    Ok(c) => tracing::info!(version = c.version, "đã nạp lại danh mục (đơn vị, kế hoạch)"),
                    Err(e) => tracing::warn!(error = %e, "không nạp lại được danh mục"),
                }
            }
        }
    })
}

/// The current catalog, shared by every handler and replaced after each change.
#[derive(Clone, Debug, Default)]
pub struct CatalogCell(Arc<RwLock<Arc<Catalog>>>);

impl CatalogCell {
    pub fn new(catalog: Catalog) -> CatalogCell {
        CatalogCell(Arc::new(RwLock::new(Arc::new(catalog))))
    }

    /// A snapshot; it stays consistent for as long as the caller holds it.
    pub fn current(&self) -> Arc<Catalog> {
        // A poisoned lock only means a panic while swapping a whole Arc: the value
        // inside is still a complete catalog.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the catalog from the database again and makes it current.
    pub async fn reload(&self, store: &Store) -> Result<Arc<Catalog>, CatalogError> {
        let fresh = Arc::new(Catalog::load(store).await?);
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        // Two reloads racing: keep the newer.
        if fresh.version >= slot.version {
            *slot = fresh.clone();
        }
        Ok(slot.clone())
    }
}
