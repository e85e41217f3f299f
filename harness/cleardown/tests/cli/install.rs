//! `cargo install` as the README gives it, then the installed `cleardown`
//! run from a directory outside the checkout, with no cargo in its
//! environment: it finds (building them once in the checkout it was
//! installed from) the bundled providers and the bundled suite passes.

use std::{path::Path, process::Command};

use crate::{conformance::report_of, scratch, stderr, stdout};

#[test]
fn l1_an_installed_cleardown_runs_the_bundled_suite_from_anywhere() {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = scratch("cargo-install");
    let _ = std::fs::remove_dir_all(&root);
    let install = Command::new(env!("CARGO"))
        .args([
            "install",
            "--quiet",
            "--locked",
            "--path",
            "harness/cleardown",
            "--root",
        ])
        .arg(&root)
        .current_dir(&checkout)
        // The checkout's own target directory: the release build is the
        // one the installed binary then builds the plugins into, and the
        // one the README's main command uses, so CI compiles it once. What
        // is installed is the same binary as from a fresh target directory.
        .env("CARGO_TARGET_DIR", checkout.join("target"))
        .output()
        .expect("cargo runs");
    assert!(
        install.status.success(),
        "cargo install failed:\n{}",
        stderr(&install)
    );
    let exe = root
        .join("bin")
        .join(format!("cleardown{}", std::env::consts::EXE_SUFFIX));
    let elsewhere = scratch("cargo-install-cwd");
    let output = Command::new(&exe)
        .args(["conformance", "--format", "json"])
        .current_dir(&elsewhere)
        .env_remove("CARGO")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove(cleardown_host::locate::PLUGIN_DIR_VAR)
        .output()
        .expect("the installed cleardown runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report_of(&output);
    assert_eq!(
        report.runs.len(),
        cleardown_conformance::run::bundled_targets().len(),
        "every bundled variant: {}",
        stdout(&output)
    );
    assert_eq!(report.summary.failed, 0);
    assert!(report.summary.passed >= 100, "{:?}", report.summary);
    // Loaded from the checkout it was installed from, not from anything
    // beside the binary or in the working directory.
    let checkout = checkout.canonicalize().expect("checkout");
    for run in &report.runs {
        let path = run
            .provider
            .as_ref()
            .and_then(|p| p.path.clone())
            .expect("a library path");
        let path = Path::new(&path).canonicalize().expect("the library exists");
        assert!(path.starts_with(&checkout), "{}", path.display());
    }
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&elsewhere);
}
