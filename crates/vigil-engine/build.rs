//! The built-in rule pack is embedded with `include_dir!`, which cargo cannot see through:
//! ask for a rebuild whenever anything under `rules/` changes.
fn main() {
    println!("cargo:rerun-if-changed=../../rules");
}
