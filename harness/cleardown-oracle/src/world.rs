//! The world as the run reported it: each call's last status, who holds it
//! with which privilege, its links, and what each far party has been sent
//! according to SPEC so far. Tracked from observations, so a provider's
//! freedom (the transient states on the way, the order of a cascade) never
//! makes the oracle's picture wrong; expectations are formed from it one
//! step at a time.

use std::collections::{BTreeMap, BTreeSet};

use cleardown_contract::{CallState, Privilege, SignalKind};

use crate::{
    Verdict,
    history::{History, Seen, Status, StepSeen},
};

/// How a history names a conference parent the app holds no handle to.
const UNKNOWN_PARENT: &str = "?";

/// One ending signal as SPEC §10 describes it: kind, Q.850 cause, UUI.
pub(crate) type Signal = (SignalKind, u32, Vec<u8>);

/// A call the run has shown.
#[derive(Debug, Clone, Default)]
pub(crate) struct Call {
    /// The line alias it is on, when the script says (or a link implies).
    pub line: Option<String>,
    /// The far party it connects to, by name.
    pub party: Option<String>,
    /// The last status any app was told.
    pub status: Option<Status>,
    /// Apps holding a live handle, with their privilege.
    pub holders: BTreeMap<String, Privilege>,
    /// Apps that deallocated their handle (D10, T2).
    pub freed: BTreeSet<String>,
    /// For a consultation call: the primary it was set up from (D8).
    pub primary: Option<String>,
    /// It is a conference parent (C1–C6).
    pub conference: bool,
    /// The UUI our drop sent, once one was accepted (Q1, U3).
    pub uui_sent: Option<Vec<u8>>,
    /// The UUI the far end sent with its hang-up (U5).
    pub uui_received: Option<Vec<u8>>,
    /// Something the oracle does not model touched it: judge only what
    /// holds everywhere.
    pub unmodelled: bool,
}

impl Call {
    pub fn state(&self) -> Option<CallState> {
        self.status.as_ref().map(CallStatus::state)
    }

    pub fn is_idle(&self) -> bool {
        self.state() == Some(CallState::Idle)
    }
}

use cleardown_contract::CallStatus;

/// What a far party should have received, and which rule said so last.
#[derive(Debug, Clone, Default)]
pub(crate) struct Party {
    /// Each signal with the rule and step that made SPEC owe it.
    pub expected: Vec<(Signal, &'static str, usize)>,
    /// The rule and step behind the latest expectation, for the verdict.
    pub because: Option<(&'static str, usize)>,
    /// A situation the oracle does not model reached this party.
    pub unjudged: bool,
}

/// A request the run issued.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub app: String,
    pub replies: usize,
}

/// Everything tracked.
#[derive(Debug)]
pub(crate) struct World {
    pub calls: BTreeMap<String, Call>,
    /// (app, line) → the privilege the app opened the line with.
    pub open: BTreeMap<(String, String), Privilege>,
    pub far: BTreeMap<String, Party>,
    pub requests: BTreeMap<String, Request>,
    /// Between `pause_events` and `resume_events`: events wait unread.
    pub paused: bool,
    /// Steps since a resume whose events may belong to paused steps.
    pub backlog: bool,
    /// A request was made while events were paused.
    pub paused_request: bool,
    /// Each call's line as the host recorded it (the history's), for the
    /// calls the script never placed itself: a station's appearances.
    pub lines: BTreeMap<String, String>,
}

impl World {
    pub fn new(lines: &[(String, String)]) -> World {
        World {
            lines: lines.iter().cloned().collect(),
            calls: BTreeMap::new(),
            open: BTreeMap::new(),
            far: BTreeMap::new(),
            requests: BTreeMap::new(),
            paused: false,
            backlog: false,
            paused_request: false,
        }
    }

    pub fn call(&self, alias: &str) -> Option<&Call> {
        self.calls.get(alias)
    }

    pub fn call_mut(&mut self, alias: &str) -> &mut Call {
        let line = self.lines.get(alias).cloned();
        self.calls.entry(alias.to_owned()).or_insert_with(|| Call {
            line,
            ..Call::default()
        })
    }

    /// A call shown as `old` (`~N`) is `new` from here on.
    pub fn rename(&mut self, old: &str, new: &str) {
        if let Some(call) = self.calls.remove(old) {
            self.calls.insert(new.to_owned(), call);
        }
        if let Some(line) = self.lines.remove(old) {
            self.lines.insert(new.to_owned(), line);
        }
        for call in self.calls.values_mut() {
            if let Some(CallStatus::Conferenced { parent }) = &mut call.status {
                if parent == old {
                    *parent = new.to_owned();
                }
            }
            if call.primary.as_deref() == Some(old) {
                call.primary = Some(new.to_owned());
            }
        }
    }

    /// The other live appearances of `call`'s far call at the stations of
    /// lines `shared` says are BridgedShared: the calls that reach the same
    /// far party there (SPEC B1-B3 speak of them as one call).
    pub fn appearances(&self, call: &str, shared: impl Fn(&str) -> bool) -> Vec<String> {
        let Some(party) = self.calls.get(call).and_then(|c| c.party.as_deref()) else {
            return Vec::new();
        };
        self.calls
            .iter()
            .filter(|(alias, c)| {
                alias.as_str() != call
                    && c.party.as_deref() == Some(party)
                    && !c.is_idle()
                    && c.line.as_deref().is_some_and(&shared)
            })
            .map(|(alias, _)| alias.clone())
            .collect()
    }

