//! Replaying a fixture through a loaded provider into a normalized
//! transcript: aliases instead of handles, `r1`, `r2`… instead of request
//! ids, every event, result and error in order.

mod replayer;
mod show;

use std::{collections::HashSet, time::Duration};

use cleardown_host::{AddressCaps, AddressId, Capabilities};
use cleardown_oracle::history::History;

use crate::fixture::{Condition, Fixture, LineCondition, ProfileKey, flag};

pub use replayer::{replay, replay_with};

/// How a fixture's lines are bound to a provider's addresses, and the
/// profile that names its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Line alias → address, in the fixture's order.
    pub lines: Vec<(String, AddressId)>,
    /// `key=value,…` of the fixture's profile keys; empty if it has none.
    pub profile: String,
}

/// Whether a fixture runs against a provider's capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// It runs, bound so.
    Run(Binding),
    /// It is skipped; the reason names the capability.
    Skip(String),
}

/// Decides whether `fixture` runs against `caps` and binds its lines
/// (SPEC L2: every rule the declaration implies runs; the rest skip).
pub fn gate(fixture: &Fixture, caps: &Capabilities) -> Gate {
    for condition in &fixture.requires {
        if !condition.holds(caps) {
            return Gate::Skip(match condition {
                Condition::Flag {
                    name,
                    declared: true,
                } => format!("needs `{name}`, which the provider does not declare"),
                Condition::Flag {
                    name,
                    declared: false,
                } => format!("checks the absence of `{name}`, which the provider declares"),
                Condition::Number { name, .. } => format!(
                    "needs `{condition}`; the provider declares {name} {}",
                    name.value(caps)
                ),
            });
        }
    }
    let mut taken = HashSet::new();
    let mut lines = Vec::new();
    for (alias, conditions) in &fixture.lines {
        let found =
            caps.addresses.iter().enumerate().find(|(i, address)| {
                !taken.contains(i) && conditions.iter().all(|c| c.holds(address))
            });
        let Some((index, _)) = found else {
            return Gate::Skip(why_no_address(alias, conditions, caps, &lines));
        };
        taken.insert(index);
        lines.push((alias.clone(), AddressId(index as u32)));
    }
    let address = |line: &str| {
        lines
            .iter()
            .find(|(alias, _)| alias == line)
            .and_then(|(_, a)| caps.address(*a))
    };
    let on_off = |b: bool| if b { "on" } else { "off" };
    let profile: Vec<String> = fixture
        .profile
        .iter()
        .map(|key| match key {
            ProfileKey::Flag(name) => format!("{name}={}", on_off(flag(caps, *name))),
            ProfileKey::Number(number) => format!("{number}={}", number.value(caps)),
            ProfileKey::HangUpDetection => format!(
                "hang_up_detection={}",
                if caps.hang_up_delay_ms > 0 {
                    "delayed"
                } else {
                    "at_once"
                }
            ),
            ProfileKey::ConfDrop(line) => format!(
                "{line}.conf_drop={}",
                on_off(address(line).is_some_and(|a| a.conf_drop))
            ),
            ProfileKey::Sharing(line) => format!(
                "{line}.sharing={}",
                address(line).map_or("?", |a| a.sharing.name())
            ),
        })
        .collect();
    Gate::Run(Binding {
        lines,
        profile: profile.join(","),
    })
}

