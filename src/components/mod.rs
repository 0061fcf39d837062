mod bottom_nav;
mod status_bar;

pub use bottom_nav::BottomNav;
pub use status_bar::StatusBar;
