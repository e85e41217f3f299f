//! Every mutant, loaded through the real host around the real pbx-sim, shows
//! the misbehaviour it exists for: the conformance suite's mutation proof
//! relies on each one breaking exactly the SPEC rule its test names. The
//! `none` mutant is the control: it behaves like pbx-sim.

use std::path::PathBuf;

use cleardown_host::{
    AddressId, App, CallHandle, CallId, CallStatus, Event, Host, LineError, LoadError, Privilege,
    ProviderId, RemoteParty, RemoteState, SignalKind, locate,
};

const EXT_100: AddressId = AddressId(0);

fn plugin(name: &str) -> PathBuf {
    match locate::find(name) {
        Ok(path) => path,
        Err(error) => panic!("cannot build or find plugin {name}: {error}"),
    }
}

/// The configuration that wraps pbx-sim (configured by `inner_config`) in
/// `mutant`.
fn mutant_config(mutant: &str, inner_config: &str) -> String {
    let mut config = format!("mutant={mutant};inner={}", plugin("pbx-sim").display());
    if !inner_config.is_empty() {
        config.push(';');
        config.push_str(inner_config);
    }
    config
}

/// A host with one provider and one app owning ext-100.
struct World {
    host: Host,
    pbx: ProviderId,
    app: App,
}

impl World {
    fn load(library: &str, config: &str) -> World {
        let host = Host::new();
        let pbx = host
            .load(&plugin(library), config)
            .unwrap_or_else(|error| panic!("{library} loads with {config:?}: {error}"));
        let app = host.app("app");
        app.open_line(pbx, EXT_100, Privilege::Owner)
            .expect("open ext-100");
        World { host, pbx, app }
    }

    /// pbx-sim itself.
    fn pbx_sim(config: &str) -> World {
        World::load("pbx-sim", config)
    }

    /// pbx-sim wrapped in `mutant`.
    fn mutant(mutant: &str, inner_config: &str) -> World {
        World::load("mutant-provider", &mutant_config(mutant, inner_config))
    }

    fn call(&self, handle: CallHandle) -> CallId {
        self.host.call_of(handle).expect("handle is live").1
    }

    fn offered(&self, from: &str) -> CallHandle {
        let call = self
            .host
            .remote_offer(self.pbx, EXT_100, from, &[])
            .expect("offer");
        let handle = self
            .app
            .handle_of(self.pbx, call)
            .expect("app got a handle");
        self.app.events();
        handle
    }

    fn connected(&self, to: &str) -> CallHandle {
        let (_, handle) = self
            .app
            .make_call(self.pbx, EXT_100, to)
            .expect("make call");
        self.host
            .remote_answer(self.pbx, self.call(handle))
            .expect("answer");
        self.app.events();
        handle
    }

    /// A conference on ext-100 (`conf_drop` on); returns the parent and the
    /// parties in join order, events drained.
    fn conference(&self, to: &[&str]) -> (CallHandle, Vec<CallHandle>) {
        let first = self.connected(to[0]);
        let mut parent = first;
        let mut parties = vec![first];
        for name in &to[1..] {
            let (_, consult) = self
                .app
                .setup_conference(parent, name)
                .expect("setup conference");
            self.host
                .remote_answer(self.pbx, self.call(consult))
                .expect("answer consult");
            let (_, p) = self
                .app
                .add_to_conference(parent, consult)
                .expect("add to conference");
            parent = p;
            parties.push(consult);
        }
        self.app.events();
        (parent, parties)
    }

    fn far_end(&self) -> Vec<RemoteParty> {
        self.host.far_end(self.pbx).expect("far-end view")
    }

    fn party(&self, name: &str) -> RemoteParty {
        self.far_end()
            .into_iter()
            .find(|p| p.name == name)
            .expect("party exists")
    }

    /// The app's events, one line each: `h3 Idle Owner`, `reply Ok`.
    fn events(&self) -> Vec<String> {
        render(&self.app.events())
    }
}

fn render(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::CallState {
                handle,
                status,
                privilege,
            } => {
                let status =
                    status.map_parent(|p| p.map_or_else(|| "?".to_owned(), |h| h.to_string()));
                format!("{handle} {status} {privilege}")
            }
            Event::Reply { result: Ok(()), .. } => "reply Ok".to_owned(),
            Event::Reply {
                result: Err(error), ..
            } => format!("reply Err({error})"),
        })
        .collect()
}

fn idle(handle: CallHandle) -> String {
    format!("{handle} Idle Owner")
}

