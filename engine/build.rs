//! `sqlx::migrate!()` embeds `migrations/` (the engine's database) and `directory_migrations/` (the directory
//! connector's) at compile time; rebuild when a migration changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=directory_migrations");
}