/// Why no free address can be bound to line `alias`: the conditions no
/// address meets at all, or else that the addresses meeting them are
/// already bound to the fixture's other lines.
fn why_no_address(
    alias: &str,
    conditions: &[LineCondition],
    caps: &Capabilities,
    bound: &[(String, AddressId)],
) -> String {
    let names = |addresses: &mut dyn Iterator<Item = &AddressCaps>| {
        addresses
            .map(|a| format!("`{}`", a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if caps.addresses.is_empty() {
        return format!("needs an address for line `{alias}`; the provider declares none");
    }
    let unmet: Vec<String> = conditions
        .iter()
        .filter(|c| !caps.addresses.iter().any(|a| c.holds(a)))
        .map(ToString::to_string)
        .collect();
    if !unmet.is_empty() {
        return format!(
            "needs an address with {} for line `{alias}`; none of the provider's {} address(es) ({}) has it",
            unmet.join(" and "),
            caps.addresses.len(),
            names(&mut caps.addresses.iter())
        );
    }
    let meeting: Vec<&AddressCaps> = caps
        .addresses
        .iter()
        .filter(|a| conditions.iter().all(|c| c.holds(a)))
        .collect();
    let wanted = if conditions.is_empty() {
        String::new()
    } else {
        format!(
            " with {}",
            conditions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    if meeting.is_empty() {
        return format!(
            "needs an address{wanted} for line `{alias}`; the provider's addresses meet each condition, but none meets all of them together"
        );
    }
    let taken: Vec<String> = bound.iter().map(|(line, _)| format!("`{line}`")).collect();
    format!(
        "needs a free address{wanted} for line `{alias}`; the provider's only such address(es), {}, are bound to line(s) {} of this fixture",
        names(&mut meeting.into_iter()),
        taken.join(", ")
    )
}

/// What the oracle knows of a provider for a fixture bound by `binding`.
pub fn oracle_context(caps: &Capabilities, binding: &Binding) -> cleardown_oracle::Context {
    cleardown_oracle::Context {
        caps: caps.clone(),
        lines: binding
            .lines
            .iter()
            .filter_map(|(alias, address)| Some((alias.clone(), caps.address(*address)?.clone())))
            .collect(),
    }
}

/// The snapshot a fixture's transcript is compared with under `binding`.
pub fn snapshot_name(fixture: &Fixture, binding: &Binding) -> String {
    if binding.profile.is_empty() {
        fixture.name.clone()
    } else {
        format!("{}@{}", fixture.name, binding.profile)
    }
}

pub use crate::fixture::uui_pattern;

/// Replay knobs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long to wait for outstanding Replies after a step before a
    /// request counts as never answered (D3). Waited at most once per
    /// fixture: after the first timeout the fixture has failed anyway.
    pub settle: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            settle: Duration::from_millis(1_000),
        }
    }
}

/// What replaying one fixture produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// The normalized transcript compared with the snapshot.
    pub transcript: String,
    /// Requests that never got their Reply (D3), by their `rN` names.
    pub missing_replies: Vec<String>,
    /// Handles left Idle and undeallocated at the end (T5): `app: alias`.
    pub leaks: Vec<String>,
    /// Why the host faulted the provider during the fixture (X2).
    pub fault: Option<String>,
    /// For a fixture with `wire = true`: every signal the far end received,
    /// as the provider put it on the wire, party by party.
    pub wire: Option<String>,
    /// Everything observed, step by step, in the fixture's names: what the
    /// oracle judges.
    #[serde(skip)]
    pub history: History,
    /// Where the oracle found the run breaking a SPEC rule ([`Outcome::judge`]).
    pub verdicts: Vec<RuleBroken>,
    /// Situations the oracle met but does not model.
    pub unjudged: Vec<String>,
    /// Where the oracle judged each situational rule (SPEC §0), for the
    /// report's coverage.
    #[serde(default)]
    pub reached: Vec<SituationReached>,
    /// Why the far end could not serve one of the fixture's far-end steps
    /// (a provider that simulates no far end, without a far-end driver):
    /// the fixture is skipped for this reason, never failed.
    #[serde(default)]
    pub unserved: Option<String>,
}

/// A situation a run reached for a rule ([`cleardown_oracle::coverage`]),
/// as plain data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SituationReached {
    /// The SPEC rule.
    pub rule: String,
    /// The situation's name.
    pub situation: String,
    /// The rule broke there.
    pub failed: bool,
}

/// A rule the oracle found broken, as plain data for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleBroken {
    /// The SPEC rule.
    pub rule: String,
    /// The 0-based step, or `None` for the run as a whole.
    pub step: Option<usize>,
    /// What happened and what was expected.
    pub message: String,
}

impl Outcome {
    /// Has the oracle judge the history of `fixture` under `context`.
    pub fn judge(&mut self, fixture: &Fixture, context: &cleardown_oracle::Context) {
        let steps: Vec<_> = fixture.steps.iter().map(|(_, s)| s.clone()).collect();
        let judgement = cleardown_oracle::judge(context, &steps, &self.history);
        self.verdicts = judgement
            .verdicts
            .into_iter()
            .map(|v| RuleBroken {
                rule: v.rule.to_owned(),
                step: v.step,
                message: v.message,
            })
            .collect();
        self.unjudged = judgement.unjudged;
        self.reached = judgement
            .reached
            .into_iter()
            .map(|r| SituationReached {
                rule: r.rule.to_owned(),
                situation: r.situation.name().to_owned(),
                failed: r.failed,
            })
            .collect();
    }
}
