//! Links the code that runs at init together: `init.order` lists the functions extract runs before its first
//! Runtime API request, in the order `benches/link_order.py` recorded them, and LLD places them first. The kernel
//! maps 64 KiB of the binary around every page touched, so init code spread over the whole binary made ~10 MiB of
//! it resident; packed, ~4 MiB. Names missing from the build (the file is older than the code) are skipped.
//!
//! Only for the toolchain's own linker (`rust-lld` on x86_64 Linux): a build with another linker (cargo-lambda's
//! zig) or `LEADPIPE_LINK_ORDER=0` links in the default order.

use std::env;
use std::path::Path;

fn main() {
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("init.order");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=LEADPIPE_LINK_ORDER");
    let default_linker = env::var_os("RUSTC_LINKER").is_none()
        && !env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default().contains("linker");
    let lld_target = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let wanted = env::var("LEADPIPE_LINK_ORDER").map_or(true, |v| v != "0");
    if default_linker && lld_target && wanted && order.is_file() {
        println!("cargo:rustc-link-arg-bin=extract=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo:rustc-link-arg-bin=extract=-Wl,--no-warn-symbol-ordering");
    }
}
