mod account;
mod admin;
mod consolidation;
mod dashboard;
mod enrol;
mod login;
mod obligations;
mod plan;
mod plan_item;
mod report;
mod reports;
mod review;
mod review_report;
mod tasks;

pub use account::AccountPage;
pub use admin::{
    AdminAccountPage, AdminAccountsPage, AdminAuditPage, AdminCreatePage, AdminImportPage, AdminPlanEditorPage,
    AdminPlansPage, AdminUnitsPage, EnrolmentSheetsPage,
};
pub use consolidation::ConsolidationPage;
pub use dashboard::DashboardPage;
pub use enrol::EnrolPage;
pub use login::LoginPage;
pub use obligations::ObligationsPage;
pub use plan::PlanPage;
pub use plan_item::PlanItemPage;
pub use report::ReportPage;
pub use reports::ReportsPage;
pub use review::ReviewPage;
pub use review_report::ReviewReportPage;
pub use tasks::TasksPage;
