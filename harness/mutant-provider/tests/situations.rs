//! The situational mutants, each loaded through the real host around the
//! real pbx-sim (the bridged stations' around analog-bridge): in its
//! situation it breaks its rule (the control, the inner provider itself,
//! shows what the rule says; the mutant shows something else), and
//! in a neighbouring situation it behaves exactly like the control.
//!
//! Every scenario writes what an app would see into a log, one line per
//! fact, calls named by alias (the far party's name, or `conf`, `inner`,
//! `outer` for conference parents):
//!
//! - `do STEP -> ok` / `do STEP -> Err(ERROR)`: a step and its result;
//! - `APP: ALIAS STATUS PRIVILEGE`, `APP: reply Ok`: an event;
//! - `info ALIAS: STATUS`, `info ALIAS: disconnect mode MODE`,
//!   `info ALIAS: received HEX`, `info ALIAS: sent HEX`,
//!   `info ALIAS: related RELATION ALIAS`: call info;
//! - `far NAME: STATE with PEERS`, `far NAME got #N KIND CAUSE uui HEX`: the
//!   far-end view.
//!
//! `MUTANT_LOGS=1 cargo test -p mutant-provider --test situations -- --nocapture`
//! prints both logs of every situation.

use std::{cell::RefCell, collections::BTreeSet, fmt::Write, path::PathBuf};

use cleardown_host::{
    AddressId, App, CallHandle, CallId, DisconnectCode, Disconnected, Event, Host, LineError,
    LoadError, Privilege, ProviderId, locate,
};

const EXT_100: AddressId = AddressId(0);

/// The control and the first seven mutants, which break their rule
/// wherever it applies: their tests are in `mutants.rs`.
const NOT_SITUATIONAL: &[&str] = &[
    "none",
    "skip_child_event",
    "truncate_uui",
    "reject_undeclared",
    "no_reply",
    "idle_on_hang_up",
    "leak_handle",
    "panic_mid_drop",
    // Declaration mutants: tested below, by what they declare.
    "declares_far_causes",
    "declares_hang_up_at_once",
];

fn plugin(name: &str) -> PathBuf {
    match locate::find(name) {
        Ok(path) => path,
        Err(error) => panic!("cannot build or find plugin {name}: {error}"),
    }
}

fn join_config(first: String, rest: &str) -> String {
    if rest.is_empty() {
        first
    } else {
        format!("{first};{rest}")
    }
}

