//! Judging one step: what holds for every step (S1, D10, X1, D3's routing,
//! D4's order, P1's privileges), then what SPEC fixes for this kind of step
//! in the situation its call was in.

use cleardown_contract::{
    CallState, CallStatus, ConnectedMode, DisconnectCode, DisconnectMode, LineError, Privilege,
    Sharing, SignalKind,
};
use cleardown_fixture::{ALL_CALLS, Step, Uui};

use crate::{
    Context, Verdict,
    effects::{Effects, Want},
    history::{Answer, Seen, Status, StepSeen},
    world::{Request, World, show_leaks},
};

/// The judge of one step, writing its verdicts.
pub(crate) struct Judge<'a> {
    pub context: &'a Context,
    pub index: usize,
    pub verdicts: &'a mut Vec<Verdict>,
    pub unjudged: &'a mut Vec<String>,
}

/// The request a step's answer started, if any.
fn request_of(answer: &Answer) -> Option<&str> {
    match answer {
        Answer::Request(r) | Answer::Requested(r) => Some(r),
        Answer::Conference { request, .. } => Some(request),
        _ => None,
    }
}

/// The app a step acts as, for the steps an app takes.
fn app_of(step: &Step) -> Option<&str> {
    match step {
        Step::Open { app, .. }
        | Step::Close { app, .. }
        | Step::MakeCall { app, .. }
        | Step::Simple { app, .. }
        | Step::Setup { app, .. }
        | Step::AddToConference { app, .. }
        | Step::CompleteTransfer { app, .. }
        | Step::Drop { app, .. }
        | Step::Disconnect { app, .. }
        | Step::Deallocate { app, .. }
        | Step::Info { app, .. }
        | Step::Wait { app, .. } => Some(app),
        _ => None,
    }
}

pub(crate) fn show_status(status: Option<&Status>) -> String {
    status.map_or_else(|| "unknown".to_owned(), ToString::to_string)
}

/// Whether the oracle judges a step beyond what holds everywhere: not
/// while events are paused or being caught up on, not a step that could
/// not run.
pub(crate) fn judges(world: &World, seen: &StepSeen) -> bool {
    !(world.paused || world.backlog || matches!(seen.answer, Answer::Unrunnable(_)))
}

