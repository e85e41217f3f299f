//! What the newer mutants change in what the host hears and reads back: the
//! state reports on their way out (a plan the decorator sets around one
//! forwarded call), call info, and the far-end view.
//!
//! The rule that keeps a mutant to its one broken rule: whatever the host
//! was told about a call, call info says too. A state report the plan
//! swallows leaves call info answering the status the host last heard; one
//! it rewrites, or one the decorator makes up, is what call info answers
//! until the inner provider reports the call's next state.

use std::collections::{HashMap, HashSet};

use abi_stable::std_types::{RString, RVec};
use cleardown_contract::{
    CallId, CallState, Relation, SignalKind,
    abi::{FfiCallInfo, FfiRelated, FfiRemoteParty, FfiRemoteSignal},
};

/// A call's state as it crosses the boundary: state, mode and parent codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) state: u32,
    pub(crate) mode: u32,
    pub(crate) parent: CallId,
}

impl Status {
    pub(crate) const fn new(state: CallState, mode: u32) -> Status {
        Status {
            state: state.code(),
            mode,
            parent: CallId(0),
        }
    }
}

/// What the sink does to the inner provider's reports while one forwarded
/// call runs; cleared when it returns.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Every state report of these calls is lost: the host keeps, and call
    /// info answers, the status it last heard.
    pub(crate) swallow: HashSet<CallId>,
    /// A `Disconnected` report of these calls carries this mode instead.
    pub(crate) mode: HashMap<CallId, u32>,
    /// `new_call` reports carry request 0, as for a call nobody asked for.
    pub(crate) unrequested: bool,
    /// State reports the decorator makes up, sent just before the next
    /// completion, so the Reply still comes after them (D4).
    pub(crate) inject: Vec<(CallId, Status)>,
}

/// What call info shows differently from the inner provider, for good
/// (until the host closes the call).
#[derive(Debug, Default)]
pub(crate) struct InfoEdit {
    pub(crate) disconnect_mode: Option<u32>,
    pub(crate) uui_received: Option<Vec<u8>>,
    pub(crate) uui_sent: Option<Vec<u8>>,
}

/// A change to one party's received signals, at the position of the
/// inner's signal `at` (pbx-sim keeps the latest 64 per party; a scenario
/// that sends one party more than that would shift the positions).
#[derive(Debug)]
struct FarEdit {
    at: usize,
    /// `true`: `signals` stand in place of the inner's signal `at`;
    /// `false`: they come before it (or last, if the inner has no `at`).
    replace: bool,
    signals: Vec<FfiRemoteSignal>,
}

/// Everything the decorator changes, shared by it and its sink.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    pub(crate) plan: Plan,
    /// The status the host last heard of each call.
    reported: HashMap<CallId, Status>,
    /// Calls whose status as the host heard it differs from the inner's.
    status: HashMap<CallId, Status>,
    info: HashMap<CallId, InfoEdit>,
    far: HashMap<String, Vec<FarEdit>>,
}

impl Overlay {
    /// An inner state report on its way to the host: what reaches it, or
    /// `None` where the plan swallows it.
    pub(crate) fn route(&mut self, call: CallId, status: Status) -> Option<Status> {
        self.status.remove(&call);
        if self.plan.swallow.contains(&call) {
            if let Some(&heard) = self.reported.get(&call) {
                self.status.insert(call, heard);
            }
            return None;
        }
        let mut out = status;
        if out.state == CallState::Disconnected.code() {
            if let Some(&mode) = self.plan.mode.get(&call) {
                out.mode = mode;
                self.status.insert(call, out);
            }
        }
        self.reported.insert(call, out);
        Some(out)
    }

    /// A report the decorator makes up: the host hears it, and call info
    /// answers it until the inner's next report of the call.
    pub(crate) fn made_up(&mut self, call: CallId, status: Status) {
        self.reported.insert(call, status);
        self.status.insert(call, status);
    }

