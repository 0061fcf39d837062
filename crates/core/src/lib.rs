//! The shared heart of danvan: the plan model, the unit tree, Decree 09 report
//! periods and deadlines, and the JSON shapes the app and the server exchange.
//!
//! This crate has no web, UI or server dependency so that the exact same rules run
//! on a phone with no network and on the server that records what was filed.

pub mod access;
pub mod account;
pub mod aggregate;
pub mod api;
pub mod catalog;
pub mod client;
pub mod form;
pub mod period;
pub mod plan;
pub mod plan_changes;
pub mod report;
pub mod sync;
pub mod task;
pub mod time;
pub mod tree_import;
pub mod unit;

pub use form::{ReportForm, Values};
pub use period::Period;
pub use plan::{Assignee, DueRule, Obligation, Plan, PlanItem};
pub use report::{Report, ReportKey, ReportStatus};
pub use task::{Task, TaskStatus};
pub use unit::{OrgUnit, UnitKind, UnitTree};