impl Judge<'_> {
    pub fn fail(&mut self, rule: &'static str, message: impl Into<String>) {
        self.verdicts.push(Verdict {
            rule,
            step: Some(self.index),
            message: message.into(),
        });
    }

    pub fn unjudge(&mut self, what: impl Into<String>) {
        self.unjudged.push(what.into());
    }

    /// The UUI bytes a step names, as the replay sends them.
    pub fn uui(&self, uui: &Uui) -> Vec<u8> {
        uui.bytes(&self.context.caps)
    }

    pub fn step(&mut self, world: &mut World, step: &Step, seen: &StepSeen) {
        for (old, new) in &seen.renamed {
            world.rename(old, new);
        }
        if world.paused && request_of(&seen.answer).is_some() {
            world.paused_request = true;
        }
        if let (Some(request), Some(app)) = (request_of(&seen.answer), app_of(step)) {
            world.requests.insert(
                request.to_owned(),
                Request {
                    app: app.to_owned(),
                    replies: 0,
                },
            );
        }
        self.everywhere(world, step, seen);
        let judged = judges(world, seen);
        world.backlog = false;
        if !judged {
            self.touch_unjudged(world, step, "steps while events are paused");
        } else {
            self.by_kind(world, step, seen);
        }
        world.observe(seen);
        self.register(world, step, seen);
        self.place_appearances(world, step, seen);
    }

    /// The calls that appeared in this step at BridgedShared stations
    /// without the script naming their far party (the other stations'
    /// appearances of an offered or answered call, a station bridging in):
    /// each is an appearance of the one far call up on those lines, so it
    /// reaches that call's party. A new call in Dialtone is the station's
    /// own, with no far party; where the far call cannot be told, the
    /// appearance is not judged beyond what holds everywhere.
    fn place_appearances(&mut self, world: &mut World, step: &Step, seen: &StepSeen) {
        let context = self.context;
        let shared = |line: &str| {
            context
                .line(line)
                .is_some_and(|a| a.sharing == Sharing::BridgedShared)
        };
        let fresh: Vec<String> = seen
            .states()
            .map(|(_, call, _)| call.to_owned())
            .filter(|call| {
                world.call(call).is_some_and(|c| {
                    c.party.is_none()
                        && !c.unmodelled
                        && c.line.as_deref().is_some_and(shared)
                        && c.state() != Some(CallState::Dialtone)
                })
            })
            .collect();
        for call in fresh {
            let party = match step {
                Step::FarOffer { from, line, .. } if shared(line) => Some(from.clone()),
                _ => {
                    let mut up: Vec<String> = world
                        .calls
                        .iter()
                        .filter(|(alias, c)| {
                            **alias != call && !c.is_idle() && c.line.as_deref().is_some_and(shared)
                        })
                        .filter_map(|(_, c)| c.party.clone())
                        .collect();
                    up.sort();
                    up.dedup();
                    match up.as_slice() {
                        [one] => Some(one.clone()),
                        _ => None,
                    }
                }
            };
            match party {
                Some(party) => world.call_mut(&call).party = Some(party),
                None => {
                    world.call_mut(&call).unmodelled = true;
                    self.unjudge("an appearance whose far call cannot be told");
                }
            }
        }
    }

    /// `line` is bound to a BridgedShared address (SPEC B1-B3).
    pub fn shared(&self, line: &str) -> bool {
        self.context
            .line(line)
            .is_some_and(|a| a.sharing == Sharing::BridgedShared)
    }

    /// What holds whatever the step: a call never leaves Idle (S1), a freed
    /// handle hears nothing more (D10), a refusal changes nothing (X1), a
    /// Reply goes to the app that asked (D3) after the states its request
    /// caused (D4), and a handle keeps its privilege (P1).
    fn everywhere(&mut self, world: &World, step: &Step, seen: &StepSeen) {
        let request = request_of(&seen.answer);
        for (app, events) in &seen.events {
            let mut last: std::collections::BTreeMap<&str, Option<CallState>> =
                std::collections::BTreeMap::new();
            let mut replied = false;
            for event in events {
                match event {
                    Seen::State {
                        call,
                        status,
                        privilege,
                    } => {
                        let known = world.call(call);
                        let before = last
                            .entry(call.as_str())
                            .or_insert_with(|| known.and_then(|c| c.state()));
                        let dropping = matches!(
                            step,
                            Step::Drop { .. }
                                | Step::Disconnect { .. }
                                | Step::Deallocate { .. }
                                | Step::Close { .. }
                                | Step::ResumeEvents
                                // a station hanging up drops its call
                                | Step::Station {
                                    off_hook: false,
                                    ..
                                }
                        );
                        if *before == Some(CallState::Disconnected)
                            && status.state() == CallState::Idle
                            && !dropping
                            && !world.paused
                        {
                            self.fail(
                                "S3",
                                format!(
                                    "{call} went from Disconnected to Idle for {app} with no drop; only its owner's drop takes it there"
                                ),
                            );
                        }
                        if *before == Some(CallState::Idle) {
                            self.fail(
                                "S1",
                                format!("{call} left Idle for {app}: it went {status}"),
                            );
                        }
                        *before = Some(status.state());
                        if known.is_some_and(|c| c.freed.contains(app)) {
                            self.fail(
                                "D10",
                                format!(
                                    "{app} deallocated its handle to {call}, yet got {status} for it"
                                ),
                            );
                        }
                        let held = known.and_then(|c| c.holders.get(app));
                        if let Some(held) = held {
                            if held != privilege && !matches!(step, Step::Close { .. }) {
                                self.fail(
                                    "P1",
                                    format!(
                                        "{app}'s handle to {call} is {held}, but its event says {privilege}"
                                    ),
                                );
                            }
                        }
                        if replied && request.is_some() && !world.paused && !world.backlog {
                            self.fail(
                                "D4",
                                format!(
                                    "{app} got {call} {status} after the Reply of {}; the Reply comes after every state its request caused",
                                    request.unwrap_or_default()
                                ),
                            );
                        }
                    }
                    Seen::Reply { request: r, result } => {
                        match world.requests.get(r) {
                            Some(owner) if owner.app != *app => self.fail(
                                "D3",
                                format!("{app} got the Reply of {r}, which {} made", owner.app),
                            ),
                            None => self.fail(
                                "D3",
                                format!("{app} got a Reply ({result:?}) to a request never made"),
                            ),
                            _ => {}
                        }
                        if Some(r.as_str()) == request {
                            replied = true;
                        }
                    }
                }
            }
        }
        if let Answer::Refused(error) = &seen.answer {
            if let Some((app, call, status)) = seen.states().next() {
                self.fail(
                    "X1",
                    format!(
                        "the step was refused ({error}), yet {app} got {call} {status}: a refused operation changes nothing"
                    ),
                );
            }
        }
    }

    /// Marks what a step touches as unjudged, with why.
    fn touch_unjudged(&mut self, world: &mut World, step: &Step, why: &str) {
        let calls: Vec<String> = match step {
            Step::Drop { call, .. }
            | Step::Disconnect { call, .. }
            | Step::Deallocate { call, .. }
            | Step::FarHangUp { call, .. }
            | Step::FarAnswer { call, .. }
            | Step::FarAlert { call }
            | Step::CompleteTransfer { call, .. } => vec![call.clone()],
            _ => Vec::new(),
        };
        let everything = calls.iter().any(|c| c == ALL_CALLS) || calls.is_empty();
        // Stimuli that owe no far party anything (an offer, a station
        // picking up) leave what the far end is owed as it was.
        let harmless = matches!(
            step,
            Step::Open { .. }
                | Step::Info { .. }
                | Step::Leaks
                | Step::FarEnd
                | Step::PauseEvents
                | Step::ResumeEvents
                | Step::FarOffer { .. }
                | Step::Station { off_hook: true, .. }
        );
        if everything && !harmless {
            let parties: Vec<String> = world
                .calls
                .values()
                .filter_map(|c| c.party.clone())
                .collect();
            for party in parties {
                world.unjudge_party(&party);
            }
        }
        for call in calls {
            if let Some(party) = world.call(&call).and_then(|c| c.party.clone()) {
                world.unjudge_party(&party);
            }
            if let Some(c) = world.calls.get_mut(&call) {
                c.unmodelled = true;
            }
        }
        self.unjudge(why);
    }

    fn by_kind(&mut self, world: &mut World, step: &Step, seen: &StepSeen) {
        match step {
            Step::MakeCall {
                app, call, line, ..
            } => {
                if request_of(&seen.answer).is_some() {
                    self.new_call(world, seen, call, line, Some(app));
                }
            }
            Step::Setup {
                app, call, consult, ..
            } => {
                if request_of(&seen.answer).is_some() {
                    if let Some(line) = world.call(call).and_then(|c| c.line.clone()) {
                        self.new_call(world, seen, consult, &line, Some(app));
                    }
                }
            }
            Step::AddToConference { app, call, .. } => {
                if let Answer::Conference { conference, .. } = &seen.answer {
                    let line = world.call(call).and_then(|c| c.line.clone());
                    if let (None, Some(line)) = (world.call(conference), line) {
                        self.new_call(world, seen, conference, &line, Some(app));
                    }
                }
            }
            Step::FarOffer { call, line, .. } => {
                if seen.answer == Answer::Done {
                    self.new_call(world, seen, call, line, None);
                }
            }
            Step::Drop { app, call, uui } => {
                let uui = self.uui(uui);
                self.drop(world, seen, app, call, DisconnectCode::Normal, &uui, false);
            }
            Step::Disconnect {
                app,
                call,
                code,
                uui,
            } => {
                let uui = self.uui(uui);
                self.drop(world, seen, app, call, *code, &uui, true);
            }
            Step::Deallocate { app, call } if call == ALL_CALLS => {
                self.deallocate_all(world, seen, app);
            }
            Step::Deallocate { app, call } => self.deallocate(world, seen, app, call),
            Step::Info { app, call } => self.info(world, seen, app, call),
            Step::Simple { app, call, op } => {
                self.freed_handle(world, seen, app, call, &op.to_string());
            }
            Step::FarHangUp { call, uui, cause } => {
                let uui = self.uui(uui);
                self.far_hang_up(world, seen, call, *cause, &uui);
            }
            Step::Leaks => {
                if let Answer::Leaks(seen_leaks) = &seen.answer {
                    let mut got = seen_leaks.clone();
                    for (_, names) in &mut got {
                        names.sort();
                    }
                    got.retain(|(_, n)| !n.is_empty());
                    got.sort();
                    let expected = world.leaks();
                    if got != expected {
                        self.fail(
                            "T5",
                            format!(
                                "the leak report says {}, but the Idle handles not deallocated are {}",
                                show_leaks(&got),
                                show_leaks(&expected)
                            ),
                        );
                    }
                }
            }
            Step::FarEnd => self.far_end(world, seen),
            Step::Close { app, line } => self.close(world, seen, app, line),
            Step::CompleteTransfer { .. } => {
                self.touch_unjudged(world, step, "transfer completion");
            }
            // Going off-hook is the far end's (the station user's) doing:
            // SPEC fixes nothing about it, and it owes no far party
            // anything. Going on-hook drops the call at the station, not
            // by an app's request: what reaches the far end then is left
            // to the snapshots.
            Step::Station {
                off_hook: false, ..
            } => {
                self.unjudge("a station going on-hook");
                let parties: Vec<String> = world
                    .calls
                    .values()
                    .filter(|c| c.line.as_deref().is_some_and(|l| self.bridged(l)))
                    .filter_map(|c| c.party.clone())
                    .collect();
                for party in parties {
                    world.unjudge_party(&party);
                }
            }
            Step::Station { .. } => {}
            Step::Advance { .. } => {}
            Step::Open { .. }
            | Step::FarAlert { .. }
            | Step::FarAnswer { .. }
            | Step::PauseEvents
            | Step::ResumeEvents
            | Step::Wait { .. } => {}
        }
    }

    /// A call that appears with this step (P1): the app that made it holds
    /// it as Owner and every other app with the line open as Monitor; an
    /// offered call reaches every app with the line open with the privilege
    /// it opened the line with.
    fn new_call(
        &mut self,
        world: &mut World,
        seen: &StepSeen,
        call: &str,
        line: &str,
        maker: Option<&str>,
    ) {
        let expected: Vec<(String, Privilege)> = world
            .apps_on(line)
            .into_iter()
            .map(|(app, opened)| {
                let privilege = match maker {
                    Some(maker) if maker == app => Privilege::Owner,
                    Some(_) => Privilege::Monitor,
                    None => opened,
                };
                (app, privilege)
            })
            .collect();
        for (app, privilege) in &expected {
            let got = seen.events_of(app).iter().find_map(|e| match e {
                Seen::State {
                    call: c,
                    privilege: p,
                    ..
                } if c == call => Some(*p),
                _ => None,
            });
            match got {
                None => self.fail(
                    "P1",
                    format!("{app} has {line} open but got no state event for the new call {call}"),
                ),
                Some(p) if p != *privilege => self.fail(
                    "P1",
                    format!("{app} got the new call {call} as {p}; expected {privilege}"),
                ),
                _ => {}
            }
        }
        for (app, events) in &seen.events {
            let hears = events
                .iter()
                .any(|e| matches!(e, Seen::State { call: c, .. } if c == call));
            if hears && !expected.iter().any(|(a, _)| a == app) {
                self.fail(
                    "P1",
                    format!("{app} does not have {line} open, yet got the new call {call}"),
                );
            }
        }
        let _ = world;
    }

    pub fn bridged(&self, line: &str) -> bool {
        self.context
            .line(line)
            .is_some_and(|a| a.sharing != Sharing::Private)
    }

    #[allow(clippy::too_many_arguments)]
    fn drop(
        &mut self,
        world: &mut World,
        seen: &StepSeen,
        app: &str,
        call: &str,
        code: DisconnectCode,
        uui: &[u8],
        disconnect: bool,
    ) {
        let Some(c) = world.call(call) else { return };
        let state = c.state();
        let what = if disconnect {
            format!("disconnect {code} of {call}")
        } else {
            format!("drop of {call}")
        };
        // What the host refuses (T2, D1, D2, R3), then what the provider
        // must (R2, U2, U4): either of the last two where both apply.
        let size = self.context.caps.uui_drop_size as usize;
        let offered = state.is_some_and(CallState::is_offered);
        let mut refusals: Vec<(LineError, &'static str)> = Vec::new();
        let mut already_idle = false;
        if c.freed.contains(app) {
            refusals.push((LineError::InvalCallHandle, "T2"));
        } else if !c.holders.contains_key(app) {
            return;
        } else if c.holders.get(app) == Some(&Privilege::Monitor) {
            refusals.push((LineError::NotOwner, "D1"));
        } else if state == Some(CallState::Idle) {
            if disconnect {
                already_idle = true;
            } else {
                refusals.push((LineError::InvalCallState, "D2"));
            }
        } else if disconnect
            && matches!(code, DisconnectCode::Rejected | DisconnectCode::Busy)
            && !offered
        {
            refusals.push((LineError::InvalCallState, "R3"));
        } else {
            if offered && !self.context.caps.reject_by_drop {
                refusals.push((LineError::OperationUnavail, "R2"));
            }
            if uui.len() > size {
                refusals.push((
                    LineError::UserUserInfoTooBig,
                    if size == 0 { "U4" } else { "U2" },
                ));
            }
        }
        if already_idle {
            if seen.answer != Answer::AlreadyIdle {
                self.fail(
                    "R3",
                    format!(
                        "{what}, already Idle, answered {:?}; expected \"already idle\"",
                        seen.answer
                    ),
                );
            }
            return;
        }
        if !refusals.is_empty() {
            match &seen.answer {
                Answer::Refused(error) if refusals.iter().any(|(e, _)| e == error) => {}
                other => {
                    let (error, rule) = refusals[0];
                    self.fail(
                        rule,
                        format!(
                            "{what} in {} answered {other:?}; expected Err({error}) with nothing changed",
                            show_status(c.status.as_ref())
                        ),
                    );
                }
            }
            return;
        }
        let Some(request) = request_of(&seen.answer) else {
            let in_size_uui_refused =
                !uui.is_empty() && seen.answer == Answer::Refused(LineError::UserUserInfoTooBig);
            self.fail(
                if in_size_uui_refused {
                    "U3"
                } else if offered {
                    "R1"
                } else {
                    "D5"
                },
                format!(
                    "{what} in {} was refused ({:?}), though SPEC allows it",
                    show_status(c.status.as_ref()),
                    seen.answer
                ),
            );
            return;
        };
        if let Some(result) = self.reply_in(seen, app, request) {
            if result.is_err() {
                // D9: a request that fails after its id changes nothing.
                if let Some((a, call, status)) = seen.states().next() {
                    self.fail(
                        "D9",
                        format!("{request} failed ({result:?}), yet {a} got {call} {status}"),
                    );
                }
                return;
            }
        }
        // R3: NoAnswer outside Offering is a plain drop; what it sends is
        // R3's to get right.
        let plain_no_answer = !offered && code == DisconnectCode::NoAnswer;
        let code = if plain_no_answer {
            DisconnectCode::Normal
        } else {
            code
        };
        match Effects::of_drop(self.context, world, call, code, uui) {
            Ok(mut effects) => {
                if plain_no_answer {
                    for (_, _, rule) in &mut effects.signals {
                        *rule = "R3";
                    }
                }
                self.apply(world, seen, &effects, None);
            }
            Err(why) => self.unjudge_call(world, call, why),
        }
    }

    /// A situation the oracle does not model met `call`: from now on it and
    /// the calls linked to it are judged only by what holds everywhere.
    fn unjudge_call(&mut self, world: &mut World, call: &str, why: String) {
        let mut linked: Vec<String> = world.children(call);
        linked.push(call.to_owned());
        if let Some(c) = world.call(call) {
            linked.extend(c.primary.clone());
            if let Some(CallStatus::Conferenced { parent }) = &c.status {
                linked.push(parent.clone());
                linked.extend(world.children(parent));
            }
        }
        for alias in linked {
            if let Some(party) = world.call(&alias).and_then(|c| c.party.clone()) {
                world.unjudge_party(&party);
            }
            world.call_mut(&alias).unmodelled = true;
        }
        self.unjudge(why);
    }

    /// T2: whether `app` already freed its handle to `call`; if so, `what`
    /// on it must have been refused with `InvalCallHandle`.
    fn freed_handle(
        &mut self,
        world: &World,
        seen: &StepSeen,
        app: &str,
        call: &str,
        what: &str,
    ) -> bool {
        if !world.call(call).is_some_and(|c| c.freed.contains(app)) {
            return false;
        }
        if seen.answer != Answer::Refused(LineError::InvalCallHandle) {
            self.fail(
                "T2",
                format!(
                    "{what} on {app}'s freed handle to {call} answered {:?}; expected Err(InvalCallHandle)",
                    seen.answer
                ),
            );
        }
        true
    }

    /// The result of `app`'s Reply to `request` in this step, if it came.
    fn reply_in(&self, seen: &StepSeen, app: &str, request: &str) -> Option<Result<(), LineError>> {
        seen.events_of(app).iter().find_map(|e| match e {
            Seen::Reply { request: r, result } if r == request => Some(*result),
            _ => None,
        })
    }

    /// Checks the calls an operation affects against `effects`, for every
    /// app holding them (but `exempt`: the app that just gave up its handle
    /// to that call), then records what the far parties are owed.
    pub fn apply(
        &mut self,
        world: &mut World,
        seen: &StepSeen,
        effects: &Effects,
        exempt: Option<(&str, &str)>,
    ) {
        let exempt_from = |call: &str| exempt.filter(|(_, c)| *c == call).map(|(a, _)| a);
        let main = effects.wants.first().map_or("D5", |(_, _, rule)| *rule);
        for (call, want, rule) in &effects.wants {
            let Some(c) = world.call(call) else { continue };
            let holders: Vec<String> = c
                .holders
                .keys()
                .filter(|a| Some(a.as_str()) != exempt_from(call))
                .cloned()
                .collect();
            for app in holders {
                let last = seen.events_of(&app).iter().rev().find_map(|e| match e {
                    Seen::State {
                        call: x, status, ..
                    } if x == call => Some(status),
                    _ => None,
                });
                match (want, last) {
                    (Want::Any, _) => {}
                    (Want::Unchanged, Some(status)) => self.fail(
                        rule,
                        format!("{call} went {status} for {app}; it should not change"),
                    ),
                    (Want::Unchanged, None) => {}
                    (want, None) => self.fail(
                        rule,
                        format!("{app} holds {call} but got no state event; expected {want}"),
                    ),
                    (want, Some(status)) if !want.matches(status) => self.fail(
                        rule,
                        format!("{call} went {status} for {app}; expected {want}"),
                    ),
                    _ => {}
                }
            }
        }
        for (app, call, status) in seen.states() {
            if !effects.wants.iter().any(|(c, _, _)| c == call) && world.call(call).is_some() {
                self.fail(
                    main,
                    format!(
                        "{call} went {status} for {app}, though the operation does not affect it"
                    ),
                );
            }
        }
        // A call nobody holds any more (T3: the last handle just went) is
        // told to no one: take SPEC's word for where it went.
        for (call, want, _) in &effects.wants {
            let unobserved = world.call(call).is_some_and(|c| {
                c.holders
                    .keys()
                    .all(|a| Some(a.as_str()) == exempt_from(call))
            });
            if unobserved {
                let status = match want {
                    Want::Idle => Some(CallStatus::Idle),
                    Want::Connected => Some(CallStatus::Connected {
                        mode: ConnectedMode::Active,
                    }),
                    Want::Inactive => Some(CallStatus::Connected {
                        mode: ConnectedMode::Inactive,
                    }),
                    _ => None,
                };
                if let Some(status) = status {
                    world.call_mut(call).status = Some(status);
                }
            }
        }
        for (party, signal, rule) in &effects.signals {
            world.send(party, signal.clone(), rule, self.index);
        }
        for (party, rule) in &effects.silent {
            world.silence(party, rule, self.index);
        }
        for party in &effects.unjudged_parties {
            world.unjudge_party(party);
        }
        for (call, uui) in &effects.uui_sent {
            world.call_mut(call).uui_sent = Some(uui.clone());
        }
        for why in &effects.unjudged {
            self.unjudge(why.clone());
        }
    }

    fn deallocate(&mut self, world: &mut World, seen: &StepSeen, app: &str, call: &str) {
        if self.freed_handle(world, seen, app, call, "deallocate") {
            return;
        }
        let Some(c) = world.call(call) else { return };
        if !c.holders.contains_key(app) {
            return;
        }
        if seen.answer != Answer::Done {
            self.fail(
                "T3",
                format!(
                    "deallocating {app}'s handle to {call} in {} answered {:?}; a handle may always be deallocated",
                    show_status(c.status.as_ref()),
                    seen.answer
                ),
            );
            return;
        }
        self.freed(world, seen, app, call);
    }

    /// After `app` gave up its handle to `call`: nothing changes while
    /// others hold it (T1); the last handle to a live call makes the
    /// provider drop it as a drop without UUI would (T3).
    fn freed(&mut self, world: &mut World, seen: &StepSeen, app: &str, call: &str) {
        let Some(c) = world.call(call) else { return };
        let others = c.holders.keys().any(|a| a != app);
        let state = c.state();
        if others || state == Some(CallState::Idle) || state.is_none() {
            let effects = Effects::unchanged(call, "T1");
            self.apply(world, seen, &effects, Some((app, call)));
            return;
        }
        if state.is_some_and(CallState::is_offered) && !self.context.caps.reject_by_drop {
            // SPEC says nothing of an offered call nobody holds that cannot
            // be rejected: whatever the provider does is its own.
            self.touch_unjudged(
                world,
                &Step::FarHangUp {
                    call: call.to_owned(),
                    cause: 0,
                    uui: Uui::Bytes(Vec::new()),
                },
                "the last handle to an offered call without reject_by_drop (SPEC is silent)",
            );
            return;
        }
        match Effects::of_drop(self.context, world, call, DisconnectCode::Normal, &[]) {
            Ok(mut effects) => {
                effects.retag(call, "T3");
                self.apply(world, seen, &effects, Some((app, call)));
            }
            Err(why) => self.unjudge_call(world, call, why),
        }
    }

    fn deallocate_all(&mut self, world: &mut World, seen: &StepSeen, app: &str) {
        let Answer::Deallocated(freed) = &seen.answer else {
            return;
        };
        for (call, error) in freed {
            let Some(c) = world.call(call) else { continue };
            if c.freed.contains(app) {
                continue;
            }
            if let Some(error) = error {
                self.fail(
                    "T3",
                    format!("deallocating {app}'s handle to {call} was refused ({error})"),
                );
            }
            // Several handles go in one step: judge the far end only where a
            // last handle of a plain live call goes.
            let lone = !c.holders.keys().any(|a| a != app)
                && !c.is_idle()
                && !c.conference
                && c.primary.is_none()
                && !matches!(c.status, Some(CallStatus::Conferenced { .. }));
            if lone {
                if let Some(party) = c.party.clone() {
                    world.unjudge_party(&party);
                }
                self.unjudge("several last handles freed in one step");
            }
        }
    }

    fn info(&mut self, world: &World, seen: &StepSeen, app: &str, call: &str) {
        if self.freed_handle(world, seen, app, call, "info") {
            return;
        }
        let Some(c) = world.call(call) else { return };
        let Some(held) = c.holders.get(app) else {
            return;
        };
        let Answer::Info(info) = &seen.answer else {
            self.fail(
                "Q1",
                format!(
                    "info on {app}'s handle to {call} answered {:?}; a handle answers queries until it is deallocated",
                    seen.answer
                ),
            );
            return;
        };
        if let Some(status) = &c.status {
            // A parent the app holds no handle to is shown as `?`.
            let unheld_parent = match (&info.status, status) {
                (CallStatus::Conferenced { parent: shown }, CallStatus::Conferenced { parent }) => {
                    // ... or was when it was told: the state must agree.
                    (shown == "?"
                        && !world
                            .call(parent)
                            .is_some_and(|p| p.holders.contains_key(app)))
                        || parent == "?"
                }
                _ => false,
            };
            if info.status != *status && !unheld_parent {
                self.fail(
                    "Q1",
                    format!(
                        "info of {call} says {}, but the last state reported was {status}",
                        info.status
                    ),
                );
            }
            if let CallStatus::Disconnected { mode } = status {
                if info.disconnect_mode != Some(*mode) {
                    self.fail(
                        "Q1",
                        format!(
                            "info of {call} gives disconnect mode {:?}; it went Disconnected/{mode}",
                            info.disconnect_mode
                        ),
                    );
                }
            }
        }
        if info.privilege != Ok(*held) {
            self.fail(
                "P1",
                format!(
                    "info of {call} gives {app} privilege {:?}; its handle is {held}",
                    info.privilege
                ),
            );
        }
        if let Some(sent) = &c.uui_sent {
            if info.uui_sent != *sent {
                self.fail(
                    "U3",
                    format!(
                        "info of {call} shows UUI sent {}; the drop sent {}",
                        hex(&info.uui_sent),
                        hex(sent)
                    ),
                );
            }
        }
        if let Some(received) = &c.uui_received {
            if info.uui_received != *received {
                self.fail(
                    "U5",
                    format!(
                        "info of {call} shows UUI received {}; the far end sent {}",
                        hex(&info.uui_received),
                        hex(received)
                    ),
                );
            }
        }
    }

    /// S3: a far hang-up takes a live call to Disconnected, never Idle;
    /// C6: a party leaves its conference, and C3/C4 apply to the rest.
    fn far_hang_up(
        &mut self,
        world: &mut World,
        seen: &StepSeen,
        call: &str,
        cause: u32,
        uui: &[u8],
    ) {
        let Some(c) = world.call(call) else { return };
        if seen.answer != Answer::Done || c.unmodelled {
            return;
        }
        let state = c.state();
        if matches!(
            state,
            None | Some(CallState::Idle | CallState::Disconnected)
        ) {
            return;
        }
        // U5 within what the provider declares it keeps (L2); longer UUI
        // the far end cannot send it.
        if uui.len() <= self.context.caps.uui_received_size as usize {
            world.call_mut(call).uui_received = Some(uui.to_vec());
        }
        let c = world.call(call).cloned().unwrap_or_default();
        let mut effects = Effects::default();
        let rule = if matches!(c.status, Some(CallStatus::Conferenced { .. })) {
            "C6"
        } else {
            "S3"
        };
        // The mode a cause maps to (§10) is judged where the provider
        // declares that the far end's causes reach it (L2).
        let want = if self.context.caps.far_causes {
            match cause {
                16 => Want::DisconnectedAs(DisconnectMode::Normal),
                17 => Want::DisconnectedAs(DisconnectMode::Busy),
                21 => Want::DisconnectedAs(DisconnectMode::Reject),
                _ => Want::Disconnected,
            }
        } else {
            Want::Disconnected
        };
        effects.want(call, want, rule);
        // At BridgedShared stations the far party leaves every appearance
        // of its call (B1: they are one call).
        for other in world.appearances(call, |l| self.shared(l)) {
            effects.want(&other, want, rule);
        }
        if world.parent_unknown() && matches!(c.status, Some(CallStatus::Conferenced { .. })) {
            self.unjudge_call(
                world,
                call,
                "a conference party whose parent no app holding it can name".to_owned(),
            );
            return;
        }
        if let Some(CallStatus::Conferenced { parent }) = &c.status {
            let nested = matches!(
                world.call(parent).and_then(|p| p.status.clone()),
                Some(CallStatus::Conferenced { .. })
            );
            let rest: Vec<String> = world
                .children(parent)
                .into_iter()
                .filter(|x| x != call)
                .collect();
            if nested {
                self.unjudge("a party leaving a nested conference");
                for x in &rest {
                    if let Some(p) = world.call(x).and_then(|c| c.party.clone()) {
                        world.unjudge_party(&p);
                    }
                }
                return;
            }
            if rest.len() >= 2 {
                for x in &rest {
                    effects.want(x, Want::Unchanged, "C6");
                }
                effects.want(parent, Want::Unchanged, "C6");
            } else if let [last] = rest.as_slice() {
                effects.want(parent, Want::Idle, "C6");
                effects.want(last, Want::Connected, "C6");
            }
        }
        if let Some(party) = &c.party {
            effects.silent.push((party.clone(), rule));
        }
        self.apply(world, seen, &effects, None);
    }

    /// §10 as the far end saw it: each party received exactly the signals
    /// SPEC says our operations sent it, in order.
    fn far_end(&mut self, world: &World, seen: &StepSeen) {
        let Answer::FarEnd(parties) = &seen.answer else {
            return;
        };
        for (name, party) in &world.far {
            if party.unjudged {
                continue;
            }
            let received: &[(SignalKind, u32, Vec<u8>)] = parties
                .iter()
                .find(|p| p.name == *name)
                .map_or(&[], |p| p.received.as_slice());
            let expected: Vec<_> = party.expected.iter().map(|(s, _, _)| s.clone()).collect();
            if received == expected.as_slice() {
                continue;
            }
            // Name the rule behind the first signal that differs, or the
            // latest rule for a signal that should not have been sent.
            let first = received
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(received.len().min(expected.len()));
            let (rule, step) = match party.expected.get(first) {
                // The right signal with other bytes: the UUI was not handed
                // on byte for byte.
                Some(((kind, cause, _), _, step))
                    if received
                        .get(first)
                        .is_some_and(|(k, c, _)| k == kind && c == cause) =>
                {
                    ("U3", *step)
                }
                Some((_, rule, step)) => (*rule, *step),
                None => party.because.unwrap_or(("U3", self.index)),
            };
            self.fail(
                rule,
                format!(
                    "the far end {name} received [{}]; after step {} it should have received [{}]",
                    show_signals(received),
                    step + 1,
                    show_signals(&expected)
                ),
            );
        }
    }

    /// B5: closing a line revokes the app's ownership; a call it solely
    /// owned is dropped with close_drop, and reported still active without.
    fn close(&mut self, world: &mut World, seen: &StepSeen, app: &str, line: &str) {
        let Answer::Closed {
            dropped,
            still_active,
        } = &seen.answer
        else {
            return;
        };
        if self.bridged(line) && self.context.caps.close_drop {
            self.unjudge("closing a bridged line with close_drop (B5 with stations)");
            return;
        }
        let sole: Vec<String> = world
            .calls
            .iter()
            .filter(|(_, c)| c.line.as_deref() == Some(line) && !c.is_idle())
            .filter(|(_, c)| c.holders.get(app) == Some(&Privilege::Owner))
            .filter(|(_, c)| {
                !c.holders
                    .iter()
                    .any(|(a, p)| a != app && *p == Privilege::Owner)
            })
            .map(|(alias, _)| alias.clone())
            .collect();
        let close_drop = self.context.caps.close_drop;
        let mut sorted_sole = sole.clone();
        sorted_sole.sort();
        let mut listed_active = still_active.clone();
        listed_active.sort();
        // A call that is up or being set up must be listed as still
        // active; one the far end left or that still rings may be.
        let must_list: Vec<String> = sorted_sole
            .iter()
            .filter(|c| {
                !world
                    .call(c)
                    .and_then(|c| c.state())
                    .is_some_and(|s| s.is_offered() || s == CallState::Disconnected)
            })
            .cloned()
            .collect();
        let listed_ok = if close_drop {
            // The calls dropped as a consequence (a conference parent
            // emptied by the close) need not be listed; what is listed was
            // the app's alone, and nothing stays active.
            still_active.is_empty() && dropped.iter().all(|d| sole.contains(d))
        } else {
            dropped.is_empty()
                && listed_active.iter().all(|c| sorted_sole.contains(c))
                && must_list.iter().all(|c| listed_active.contains(c))
        };
        if !listed_ok {
            self.fail(
                "B5",
                format!(
                    "closing {line} {} reported dropped {dropped:?} still_active {still_active:?}; {app} solely owned {sole:?}",
                    if close_drop { "with close_drop" } else { "without close_drop" }
                ),
            );
        }
        let mut effects = Effects::default();
        for call in &sole {
            // A party whose conference is dropped by the same close may
            // go Idle with its parent before its own drop (C2 leaves its
            // far party connected) or be dropped first (released): SPEC
            // fixes no order among the calls one close drops (D4), and the
            // provider did not list it as dropped itself.
            let parent_first = world.call(call).is_some_and(|c| {
                matches!(&c.status, Some(CallStatus::Conferenced { parent }) if sole.contains(parent))
            }) && !dropped.contains(call);
            if close_drop && parent_first {
                effects.want(call, Want::Idle, "B5");
                if let Some(party) = world.call(call).and_then(|c| c.party.clone()) {
                    effects.unjudged_parties.push(party);
                }
            } else if close_drop {
                effects.want(call, Want::Idle, "B5");
                match Effects::signal_only(world, call, self.context.caps.reject_by_drop) {
                    Ok(e) => effects.extend(e),
                    Err(why) => {
                        self.unjudge_call(world, call, why);
                        return;
                    }
                }
                // Calls linked to a dropped one may follow it (a parent
                // emptied, a primary released): SPEC fixes nothing more.
                let Some(c) = world.call(call) else { continue };
                let mut linked = world.children(call);
                linked.extend(c.primary.clone());
                if let Some(CallStatus::Conferenced { parent }) = &c.status {
                    linked.push(parent.clone());
                    linked.extend(world.children(parent));
                }
                for other in linked {
                    if !sole.contains(&other) {
                        effects.want(&other, Want::Any, "B5");
                    }
                }
            } else {
                effects.want(call, Want::Unchanged, "B5");
            }
        }
        self.apply(world, seen, &effects, None);
    }

    /// Bookkeeping after the step's events are in: new calls' lines and
    /// parties, links, freed handles, lines opened and closed.
    fn register(&mut self, world: &mut World, step: &Step, seen: &StepSeen) {
        match step {
            Step::Open {
                app,
                line,
                privilege,
            } if seen.answer == Answer::Done => {
                world.open.insert((app.clone(), line.clone()), *privilege);
            }
            Step::Close { app, line } if matches!(seen.answer, Answer::Closed { .. }) => {
                world.open.remove(&(app.clone(), line.clone()));
                for c in world.calls.values_mut() {
                    if c.line.as_deref() == Some(line) {
                        if let Some(p) = c.holders.get_mut(app) {
                            *p = Privilege::Monitor;
                        }
                    }
                }
            }
            Step::MakeCall { call, line, to, .. } if request_of(&seen.answer).is_some() => {
                let c = world.call_mut(call);
                c.line = Some(line.clone());
                c.party = Some(to.clone());
            }
            Step::FarOffer {
                call, line, from, ..
            } if seen.answer == Answer::Done => {
                let c = world.call_mut(call);
                c.line = Some(line.clone());
                c.party = Some(from.clone());
            }
            Step::Setup {
                call, consult, to, ..
            } if request_of(&seen.answer).is_some() => {
                let line = world.call(call).and_then(|c| c.line.clone());
                let c = world.call_mut(consult);
                c.line = line;
                c.party = Some(to.clone());
                c.primary = Some(call.clone());
            }
            Step::AddToConference { call, consult, .. } => {
                if let Answer::Conference { conference, .. } = &seen.answer {
                    let line = world.call(call).and_then(|c| c.line.clone());
                    let parent = world.call_mut(conference);
                    parent.conference = true;
                    if parent.line.is_none() {
                        parent.line = line;
                    }
                    world.call_mut(consult).primary = None;
                }
            }
            Step::Deallocate { app, call } if call == ALL_CALLS => {
                if let Answer::Deallocated(freed) = &seen.answer {
                    for (alias, error) in freed {
                        if error.is_none() {
                            free(world, app, alias, self.context.caps.reject_by_drop);
                        }
                    }
                }
            }
            Step::Deallocate { app, call } if seen.answer == Answer::Done => {
                free(world, app, call, self.context.caps.reject_by_drop);
            }
            Step::PauseEvents => world.paused = true,
            // Only a request made while paused can still be settling after
            // the resume has read everything the paused steps caused.
            Step::ResumeEvents => {
                world.paused = false;
                world.backlog = std::mem::take(&mut world.paused_request);
            }
            _ => {}
        }
    }
}

