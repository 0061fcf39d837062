//! Where the wasm is cut into modules (docs/app-loading.md).

/// Declares `async fn NAME(ARGS) -> Result<T, E>` whose body lives in the split
/// module `MODULE`: `#[wasm_split(MODULE, …, fallible)]` where the build splits the
/// wasm (`--cfg danvan_split`, set by `scripts/wasm.sh --app`), and an ordinary
/// async function everywhere else. A build that is not split (the wasm tests,
/// `cargo check`) would otherwise import the module loader from a placeholder no
/// browser resolves, as soon as it reaches one of these functions.
///
/// `E` must convert from `leptos::wasm_split::SplitLoaderError` (a module that
/// cannot be downloaded). With `preload(NAME)`, also declares
/// `async fn NAME() -> Result<(), SplitLoaderError>`, which fetches the module.
macro_rules! in_module {
    (
        $module:ident $(, preload($preload:ident))?;
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> Result<$ok:ty, $err:ty> $body:block
    ) => {
        #[cfg(danvan_split)]
        #[::leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible $(, preload($preload))?)]
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) -> Result<$ok, $err> $body

        #[cfg(not(danvan_split))]
        $(#[$attr])*
        $vis async fn $name($($arg: $ty),*) -> Result<$ok, $err> $body

        $(
            #[cfg(not(danvan_split))]
            async fn $preload() -> Result<(), ::leptos::wasm_split::SplitLoaderError> {
                Ok(())
            }
        )?
    };
}

pub(crate) use in_module;
