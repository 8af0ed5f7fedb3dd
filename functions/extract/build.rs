//! Links the code that runs at init together: `init.order` lists the functions extract runs before its first
//! Runtime API request (recorded by `benches/link_order.py`, sorted by name), and LLD places them first. The
//! kernel maps 64 KiB of the binary around every page touched, so init code spread over the whole binary made
//! ~10 MiB of it resident; packed, ~4 MiB. Names missing from the build (the file is older than the code or the
//! toolchain) are skipped.
//!
//! Only when the link goes through the toolchain's own LLD: a rustup toolchain that ships `gcc-ld/ld.lld` (its
//! default linker on x86_64 Linux since Rust 1.90), no linker configured (cargo-lambda's zig sets one) and no
//! `-fuse-ld` or linker flags in the rustflags. `LEADPIPE_LINK_ORDER=0` turns it off (default `1`).
//!
//! `LEADPIPE_PIE=0` links extract at a fixed address (`-no-pie`, any linker, zig's included): the loader then has
//! no relocations to apply (61,758 in a release build, 1.4 MiB of them read and 1.1 MiB of `.data.rel.ro` written
//! at every start), which saves ~2.4 MiB and ~10 % of init; the price is no address randomisation of the
//! binary's own code. The default (`1`) keeps a position-independent executable.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("init.order");
    println!("cargo:rerun-if-changed={}", order.display());
    let wanted = switch("LEADPIPE_LINK_ORDER", "init functions first, the default", "the linker's order");
    if !switch("LEADPIPE_PIE", "a position-independent executable, the default", "a fixed-address one") {
        println!("cargo:rustc-link-arg-bin=extract=-no-pie");
    }
    if wanted && order.is_file() && links_with_own_lld() {
        // `-Xlinker` pairs rather than `-Wl,`, which would split a path at its commas.
        for arg in [format!("--symbol-ordering-file={}", order.display()), "--no-warn-symbol-ordering".into()] {
            println!("cargo:rustc-link-arg-bin=extract=-Xlinker");
            println!("cargo:rustc-link-arg-bin=extract={arg}");
        }
    }
}

/// The build switch `name`: 1 (`on`, the default) or 0 (`off`); any other value stops the build.
fn switch(name: &str, on: &str, off: &str) -> bool {
    println!("cargo:rerun-if-env-changed={name}");
    match env::var(name).as_deref() {
        Err(_) | Ok("1") => true,
        Ok("0") => false,
        Ok(other) => panic!("{name} must be 1 ({on}) or 0 ({off}), not {other:?}"),
    }
}

/// Whether extract is linked by the toolchain's self-contained LLD.
fn links_with_own_lld() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = env::var_os("RUSTC_LINKER").is_some()
        || ["linker", "fuse-ld", "link-self-contained"].iter().any(|f| flags.contains(f));
    if other_linker || env::var("TARGET").map_or(true, |t| t != "x86_64-unknown-linux-gnu") {
        return false;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld").is_file()
}