/// What the reason of a refused configuration says.
fn refused(config: &str) -> String {
    match Host::new().load(&plugin("mutant-provider"), config) {
        Ok(_) => panic!("{config:?} should be refused"),
        Err(LoadError::Config { reason, .. }) => reason,
        Err(other) => panic!("{config:?}: expected a configuration error, got {other}"),
    }
}

/// Drops the parent of a three-party conference: the transcript, and
/// everything the far end and call info say afterwards.
fn conference_drop(
    w: &World,
) -> (
    Vec<String>,
    Vec<RemoteParty>,
    Vec<CallStatus<Option<CallHandle>>>,
) {
    let (parent, parties) = w.conference(&["a", "b", "c"]);
    w.app.drop(parent, b"\x04conf over").expect("drop parent");
    let transcript = w.events();
    let statuses = parties
        .iter()
        .chain([&parent])
        .map(|h| w.app.call_info(*h).expect("Q1").status)
        .collect();
    (transcript, w.far_end(), statuses)
}

#[test]
fn control_none_behaves_like_pbx_sim_on_a_conference_drop_c1_d4() {
    let reference = World::pbx_sim("");
    let mutant = World::mutant("none", "");
    assert_eq!(
        mutant.host.describe(mutant.pbx).expect("d").capabilities,
        reference
            .host
            .describe(reference.pbx)
            .expect("d")
            .capabilities,
        "none declares what pbx-sim declares"
    );
    let (transcript, far_end, statuses) = conference_drop(&mutant);
    assert_eq!(
        (transcript.clone(), far_end, statuses),
        conference_drop(&reference)
    );
    assert_eq!(
        transcript.len(),
        5,
        "C1: three parties, the parent, the reply"
    );
    assert_eq!(
        mutant.app.leaks().len(),
        4,
        "the four Idle handles, not yet freed"
    );
}

#[test]
fn c1_d4_skip_child_event_loses_one_partys_idle_event() {
    let w = World::mutant("skip_child_event", "");
    let (parent, parties) = w.conference(&["a", "b", "c"]);
    w.app.drop(parent, &[]).expect("drop parent");
    // pbx-sim reports the parties Idle, then the parent, then the reply; the
    // first party's event is gone.
    assert_eq!(
        w.events(),
        [
            idle(parties[1]),
            idle(parties[2]),
            idle(parent),
            "reply Ok".to_owned()
        ]
    );
    // The call did go Idle: the provider says so when asked.
    assert_eq!(
        w.app.call_info(parties[0]).expect("Q1").status,
        CallStatus::Idle
    );
    assert_eq!(w.party("a").state, RemoteState::Released);
}

#[test]
fn u2_truncate_uui_cuts_oversize_uui_instead_of_refusing_it() {
    let w = World::mutant("truncate_uui", "uui=16");
    assert_eq!(
        w.host
            .describe(w.pbx)
            .expect("d")
            .capabilities
            .uui_drop_size,
        16,
        "U1: the declaration is unchanged"
    );
    let call = w.connected("alice");
    let uui: Vec<u8> = (0..20).collect();
    // U2 requires Err(UserUserInfoTooBig) and no change.
    w.app.drop(call, &uui).expect("the mutant accepts 20 bytes");
    assert_eq!(w.events(), [idle(call), "reply Ok".to_owned()]);
    let alice = w.party("alice");
    assert_eq!(alice.state, RemoteState::Released);
    assert_eq!(alice.received[0].uui, uui[..16], "silently truncated");
}

#[test]
fn r2_reject_undeclared_rejects_an_offered_call_it_says_it_cannot() {
    let w = World::mutant("reject_undeclared", "");
    assert!(
        !w.host
            .describe(w.pbx)
            .expect("d")
            .capabilities
            .reject_by_drop,
        "declares no reject by drop"
    );
    let call = w.offered("carol");
    // R2 requires Err(OperationUnavail) and the call still Offering.
    w.app.drop(call, &[]).expect("the mutant rejects anyway");
    assert_eq!(w.events(), [idle(call), "reply Ok".to_owned()]);
    let carol = w.party("carol");
    assert_eq!(
        (carol.received[0].kind, carol.received[0].cause),
        (SignalKind::Reject, 21)
    );
}

#[test]
fn d3_no_reply_never_completes_a_drop() {
    let w = World::mutant("no_reply", "");
    let call = w.connected("alice");
    let other = w.connected("bob");
    let request = w.app.drop(call, &[]).expect("drop accepted");
    assert!(request.0 > 0);
    // D3 requires one Reply for the request; only the state event comes.
    assert_eq!(w.events(), [idle(call)]);
    assert_eq!(w.app.call_info(call).expect("Q1").status, CallStatus::Idle);
    // Other requests still complete.
    w.app.hold(other).expect("hold");
    assert_eq!(
        w.events(),
        [format!("{other} OnHold Owner"), "reply Ok".to_owned()]
    );
}

