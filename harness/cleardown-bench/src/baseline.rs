//! Named baselines: a run's per-size medians saved as `DIR/NAME.json`, and
//! the comparison of a later run with them.

use std::{
    io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::BenchResult;

/// The `schema` of a baseline file.
pub const BASELINE_SCHEMA: &str = "cleardown-bench-baseline/1";

/// A saved run: what was measured and each size's median.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`BASELINE_SCHEMA`].
    pub schema: String,
    /// The name it was saved under (its file is `NAME.json`).
    pub name: String,
    pub provider: BaselineProvider,
    /// Timed samples per size.
    #[serde(default)]
    pub samples: usize,
    /// Ascending by `n`.
    pub sizes: Vec<BaselineSize>,
}

/// The provider a baseline measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineProvider {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub config: String,
    #[serde(default)]
    pub address: String,
}

/// One size of a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSize {
    pub n: usize,
    pub median_ns: u64,
    #[serde(default)]
    pub p90_ns: u64,
}

/// A run compared with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline's name.
    pub baseline: String,
    pub baseline_provider: BaselineProvider,
    /// A size regressed when its median is more than this many percent
    /// above the baseline's.
    pub threshold_pct: f64,
    pub sizes: Vec<Change>,
}

/// One size's change against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub n: usize,
    pub baseline_ns: u64,
    pub median_ns: u64,
    /// `(median - baseline) / baseline × 100`; positive is slower.
    pub change_pct: f64,
    /// `change_pct > threshold_pct`.
    pub regressed: bool,
}

impl Comparison {
    /// The sizes slower than the baseline beyond the threshold.
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.sizes.iter().filter(|c| c.regressed)
    }

    /// Whether any size regressed.
    pub fn regressed(&self) -> bool {
        self.regressions().next().is_some()
    }
}

/// Why a baseline could not be saved, read or compared. One line each.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(
        "baseline name {0:?}: use letters, digits, `.`, `_` and `-`, starting with a letter or digit"
    )]
    BadName(String),
    #[error(
        "no baseline `{name}` in {} (save one with --save-baseline {name})",
        .dir.display()
    )]
    Missing { name: String, dir: PathBuf },
    #[error("cannot read baseline {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("baseline {} is not a cleardown bench baseline: {source}", .path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("baseline {} has schema {found:?}, this cleardown reads {BASELINE_SCHEMA:?}", .path.display())]
    Schema { path: PathBuf, found: String },
    #[error("cannot write baseline {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("baseline `{name}` measured provider {theirs}, this run {ours}")]
    OtherProvider {
        name: String,
        theirs: String,
        ours: String,
    },
    #[error("baseline `{name}` has sizes {theirs}, this run {ours} (run with --sizes {theirs})")]
    OtherSizes {
        name: String,
        theirs: String,
        ours: String,
    },
    #[error("threshold {0}: a percentage of 0 or more is needed")]
    BadThreshold(f64),
}

impl Baseline {
    /// The baseline of `result`, to be saved as `name`.
    pub fn from_result(name: &str, result: &BenchResult) -> Result<Baseline, BaselineError> {
        check_name(name)?;
        let p = &result.provider;
        Ok(Baseline {
            schema: BASELINE_SCHEMA.to_owned(),
            name: name.to_owned(),
            provider: BaselineProvider {
                name: p.name.clone(),
                version: p.version.clone(),
                config: p.config.clone(),
                address: p.address.clone(),
            },
            samples: result.samples,
            sizes: result
                .sizes
                .iter()
                .map(|s| BaselineSize {
                    n: s.n,
                    median_ns: s.summary.median_ns,
                    p90_ns: s.summary.p90_ns,
                })
                .collect(),
        })
    }

    /// The file of baseline `name` in `dir`.
    pub fn path(dir: &Path, name: &str) -> Result<PathBuf, BaselineError> {
        check_name(name)?;
        Ok(dir.join(format!("{name}.json")))
    }

