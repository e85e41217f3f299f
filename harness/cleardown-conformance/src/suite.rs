//! The suite: the bundled fixtures and snapshots (embedded in the binary at
//! build time), a provider author's own fixture directories, and SPEC.md's
//! rules for the coverage report.

use std::path::{Path, PathBuf};

use crate::fixture::{self, Fixture, FixtureError};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// Where a fixture came from, which says where its snapshots live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped inside the binary; snapshots too.
    Bundled,
    /// A provider author's directory; snapshots in its `snapshots/`.
    Dir(PathBuf),
}

/// One fixture of the suite.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The parsed fixture.
    pub fixture: Fixture,
    /// Its source text (sent to the worker process).
    pub source: String,
    /// Where it came from.
    pub origin: Origin,
}

/// A fixture directory that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A fixture does not parse or check.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The directory cannot be read.
    #[error("cannot read fixtures from {dir}: {source}")]
    Read {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `--fixtures` directory with no fixture in it: running it would be
    /// a green run that checked nothing of the author's.
    #[error("{dir}: no fixture to run: {why}")]
    NoFixtures {
        /// The directory.
        dir: PathBuf,
        /// What it holds instead.
        why: String,
    },
    /// Two fixtures share a name, so their snapshots would collide.
    #[error("{file}: a fixture named `{name}` is already in the suite (from {other}); rename one")]
    Duplicate {
        /// The new fixture's file.
        file: String,
        /// The shared name.
        name: String,
        /// The other fixture's file.
        other: String,
    },
}

/// The fixtures to run.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// In run order: bundled first (by file name), then each added directory.
    pub entries: Vec<Entry>,
}

impl Suite {
    /// The bundled suite. Its fixtures are checked by the repository's tests,
    /// so an error here is a build of cleardown that should not have shipped.
    pub fn bundled() -> Result<Suite, SuiteError> {
        let mut suite = Suite::default();
        for (file, source) in bundled::FIXTURES {
            suite.push(fixture::parse(file, source)?, source, Origin::Bundled)?;
        }
        Ok(suite)
    }

    /// An empty suite, for running only an author's fixtures.
    pub fn empty() -> Suite {
        Suite::default()
    }

    fn push(&mut self, fixture: Fixture, source: &str, origin: Origin) -> Result<(), SuiteError> {
        if let Some(other) = self.entries.iter().find(|e| e.fixture.name == fixture.name) {
            return Err(SuiteError::Duplicate {
                file: fixture.file.clone(),
                name: fixture.name.clone(),
                other: other.fixture.file.clone(),
            });
        }
        self.entries.push(Entry {
            fixture,
            source: source.to_owned(),
            origin,
        });
        Ok(())
    }

    /// Adds every `*.toml` fixture of `dir` (snapshots in `dir/snapshots`).
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), SuiteError> {
        let read = |source| SuiteError::Read {
            dir: dir.to_path_buf(),
            source,
        };
        let everything: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let mut files: Vec<PathBuf> = everything
            .iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
            .cloned()
            .collect();
        if files.is_empty() {
            return Err(SuiteError::NoFixtures {
                dir: dir.to_path_buf(),
                why: no_fixtures_because(&everything),
            });
        }
        files.sort();
        for file in files {
            let source = fixture::read(&file)?;
            let fixture = fixture::parse(&file.display().to_string(), &source)?;
            self.push(fixture, &source, Origin::Dir(dir.to_path_buf()))?;
        }
        Ok(())
    }

    /// The transcript snapshot body for `name` (`FIXTURE` or
    /// `FIXTURE@PROFILE`).
    pub fn snapshot(&self, origin: &Origin, name: &str) -> Option<String> {
        match origin {
            Origin::Bundled => bundled_snapshot(name),
            Origin::Dir(dir) => crate::snapshot::read(&snapshot_dir(dir), name),
        }
    }
}

/// A snapshot embedded in the binary: a bundled fixture's transcript, or a
/// bundled provider's wire log.
pub fn bundled_snapshot(name: &str) -> Option<String> {
    bundled::SNAPSHOTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| crate::snapshot::body(text).to_owned())
}

/// Why a directory holding `entries` has no fixture, as plainly as it can
/// be said: empty, only other files, or fixtures one level down (the
/// search does not descend, so `snapshots/` is never taken for fixtures).
fn no_fixtures_because(entries: &[PathBuf]) -> String {
    let name = |p: &PathBuf| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    if entries.is_empty() {
        return "the directory is empty (fixtures are `*.toml` files directly in it)".to_owned();
    }
    let mut nested: Vec<String> = entries
        .iter()
        .filter(|p| p.is_dir())
        .filter(|p| {
            std::fs::read_dir(p).is_ok_and(|mut inner| {
                inner.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml")))
            })
        })
        .map(name)
        .collect();
    nested.sort();
    if !nested.is_empty() {
        return format!(
            "it holds no `*.toml` file itself; subdirectories are not searched, and `{}` holds fixtures (pass it as --fixtures)",
            nested.join("`, `")
        );
    }
    let mut others: Vec<String> = entries.iter().map(name).collect();
    others.sort();
    let shown = others.len().min(3);
    format!(
        "it holds no `*.toml` file, only {}{}",
        others[..shown].join(", "),
        if others.len() > shown {
            format!(" and {} more", others.len() - shown)
        } else {
            String::new()
        }
    )
}

/// Where an author directory's snapshots live.
pub fn snapshot_dir(fixtures: &Path) -> PathBuf {
    fixtures.join("snapshots")
}

/// One SPEC rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `D3`.
    pub id: String,
    /// Its first sentence.
    pub summary: String,
}

/// Every rule of SPEC.md, in document order: the lines `- ID text`.
pub fn rules() -> Vec<Rule> {
    rules_of(bundled::SPEC)
}

/// The rules of a SPEC text.
pub fn rules_of(spec: &str) -> Vec<Rule> {
    spec.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- ")?;
            let (id, text) = rest.split_once(' ')?;
            if !fixture::is_rule_id(id) {
                return None;
            }
            let summary = match text.find(". ") {
                Some(end) => &text[..=end],
                None => text,
            };
            Some(Rule {
                id: id.to_owned(),
                summary: summary.trim().to_owned(),
            })
        })
        .collect()
}

/// The SPEC text the binary was built with.
pub fn spec_text() -> &'static str {
    bundled::SPEC
}