/// UUI as a step shows it: hex, `-` for none.
fn uui_text(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "-".to_owned()
    } else {
        hex(bytes)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// A host with one provider, the apps of a scenario, and its log.
struct World {
    host: Host,
    pbx: ProviderId,
    /// By name; `app` (an Owner of ext-100) first.
    apps: RefCell<Vec<(String, App)>>,
    /// Alias of each call the scenario named.
    calls: RefCell<Vec<(String, CallId)>>,
    log: RefCell<Vec<String>>,
}

impl World {
    fn load(library: &str, config: &str) -> World {
        let host = Host::new();
        let pbx = host
            .load(&plugin(library), config)
            .unwrap_or_else(|error| panic!("{library} loads with {config:?}: {error}"));
        let w = World {
            host,
            pbx,
            apps: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
            log: RefCell::new(Vec::new()),
        };
        w.open("app", Privilege::Owner);
        w
    }

    /// The inner provider itself, configured by `inner`.
    fn control(library: &str, inner: &str) -> World {
        World::load(library, inner)
    }

    /// The inner provider, configured by `inner`, wrapped in `mutant`.
    fn mutant(mutant: &str, library: &str, inner: &str) -> World {
        let ours = format!("mutant={mutant};inner={}", plugin(library).display());
        World::load("mutant-provider", &join_config(ours, inner))
    }

    /// Another app opening ext-100.
    fn open(&self, name: &str, privilege: Privilege) {
        let app = self.host.app(name);
        app.open_line(self.pbx, EXT_100, privilege)
            .expect("open ext-100");
        self.apps.borrow_mut().push((name.to_owned(), app));
    }

    fn with_app<T>(&self, name: &str, f: impl FnOnce(&App) -> T) -> T {
        let apps = self.apps.borrow();
        let (_, app) = apps
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no app {name}"));
        f(app)
    }

    fn note(&self, line: String) {
        self.log.borrow_mut().push(line);
    }

    fn call(&self, alias: &str) -> CallId {
        self.calls
            .borrow()
            .iter()
            .find(|(a, _)| a == alias)
            .map(|(_, call)| *call)
            .unwrap_or_else(|| panic!("no call {alias}"))
    }

    /// `app`'s handle to `alias`.
    fn handle(&self, app: &str, alias: &str) -> CallHandle {
        let call = self.call(alias);
        self.with_app(app, |a| a.handle_of(self.pbx, call))
            .unwrap_or_else(|| panic!("{app} holds no handle to {alias}"))
    }

    /// A call's alias; a call no step named (another station's
    /// appearance, a station's own dial tone) is named by its station as it
    /// first shows: `st2` for the call at address 1.
    fn alias_of(&self, app: &App, handle: CallHandle) -> String {
        let known = self
            .calls
            .borrow()
            .iter()
            .find(|(_, call)| app.handle_of(self.pbx, *call) == Some(handle))
            .map(|(alias, _)| alias.clone());
        if let Some(alias) = known {
            return alias;
        }
        match (self.host.call_of(handle), app.address(handle)) {
            (Some((_, call)), Ok(address)) => {
                let alias = format!("st{}", address.0 + 1);
                self.calls.borrow_mut().push((alias.clone(), call));
                alias
            }
            _ => handle.to_string(),
        }
    }

    /// `app` opens station `address` too (bridged lines).
    fn open_station(&self, address: AddressId) {
        let outcome = self.with_app("app", |a| a.open_line(self.pbx, address, Privilege::Owner));
        self.step(&format!("open station {}", address.0 + 1), outcome);
    }

    /// Station `address` goes off- or on-hook.
    fn hook(&self, address: AddressId, off_hook: bool) {
        let outcome = self.host.station_hook(self.pbx, address, off_hook);
        let hook = if off_hook { "off" } else { "on" };
        self.step(&format!("station {} {hook}-hook", address.0 + 1), outcome);
    }

    fn name(&self, alias: &str, handle: CallHandle) {
        let call = self.host.call_of(handle).expect("live handle").1;
        self.calls.borrow_mut().push((alias.to_owned(), call));
    }

    /// Logs a step's result, then every event every app got.
    fn step<T>(&self, what: &str, result: Result<T, LineError>) {
        match result {
            Ok(_) => self.note(format!("do {what} -> ok")),
            Err(error) => self.note(format!("do {what} -> Err({error})")),
        }
        self.events();
    }

    fn events(&self) {
        let apps = self.apps.borrow();
        for (name, app) in apps.iter() {
            for event in app.events() {
                let line = match event {
                    Event::CallState {
                        handle,
                        status,
                        privilege,
                    } => {
                        let status = status.map_parent(|p| {
                            p.map_or_else(|| "?".to_owned(), |h| self.alias_of(app, h))
                        });
                        format!(
                            "{name}: {} {status} {privilege}",
                            self.alias_of(app, handle)
                        )
                    }
                    Event::Reply { result: Ok(()), .. } => format!("{name}: reply Ok"),
                    Event::Reply {
                        result: Err(error), ..
                    } => format!("{name}: reply Err({error})"),
                };
                self.note(line);
            }
        }
    }

    // ---- far-end stimuli ------------------------------------------------

    fn answer_far(&self, alias: &str) {
        let outcome = self.host.remote_answer(self.pbx, self.call(alias));
        self.step(&format!("far answer {alias}"), outcome);
    }

    fn alert_far(&self, alias: &str) {
        let outcome = self.host.remote_alert(self.pbx, self.call(alias));
        self.step(&format!("far alert {alias}"), outcome);
    }

    fn hang_up(&self, alias: &str, cause: u32, uui: &[u8]) {
        let outcome = self
            .host
            .remote_hang_up(self.pbx, self.call(alias), cause, uui);
        self.step(
            &format!("far hang up {alias} cause {cause} uui {}", uui_text(uui)),
            outcome,
        );
    }

    fn offer(&self, from: &str) {
        let call = self
            .host
            .remote_offer(self.pbx, EXT_100, from, &[])
            .expect("offer");
        self.calls.borrow_mut().push((from.to_owned(), call));
        self.step(&format!("far offer {from}"), Ok(()));
    }

    fn advance(&self, ms: u64) {
        let outcome = self.host.advance_time(self.pbx, ms);
        self.step(&format!("advance {ms} ms"), outcome);
    }

    // ---- app operations -------------------------------------------------

    /// `app` calls `to`; the call's alias is `to`.
    fn make(&self, to: &str) {
        let outcome = self.with_app("app", |a| a.make_call(self.pbx, EXT_100, to));
        if let Ok((_, handle)) = outcome {
            self.name(to, handle);
        }
        self.step(&format!("make call {to}"), outcome);
    }

    /// `make` and the far end answers.
    fn connected(&self, to: &str) {
        self.make(to);
        self.answer_far(to);
    }

    fn drop_by(&self, app: &str, alias: &str, uui: &[u8]) {
        let handle = self.handle(app, alias);
        let outcome = self.with_app(app, |a| a.drop(handle, uui));
        self.step(
            &format!("drop {alias} by {app} uui {}", uui_text(uui)),
            outcome,
        );
    }

    fn drop(&self, alias: &str, uui: &[u8]) {
        self.drop_by("app", alias, uui);
    }

    fn disconnect(&self, alias: &str, code: DisconnectCode) {
        let handle = self.handle("app", alias);
        let outcome = self.with_app("app", |a| a.disconnect(handle, code, &[]));
        let what = format!("disconnect {alias} {code}");
        match outcome {
            Ok(Disconnected::AlreadyIdle) => self.step(&format!("{what} (already idle)"), Ok(())),
            other => self.step(&what, other),
        }
    }

    fn accept(&self, alias: &str) {
        let handle = self.handle("app", alias);
        let outcome = self.with_app("app", |a| a.accept(handle));
        self.step(&format!("accept {alias}"), outcome);
    }

    fn hold(&self, alias: &str) {
        let handle = self.handle("app", alias);
        let outcome = self.with_app("app", |a| a.hold(handle));
        self.step(&format!("hold {alias}"), outcome);
    }

    fn deallocate(&self, alias: &str) {
        let handle = self.handle("app", alias);
        let outcome = self.with_app("app", |a| a.deallocate(handle));
        self.step(&format!("deallocate {alias}"), outcome);
    }

    /// `setup_conference` (or `setup_transfer`) from `alias` to `to`.
    fn setup(&self, alias: &str, to: &str, transfer: bool) {
        let handle = self.handle("app", alias);
        let outcome = self.with_app("app", |a| {
            if transfer {
                a.setup_transfer(handle, to)
            } else {
                a.setup_conference(handle, to)
            }
        });
        if let Ok((_, consult)) = outcome {
            self.name(to, consult);
        }
        let kind = if transfer { "transfer" } else { "conference" };
        self.step(&format!("setup {kind} {alias} to {to}"), outcome);
    }

    /// `add_to_conference(alias, consult)`; a new parent is named `parent`.
    fn add(&self, alias: &str, consult: &str, parent: &str) {
        let (first, second) = (self.handle("app", alias), self.handle("app", consult));
        let outcome = self.with_app("app", |a| a.add_to_conference(first, second));
        if let Ok((_, handle)) = outcome {
            if handle != first {
                self.name(parent, handle);
            }
        }
        self.step(&format!("add {consult} to {alias}"), outcome);
    }

    /// A conference of the far parties `to` (two or more), built with
    /// `setup_conference` as a TAPI app builds it; its parent is `parent`.
    fn conference(&self, parent: &str, to: &[&str]) {
        self.connected(to[0]);
        let mut top = to[0];
        for name in &to[1..] {
            self.setup(top, name, false);
            self.answer_far(name);
            self.add(top, name, parent);
            top = parent;
        }
    }

    // ---- queries --------------------------------------------------------

    fn info(&self, alias: &str) {
        let handle = self.handle("app", alias);
        self.with_app("app", |app| {
            let info = app.call_info(handle).expect("call info (Q1)");
            let name =
                |h: Option<CallHandle>| h.map_or_else(|| "?".to_owned(), |h| self.alias_of(app, h));
            let status = info.status.map_parent(name);
            self.note(format!("info {alias}: {status}"));
            if let Some(mode) = info.disconnect_mode {
                self.note(format!("info {alias}: disconnect mode {mode}"));
            }
            if !info.uui_received.is_empty() {
                self.note(format!(
                    "info {alias}: received {}",
                    hex(&info.uui_received)
                ));
            }
            if !info.uui_sent.is_empty() {
                self.note(format!("info {alias}: sent {}", hex(&info.uui_sent)));
            }
            for related in &info.related {
                self.note(format!(
                    "info {alias}: related {} {}",
                    related.relation,
                    name(related.call)
                ));
            }
        });
    }

    fn far(&self) {
        for party in self.host.far_end(self.pbx).expect("far-end view") {
            let mut line = format!("far {}: {:?}", party.name, party.state);
            if !party.connected_to.is_empty() {
                let _ = write!(line, " with {}", party.connected_to.join(", "));
            }
            self.note(line);
            for (index, signal) in party.received.iter().enumerate() {
                let mut line = format!(
                    "far {} got #{} {} {}",
                    party.name,
                    index + 1,
                    signal.kind,
                    signal.cause
                );
                if !signal.uui.is_empty() {
                    let _ = write!(line, " uui {}", hex(&signal.uui));
                }
                self.note(line);
            }
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

// ---- the check ------------------------------------------------------------

/// One situational mutant: where it breaks its rule, what the rule says
/// there and what the mutant does instead, and a neighbouring situation in
/// which it must be pbx-sim exactly. A line "shows" where one log has it
/// more often than the other (a line may also appear before the situation).
struct Case {
    mutant: &'static str,
    /// The provider the mutant wraps, and the control: pbx-sim, or
    /// analog-bridge for the bridged stations' mutants.
    library: &'static str,
    /// The inner configuration, the same for the control.
    inner: &'static str,
    /// The scenario that meets the mutant's situation.
    broken: fn(&World),
    /// Lines the control logs there more often than the mutant: the rule.
    spec: &'static [&'static str],
    /// Lines the mutant logs there more often than the control.
    instead: &'static [&'static str],
    /// A scenario one step away from the situation: logged identically.
    neighbour: fn(&World),
}

fn shown(log: &[String]) -> String {
    log.iter().map(|line| format!("    {line}\n")).collect()
}

fn run(world: World, scenario: fn(&World)) -> Vec<String> {
    scenario(&world);
    assert_eq!(
        world.host.fault(world.pbx),
        None,
        "no fault: {:?}",
        world.log()
    );
    world.log()
}

fn check(case: &Case) {
    assert!(
        !(case.spec.is_empty() && case.instead.is_empty()),
        "{}: a case says what breaks",
        case.mutant
    );
    let declared = |w: &World| w.host.describe(w.pbx).expect("describe").capabilities;
    let (control, mutant) = (
        World::control(case.library, case.inner),
        World::mutant(case.mutant, case.library, case.inner),
    );
    assert_eq!(
        declared(&mutant),
        declared(&control),
        "{}: declares what pbx-sim declares",
        case.mutant
    );
    let spec = run(control, case.broken);
    let broken = run(mutant, case.broken);
    let context = || {
        format!(
            "mutant {} (inner {:?})\ncontrol:\n{}mutant:\n{}",
            case.mutant,
            case.inner,
            shown(&spec),
            shown(&broken)
        )
    };
    if std::env::var_os("MUTANT_LOGS").is_some() {
        eprintln!("{}", context());
    }
    let count = |log: &[String], line: &str| log.iter().filter(|l| *l == line).count();
    for line in case.spec {
        assert!(
            count(&spec, line) > count(&broken, line),
            "the control shows {line:?} more often than the mutant\n{}",
            context()
        );
    }
    for line in case.instead {
        assert!(
            count(&broken, line) > count(&spec, line),
            "the mutant shows {line:?} more often than the control\n{}",
            context()
        );
    }
    let control = run(World::control(case.library, case.inner), case.neighbour);
    let mutant = run(
        World::mutant(case.mutant, case.library, case.inner),
        case.neighbour,
    );
    assert!(
        control.len() > 3,
        "the neighbour does something: {control:?}"
    );
    assert_eq!(
        mutant,
        control,
        "mutant {} must behave like pbx-sim in the neighbouring situation\ncontrol:\n{}mutant:\n{}",
        case.mutant,
        shown(&control),
        shown(&mutant)
    );
}

/// The case named `name` in [`CASES`].
fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, case)| case)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// One test per case, named as in [`CASES`].
macro_rules! tests {
    ($($test:ident,)*) => {
        $(
            #[test]
            fn $test() {
                check(case(stringify!($test)));
            }
        )*

        /// The tests above, by name.
        const TESTS: &[&str] = &[$(stringify!($test)),*];
    };
}

