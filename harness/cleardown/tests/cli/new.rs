//! `cleardown new` (issue 17): the crate it writes builds and its own
//! `cargo test` — which runs `cleardown conformance` on the provider, the
//! bundled suite, its example fixture and exploration — is green; and bad
//! names or a directory in use are refused, changing nothing.

use std::process::Command;

use crate::{check_refused, cleardown, scratch, stderr, stdout};

#[test]
fn l1_a_new_provider_builds_and_passes_the_suite() {
    let dir = scratch("new");
    let crate_dir = dir.join("isdn-bri");
    let output = cleardown(&[
        "new",
        "isdn-bri",
        "--dir",
        crate_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("cargo test"),
        "{}",
        stdout(&output)
    );
    for file in [
        "Cargo.toml",
        "README.md",
        "src/lib.rs",
        "tests/conformance.rs",
        "fixtures/first-call.toml",
        "fixtures/snapshots/first-call.snap",
        ".github/workflows/conformance.yml",
    ] {
        assert!(crate_dir.join(file).is_file(), "{file} written");
    }
    // The workspace's lock file: the same dependency versions, already
    // downloaded, so the test needs no registry access of its own.
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .expect("lock file");
    let test = Command::new(env!("CARGO"))
        .arg("test")
        .current_dir(&crate_dir)
        .env("CLEARDOWN", env!("CARGO_BIN_EXE_cleardown"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("cargo runs");
    let (out, err) = (
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr),
    );
    assert!(
        test.status.success(),
        "the new crate's tests fail:\n{out}\n{err}"
    );
    assert!(
        out.contains("test passes_the_conformance_suite ... ok"),
        "{out}"
    );

    // Refusals change nothing.
    check_refused(
        &[
            "new",
            "isdn-bri",
            "--dir",
            crate_dir.to_str().expect("utf-8"),
        ],
        "exists and is not empty",
    );
    check_refused(&["new", "Bad Name"], "is not a provider name");
    let _ = std::fs::remove_dir_all(dir);
}