    /// Reads baseline `name` from `dir`.
    pub fn load(dir: &Path, name: &str) -> Result<Baseline, BaselineError> {
        let path = Baseline::path(dir, name)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(BaselineError::Missing {
                    name: name.to_owned(),
                    dir: dir.to_path_buf(),
                });
            }
            Err(source) => return Err(BaselineError::Read { path, source }),
        };
        // The schema first, so a future format is named as such rather than
        // reported as a missing field.
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| BaselineError::Parse {
                path: path.clone(),
                source,
            })?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(BASELINE_SCHEMA) => {}
            found => {
                return Err(BaselineError::Schema {
                    path,
                    found: found.unwrap_or("(none)").to_owned(),
                });
            }
        }
        let mut baseline: Baseline = serde_json::from_value(value)
            .map_err(|source| BaselineError::Parse { path, source })?;
        // The file's name is the baseline's name, whatever it was saved as.
        baseline.name = name.to_owned();
        Ok(baseline)
    }

    /// Writes this baseline to `dir/NAME.json`, creating `dir`, and returns
    /// the file. The file is replaced whole or not at all.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, BaselineError> {
        let path = Baseline::path(dir, &self.name)?;
        let write_error = |source| BaselineError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(write_error)?;
        // Plain data with string keys: serialising cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        let partial = dir.join(format!(".{}.json.partial", self.name));
        std::fs::write(&partial, text).map_err(write_error)?;
        std::fs::rename(&partial, &path).map_err(write_error)?;
        Ok(path)
    }

    /// Whether a run of `provider` (its declared name) can be compared with
    /// this baseline: checked before a run, so a mismatch costs nothing.
    pub fn check_provider(&self, provider: &str) -> Result<(), BaselineError> {
        if self.provider.name == provider {
            return Ok(());
        }
        Err(BaselineError::OtherProvider {
            name: self.name.clone(),
            theirs: self.provider.name.clone(),
            ours: provider.to_owned(),
        })
    }

    /// Whether a run of `sizes` (ascending, each once) can be compared with
    /// this baseline: checked before a run, so a mismatch costs nothing.
    pub fn check_sizes(&self, sizes: &[usize]) -> Result<(), BaselineError> {
        let theirs: Vec<usize> = self.sizes.iter().map(|s| s.n).collect();
        if theirs == sizes {
            return Ok(());
        }
        Err(BaselineError::OtherSizes {
            name: self.name.clone(),
            theirs: list(&theirs),
            ours: list(sizes),
        })
    }

    /// Compares `result` with this baseline, size by size. The provider
    /// must be the same (by declared name; version and configuration may
    /// differ, that is what one compares), and so must the sizes.
    pub fn compare(
        &self,
        result: &BenchResult,
        threshold_pct: f64,
    ) -> Result<Comparison, BaselineError> {
        if !(threshold_pct.is_finite() && threshold_pct >= 0.0) {
            return Err(BaselineError::BadThreshold(threshold_pct));
        }
        self.check_provider(&result.provider.name)?;
        let ours: Vec<usize> = result.sizes.iter().map(|s| s.n).collect();
        self.check_sizes(&ours)?;
        let sizes = self
            .sizes
            .iter()
            .zip(&result.sizes)
            .map(|(base, now)| {
                let median_ns = now.summary.median_ns;
                let change_pct = change_pct(base.median_ns, median_ns);
                Change {
                    n: base.n,
                    baseline_ns: base.median_ns,
                    median_ns,
                    change_pct,
                    regressed: change_pct > threshold_pct,
                }
            })
            .collect();
        Ok(Comparison {
            baseline: self.name.clone(),
            baseline_provider: self.provider.clone(),
            threshold_pct,
            sizes,
        })
    }
}

/// The change from `base` to `now` in percent; a 0 ns baseline counts as 1 ns.
fn change_pct(base: u64, now: u64) -> f64 {
    let base = base.max(1) as f64;
    (now as f64 - base) / base * 100.0
}