// ---- the scenarios --------------------------------------------------------

const UUI4: &[u8] = &[0x04, 0x62, 0x79, 0x65];

fn three_party_hang_up_busy(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.hang_up("bob", 17, &[]);
    w.info("bob");
    w.drop("bob", &[]);
    w.info("bob");
}

fn two_party_and_plain_hang_up_busy(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.hang_up("alice", 17, &[]);
    w.info("alice");
    w.connected("dave");
    w.hang_up("dave", 21, &[]);
    w.info("dave");
}

fn consultation_hangs_up_then_dropped(w: &World) {
    w.connected("alice");
    w.setup("alice", "bob", false);
    w.answer_far("bob");
    w.hang_up("bob", 16, &[]);
    w.drop("bob", &[]);
    w.info("alice");
}

fn consultations_dropped_while_up(w: &World) {
    w.connected("alice");
    w.setup("alice", "bob", false);
    w.answer_far("bob");
    w.drop("bob", &[]);
    w.info("alice");
    w.setup("alice", "carol", true);
    w.drop("carol", &[]);
    w.info("alice");
}

fn oversize_uui_after_far_hang_up(w: &World) {
    w.connected("alice");
    w.hang_up("alice", 16, &[]);
    w.drop("alice", &[1, 2, 3, 4, 5]);
    w.info("alice");
}

