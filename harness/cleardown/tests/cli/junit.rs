//! The JUnit report as CI systems read it (issue 16, items 1 and 2): a run
//! with a target that passes, one that fails fixtures and exploration, one
//! that does not load (its configuration carrying U+FFFF), and skips is
//! validated with `xmllint` against the Jenkins xUnit plugin's
//! `junit-10.xsd` and, suite by suite, Maven Surefire's schema (both in
//! `tests/xsd/`, sources named in its README). Its counts agree with its
//! cases at every level, and its class names do not depend on where the
//! libraries are.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{cleardown, scratch, stderr};

fn xsd(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/xsd")
        .join(name)
}

fn xmllint() -> &'static str {
    let found = Command::new("xmllint").arg("--version").output();
    assert!(
        found.is_ok(),
        "xmllint is not installed, so the JUnit schema test cannot run: install Debian's \
         `libxml2-utils` (apt-get install libxml2-utils), as .ci/run does"
    );
    "xmllint"
}

/// `xmllint --schema SCHEMA FILE`: Ok, or what it said.
fn validate(schema: &Path, file: &Path) -> Result<(), String> {
    let output = Command::new(xmllint())
        .args(["--noout", "--schema"])
        .arg(schema)
        .arg(file)
        .output()
        .expect("xmllint runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The value of attribute `name` in the start tag that begins `tag`.
fn attribute(tag: &str, name: &str) -> Option<usize> {
    let head = &tag[..tag.find('>')?];
    let at = head.find(&format!(" {name}=\""))? + name.len() + 3;
    head[at..].split('"').next()?.parse().ok()
}

/// Each `<testsuite …>…</testsuite>` of `xml`, whole.
fn suites(xml: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<testsuite ") {
        let tail = &rest[start..];
        let end = tail.find("</testsuite>").expect("a closed testsuite") + "</testsuite>".len();
        out.push(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

fn count(suite: &str, what: &str) -> usize {
    suite.matches(what).count()
}

#[test]
fn junit_is_valid_for_jenkins_and_surefire_and_its_counts_agree() {
    xmllint();
    let dir = scratch("junit-schemas");
    let file = dir.join("report.xml");
    let (mutant, pbx) = (
        cleardown_host::locate::find("mutant-provider").expect("mutant-provider builds"),
        cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds"),
    );
    let broken = format!("mutant=reject_undeclared;inner={}", pbx.display());
    let output = cleardown(&[
        "conformance",
        "--plugin",
        mutant.to_str().expect("utf-8"),
        "--config",
        &broken,
        "--plugin",
        "pbx-sim",
        "--config",
        "uui=16",
        "--config",
        "uui=16;\u{FFFF}=\u{7}",
        "--filter",
        "r",
        "--scenarios",
        "50",
        "--shrink-budget",
        "0",
        "--explore-out",
        dir.to_str().expect("utf-8"),
        "--junit",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a load error: {}",
        stderr(&output)
    );
    let xml = std::fs::read_to_string(&file).expect("junit written");

    validate(&xsd("junit-10.xsd"), &file).unwrap_or_else(|e| panic!("junit-10.xsd: {e}\n{xml}"));
    for (index, suite) in suites(&xml).into_iter().enumerate() {
        let alone = dir.join(format!("suite-{index}.xml"));
        std::fs::write(
            &alone,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{suite}\n"),
        )
        .expect("written");
        validate(&xsd("surefire-test-report.xsd"), &alone)
            .unwrap_or_else(|e| panic!("surefire-test-report.xsd, suite {index}: {e}\n{suite}"));
    }

    // The counts are the cases', per suite and in total.
    let mut totals = (0, 0, 0);
    for suite in suites(&xml) {
        let cases = count(suite, "<testcase ");
        assert_eq!(attribute(suite, "tests"), Some(cases), "{suite}");
        assert_eq!(
            attribute(suite, "failures"),
            Some(count(suite, "<failure")),
            "{suite}"
        );
        assert_eq!(
            attribute(suite, "errors"),
            Some(count(suite, "<error")),
            "{suite}"
        );
        assert_eq!(
            attribute(suite, "skipped"),
            Some(count(suite, "<skipped")),
            "{suite}"
        );
        totals.0 += cases;
        totals.1 += count(suite, "<failure");
        totals.2 += count(suite, "<error");
    }
    let root = &xml[xml.find("<testsuites ").expect("a root")..];
    assert_eq!(attribute(root, "tests"), Some(totals.0), "{xml}");
    assert_eq!(attribute(root, "failures"), Some(totals.1), "{xml}");
    assert_eq!(attribute(root, "errors"), Some(totals.2), "{xml}");
    // Each `--config` goes to each `--plugin`: the two that fit load.
    assert!(
        totals.1 > 0 && totals.2 == 4,
        "failures and four load errors: {xml}"
    );

    // The load error is a case with a type; the character XML cannot carry
    // is there, escaped, not dropped.
    assert!(
        xml.contains("<testcase name=\"load\"") && xml.contains("type=\"LoadError\""),
        "{xml}"
    );
    assert!(xml.contains("\\u{ffff}") && xml.contains("\\u{7}"), "{xml}");
    // Class names are the declared names and configurations, without the
    // library's directories and without a `.`.
    assert!(
        xml.contains("classname=\"pbx-sim [uui=16]\""),
        "a stable class name: {xml}"
    );
    let directory = pbx.parent().expect("a directory").display().to_string();
    for classname in xml.split("classname=\"").skip(1) {
        let classname = classname.split('"').next().unwrap_or_default();
        assert!(!classname.contains('.'), "`{classname}`");
        // (The mutant's configuration names its inner library's path: that
        // is the author's own text, kept.)
        if !classname.contains("inner=") {
            assert!(!classname.contains(&directory), "`{classname}`");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
