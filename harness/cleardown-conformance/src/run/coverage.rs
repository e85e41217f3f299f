//! Where each rule was checked on one target (SPEC §0 "situation"): the
//! situations its declaration implies ([`cleardown_oracle::coverage`]), and
//! whether fixtures or exploration reached each and what happened there.

use std::collections::BTreeMap;

use cleardown_host::Capabilities;
use cleardown_oracle::coverage::{self as oracle, Situation};
use cleardown_report as report;

use crate::{replay::SituationReached, suite};

/// What the harness checks after every judged run: every request got its
/// Reply (D3), no handle was left Idle and undeallocated (T5), the provider
/// was not faulted (X2).
const EVERY_RUN: [&str; 3] = ["D3", "T5", "X2"];

/// Who reached a situation, and whether the rule broke there.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    fixtures: bool,
    exploration: bool,
    failed: bool,
}

/// Which reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    Fixture,
    Exploration,
}

/// What the judged runs of one target reached, rule by situation.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    seen: BTreeMap<(String, String), Seen>,
}

impl Reach {
    fn mark(&mut self, rule: &str, situation: &str, by: By, failed: bool) {
        let seen = self
            .seen
            .entry((rule.to_owned(), situation.to_owned()))
            .or_default();
        match by {
            By::Fixture => seen.fixtures = true,
            By::Exploration => seen.exploration = true,
        }
        seen.failed |= failed;
    }

    /// A judged run reached these situations; `met` are the rules its
    /// script cites (a fixture's `rules`, the rules a generated scenario's
    /// operations meet): it reached their "any run" situation, and broke
    /// those in `broke`.
    pub(crate) fn run(
        &mut self,
        by: By,
        reached: &[SituationReached],
        met: &[String],
        broke: &[String],
    ) {
        for r in reached {
            self.mark(&r.rule, &r.situation, by, r.failed);
        }
        // The harness checks these after every run, whatever it cites.
        for rule in met.iter().map(String::as_str).chain(EVERY_RUN) {
            self.mark(
                rule,
                Situation::AnyRun.name(),
                by,
                broke.iter().any(|b| b == rule),
            );
        }
    }

    fn get(&self, rule: &str, situation: Situation) -> Option<Seen> {
        self.seen
            .get(&(rule.to_owned(), situation.name().to_owned()))
            .copied()
    }
}

/// Every SPEC rule on the target `run`, declaring `caps`, from what its
/// fixtures and exploration reached.
pub(crate) fn rules(
    run: &report::Run,
    caps: &Capabilities,
    reach: &Reach,
) -> Vec<report::RuleCoverage> {
    suite::rules()
        .iter()
        .map(|rule| one(&rule.id, run, caps, reach))
        .collect()
}

fn one(rule: &str, run: &report::Run, caps: &Capabilities, reach: &Reach) -> report::RuleCoverage {
    let citing: Vec<&report::FixtureResult> = run
        .fixtures
        .iter()
        .filter(|f| f.rules.iter().any(|r| r == rule))
        .collect();
    let failed = citing.iter().any(|f| {
        f.status == report::Status::Fail
            && f.failures.iter().any(|x| x.rules.iter().any(|r| r == rule))
    }) || run
        .explore
        .as_ref()
        .is_some_and(|e| e.failures.iter().any(|f| f.rule == rule));
    let skipped_fixtures = || {
        citing
            .iter()
            .find(|f| f.status == report::Status::Skip)
            .and_then(|f| f.skip_reason.clone())
    };
    // Where the declaration implies no situation of the rule, it is
    // skipped saying why (unless something still broke it).
    let skip = |reason: String| report::RuleCoverage {
        rule: rule.to_owned(),
        status: if failed {
            report::RuleStatus::Fail
        } else {
            report::RuleStatus::Skip
        },
        situations: Vec::new(),
        skip_reason: Some(reason),
    };
    if let Some(need) = oracle::needs(rule, caps) {
        return skip(format!("needs {need}"));
    }
    let implied = oracle::implied(rule, caps);
    if implied.is_empty() {
        return skip("no situation it applies to exists under this declaration".to_owned());
    }
    let situations: Vec<report::SituationCoverage> = implied
        .into_iter()
        .map(|situation| {
            let seen = reach.get(rule, situation);
            report::SituationCoverage {
                situation: situation.name().to_owned(),
                status: match seen {
                    Some(s) if s.failed => report::SituationStatus::Fail,
                    Some(_) => report::SituationStatus::Pass,
                    None => report::SituationStatus::Unreached,
                },
                fixtures: seen.is_some_and(|s| s.fixtures),
                exploration: seen.is_some_and(|s| s.exploration),
            }
        })
        .collect();
    let unreached = situations
        .iter()
        .any(|s| s.status == report::SituationStatus::Unreached);
    let any_run_only = situations.len() == 1 && situations[0].situation == Situation::AnyRun.name();
    let (status, skip_reason) = if failed
        || situations
            .iter()
            .any(|s| s.status == report::SituationStatus::Fail)
    {
        (report::RuleStatus::Fail, None)
    } else if !unreached {
        (report::RuleStatus::Pass, None)
    } else if citing.is_empty()
        && situations
            .iter()
            .all(|s| s.status == report::SituationStatus::Unreached)
    {
        (report::RuleStatus::Uncovered, None)
    } else if any_run_only && citing.iter().all(|f| f.status == report::Status::Skip) {
        // Nothing but fixtures checks it, and each skipped: their gate says
        // what it needs.
        (report::RuleStatus::Skip, skipped_fixtures())
    } else {
        (report::RuleStatus::Partial, None)
    };
    report::RuleCoverage {
        rule: rule.to_owned(),
        status,
        situations,
        skip_reason,
    }
}