fn oversize_then_fitting_uui_on_a_live_call(w: &World) {
    w.connected("bob");
    w.drop("bob", &[1, 2, 3, 4, 5]);
    w.drop("bob", &[1, 2, 3, 4]);
    w.far();
}

fn oversize_uui_on_conference(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.drop("conf", &[1, 2, 3, 4, 5]);
    w.far();
}

fn oversize_on_party_then_fitting_on_conference(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.drop("bob", &[1, 2, 3, 4, 5]);
    w.drop("conf", &[1, 2, 3, 4]);
    w.far();
}

fn party_leaves_then_freed(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.hang_up("bob", 16, &[]);
    w.deallocate("bob");
    w.far();
}

fn plain_call_left_then_freed_and_party_left_then_dropped(w: &World) {
    w.connected("dave");
    w.hang_up("dave", 16, &[]);
    w.deallocate("dave");
    w.conference("conf", &["alice", "bob", "carol"]);
    w.hang_up("bob", 16, &[]);
    w.drop("bob", &[]);
    w.deallocate("bob");
    w.far();
}

fn conference_parent_freed(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.deallocate("conf");
    w.info("alice");
    w.far();
}

fn conference_parent_dropped(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.drop("conf", &[]);
    w.deallocate("conf");
    w.info("alice");
    w.far();
}

fn no_answer_on_held_call(w: &World) {
    w.connected("alice");
    w.hold("alice");
    w.disconnect("alice", DisconnectCode::NoAnswer);
    w.far();
}

fn no_answer_on_connected_call(w: &World) {
    w.connected("bob");
    w.disconnect("bob", DisconnectCode::NoAnswer);
    w.connected("carol");
    w.hold("carol");
    w.disconnect("carol", DisconnectCode::Normal);
    w.far();
}

fn busy_on_accepted_call(w: &World) {
    w.offer("alice");
    w.accept("alice");
    w.disconnect("alice", DisconnectCode::Busy);
    w.far();
}

fn busy_on_offering_and_rejected_on_accepted(w: &World) {
    w.offer("bob");
    w.disconnect("bob", DisconnectCode::Busy);
    w.offer("carol");
    w.accept("carol");
    w.disconnect("carol", DisconnectCode::Rejected);
    w.far();
}

fn no_answer_on_conference(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.disconnect("conf", DisconnectCode::NoAnswer);
    w.far();
}

fn no_answer_on_party_then_normal_on_conference(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.disconnect("bob", DisconnectCode::NoAnswer);
    w.disconnect("conf", DisconnectCode::Normal);
    w.far();
}

fn two_owners_join_directly(w: &World) {
    w.open("other", Privilege::Owner);
    w.connected("alice");
    w.connected("bob");
    w.add("alice", "bob", "conf");
    w.drop_by("other", "conf", &[]);
}

fn two_owners_join_after_setup(w: &World) {
    w.open("other", Privilege::Owner);
    w.conference("conf", &["alice", "bob"]);
    w.drop_by("other", "conf", &[]);
    w.drop("conf", &[]);
}

/// An inner conference of `inner` (its parties), joined directly with
/// `top` into `outer`.
fn nested(w: &World, inner: &[&str], top: &str) {
    w.conference("inner", inner);
    w.connected(top);
    w.add(top, "inner", "outer");
}

fn nested_cascade_with_uui(w: &World) {
    nested(w, &["alice", "bob"], "carol");
    w.drop("outer", &[0x04, 0x68, 0x69]);
    w.info("alice");
    w.info("carol");
    w.far();
}

fn flat_cascade_with_uui(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.drop("conf", &[0x04, 0x68, 0x69]);
    w.info("alice");
    w.info("carol");
    w.far();
}

fn nested_party_dropped(w: &World) {
    nested(w, &["alice", "bob", "carol"], "dave");
    w.drop("alice", &[]);
    w.info("inner");
    w.far();
}

fn flat_party_dropped_and_nested_pair_collapses(w: &World) {
    w.conference("conf", &["erin", "frank", "grace"]);
    w.drop("erin", &[]);
    w.info("conf");
    nested(w, &["alice", "bob"], "dave");
    w.drop("alice", &[]);
    w.info("bob");
    w.far();
}

fn two_party_conference_party_freed(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.deallocate("alice");
    w.info("bob");
    w.far();
}

fn two_party_conference_party_dropped(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.drop("alice", &[]);
    w.deallocate("alice");
    w.info("bob");
    w.far();
}

fn exact_small_size(w: &World) {
    w.connected("alice");
    w.drop("alice", &[4, 1, 2]);
    w.far();
}

fn under_and_over_small_size(w: &World) {
    w.connected("bob");
    w.drop("bob", &[4, 1, 2, 3]);
    w.drop("bob", &[4, 1]);
    w.far();
}

fn reject_one_over_small_size(w: &World) {
    w.offer("alice");
    w.accept("alice");
    w.drop("alice", &[4, 1, 2]);
    w.info("alice");
    w.far();
}

fn one_over_small_size_offering_and_live_then_fitting_reject(w: &World) {
    w.offer("alice");
    w.drop("alice", &[4, 1, 2]);
    w.connected("bob");
    w.drop("bob", &[4, 1, 2]);
    w.drop("bob", &[4, 1]);
    w.accept("alice");
    w.drop("alice", &[4, 1]);
    w.far();
}

