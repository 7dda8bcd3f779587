//! Rebuilds the test binaries when a test migration is added (they embed the directory).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
