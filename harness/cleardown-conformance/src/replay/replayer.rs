//! The replayer: runs a fixture's steps through the host, names what it
//! sees by the fixture's aliases, and writes the transcript and the history.

use std::{
    collections::{HashMap, HashSet},
    fmt::Write as _,
    time::{Duration, Instant},
};

use cleardown_host::{
    AddressId, App, CallHandle, CallId, CallStatus, Capabilities, Disconnected, Event, Host,
    LineError, ProviderId, RequestId,
};
use cleardown_oracle::history::{Answer, History, InfoSeen, PartySeen, Seen, StepSeen};

use cleardown_far_end::{Driver, FarEnd, ProviderFarEnd};

use super::{Binding, Options, Outcome};
use crate::fixture::{ALL_CALLS, Fixture, SimpleOp, Step, Uui};

/// How calls the fixture did not name are shown: `~1`, `~2`…
pub(super) const AUTO_PREFIX: &str = "~";

/// Replays `fixture` against `provider` of `host`, bound by `binding`,
/// with the far end the provider simulates ([`ProviderFarEnd`]).
pub fn replay(
    host: &Host,
    provider: ProviderId,
    caps: &Capabilities,
    fixture: &Fixture,
    binding: &Binding,
    options: Options,
) -> Outcome {
    let far = Box::new(ProviderFarEnd::new(host, provider));
    replay_with(host, provider, caps, fixture, binding, options, far)
}

/// [`replay`] with `far` playing the far end: every far-end step and the
/// `far_end` view go to it. A step it cannot serve (`OperationUnavail`)
/// stops the replay, and the outcome says why ([`Outcome::unserved`]): the
/// fixture is skipped, never failed.
pub fn replay_with<'h>(
    host: &'h Host,
    provider: ProviderId,
    caps: &Capabilities,
    fixture: &Fixture,
    binding: &Binding,
    options: Options,
    far: Box<dyn FarEnd + 'h>,
) -> Outcome {
    let mut replayer = Replayer {
        host,
        provider,
        far,
        unserved: None,
        caps: caps.clone(),
        lines: binding.lines.clone(),
        address_names: caps.addresses.iter().map(|a| a.name.clone()).collect(),
        options,
        apps: Vec::new(),
        calls: HashMap::new(),
        call_names: HashMap::new(),
        auto_names: 0,
        handles: HashMap::new(),
        handle_names: HashMap::new(),
        handle_apps: HashMap::new(),
        freed: HashSet::new(),
        requests: HashMap::new(),
        pending: Vec::new(),
        gave_up: false,
        paused: false,
        bind_next: Vec::new(),
        out: String::new(),
        history: History::default(),
    };
    for (_, step) in &fixture.steps {
        replayer.step(step);
        if let Some(unserved) = replayer.unserved.take() {
            return Outcome {
                unserved: Some(unserved),
                ..Outcome::default()
            };
        }
    }
    replayer.paused = false;
    replayer.settle();
    let missing: Vec<String> = replayer
        .pending
        .iter()
        .map(|(request, _)| replayer.requests[request].clone())
        .collect();
    for name in &missing {
        let _ = writeln!(replayer.out, "!! no Reply to {name} (D3)");
    }
    let by_app: Vec<(String, Vec<String>)> = host
        .leaks()
        .into_iter()
        .map(|leak| {
            let names = leak
                .handles
                .iter()
                .map(|h| replayer.handle_name(*h))
                .collect();
            (leak.app, names)
        })
        .collect();
    let leaks = by_app
        .iter()
        .flat_map(|(app, names)| names.iter().map(move |name| format!("{app}: {name}")))
        .collect();
    let wire = fixture
        .wire
        .then(|| crate::wire::log(replayer.far.parties()));
    let mut history = replayer.history;
    history.leaks = by_app;
    history.missing_replies = missing.clone();
    history.fault = host.fault(provider);
    Outcome {
        transcript: replayer.out,
        missing_replies: missing,
        leaks,
        fault: host.fault(provider),
        wire,
        history,
        verdicts: Vec::new(),
        unjudged: Vec::new(),
        reached: Vec::new(),
        unserved: None,
    }
}