fn far_hang_up_uui_over_drop_size(w: &World) {
    w.connected("alice");
    w.hang_up("alice", 16, UUI4);
    w.info("alice");
    w.drop("alice", &[]);
    w.info("alice");
}

fn far_hang_up_uui_within_drop_size(w: &World) {
    w.connected("bob");
    w.hang_up("bob", 17, &[0x04, 0x62]);
    w.info("bob");
    w.drop("bob", &[]);
    w.info("bob");
}

fn max_uui_cancel_at_ringback(w: &World) {
    w.make("alice");
    w.alert_far("alice");
    w.drop("alice", UUI4);
    w.info("alice");
    w.far();
}

fn max_uui_cancel_at_proceeding_and_release(w: &World) {
    w.make("bob");
    w.drop("bob", UUI4);
    w.connected("carol");
    w.drop("carol", UUI4);
    w.info("bob");
    w.far();
}

fn time_passes_in_disconnected(w: &World) {
    w.connected("alice");
    w.hang_up("alice", 16, &[]);
    w.advance(60_000);
    w.info("alice");
    w.drop("alice", &[]);
}

fn dropped_before_time_passes(w: &World) {
    w.connected("bob");
    w.hang_up("bob", 16, &[]);
    w.drop("bob", &[]);
    w.connected("carol");
    w.advance(60_000);
    w.info("bob");
    w.info("carol");
}

fn time_passes_after_cancel(w: &World) {
    w.make("alice");
    w.alert_far("alice");
    w.drop("alice", &[]);
    w.advance(60_000);
    w.info("alice");
}

fn time_passes_after_release(w: &World) {
    w.connected("bob");
    w.drop("bob", &[]);
    w.advance(60_000);
    w.info("bob");
}

fn reject_accepted_with_uui(w: &World) {
    w.offer("alice");
    w.accept("alice");
    w.drop("alice", &[0x04, 0x01]);
    w.far();
}

fn reject_offering_with_uui_and_accepted_without(w: &World) {
    w.offer("bob");
    w.drop("bob", &[0x04, 0x01]);
    w.offer("carol");
    w.accept("carol");
    w.drop("carol", &[]);
    w.far();
}

fn conference_consultation_dropped_at_ringback(w: &World) {
    w.connected("alice");
    w.setup("alice", "bob", false);
    w.alert_far("bob");
    w.drop("bob", &[]);
    w.far();
}

fn transfer_consultation_dropped_at_ringback(w: &World) {
    w.connected("alice");
    w.setup("alice", "bob", true);
    w.alert_far("bob");
    w.drop("bob", &[]);
    w.setup("alice", "carol", false);
    w.drop("carol", &[]);
    w.far();
}

fn nested_cascade(w: &World) {
    nested(w, &["alice", "bob"], "carol");
    w.drop("outer", &[]);
    w.far();
}

fn flat_cascade(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.drop("conf", &[]);
    w.far();
}

const UUI12: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

fn cascade_with_twelve_bytes(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.drop("conf", UUI12);
    w.far();
}

fn cascade_with_eight_and_plain_drop_with_twelve(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.drop("conf", &UUI12[..8]);
    w.connected("carol");
    w.drop("carol", UUI12);
    w.far();
}

fn hang_up_with_uui_collapses_conference(w: &World) {
    w.conference("conf", &["alice", "bob"]);
    w.hang_up("alice", 16, UUI4);
    w.info("alice");
    w.drop("alice", &[]);
    w.info("alice");
}

fn hang_up_with_uui_in_three_party_conference(w: &World) {
    w.conference("conf", &["alice", "bob", "carol"]);
    w.hang_up("alice", 16, UUI4);
    w.info("alice");
    w.drop("alice", &[]);
    w.info("alice");
}

// ---- bridged stations (analog-bridge) -------------------------------------

const STATION_2: AddressId = AddressId(1);

/// Alice rings both stations of a BridgedShared line; station 1 picks up.
fn shared_call_picked_up(w: &World) {
    w.open_station(STATION_2);
    w.offer("alice");
    w.hook(EXT_100, true);
}

/// Station 2 bridges in, then station 1's app drops its appearance.
fn shared_step_out(w: &World) {
    shared_call_picked_up(w);
    w.hook(STATION_2, true);
    w.drop("alice", &[]);
    w.info("alice");
    w.far();
}

/// Station 1 is the only active station when its app drops.
fn shared_last_station_drops(w: &World) {
    shared_call_picked_up(w);
    w.drop("alice", &[]);
    w.info("st2");
    w.far();
}

/// Station 1 steps out, then drops its Inactive appearance.
fn shared_inactive_dropped(w: &World) {
    shared_call_picked_up(w);
    w.hook(STATION_2, true);
    w.drop("alice", &[]);
    w.drop("alice", &[]);
    w.far();
}

/// Alice hangs up while station 2's appearance is Inactive.
fn shared_hang_up_with_inactive(w: &World) {
    shared_call_picked_up(w);
    w.hang_up("alice", 16, &[]);
    w.info("st2");
}

/// Alice hangs up while both stations are on the call.
fn shared_hang_up_both_active(w: &World) {
    shared_call_picked_up(w);
    w.hook(STATION_2, true);
    w.hang_up("alice", 16, &[]);
    w.info("st2");
}

/// BridgedNew: station 2 goes off-hook on a call of its own, then station
/// 1's call is dropped.
fn new_drop_beside_dial_tone(w: &World) {
    w.open_station(STATION_2);
    w.offer("alice");
    w.hook(EXT_100, true);
    w.hook(STATION_2, true);
    w.drop("alice", &[]);
    w.info("st2");
}

/// BridgedNew: station 1's call dropped with no other station off-hook.
fn new_drop_alone(w: &World) {
    w.open_station(STATION_2);
    w.offer("alice");
    w.hook(EXT_100, true);
    w.drop("alice", &[]);
    w.far();
}

