// Rebuild when a migration is added or changed: `sqlx::migrate!()` embeds them at
// compile time. (The seed JSON is tracked by `include_str!` on its own.)
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
