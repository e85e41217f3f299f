//! The oracle: SPEC.md as code. Given what a provider declares, a script
//! (a fixture's steps) and what a run of it observed ([`history::History`]),
//! [`judge`] says, rule by rule, where the run breaks the contract: the SPEC
//! rule, the step, and what was expected instead.
//!
//! It is a checker in Jepsen's sense, not a second provider. The state of
//! the world is *tracked from the observation* ([`world::World`]: each
//! call's last reported status, who holds it with which privilege, its
//! conference and consultation links, what each far party received), and
//! each step is judged against what SPEC fixes for the situation the call
//! was in before it: which refusal (D1, D2, R2, R3, T2, U2, U4), which
//! calls change and to what (D5–D8, C1–C6, T3), what the far end must
//! receive (§10, D6, D7, R1, U3), which apps hear it (D4, P1), and what
//! holds over the whole run (S1, D3, T5). Where SPEC leaves freedom, it
//! checks a constraint, never a choice: the order among one operation's
//! affected calls (D4), the transient states on the way (S2), a provider's
//! behaviour where SPEC says nothing. A call's appearances at BridgedShared
//! stations are one call to it (B1-B3, S3), placed on their far call by
//! the line the host recorded for each (`History::lines`). Situations it
//! does not model (transfer completion, a station going on-hook, steps
//! while events are paused) are marked and left to the snapshots;
//! [`Judgement::unjudged`] says which, so the oracle never claims to have
//! checked what it did not.
//!
//! Architecture invariant: the oracle does no I/O, loads no provider and
//! knows no provider: it sees declarations and observations only.

pub mod coverage;
mod effects;
pub mod history;
mod step;
mod world;

use cleardown_contract::{AddressCaps, Capabilities};
use cleardown_fixture::Step;

use crate::{history::History, world::World};

/// What the oracle knows of the provider: its declaration, and how the
/// script's line aliases were bound to its addresses.
#[derive(Debug, Clone)]
pub struct Context {
    /// The declared capabilities (SPEC L2).
    pub caps: Capabilities,
    /// Line alias → the capabilities of the address it was bound to.
    pub lines: Vec<(String, AddressCaps)>,
}

impl Context {
    /// The address a line alias was bound to.
    pub fn line(&self, alias: &str) -> Option<&AddressCaps> {
        self.lines.iter().find(|(a, _)| a == alias).map(|(_, c)| c)
    }
}

/// One place where the run breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The SPEC rule (`D6`).
    pub rule: &'static str,
    /// The 0-based index of the step where the run diverges; `None` for a
    /// verdict on the run as a whole (a Reply never sent, a leak).
    pub step: Option<usize>,
    /// What happened and what the rule expected, in the script's names.
    pub message: String,
}

/// The oracle's answer for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Every divergence, in step order.
    pub verdicts: Vec<Verdict>,
    /// Situations met that the oracle does not model, so did not judge
    /// beyond the rules that hold everywhere (one line each, deduplicated).
    pub unjudged: Vec<String>,
    /// Where each situational rule was judged ([`coverage`]), deduplicated
    /// and sorted; a situation the rule broke in is marked failed.
    pub reached: Vec<coverage::Reached>,
}

/// Judges `history`, the observed run of `steps` against a provider
/// declaring `context`. The history must have one entry per step.
pub fn judge(context: &Context, steps: &[Step], history: &History) -> Judgement {
    let mut world = World::new(&history.lines);
    let mut judgement = Judgement::default();
    for (index, step) in steps.iter().enumerate() {
        let Some(seen) = history.steps.get(index) else {
            judgement.verdicts.push(Verdict {
                rule: "D3",
                step: Some(index),
                message: "the run stopped before this step".to_owned(),
            });
            break;
        };
        // Where the step meets its call, taken before it changes the world;
        // a step the oracle does not judge reaches nothing.
        let here = if step::judges(&world, seen) {
            coverage::reached(&world, context, step)
        } else {
            Vec::new()
        };
        let before = judgement.verdicts.len();
        let mut out = step::Judge {
            context,
            index,
            verdicts: &mut judgement.verdicts,
            unjudged: &mut judgement.unjudged,
        };
        out.step(&mut world, step, seen);
        let broke = &judgement.verdicts[before..];
        for (rule, situation) in here {
            judgement.reached.push(coverage::Reached {
                rule,
                situation,
                failed: broke.iter().any(|v| v.rule == rule),
            });
        }
    }
    world.finish(history, &mut judgement.verdicts);
    judgement.unjudged.sort();
    judgement.unjudged.dedup();
    judgement.reached.sort();
    judgement.reached.dedup();
    judgement
}