// ---- the table ------------------------------------------------------------

/// Every situational mutant's case, by test name (rule first).
const CASES: &[(&str, Case)] = &[
    (
        "s3_c6_hang_up_mode_in_conference",
        Case {
            mutant: "hang_up_mode_in_conference",
            library: "pbx-sim",
            inner: "",
            broken: three_party_hang_up_busy,
            spec: &[
                "app: bob Disconnected/Busy Owner",
                "info bob: disconnect mode Busy",
            ],
            instead: &[
                "app: bob Disconnected/Normal Owner",
                "info bob: disconnect mode Normal",
            ],
            neighbour: two_party_and_plain_hang_up_busy,
        },
    ),
    (
        "d8_consult_hang_up_keeps_primary_pending",
        Case {
            mutant: "consult_hang_up_keeps_primary_pending",
            library: "pbx-sim",
            inner: "",
            broken: consultation_hangs_up_then_dropped,
            spec: &[
                "app: alice Connected/Active Owner",
                "info alice: Connected/Active",
            ],
            instead: &["info alice: OnHoldPendConf"],
            neighbour: consultations_dropped_while_up,
        },
    ),
    (
        "u2_oversize_uui_on_disconnected",
        Case {
            mutant: "oversize_uui_on_disconnected",
            library: "pbx-sim",
            inner: "uui=4",
            broken: oversize_uui_after_far_hang_up,
            spec: &["do drop alice by app uui 0102030405 -> Err(UserUserInfoTooBig)"],
            instead: &[
                "do drop alice by app uui 0102030405 -> ok",
                "app: alice Idle Owner",
            ],
            neighbour: oversize_then_fitting_uui_on_a_live_call,
        },
    ),
    (
        "u2_oversize_uui_on_conference",
        Case {
            mutant: "oversize_uui_on_conference",
            library: "pbx-sim",
            inner: "uui=4",
            broken: oversize_uui_on_conference,
            spec: &["do drop conf by app uui 0102030405 -> Err(UserUserInfoTooBig)"],
            instead: &[
                "do drop conf by app uui 0102030405 -> ok",
                "far alice got #1 Release 16 uui 01020304",
            ],
            neighbour: oversize_on_party_then_fitting_on_conference,
        },
    ),
    (
        "d6_t3_close_left_party_releases",
        Case {
            mutant: "close_left_party_releases",
            library: "pbx-sim",
            inner: "",
            broken: party_leaves_then_freed,
            spec: &[],
            instead: &["far bob got #1 Release 16"],
            neighbour: plain_call_left_then_freed_and_party_left_then_dropped,
        },
    ),
    (
        "c1_t3_close_parent_keeps_parties",
        Case {
            mutant: "close_parent_keeps_parties",
            library: "pbx-sim",
            inner: "",
            broken: conference_parent_freed,
            spec: &[
                "app: alice Idle Owner",
                "info alice: Idle",
                "far alice got #1 Release 16",
            ],
            instead: &[
                "info alice: Conferenced(?)",
                "far alice: Connected with ext-100, bob, carol",
            ],
            neighbour: conference_parent_dropped,
        },
    ),
    (
        "r3_no_answer_on_hold_rejects",
        Case {
            mutant: "no_answer_on_hold_rejects",
            library: "pbx-sim",
            inner: "",
            broken: no_answer_on_held_call,
            spec: &["far alice got #1 Release 16"],
            instead: &["far alice got #1 Reject 19"],
            neighbour: no_answer_on_connected_call,
        },
    ),
    (
        "r3_busy_on_accepted_rejects_21",
        Case {
            mutant: "busy_on_accepted_rejects_21",
            library: "pbx-sim",
            inner: "",
            broken: busy_on_accepted_call,
            spec: &["far alice got #1 Reject 17"],
            instead: &["far alice got #1 Reject 21"],
            neighbour: busy_on_offering_and_rejected_on_accepted,
        },
    ),
    (
        "r3_c1_no_answer_conference_rejects_19",
        Case {
            mutant: "no_answer_conference_rejects_19",
            library: "pbx-sim",
            inner: "",
            broken: no_answer_on_conference,
            spec: &["far alice got #1 Release 16", "far bob got #1 Release 16"],
            instead: &["far alice got #1 Reject 19", "far bob got #1 Reject 19"],
            neighbour: no_answer_on_party_then_normal_on_conference,
        },
    ),
    (
        "p1_direct_conference_unowned",
        Case {
            mutant: "direct_conference_unowned",
            library: "pbx-sim",
            inner: "",
            broken: two_owners_join_directly,
            spec: &[
                "other: conf Connected/Active Monitor",
                "do drop conf by other uui - -> Err(NotOwner)",
            ],
            instead: &[
                "other: conf Connected/Active Owner",
                "do drop conf by other uui - -> ok",
            ],
            neighbour: two_owners_join_after_setup,
        },
    ),
    (
        "u3_c5_nested_cascade_drops_uui",
        Case {
            mutant: "nested_cascade_drops_uui",
            library: "pbx-sim",
            inner: "",
            broken: nested_cascade_with_uui,
            spec: &[
                "far alice got #1 Release 16 uui 046869",
                "info alice: sent 046869",
            ],
            instead: &["far alice got #1 Release 16"],
            neighbour: flat_cascade_with_uui,
        },
    ),
    (
        "c3_c5_nested_party_drop_unnests",
        Case {
            mutant: "nested_party_drop_unnests",
            library: "pbx-sim",
            inner: "",
            broken: nested_party_dropped,
            spec: &["info inner: Conferenced(outer)"],
            instead: &[
                "app: inner Connected/Active Owner",
                "info inner: Connected/Active",
            ],
            neighbour: flat_party_dropped_and_nested_pair_collapses,
        },
    ),
    (
        "c4_t3_close_collapse_leaves_party_conferenced",
        Case {
            mutant: "close_collapse_leaves_party_conferenced",
            library: "pbx-sim",
            inner: "",
            broken: two_party_conference_party_freed,
            spec: &[
                "app: bob Connected/Active Owner",
                "info bob: Connected/Active",
            ],
            instead: &["info bob: Conferenced(conf)"],
            neighbour: two_party_conference_party_dropped,
        },
    ),
    (
        "u3_small_size_refuses_exact_uui",
        Case {
            mutant: "small_size_refuses_exact_uui",
            library: "pbx-sim",
            inner: "uui=3",
            broken: exact_small_size,
            spec: &[
                "do drop alice by app uui 040102 -> ok",
                "far alice got #1 Release 16 uui 040102",
            ],
            instead: &["do drop alice by app uui 040102 -> Err(UserUserInfoTooBig)"],
            neighbour: under_and_over_small_size,
        },
    ),
    (
        "u2_small_size_reject_takes_one_more",
        Case {
            mutant: "small_size_reject_takes_one_more",
            library: "pbx-sim",
            inner: "uui=2",
            broken: reject_one_over_small_size,
            spec: &["do drop alice by app uui 040102 -> Err(UserUserInfoTooBig)"],
            instead: &[
                "do drop alice by app uui 040102 -> ok",
                "far alice got #1 Reject 21 uui 040102",
            ],
            neighbour: one_over_small_size_offering_and_live_then_fitting_reject,
        },
    ),
    (
        "u5_far_uui_cut_to_drop_size",
        Case {
            mutant: "far_uui_cut_to_drop_size",
            library: "pbx-sim",
            inner: "uui=2",
            broken: far_hang_up_uui_over_drop_size,
            spec: &["info alice: received 04627965"],
            instead: &["info alice: received 0462"],
            neighbour: far_hang_up_uui_within_drop_size,
        },
    ),
    (
        "u3_d7_ringback_cancel_cuts_max_uui",
        Case {
            mutant: "ringback_cancel_cuts_max_uui",
            library: "pbx-sim",
            inner: "uui=4",
            broken: max_uui_cancel_at_ringback,
            spec: &[
                "far alice got #1 Cancel 16 uui 04627965",
                "info alice: sent 04627965",
            ],
            instead: &[
                "far alice got #1 Cancel 16 uui 046279",
                "info alice: sent 046279",
            ],
            neighbour: max_uui_cancel_at_proceeding_and_release,
        },
    ),
    (
        "s3_timer_clears_disconnected",
        Case {
            mutant: "timer_clears_disconnected",
            library: "pbx-sim",
            inner: "",
            broken: time_passes_in_disconnected,
            spec: &[
                "info alice: Disconnected/Normal",
                "do drop alice by app uui - -> ok",
            ],
            instead: &[
                "info alice: Idle",
                "do drop alice by app uui - -> Err(InvalCallState)",
            ],
            neighbour: dropped_before_time_passes,
        },
    ),
    (
        "s1_stale_ring_timer",
        Case {
            mutant: "stale_ring_timer",
            library: "pbx-sim",
            inner: "",
            broken: time_passes_after_cancel,
            spec: &["info alice: Idle"],
            instead: &["app: alice Ringback Owner", "info alice: Ringback"],
            neighbour: time_passes_after_release,
        },
    ),
    (
        "r1_accepted_reject_with_uui_cause_16",
        Case {
            mutant: "accepted_reject_with_uui_cause_16",
            library: "pbx-sim",
            inner: "",
            broken: reject_accepted_with_uui,
            spec: &["far alice got #1 Reject 21 uui 0401"],
            instead: &["far alice got #1 Reject 16 uui 0401"],
            neighbour: reject_offering_with_uui_and_accepted_without,
        },
    ),
    (
        "d7_conference_consult_ringback_releases",
        Case {
            mutant: "conference_consult_ringback_releases",
            library: "pbx-sim",
            inner: "",
            broken: conference_consultation_dropped_at_ringback,
            spec: &["far bob got #1 Cancel 16"],
            instead: &["far bob got #1 Release 16"],
            neighbour: transfer_consultation_dropped_at_ringback,
        },
    ),
    (
        "c5_nested_cascade_releases_twice",
        Case {
            mutant: "nested_cascade_releases_twice",
            library: "pbx-sim",
            inner: "",
            broken: nested_cascade,
            spec: &[],
            instead: &["far alice got #2 Release 16", "far bob got #2 Release 16"],
            neighbour: flat_cascade,
        },
    ),
    (
        "u3_c1_long_cascade_uui_reordered",
        Case {
            mutant: "long_cascade_uui_reordered",
            library: "pbx-sim",
            inner: "",
            broken: cascade_with_twelve_bytes,
            spec: &["far alice got #1 Release 16 uui 000102030405060708090a0b"],
            instead: &["far alice got #1 Release 16 uui 08090a0b0001020304050607"],
            neighbour: cascade_with_eight_and_plain_drop_with_twelve,
        },
    ),
    (
        "u5_c4_collapse_hang_up_loses_uui",
        Case {
            mutant: "collapse_hang_up_loses_uui",
            library: "pbx-sim",
            inner: "",
            broken: hang_up_with_uui_collapses_conference,
            spec: &["info alice: received 04627965"],
            instead: &[],
            neighbour: hang_up_with_uui_in_three_party_conference,
        },
    ),
    (
        "b1_step_out_goes_idle",
        Case {
            mutant: "step_out_goes_idle",
            library: "analog-bridge",
            inner: "sharing=shared",
            broken: shared_step_out,
            spec: &[
                "app: alice Connected/Inactive Owner",
                "info alice: Connected/Inactive",
            ],
            instead: &["app: alice Idle Owner", "info alice: Idle"],
            neighbour: shared_last_station_drops,
        },
    ),
    (
        "b3_inactive_drop_releases_far",
        Case {
            mutant: "inactive_drop_releases_far",
            library: "analog-bridge",
            inner: "sharing=shared",
            broken: shared_inactive_dropped,
            spec: &[],
            instead: &["far alice got #1 Release 16"],
            neighbour: shared_step_out,
        },
    ),
    (
        "b2_last_station_keeps_inactive",
        Case {
            mutant: "last_station_keeps_inactive",
            library: "analog-bridge",
            inner: "sharing=shared",
            broken: shared_last_station_drops,
            spec: &["app: st2 Idle Owner", "info st2: Idle"],
            instead: &["info st2: Connected/Inactive"],
            neighbour: shared_step_out,
        },
    ),
    (
        "b4_new_station_drop_idles_other",
        Case {
            mutant: "new_station_drop_idles_other",
            library: "analog-bridge",
            inner: "sharing=new",
            broken: new_drop_beside_dial_tone,
            spec: &["info st2: Dialtone"],
            instead: &["app: st2 Idle Owner", "info st2: Idle"],
            neighbour: new_drop_alone,
        },
    ),
    (
        "s3_bridged_hang_up_misses_inactive",
        Case {
            mutant: "bridged_hang_up_misses_inactive",
            library: "analog-bridge",
            inner: "sharing=shared",
            broken: shared_hang_up_with_inactive,
            spec: &[
                "app: st2 Disconnected/Normal Owner",
                "info st2: Disconnected/Normal",
            ],
            instead: &["info st2: Connected/Inactive"],
            neighbour: shared_hang_up_both_active,
        },
    ),
];