    /// The calls whose last status the host heard is `state`, oldest first.
    pub(crate) fn heard_in(&self, state: CallState) -> Vec<CallId> {
        let mut calls: Vec<CallId> = self
            .reported
            .iter()
            .filter(|(_, status)| status.state == state.code())
            .map(|(&call, _)| call)
            .collect();
        calls.sort_unstable();
        calls
    }

    pub(crate) fn heard(&self, call: CallId) -> Option<Status> {
        self.reported.get(&call).copied()
    }

    pub(crate) fn edit_info(&mut self, call: CallId) -> &mut InfoEdit {
        self.info.entry(call).or_default()
    }

    /// The host closed `call`: nothing of it is kept (the far-end edits
    /// are the parties', and stay).
    pub(crate) fn forget(&mut self, call: CallId) {
        self.reported.remove(&call);
        self.status.remove(&call);
        self.info.remove(&call);
    }

    /// `signals` stand in place of `party`'s inner signal `at`.
    pub(crate) fn replace_signal(&mut self, party: &str, at: usize, signals: Vec<FfiRemoteSignal>) {
        self.far.entry(party.to_owned()).or_default().push(FarEdit {
            at,
            replace: true,
            signals,
        });
    }

    /// `signal` comes before `party`'s inner signal `at` (last, if none).
    pub(crate) fn insert_signal(&mut self, party: &str, at: usize, signal: FfiRemoteSignal) {
        self.far.entry(party.to_owned()).or_default().push(FarEdit {
            at,
            replace: false,
            signals: vec![signal],
        });
    }

    pub(crate) fn apply_info(&self, call: CallId, info: &mut FfiCallInfo) {
        if let Some(status) = self.status.get(&call) {
            info.state = status.state;
            info.mode = status.mode;
            info.parent = status.parent;
            let parent = Relation::Parent.code();
            info.related.retain(|r| r.relation != parent);
            if status.state == CallState::Conferenced.code() {
                info.related.insert(
                    0,
                    FfiRelated {
                        relation: parent,
                        call: status.parent,
                    },
                );
            }
        }
        if let Some(edit) = self.info.get(&call) {
            if let Some(mode) = edit.disconnect_mode {
                info.disconnect_mode = mode;
            }
            if let Some(uui) = &edit.uui_received {
                info.uui_received = uui.as_slice().into();
            }
            if let Some(uui) = &edit.uui_sent {
                info.uui_sent = uui.as_slice().into();
            }
        }
    }

    pub(crate) fn apply_far(&self, parties: &mut RVec<FfiRemoteParty>) {
        for party in parties.iter_mut() {
            let Some(edits) = self.far.get(party.name.as_str()) else {
                continue;
            };
            let inner = std::mem::take(&mut party.received);
            let mut shown = RVec::new();
            for at in 0..=inner.len() {
                for edit in edits.iter().filter(|e| e.at == at && !e.replace) {
                    shown.extend(edit.signals.iter().cloned());
                }
                let Some(signal) = inner.get(at) else {
                    continue;
                };
                match edits.iter().rev().find(|e| e.at == at && e.replace) {
                    Some(edit) => shown.extend(edit.signals.iter().cloned()),
                    None => shown.push(signal.clone()),
                }
            }
            party.received = shown;
        }
    }
}

/// A signal as pbx-sim would put it on its wire: its kind, Q.850 cause, UUI
/// and the text its far-end view shows for that cause.
pub(crate) fn signal(kind: SignalKind, cause: u32, uui: &[u8]) -> FfiRemoteSignal {
    let text = match (kind, cause) {
        (SignalKind::Cancel, 16) => "release cause 16 normal clearing (cancel)",
        (_, 16) => "release cause 16 normal clearing",
        (_, 17) => "release cause 17 user busy",
        (_, 19) => "release cause 19 no answer",
        (_, 21) => "release cause 21 call rejected",
        _ => "release",
    };
    FfiRemoteSignal {
        kind: kind.code(),
        cause,
        uui: uui.into(),
        wire: RString::from(text),
    }
}
