//! `cargo test` runs the cleardown conformance suite on this provider: every
//! bundled fixture, the fixtures in `fixtures/`, and exploration. It builds
//! the provider's library through cargo (so the test loads what it just
//! built) and runs the `cleardown` command: the one in `CLEARDOWN`, else the
//! one on `PATH`.

use std::path::PathBuf;
use std::process::Command;

/// The provider's library, as cargo reports it after building it.
fn plugin() -> PathBuf {
    // The library target's name: the package's, with `_` for `-`.
    let library = env!("CARGO_PKG_NAME").replace('-', "_");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--lib", "--message-format=json-render-diagnostics", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == library.as_str())
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|file| file.as_str().map(PathBuf::from))
        .find(|file| file.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .expect("cargo built the provider's cdylib")
}

#[test]
fn passes_the_conformance_suite() {
    let cleardown = std::env::var_os("CLEARDOWN").unwrap_or_else(|| "cleardown".into());
    let output = Command::new(&cleardown)
        .args(["conformance", "--plugin"])
        .arg(plugin())
        .args(["--fixtures", concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {cleardown:?} ({e}): install cleardown, or set CLEARDOWN to it")
        });
    assert!(
        output.status.success(),
        "cleardown conformance failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
