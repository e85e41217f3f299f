//! Snapshots in insta's file format, so `cargo insta review` works on them,
//! read and compared without insta so the `cleardown` binary can carry them.

use std::{fmt::Write as _, path::Path};

/// The body of an insta `.snap` file: what follows its `---` header. Files
/// without a header are taken whole.
pub fn body(file: &str) -> &str {
    let Some(rest) = file.strip_prefix("---\n") else {
        return file;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => file,
    }
}

/// Whether a transcript matches a snapshot body. Trailing blank space is
/// not significant (insta trims it too).
pub fn matches(expected: &str, actual: &str) -> bool {
    normalize(expected) == normalize(actual)
}

fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

/// A unified diff, `-` expected (the snapshot), `+` actual, with context.
pub fn diff(expected: &str, actual: &str) -> String {
    let expected = normalize(expected);
    let actual = normalize(actual);
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                let _ = write!(out, "{sign} {}", change.value());
                if change.missing_newline() {
                    out.push('\n');
                }
            }
        }
        out.push_str("  ...\n");
    }
    out
}

/// What a snapshot holds; its name is the insta header's `expression`, so
/// `cargo insta review` says which of the two it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The normalized, provider-neutral transcript.
    Transcript,
    /// The provider's own wire text: what the far end received.
    WireLog,
}

impl Kind {
    /// `transcript` or `wire log`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transcript => "transcript",
            Kind::WireLog => "wire log",
        }
    }
}

/// A snapshot file in insta's format, as `cargo insta review` expects.
pub fn file_contents(source: &str, kind: Kind, body: &str) -> String {
    format!(
        "---\nsource: {source}\nexpression: {}\n---\n{}\n",
        kind.name(),
        normalize(body)
    )
}

/// Reads snapshot `name` (`NAME.snap`) from `dir`: its body, or `None` if
/// there is no such file.
pub fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(format!("{name}.snap")))
        .ok()
        .map(|text| body(&text).to_owned())
}

/// Writes `NAME.snap.new` beside where `NAME.snap` belongs, for review.
pub fn write_pending(
    dir: &Path,
    name: &str,
    kind: Kind,
    body: &str,
) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{name}.snap.new"));
    std::fs::write(&path, file_contents("cleardown conformance", kind, body))?;
    Ok(path)
}
