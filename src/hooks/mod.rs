mod use_autosave;
mod use_cached_query;
mod use_online;

pub use use_autosave::{use_autosave, SaveState, UseAutosaveReturn};
pub use use_cached_query::{
    fetch_or_kept, use_cached_query, use_cached_query_with_options, Loaded, Query, ShowKept, Shown, Source,
    UseCachedQueryOptions, UseCachedQueryReturn,
};
pub use use_online::{use_online, UseOnlineReturn};