tests! {
    s3_c6_hang_up_mode_in_conference,
    d8_consult_hang_up_keeps_primary_pending,
    u2_oversize_uui_on_disconnected,
    u2_oversize_uui_on_conference,
    d6_t3_close_left_party_releases,
    c1_t3_close_parent_keeps_parties,
    r3_no_answer_on_hold_rejects,
    r3_busy_on_accepted_rejects_21,
    r3_c1_no_answer_conference_rejects_19,
    p1_direct_conference_unowned,
    u3_c5_nested_cascade_drops_uui,
    c3_c5_nested_party_drop_unnests,
    c4_t3_close_collapse_leaves_party_conferenced,
    u3_small_size_refuses_exact_uui,
    u2_small_size_reject_takes_one_more,
    u5_far_uui_cut_to_drop_size,
    u3_d7_ringback_cancel_cuts_max_uui,
    s3_timer_clears_disconnected,
    s1_stale_ring_timer,
    r1_accepted_reject_with_uui_cause_16,
    d7_conference_consult_ringback_releases,
    c5_nested_cascade_releases_twice,
    u3_c1_long_cascade_uui_reordered,
    u5_c4_collapse_hang_up_loses_uui,
    b1_step_out_goes_idle,
    b3_inactive_drop_releases_far,
    b2_last_station_keeps_inactive,
    b4_new_station_drop_idles_other,
    s3_bridged_hang_up_misses_inactive,
}

