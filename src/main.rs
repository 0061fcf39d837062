fn main() {
    // Built for size (scripts/wasm.sh --app), a panic aborts without running any
    // hook, so the hook and its message formatting are left out of that build.
    #[cfg(not(panic = "immediate-abort"))]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(danvan_app::App);
}