    /// Some live call is Conferenced to a parent no app holding it can
    /// name (its handles to the parent were freed): which conference's
    /// parties it counts among cannot be told.
    pub fn parent_unknown(&self) -> bool {
        self.calls.values().any(|c| {
            matches!(&c.status, Some(CallStatus::Conferenced { parent }) if parent == UNKNOWN_PARENT)
        })
    }

    /// The live parties of conference `parent`.
    pub fn children(&self, parent: &str) -> Vec<String> {
        self.calls
            .iter()
            .filter(|(_, c)| {
                matches!(&c.status, Some(CallStatus::Conferenced { parent: p }) if p == parent)
            })
            .map(|(alias, _)| alias.clone())
            .collect()
    }

    /// Apps with `line` open, and how.
    pub fn apps_on(&self, line: &str) -> Vec<(String, Privilege)> {
        self.open
            .iter()
            .filter(|((_, l), _)| l == line)
            .map(|((app, _), p)| (app.clone(), *p))
            .collect()
    }

    /// Adds what SPEC says `party` receives, naming the rule.
    pub fn send(&mut self, party: &str, signal: Signal, rule: &'static str, step: usize) {
        let entry = self.far.entry(party.to_owned()).or_default();
        entry.expected.push((signal, rule, step));
        entry.because = Some((rule, step));
    }

    /// Marks that nothing may reach `party` by this step's doing.
    pub fn silence(&mut self, party: &str, rule: &'static str, step: usize) {
        self.far.entry(party.to_owned()).or_default().because = Some((rule, step));
    }

    pub fn unjudge_party(&mut self, party: &str) {
        self.far.entry(party.to_owned()).or_default().unjudged = true;
    }

    /// Takes in a step's events: statuses, holders (never re-adding an app
    /// that freed its handle: D10 is judged on the events themselves) and
    /// conference links.
    pub fn observe(&mut self, seen: &StepSeen) {
        // Calls some app saw Conferenced to a parent it could name, in this
        // step: an app that freed its handle to the parent sees it as `?`,
        // and the parent the other app names stands.
        let mut named: BTreeSet<String> = BTreeSet::new();
        for (app, events) in &seen.events {
            for event in events {
                match event {
                    Seen::State {
                        call,
                        status,
                        privilege,
                    } => {
                        let mut unnamed_parent = false;
                        if let CallStatus::Conferenced { parent } = status {
                            if parent == UNKNOWN_PARENT {
                                unnamed_parent = named.contains(call);
                            } else {
                                named.insert(call.clone());
                                let line = self.calls.get(call).and_then(|c| c.line.clone());
                                let parent = self.call_mut(parent);
                                parent.conference = true;
                                if parent.line.is_none() {
                                    parent.line = line;
                                }
                            }
                        }
                        let entry = self.call_mut(call);
                        if !unnamed_parent {
                            entry.status = Some(status.clone());
                        }
                        if !entry.freed.contains(app) {
                            entry.holders.insert(app.clone(), *privilege);
                        }
                    }
                    Seen::Reply { request, .. } => {
                        if let Some(r) = self.requests.get_mut(request) {
                            r.replies += 1;
                        }
                    }
                }
            }
        }
    }

    /// After the last step: every request got exactly one Reply (D3), and
    /// the leak report names exactly the Idle handles left (T5).
    pub fn finish(&self, history: &History, verdicts: &mut Vec<Verdict>) {
        if let Some(fault) = &history.fault {
            verdicts.push(Verdict {
                rule: "X2",
                step: None,
                message: format!(
                    "the provider panicked or returned garbage, and the host faulted it: {fault}"
                ),
            });
        }
        for (name, request) in &self.requests {
            if request.replies == 0 && !history.missing_replies.contains(name) {
                verdicts.push(Verdict {
                    rule: "D3",
                    step: None,
                    message: format!("{name} of {} never got its Reply", request.app),
                });
            } else if request.replies > 1 {
                verdicts.push(Verdict {
                    rule: "D3",
                    step: None,
                    message: format!(
                        "{name} of {} got {} Replies; every request gets exactly one",
                        request.app, request.replies
                    ),
                });
            }
        }
        for name in &history.missing_replies {
            verdicts.push(Verdict {
                rule: "D3",
                step: None,
                message: format!("{name} never got its Reply"),
            });
        }
        let expected = self.leaks();
        let mut seen: Vec<(String, Vec<String>)> = history.leaks.clone();
        for (_, names) in &mut seen {
            names.sort();
        }
        seen.retain(|(_, names)| !names.is_empty());
        seen.sort();
        if !seen.is_empty() && seen == expected {
            verdicts.push(Verdict {
                rule: "T5",
                step: None,
                message: format!(
                    "the run ends with Idle handles never deallocated: {}",
                    show_leaks(&seen)
                ),
            });
        }
        if seen != expected {
            verdicts.push(Verdict {
                rule: "T5",
                step: None,
                message: format!(
                    "at the end the host reports leaks {}, but the Idle handles left undeallocated are {}",
                    show_leaks(&seen),
                    show_leaks(&expected)
                ),
            });
        }
    }

    /// Per app, the aliases of the Idle calls it still holds: what the leak
    /// report must say (T5).
    pub fn leaks(&self) -> Vec<(String, Vec<String>)> {
        let mut by_app: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (alias, call) in &self.calls {
            if call.is_idle() {
                for app in call.holders.keys() {
                    by_app.entry(app.clone()).or_default().push(alias.clone());
                }
            }
        }
        by_app.into_iter().collect()
    }
}

/// `app: a, b; other: c`, or `none`.
pub(crate) fn show_leaks(leaks: &[(String, Vec<String>)]) -> String {
    if leaks.is_empty() {
        return "none".to_owned();
    }
    leaks
        .iter()
        .map(|(app, names)| format!("{app}: {}", names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}