/// What the decorator says when it does not know a mutant: every name.
fn every_mutant() -> BTreeSet<String> {
    let config = format!("mutant=frobnicate;inner={}", plugin("pbx-sim").display());
    let reason = match Host::new().load(&plugin("mutant-provider"), &config) {
        Err(LoadError::Config { reason, .. }) => reason,
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("an unknown mutant loads"),
    };
    let (_, names) = reason
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("lists the mutants: {reason}"));
    names.split(", ").map(str::to_owned).collect()
}

#[test]
fn every_situational_mutant_has_a_case_and_only_one() {
    let situational: BTreeSet<String> = every_mutant()
        .into_iter()
        .filter(|name| !NOT_SITUATIONAL.contains(&name.as_str()))
        .collect();
    let cased: BTreeSet<String> = CASES.iter().map(|(_, c)| c.mutant.to_owned()).collect();
    assert_eq!(cased.len(), CASES.len(), "one case per mutant");
    let tested: BTreeSet<&str> = TESTS.iter().copied().collect();
    let named: BTreeSet<&str> = CASES.iter().map(|(n, _)| *n).collect();
    assert_eq!(tested, named, "one test per case");
    assert_eq!(cased, situational);
    assert!(situational.len() >= 20, "{}", situational.len());
}

/// Alice calls station 1, it picks up, and she hangs up busy (cause 17);
/// then half a minute of the card's time passes.
fn hang_up_busy_then_wait(w: &World) {
    w.offer("alice");
    w.hook(EXT_100, true);
    w.hang_up("alice", 17, &[]);
    w.info("alice");
    w.advance(30_000);
    w.info("alice");
}

/// What a declaration mutant changes in its inner provider's declaration.
type Lie = fn(&mut cleardown_host::Capabilities);

/// SPEC L2: a declaration mutant behaves exactly as the provider it wraps
/// and declares one far-end capability otherwise, so the suite can show
/// that it fails on the rule the declaration is for (S3; the explorer test
/// in harness/cleardown checks that it does).
#[test]
fn l2_declaration_mutants_behave_as_their_inner_and_declare_otherwise() {
    let cases: [(&str, &str, Lie); 2] = [
        ("declares_far_causes", "sharing=private", |c| {
            c.far_causes = true;
        }),
        (
            "declares_hang_up_at_once",
            "sharing=private;supervision=off;tone_ms=2000",
            |c| c.hang_up_delay_ms = 0,
        ),
    ];
    for (mutant, inner, lie) in cases {
        let declared = |w: &World| w.host.describe(w.pbx).expect("describe").capabilities;
        let control = World::control("analog-bridge", inner);
        let broken = World::mutant(mutant, "analog-bridge", inner);
        let mut expected = declared(&control);
        lie(&mut expected);
        assert_ne!(expected, declared(&control), "{mutant}: a lie");
        assert_eq!(declared(&broken), expected, "{mutant}: declares so");
        let (control, broken) = (
            run(control, hang_up_busy_then_wait),
            run(broken, hang_up_busy_then_wait),
        );
        assert!(control.len() > 3, "{control:?}");
        assert_eq!(broken, control, "{mutant}: behaves as analog-bridge");
    }
}