/// `app` gave up its handle to `call`. When that was the last handle, the
/// provider drops the call (T3) and nobody is told: the world takes SPEC's
/// outcome, Idle, whether or not the step could be judged (events paused).
fn free(world: &mut World, app: &str, call: &str, reject_by_drop: bool) {
    let c = world.call_mut(call);
    c.holders.remove(app);
    c.freed.insert(app.to_owned());
    if c.holders.is_empty() && !c.is_idle() && c.status.is_some() {
        if c.state().is_some_and(CallState::is_offered) && !reject_by_drop {
            c.unmodelled = true;
        }
        c.status = Some(CallStatus::Idle);
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn show_signals(signals: &[(SignalKind, u32, Vec<u8>)]) -> String {
    signals
        .iter()
        .map(|(kind, cause, uui)| format!("{kind} cause {cause} uui {}", hex(uui)))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Want {
    pub fn matches(&self, status: &Status) -> bool {
        match self {
            Want::Idle => status.state() == CallState::Idle,
            Want::Connected => matches!(
                status,
                CallStatus::Connected {
                    mode: ConnectedMode::Active
                }
            ),
            Want::Inactive => matches!(
                status,
                CallStatus::Connected {
                    mode: ConnectedMode::Inactive
                }
            ),
            Want::Disconnected => status.state() == CallState::Disconnected,
            Want::DisconnectedAs(mode) => {
                matches!(status, CallStatus::Disconnected { mode: m } if m == mode)
            }
            Want::Unchanged => false,
            Want::Any => true,
        }
    }
}
