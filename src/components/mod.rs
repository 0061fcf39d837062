mod bottom_nav;
pub mod charts;
pub mod history;
mod loading;
pub mod report_form;
mod status_bar;

pub use bottom_nav::BottomNav;
pub use loading::{load_failed, LoadingLine};
pub use status_bar::StatusBar;