fn list(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn check_name(name: &str) -> Result<(), BaselineError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if first_ok && rest_ok && name.len() <= 100 {
        Ok(())
    } else {
        Err(BaselineError::BadName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProviderRun, SizeResult, stats::Summary};

    fn result(name: &str, medians: &[(usize, u64)]) -> BenchResult {
        BenchResult {
            provider: ProviderRun {
                name: name.to_owned(),
                version: "1.0.0".to_owned(),
                config: String::new(),
                path: None,
                address: "ext-100".to_owned(),
            },
            samples: 3,
            warmup: 1,
            sizes: medians
                .iter()
                .map(|&(n, median)| SizeResult {
                    n,
                    calls: n + 1,
                    summary: Summary::of(&[median]),
                    per_call_ns: median / (n as u64 + 1),
                    samples_ns: vec![median],
                })
                .collect(),
        }
    }

    #[test]
    fn compare_flags_sizes_beyond_the_threshold() {
        let base = Baseline::from_result("main", &result("pbx", &[(1, 1000), (10, 2000)]))
            .expect("valid name");
        let now = result("pbx", &[(1, 1100), (10, 2300)]);
        let comparison = base.compare(&now, 10.0).expect("comparable");
        assert_eq!(comparison.sizes[0].change_pct, 10.0);
        assert!(
            !comparison.sizes[0].regressed,
            "exactly the threshold is not beyond it"
        );
        assert_eq!(comparison.sizes[1].change_pct, 15.0);
        assert!(comparison.sizes[1].regressed);
        assert_eq!(
            comparison.regressions().map(|c| c.n).collect::<Vec<_>>(),
            [10]
        );
        assert!(base.compare(&now, 20.0).is_ok_and(|c| !c.regressed()));
    }

    #[test]
    fn compare_refuses_another_provider_or_other_sizes() {
        let base = Baseline::from_result("main", &result("pbx", &[(1, 1000)])).expect("name");
        assert!(matches!(
            base.compare(&result("sip", &[(1, 1000)]), 10.0),
            Err(BaselineError::OtherProvider { .. })
        ));
        let other = base.compare(&result("pbx", &[(1, 1000), (10, 1)]), 10.0);
        assert_eq!(
            other.map_err(|e| e.to_string()).err().as_deref(),
            Some("baseline `main` has sizes 1, this run 1,10 (run with --sizes 1)")
        );
        assert!(matches!(
            base.compare(&result("pbx", &[(1, 1000)]), -1.0),
            Err(BaselineError::BadThreshold(_))
        ));
    }

    #[test]
    fn a_zero_baseline_counts_as_one_nanosecond() {
        assert_eq!(change_pct(0, 2), 100.0);
        assert_eq!(change_pct(4, 2), -50.0);
    }

    #[test]
    fn names_are_file_stems() {
        for good in ["main", "v0.1.0", "before-fix_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "../up", "a/b", "with space", "-flag"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = std::env::temp_dir().join(format!("cleardown-bench-unit-{}", std::process::id()));
        let base =
            Baseline::from_result("round", &result("pbx", &[(1, 5), (10, 50)])).expect("name");
        let path = base.save(&dir).expect("saved");
        assert_eq!(path, dir.join("round.json"));
        assert_eq!(Baseline::load(&dir, "round").expect("loads"), base);
        assert!(matches!(
            Baseline::load(&dir, "absent"),
            Err(BaselineError::Missing { .. })
        ));
        std::fs::write(dir.join("junk.json"), "{").expect("write");
        assert!(matches!(
            Baseline::load(&dir, "junk"),
            Err(BaselineError::Parse { .. })
        ));
        std::fs::write(
            dir.join("future.json"),
            r#"{"schema": "cleardown-bench-baseline/9"}"#,
        )
        .expect("write");
        assert!(matches!(
            Baseline::load(&dir, "future"),
            Err(BaselineError::Schema { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