pub(super) struct Replayer<'h> {
    pub(super) host: &'h Host,
    pub(super) provider: ProviderId,
    /// What plays the far end: the fixture's far-end steps and its
    /// `far_end` view go here, never to the provider directly.
    pub(super) far: Box<dyn FarEnd + 'h>,
    /// Why the far end could not serve a step (it answered
    /// `OperationUnavail`): the replay stops there.
    pub(super) unserved: Option<String>,
    /// The declaration, for UUI sized from it.
    pub(super) caps: Capabilities,
    pub(super) lines: Vec<(String, AddressId)>,
    /// The provider's address names, by address id.
    pub(super) address_names: Vec<String>,
    pub(super) options: Options,
    pub(super) apps: Vec<(String, App)>,
    pub(super) calls: HashMap<String, CallId>,
    pub(super) call_names: HashMap<CallId, String>,
    pub(super) auto_names: usize,
    /// Each app's last known handle per alias; kept after deallocate so a
    /// fixture can show that a freed handle is refused (T2).
    pub(super) handles: HashMap<(usize, String), CallHandle>,
    pub(super) handle_names: HashMap<CallHandle, String>,
    /// Which app each handle seen in an event belongs to (for `deallocate *`).
    pub(super) handle_apps: HashMap<CallHandle, usize>,
    pub(super) freed: HashSet<CallHandle>,
    pub(super) requests: HashMap<RequestId, String>,
    /// Requests without a Reply yet, with the index of the app that made them.
    pub(super) pending: Vec<(RequestId, usize)>,
    pub(super) gave_up: bool,
    /// Between `pause_events` and `resume_events`.
    pub(super) paused: bool,
    /// Aliases a step gives the calls it makes appear at stations (a
    /// `station` step's `call`, `appearances` of `far_offer` and
    /// `far_answer`): each names the first call then seen on its address.
    pub(super) bind_next: Vec<(String, AddressId)>,
    pub(super) out: String,
    /// The same run, structured, for the oracle.
    pub(super) history: History,
}

