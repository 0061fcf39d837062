mod bottom_nav;
pub mod report_form;
mod status_bar;

pub use bottom_nav::BottomNav;
pub use status_bar::StatusBar;
