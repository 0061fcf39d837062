mod use_online;

pub use use_online::{use_online, UseOnlineReturn};
