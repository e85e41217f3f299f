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
/// not significant (insta trims it too), nor is the order among the calls
/// whose states one app is told between two Replies (SPEC D4: the order
/// among one operation's affected calls is the provider's; each call's own
/// events keep their order, and a Reply stays after them).
pub fn matches(expected: &str, actual: &str) -> bool {
    let (expected, actual) = (normalize(expected), normalize(actual));
    expected == actual || canonical(&expected) == canonical(&actual)
}

/// The transcript with every run of one app's state lines (not broken by a
/// Reply, a step or an answer) sorted by call, stably.
fn canonical(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let state_of = |line: &str| -> Option<(String, String)> {
        let event = line.strip_prefix("  ")?;
        if event.starts_with(' ') || event.starts_with("->") {
            return None;
        }
        let (app, rest) = event.split_once(": ")?;
        let call = rest.split(' ').next()?;
        (call != "reply").then(|| (app.to_owned(), call.to_owned()))
    };
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut index = 0;
    while index < lines.len() {
        let Some((app, _)) = state_of(lines[index]) else {
            out.push(lines[index]);
            index += 1;
            continue;
        };
        let mut run: Vec<(String, &str)> = Vec::new();
        while let Some((a, call)) = lines.get(index).and_then(|l| state_of(l)) {
            if a != app {
                break;
            }
            run.push((call, lines[index]));
            index += 1;
        }
        run.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(run.into_iter().map(|(_, line)| line));
    }
    out.join("\n")
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

#[cfg(test)]
mod tests {
    use super::matches;

    const SNAPSHOT: &str = "app: drop conf\n  -> r3\n  app: a Idle Owner\n  app: b Idle Owner\n  app: conf Idle Owner\n  app: reply r3 Ok\n  monitor: a Idle Monitor\n  monitor: b Idle Monitor\n";

    /// SPEC D4: a cascade reported in another order is the same transcript.
    #[test]
    fn d4_the_order_among_one_operations_calls_is_free() {
        let reordered = "app: drop conf\n  -> r3\n  app: conf Idle Owner\n  app: b Idle Owner\n  app: a Idle Owner\n  app: reply r3 Ok\n  monitor: b Idle Monitor\n  monitor: a Idle Monitor\n";
        assert!(matches(SNAPSHOT, reordered));
    }

    /// ... but not a state after the Reply, nor one call's own events
    /// swapped, nor another app's.
    #[test]
    fn d4_the_reply_and_each_calls_own_order_are_not() {
        let late = "app: drop conf\n  -> r3\n  app: a Idle Owner\n  app: b Idle Owner\n  app: reply r3 Ok\n  app: conf Idle Owner\n  monitor: a Idle Monitor\n  monitor: b Idle Monitor\n";
        assert!(!matches(SNAPSHOT, late));
        let own = "x\n  app: a Disconnected/Normal Owner\n  app: a Idle Owner\n";
        let swapped = "x\n  app: a Idle Owner\n  app: a Disconnected/Normal Owner\n";
        assert!(!matches(own, swapped));
        let other_app = SNAPSHOT.replace("monitor: b Idle Monitor", "monitor: b Idle Owner");
        assert!(!matches(SNAPSHOT, &other_app));
    }
}