impl Replayer<'_> {
    fn app(&mut self, name: &str) -> usize {
        if let Some(index) = self.apps.iter().position(|(n, _)| n == name) {
            return index;
        }
        self.apps.push((name.to_owned(), self.host.app(name)));
        self.apps.len() - 1
    }

    fn address(&self, line: &str) -> AddressId {
        self.lines
            .iter()
            .find(|(alias, _)| alias == line)
            .map(|(_, a)| *a)
            // Lines were checked at parse time and bound by the gate.
            .unwrap_or(AddressId(u32::MAX))
    }

    fn line_name(&self, address: AddressId) -> String {
        self.lines.iter().find(|(_, a)| *a == address).map_or_else(
            || format!("address {}", address.0),
            |(alias, _)| alias.clone(),
        )
    }

    fn bind(&mut self, alias: &str, call: CallId) {
        self.calls.insert(alias.to_owned(), call);
        self.call_names.insert(call, alias.to_owned());
    }

    fn bind_handle(&mut self, app: usize, alias: &str, handle: CallHandle) {
        if let Some((_, call)) = self.host.call_of(handle) {
            if !self.call_names.contains_key(&call) {
                self.bind(alias, call);
            }
        }
        self.handles.insert((app, alias.to_owned()), handle);
        self.handle_names
            .entry(handle)
            .or_insert_with(|| alias.to_owned());
    }

    fn call_name(&mut self, call: CallId) -> String {
        if let Some(name) = self.call_names.get(&call) {
            return name.clone();
        }
        self.auto_names += 1;
        let name = format!("{AUTO_PREFIX}{}", self.auto_names);
        self.bind(&name, call);
        name
    }

    fn handle_name(&mut self, handle: CallHandle) -> String {
        if let Some(name) = self.handle_names.get(&handle) {
            return name.clone();
        }
        let Some((_, call)) = self.host.call_of(handle) else {
            return format!("?{handle}");
        };
        if !self.call_names.contains_key(&call) {
            if let Some(index) = self.bind_index(handle) {
                let (alias, _) = self.bind_next.remove(index);
                self.bind(&alias, call);
            }
        }
        let name = self.call_name(call);
        self.handle_names.insert(handle, name.clone());
        if !self.history.lines.iter().any(|(c, _)| *c == name) {
            let address = self
                .apps
                .iter()
                .find_map(|(_, app)| app.address(handle).ok());
            if let Some(address) = address {
                let line = self.line_name(address);
                self.history.lines.push((name.clone(), line));
            }
        }
        name
    }

    /// The pending alias for the address of `handle`'s call, if any.
    fn bind_index(&self, handle: CallHandle) -> Option<usize> {
        let address = self
            .apps
            .iter()
            .find_map(|(_, app)| app.address(handle).ok())?;
        self.bind_next
            .iter()
            .position(|(alias, a)| *a == address && !self.calls.contains_key(alias))
    }

    /// A `station` step's alias given to the call the station picked up
    /// when that call was already shown unnamed (`~N`: an appearance that
    /// rang or showed Inactive before the station went off-hook): from this
    /// step on it is the alias, and the transcript says so once.
    fn rename_for_station(&mut self, handle: CallHandle) {
        let Some((_, call)) = self.host.call_of(handle) else {
            return;
        };
        let Some(old) = self.call_names.get(&call).cloned() else {
            return;
        };
        if !old.starts_with(AUTO_PREFIX) {
            return;
        }
        let Some(index) = self.bind_index(handle) else {
            return;
        };
        let (alias, _) = self.bind_next.remove(index);
        self.calls.remove(&old);
        self.bind(&alias, call);
        for name in self.handle_names.values_mut() {
            if *name == old {
                name.clone_from(&alias);
            }
        }
        let keys: Vec<(usize, String)> = self
            .handles
            .keys()
            .filter(|(_, n)| *n == old)
            .cloned()
            .collect();
        for (app, name) in keys {
            if let Some(h) = self.handles.remove(&(app, name)) {
                self.handles.insert((app, alias.clone()), h);
            }
        }
        for (name, _) in &mut self.history.lines {
            if *name == old {
                name.clone_from(&alias);
            }
        }
        let _ = writeln!(self.out, "  ({old} is {alias} from here)");
        if let Some(step) = self.history.steps.last_mut() {
            step.renamed.push((old, alias));
        }
    }

    /// The app's handle to the call named `alias`.
    fn handle(&mut self, app: usize, alias: &str) -> Result<CallHandle, Answer> {
        if let Some(handle) = self.handles.get(&(app, alias.to_owned())) {
            return Ok(*handle);
        }
        let call = self.calls.get(alias).copied();
        let handle = call.and_then(|call| self.apps[app].1.handle_of(self.provider, call));
        match handle {
            Some(handle) => {
                self.handles.insert((app, alias.to_owned()), handle);
                self.handle_names.insert(handle, alias.to_owned());
                Ok(handle)
            }
            None => Err(Answer::Unrunnable(format!(
                "no handle: {} holds none for {alias}",
                self.apps[app].0
            ))),
        }
    }

    /// A far-end name as the transcript shows it: a station (address)
    /// name becomes its line alias, or `station N` if the fixture did not
    /// bind that address; a remote party's name is the fixture's already.
    fn station_name(&self, name: &str) -> String {
        match self.address_names.iter().position(|a| a == name) {
            Some(index) => self.line_name(AddressId(index as u32)),
            None => name.to_owned(),
        }
    }

    fn call(&self, alias: &str) -> Result<CallId, Answer> {
        self.calls
            .get(alias)
            .copied()
            .ok_or_else(|| Answer::Unrunnable(format!("no call: {alias} has not appeared")))
    }

    fn uui(&self, uui: &Uui) -> Vec<u8> {
        uui.bytes(&self.caps)
    }

    fn request(&mut self, app: usize, request: RequestId) -> String {
        let name = format!("r{}", self.requests.len() + 1);
        self.requests.insert(request, name.clone());
        self.pending.push((request, app));
        name
    }

    fn step(&mut self, step: &Step) {
        let echo = self.echo(step);
        let _ = writeln!(self.out, "{echo}");
        self.history.steps.push(StepSeen {
            answer: Answer::Quiet,
            events: Vec::new(),
            renamed: Vec::new(),
        });
        let answer = self.run(step);
        let line = self.show_answer(&answer);
        if !line.is_empty() {
            for (i, part) in line.lines().enumerate() {
                let _ = writeln!(self.out, "  {}{part}", if i == 0 { "-> " } else { "   " });
            }
        }
        if let Some(seen) = self.history.steps.last_mut() {
            seen.answer = answer;
        }
        self.settle();
    }

    fn run(&mut self, step: &Step) -> Answer {
        match self.try_run(step) {
            Ok(answer) => answer,
            Err(answer) => answer,
        }
    }

    /// Runs one step; `Err` carries a refusal or a step that could not run,
    /// which the transcript shows like any other answer.
    fn try_run(&mut self, step: &Step) -> Result<Answer, Answer> {
        let err = Answer::Refused;
        match step {
            Step::Open {
                app,
                line,
                privilege,
            } => {
                let app = self.app(app);
                let address = self.address(line);
                self.apps[app]
                    .1
                    .open_line(self.provider, address, *privilege)
                    .map_err(err)?;
                Ok(Answer::Done)
            }
            Step::Close { app, line } => {
                let app = self.app(app);
                let address = self.address(line);
                let closed = self.apps[app]
                    .1
                    .close_line(self.provider, address)
                    .map_err(err)?;
                let dropped = closed
                    .dropped
                    .iter()
                    .map(|h| self.handle_name(*h))
                    .collect();
                let still_active = closed
                    .still_active
                    .iter()
                    .map(|h| self.handle_name(*h))
                    .collect();
                Ok(Answer::Closed {
                    dropped,
                    still_active,
                })
            }
            Step::MakeCall {
                app,
                call,
                line,
                to,
            } => {
                let index = self.app(app);
                let address = self.address(line);
                let (request, handle) = self.apps[index]
                    .1
                    .make_call(self.provider, address, to)
                    .map_err(err)?;
                self.bind_handle(index, call, handle);
                self.placed(handle, to);
                Ok(Answer::Request(self.request(index, request)))
            }
            Step::Simple { app, op, call } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let app = &self.apps[index].1;
                let request = match op {
                    SimpleOp::Answer => app.answer(handle),
                    SimpleOp::Accept => app.accept(handle),
                    SimpleOp::Hold => app.hold(handle),
                    SimpleOp::Unhold => app.unhold(handle),
                }
                .map_err(err)?;
                Ok(Answer::Request(self.request(index, request)))
            }
            Step::Setup {
                app,
                transfer,
                call,
                consult,
                to,
            } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let app = &self.apps[index].1;
                let (request, created) = if *transfer {
                    app.setup_transfer(handle, to)
                } else {
                    app.setup_conference(handle, to)
                }
                .map_err(err)?;
                self.bind_handle(index, consult, created);
                self.placed(created, to);
                Ok(Answer::Request(self.request(index, request)))
            }
            Step::AddToConference {
                app,
                call,
                consult,
                conference,
            } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let other = self.handle(index, consult)?;
                let (request, parent) = self.apps[index]
                    .1
                    .add_to_conference(handle, other)
                    .map_err(err)?;
                if let Some(alias) = conference {
                    self.bind_handle(index, alias, parent);
                }
                let conference = self.handle_name(parent);
                let request = self.request(index, request);
                Ok(Answer::Conference {
                    request,
                    conference,
                })
            }
            Step::CompleteTransfer { app, call, consult } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let other = self.handle(index, consult)?;
                let request = self.apps[index]
                    .1
                    .complete_transfer(handle, other)
                    .map_err(err)?;
                Ok(Answer::Request(self.request(index, request)))
            }
            Step::Drop { app, call, uui } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let bytes = self.uui(uui);
                let request = self.apps[index].1.drop(handle, &bytes).map_err(err)?;
                Ok(Answer::Request(self.request(index, request)))
            }
            Step::Disconnect {
                app,
                call,
                code,
                uui,
            } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let bytes = self.uui(uui);
                match self.apps[index]
                    .1
                    .disconnect(handle, *code, &bytes)
                    .map_err(err)?
                {
                    Disconnected::AlreadyIdle => Ok(Answer::AlreadyIdle),
                    Disconnected::Requested(request) => {
                        Ok(Answer::Requested(self.request(index, request)))
                    }
                }
            }
            Step::Deallocate { app, call } if call == ALL_CALLS => {
                let index = self.app(app);
                let mut mine: Vec<CallHandle> = self
                    .handles
                    .iter()
                    .filter(|((a, _), _)| *a == index)
                    .map(|(_, h)| *h)
                    .chain(
                        self.handle_apps
                            .iter()
                            .filter(|(_, a)| **a == index)
                            .map(|(h, _)| *h),
                    )
                    .filter(|h| !self.freed.contains(h))
                    .collect();
                mine.sort();
                mine.dedup();
                // Only calls the fixture named: a call the provider made up
                // (`~1`) is exactly what the leak check (T5) must see.
                mine.retain(|h| !self.handle_name(*h).starts_with(AUTO_PREFIX));
                let mut freed = Vec::new();
                for handle in mine {
                    let name = self.handle_name(handle);
                    self.freed.insert(handle);
                    freed.push((name, self.apps[index].1.deallocate(handle).err()));
                }
                Ok(Answer::Deallocated(freed))
            }
            Step::Deallocate { app, call } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                self.freed.insert(handle);
                self.apps[index].1.deallocate(handle).map_err(err)?;
                Ok(Answer::Done)
            }
            Step::Info { app, call } => {
                let index = self.app(app);
                let handle = self.handle(index, call)?;
                let app = self.apps[index].1.clone();
                let info = app.call_info(handle).map_err(err)?;
                let related = info
                    .related
                    .iter()
                    .map(|r| {
                        let name = r
                            .call
                            .map_or_else(|| "?".to_owned(), |h| self.handle_name(h));
                        (r.relation.to_string(), name)
                    })
                    .collect();
                Ok(Answer::Info(Box::new(InfoSeen {
                    status: self.seen_status(info.status),
                    privilege: app.privilege(handle),
                    line: self.line_name(info.address),
                    remote: info.remote,
                    related,
                    disconnect_mode: info.disconnect_mode,
                    uui_received: info.uui_received,
                    uui_sent: info.uui_sent,
                })))
            }
            Step::Leaks => {
                let leaks = self.host.leaks();
                Ok(Answer::Leaks(
                    leaks
                        .iter()
                        .map(|leak| {
                            let names = leak.handles.iter().map(|h| self.handle_name(*h)).collect();
                            (leak.app.clone(), names)
                        })
                        .collect(),
                ))
            }
            Step::FarOffer {
                call,
                line,
                from,
                uui,
                appearances,
            } => {
                self.expect_appearances(appearances);
                let address = self.address(line);
                let bytes = self.uui(uui);
                let id = self
                    .far
                    .offer(address, from, &bytes)
                    .map_err(|e| self.far_refused("far_offer", e))?;
                self.bind(call, id);
                Ok(Answer::Done)
            }
            Step::FarAlert { call } => {
                let id = self.call(call)?;
                self.far
                    .alert(id)
                    .map_err(|e| self.far_refused("far_alert", e))?;
                Ok(Answer::Done)
            }
            Step::FarAnswer { call, appearances } => {
                self.expect_appearances(appearances);
                let id = self.call(call)?;
                self.far
                    .answer(id)
                    .map_err(|e| self.far_refused("far_answer", e))?;
                Ok(Answer::Done)
            }
            Step::FarHangUp { call, cause, uui } => {
                let id = self.call(call)?;
                let bytes = self.uui(uui);
                self.far
                    .hang_up(id, *cause, &bytes)
                    .map_err(|e| self.far_refused("far_hang_up", e))?;
                // SPEC L2: a provider that finds a hang-up late (tone
                // detection) has that long, in its own time, before the
                // step's events are read.
                let delay = self.caps.hang_up_delay_ms;
                if delay > 0 {
                    self.host
                        .advance_time(self.provider, u64::from(delay))
                        .map_err(err)?;
                }
                Ok(Answer::Done)
            }
            Step::Station {
                line,
                off_hook,
                call,
            } => {
                let address = self.address(line);
                if let Some(alias) = call {
                    self.bind_next.push((alias.clone(), address));
                }
                self.host
                    .station_hook(self.provider, address, *off_hook)
                    .map_err(err)?;
                Ok(Answer::Done)
            }
            Step::Advance { ms } => {
                self.host.advance_time(self.provider, *ms).map_err(err)?;
                Ok(Answer::Done)
            }
            Step::FarEnd => {
                let mut parties = self
                    .far
                    .parties()
                    .map_err(|e| self.far_refused("far_end", e))?;
                // Providers list parties in their own order; names are the
                // fixture's, so sorting by them keeps transcripts neutral.
                parties.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(Answer::FarEnd(
                    parties
                        .into_iter()
                        .map(|party| PartySeen {
                            // A party may be connected to one of the
                            // provider's stations: name it by the fixture's
                            // line alias.
                            connected_to: party
                                .connected_to
                                .iter()
                                .map(|name| self.station_name(name))
                                .collect(),
                            received: party
                                .received
                                .into_iter()
                                .map(|s| (s.kind, s.cause, s.uui))
                                .collect(),
                            state: party.state,
                            name: party.name,
                        })
                        .collect(),
                ))
            }
            Step::PauseEvents => {
                self.paused = true;
                Ok(Answer::Quiet)
            }
            Step::ResumeEvents => {
                self.paused = false;
                Ok(Answer::Quiet)
            }
            Step::Wait {
                app,
                call,
                state,
                timeout_ms,
            } => {
                let index = self.app(app);
                Ok(self.wait(index, call, state, Duration::from_millis(*timeout_ms)))
            }
        }
    }

    /// Tells the far end which call the app placed to `to`.
    fn placed(&mut self, handle: CallHandle, to: &str) {
        if let Some((_, call)) = self.host.call_of(handle) {
            self.far.placed(call, to);
        }
    }

    /// A far-end step's refusal as the transcript shows it; one the far
    /// end cannot serve at all stops the replay (see [`replay_with`]).
    fn far_refused(&mut self, step: &str, error: LineError) -> Answer {
        if error == LineError::OperationUnavail {
            let driver = self.far.driver();
            let why = match driver {
                Driver::Provider => {
                    "the provider simulates no far end; run it with a far-end driver \
                     for its network (--far-end sip)"
                }
                _ => "this far-end driver cannot play that step",
            };
            self.unserved = Some(format!(
                "the far end (--far-end {driver}) cannot serve `{step}` (OperationUnavail): {why}"
            ));
        }
        Answer::Refused(error)
    }

    fn seen_status(&mut self, status: CallStatus<Option<CallHandle>>) -> CallStatus<String> {
        status.map_parent(|p| p.map_or_else(|| "?".to_owned(), |h| self.handle_name(h)))
    }

    fn seen_event(&mut self, event: &Event) -> Seen {
        match event {
            Event::CallState {
                handle,
                status,
                privilege,
            } => Seen::State {
                call: {
                    self.rename_for_station(*handle);
                    self.handle_name(*handle)
                },
                status: self.seen_status(*status),
                privilege: *privilege,
            },
            Event::Reply { request, result } => Seen::Reply {
                request: self
                    .requests
                    .get(request)
                    .cloned()
                    .unwrap_or_else(|| format!("?{request}")),
                result: *result,
            },
        }
    }

    fn note_reply(&mut self, event: &Event) {
        if let Event::Reply { request, .. } = event {
            self.pending.retain(|(r, _)| r != request);
        }
    }

    /// Writes `app`'s events. Consecutive state events of one call collapse
    /// to the last of them, because providers may pass through different
    /// transient states on the way (SPEC S2: Dialtone, Dialing, Proceeding…)
    /// and transcripts must be provider-neutral; an Idle is never collapsed
    /// away, so a call that leaves Idle (S1) still shows.
    fn write_events(&mut self, app: usize, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut seen = Vec::with_capacity(events.len());
        for event in events {
            if let Event::CallState { handle, .. } = event {
                self.handle_apps.insert(*handle, app);
            }
            seen.push(self.seen_event(event));
        }
        for (index, event) in seen.iter().enumerate() {
            // A transient state is shown only as the last of its call's
            // states before the next Reply, whatever other calls' states
            // lie between: which calls' events interleave is the
            // provider's choice (SPEC D4), the states on the way too (S2).
            if let Seen::State { call, status, .. } = event {
                let superseded = seen[index + 1..]
                    .iter()
                    .take_while(|e| matches!(e, Seen::State { .. }))
                    .any(|e| matches!(e, Seen::State { call: later, .. } if later == call));
                if superseded && !status.is_idle() {
                    continue;
                }
            }
            let line = self.show_event(app, event);
            let _ = writeln!(self.out, "  {line}");
        }
        // The history keeps every event, uncollapsed: the oracle judges
        // transient states too (S1).
        let name = self.apps[app].0.clone();
        if let Some(step) = self.history.steps.last_mut() {
            match step.events.iter_mut().find(|(a, _)| *a == name) {
                Some((_, list)) => list.extend(seen),
                None => step.events.push((name, seen)),
            }
        }
    }

    /// Collects every app's events until no request is outstanding (or the
    /// settle time runs out, once per fixture), then writes them app by app.
    fn settle(&mut self) {
        // The wire first: what the step set off is answered before its
        // events are read, paused or not (a paused app still has its
        // far end answer).
        self.far.settle();
        if self.paused {
            return;
        }
        let deadline = Instant::now() + self.options.settle;
        let mut seen: Vec<Vec<Event>> = vec![Vec::new(); self.apps.len()];
        loop {
            let fresh: Vec<Vec<Event>> = self.apps.iter().map(|(_, app)| app.events()).collect();
            for (index, events) in fresh.into_iter().enumerate() {
                // Each event once: a Reply among them ends its wait.
                for event in &events {
                    self.note_reply(event);
                }
                seen[index].extend(events);
            }
            let Some(&(_, owner)) = self.pending.first() else {
                break;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if self.gave_up || left.is_zero() {
                self.gave_up = true;
                break;
            }
            if let Some(event) = self.apps[owner].1.next_event(left) {
                self.note_reply(&event);
                seen[owner].push(event);
            }
        }
        for (index, events) in seen.iter().enumerate() {
            self.write_events(index, events);
        }
        // A station's alias names what its own step (or the resume after
        // it) showed, never a call of a later step.
        self.bind_next.clear();
    }

    fn expect_appearances(&mut self, appearances: &[(String, String)]) {
        for (station, alias) in appearances {
            let address = self.address(station);
            self.bind_next.push((alias.clone(), address));
        }
    }

    fn wait(&mut self, app: usize, call: &str, state: &str, timeout: Duration) -> Answer {
        // What earlier steps set off on a wire is answered first.
        self.far.settle();
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        let mut found = false;
        while !found {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(event) = self.apps[app].1.next_event(left) else {
                break;
            };
            self.note_reply(&event);
            if let Event::CallState { handle, status, .. } = &event {
                if status.state().name() == state {
                    let unnamed = self
                        .host
                        .call_of(*handle)
                        .is_some_and(|(_, c)| !self.call_names.contains_key(&c));
                    if !self.calls.contains_key(call) && unnamed {
                        self.bind_handle(app, call, *handle);
                    }
                    found = self.handle_name(*handle) == call;
                }
            }
            seen.push(event);
        }
        self.write_events(app, &seen);
        Answer::Waited((!found).then(|| {
            format!(
                "timed out after {} ms waiting for {call} {state}",
                timeout.as_millis()
            )
        }))
    }
}
