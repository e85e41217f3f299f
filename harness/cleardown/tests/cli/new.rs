//! `cleardown new` (issue 17): the crate it writes builds, and the CI
//! workflow it writes runs green here, step by step as a GitHub runner
//! would: its own `cargo test` (which runs `cleardown conformance` on the
//! provider: the bundled suite, its example fixture and exploration), then
//! the JUnit report and the Markdown summary; and bad names or a directory
//! in use are refused, changing nothing.

use std::path::Path;
use std::process::Command;

use yaml_rust2::YamlLoader;

use crate::{check_refused, cleardown, scratch, stderr, stdout};

#[test]
fn l1_a_new_provider_builds_and_passes_the_suite() {
    let dir = scratch("new");
    // Where the workflow's runner checks the provider out (`run_workflow`).
    let crate_dir = dir.join("github").join("provider");
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
    run_workflow(&crate_dir, &dir);

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

/// Runs the generated `.github/workflows/conformance.yml` of `crate_dir`
/// as its runner would, `crate_dir`'s parent standing for the runner's
/// workspace, with what a runner provides emulated here: the provider's
/// checkout is `crate_dir`, the cleardown checkout is this workspace
/// (linked where the workflow checks it out), the toolchain is the one running this test, the installed
/// `cleardown` is the one this test built (a release install would take
/// minutes; its path is checked instead), and the report action's input is
/// checked to be a JUnit report. An action this does not know fails the
/// test, so that a step added to the template is emulated on purpose.
fn run_workflow(crate_dir: &Path, scratch: &Path) {
    let text = std::fs::read_to_string(crate_dir.join(".github/workflows/conformance.yml"))
        .expect("workflow written");
    let docs = YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let job = &docs[0]["jobs"]["conformance"];
    let steps = job["steps"].as_vec().expect("jobs.conformance.steps");
    let github = crate_dir.parent().expect("the runner's workspace");
    let run_dir = github.join(
        job["defaults"]["run"]["working-directory"]
            .as_str()
            .unwrap_or("."),
    );
    let workspace = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cleardown"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = scratch.join("step-summary.md");
    let mut ran = Vec::new();
    for step in steps {
        let name = step["name"].as_str().unwrap_or("");
        if let Some(action) = step["uses"].as_str() {
            let with = &step["with"];
            match action.split('@').next().unwrap_or(action) {
                "actions/checkout" => {
                    let place = github.join(with["path"].as_str().unwrap_or("."));
                    match with["repository"].as_str() {
                        // The provider's own repository: `crate_dir` itself.
                        None => assert_eq!(place, crate_dir, "step {name:?}"),
                        Some(repository) => {
                            assert_eq!(repository, "${{ vars.CLEARDOWN_REPOSITORY }}");
                            let _ = std::fs::remove_file(&place);
                            std::os::unix::fs::symlink(workspace, &place).expect("checkout link");
                        }
                    }
                }
                "dtolnay/rust-toolchain" => {}
                "mikepenz/action-junit-report" => {
                    let report = with["report_paths"].as_str().expect("report_paths");
                    let xml = std::fs::read_to_string(github.join(report))
                        .unwrap_or_else(|e| panic!("{report}: {e}"));
                    assert!(xml.contains("<testsuites"), "{report}: {xml}");
                    assert!(xml.contains("failures=\"0\""), "{report}: {xml}");
                }
                other => panic!("step {name:?}: no local stand-in for the action {other}"),
            }
            ran.push(action.to_owned());
            continue;
        }
        let script = step["run"]
            .as_str()
            .unwrap_or_else(|| panic!("step {name:?}: neither uses nor run"));
        if let Some(install) = script.strip_prefix("cargo install --locked --path ") {
            let manifest = std::fs::read_to_string(run_dir.join(install.trim()).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("step {name:?}: {install}: {e}"));
            assert!(
                manifest.contains("name = \"cleardown\""),
                "{install} is the CLI"
            );
            ran.push(script.to_owned());
            continue;
        }
        let output = Command::new("bash")
            .args(["-e", "-c", script])
            .current_dir(&run_dir)
            .env("PATH", &path)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CLEARDOWN")
            .output()
            .expect("bash runs");
        let (out, err) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(
            output.status.success(),
            "step {name:?} fails:\n{out}\n{err}"
        );
        if script.trim() == "cargo test" {
            assert!(
                out.contains("test passes_the_conformance_suite ... ok"),
                "{out}"
            );
        }
        ran.push(script.to_owned());
    }
    assert!(
        ran.iter().any(|step| step.trim() == "cargo test"),
        "{ran:?}"
    );
    assert!(
        ran.iter().any(|step| step.contains("action-junit-report")),
        "{ran:?}"
    );
    let summary = std::fs::read_to_string(&summary).expect("the step summary written");
    assert!(summary.contains("| "), "a Markdown table: {summary}");
}
