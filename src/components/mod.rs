mod bottom_nav;
pub mod charts;
pub mod history;
pub mod report_form;
mod status_bar;

pub use bottom_nav::BottomNav;
pub use status_bar::StatusBar;
