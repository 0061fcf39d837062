mod account;
mod login;
mod plan;
mod plan_item;
mod report;
mod reports;
mod tasks;

pub use account::AccountPage;
pub use login::LoginPage;
pub use plan::PlanPage;
pub use plan_item::PlanItemPage;
pub use report::ReportPage;
pub use reports::ReportsPage;
pub use tasks::TasksPage;
