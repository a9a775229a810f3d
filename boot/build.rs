//! Links the loader with `linker.ld`: one flat RWX image at physical 1 MiB
//! that starts with its own ELF headers and carries the Multiboot 1 header.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo always sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rerun-if-changed=linker.ld");
}