#[test]
fn s3_idle_on_hang_up_skips_disconnected() {
    let w = World::mutant("idle_on_hang_up", "");
    let call = w.connected("alice");
    w.host
        .remote_hang_up(w.pbx, w.call(call), 16, &[])
        .expect("hang up");
    // S3 requires `Disconnected/Normal`.
    assert_eq!(w.events(), [idle(call)]);
    // The provider itself still has it Disconnected, but the owner can no
    // longer drop it: the host believes it Idle.
    assert_eq!(
        w.app.call_info(call).expect("Q1").status.state(),
        cleardown_host::CallState::Disconnected
    );
    assert_eq!(w.app.drop(call, &[]), Err(LineError::InvalCallState));
}

#[test]
fn t5_leak_handle_leaves_an_idle_handle_nobody_asked_for() {
    let w = World::mutant("leak_handle", "");
    let call = w.connected("alice");
    w.app.drop(call, &[]).expect("drop");
    let events = w.events();
    assert_eq!(events[..2], [idle(call), "reply Ok".to_owned()]);
    assert_eq!(events.len(), 3, "and one more Idle handle: {events:?}");
    // A clean run that frees its handle must leave no leak (T5).
    w.app.deallocate(call).expect("deallocate");
    let leaks = w.app.leaks();
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    let ghost = leaks[0];
    assert_eq!(events[2], idle(ghost));
    assert_eq!(w.host.call_of(ghost).expect("live").1, CallId(1 << 40));
    let info = w.app.call_info(ghost).expect("the ghost answers");
    assert_eq!((info.status, info.address), (CallStatus::Idle, EXT_100));
    // Freeing it closes it cleanly.
    w.app.deallocate(ghost).expect("deallocate the ghost");
    assert_eq!(w.app.leaks(), []);
    assert_eq!(w.host.fault(w.pbx), None);
}

#[test]
fn x2_panic_mid_drop_faults_the_provider_and_others_keep_serving() {
    let w = World::mutant("panic_mid_drop", "");
    let healthy = w.host.load(&plugin("pbx-sim"), "").expect("pbx-sim loads");
    w.app
        .open_line(healthy, EXT_100, Privilege::Owner)
        .expect("open");
    let call = w.connected("alice");
    assert_eq!(w.app.drop(call, &[]), Err(LineError::OperationFailed));
    let fault = w.host.fault(w.pbx).expect("X2: the provider is faulted");
    assert!(fault.contains("panicked"), "{fault}");
    assert!(fault.contains("mutant panic_mid_drop"), "{fault}");
    // Nothing from a faulted provider reaches the app, and it is not called again.
    assert_eq!(w.events(), Vec::<String>::new());
    assert_eq!(w.app.call_info(call), Err(LineError::OperationFailed));
    // The other provider still serves the same app.
    let (_, other) = w.app.make_call(healthy, EXT_100, "bob").expect("make call");
    w.app
        .drop(other, &[])
        .expect("drop on the healthy provider");
    assert_eq!(w.events().last().map(String::as_str), Some("reply Ok"));
}

#[test]
fn l3_bad_configuration_is_refused_with_what_was_expected() {
    let pbx = plugin("pbx-sim");
    let missing_inner = refused("mutant=none");
    assert!(missing_inner.contains("no `inner=PATH`"), "{missing_inner}");
    let missing_mutant = refused(&format!("inner={}", pbx.display()));
    assert!(
        missing_mutant.contains("no `mutant=NAME`"),
        "{missing_mutant}"
    );
    let unknown = refused(&mutant_config("frobnicate", ""));
    assert!(unknown.contains("unknown mutant `frobnicate`"), "{unknown}");
    assert!(
        unknown.contains("skip_child_event"),
        "lists the mutants: {unknown}"
    );
    let nowhere = refused("mutant=none;inner=/nonexistent/libnothing.so");
    assert!(
        nowhere.contains("cannot load the inner provider `inner=/nonexistent/libnothing.so`"),
        "{nowhere}"
    );
    // The pairs that are not the mutant's go to pbx-sim, which refuses them.
    let inner = refused(&mutant_config("none", "bogus=1"));
    assert!(
        inner.contains("refused its configuration \"bogus=1\""),
        "{inner}"
    );
    assert!(inner.contains("unknown key `bogus`"), "{inner}");
}
