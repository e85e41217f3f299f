//! Shared fixtures: a host with pbx-sim loaded and an app on both lines,
//! and `check` to compare an app's events with expected lines.

#![allow(dead_code)]

use std::path::PathBuf;

use cleardown_host::{
    AddressId, App, CallHandle, CallId, Event, Host, Privilege, ProviderId, RemoteParty, RequestId,
    locate,
};

pub const EXT_100: AddressId = AddressId(0);
pub const EXT_200: AddressId = AddressId(1);

pub fn plugin(name: &str) -> PathBuf {
    match locate::find(name) {
        Ok(path) => path,
        Err(error) => panic!("cannot build or find plugin {name}: {error}"),
    }
}

/// A host with pbx-sim (configured by `config`) and one app owning both lines.
pub struct World {
    pub host: Host,
    pub pbx: ProviderId,
    pub app: App,
}

impl World {
    pub fn new(config: &str) -> World {
        let host = Host::new();
        let pbx = host
            .load(&plugin("pbx-sim"), config)
            .expect("pbx-sim loads");
        let app = host.app("app");
        app.open_line(pbx, EXT_100, Privilege::Owner)
            .expect("open ext-100");
        app.open_line(pbx, EXT_200, Privilege::Owner)
            .expect("open ext-200");
        World { host, pbx, app }
    }

    /// A second app with the given privilege on both lines.
    pub fn second_app(&self, name: &str, privilege: Privilege) -> App {
        let app = self.host.app(name);
        app.open_line(self.pbx, EXT_100, privilege)
            .expect("open ext-100");
        app.open_line(self.pbx, EXT_200, privilege)
            .expect("open ext-200");
        app
    }

    /// `app`'s handle to the call behind `handle` (another app's), events drained.
    pub fn seen_by(&self, app: &App, handle: CallHandle) -> CallHandle {
        let seen = app
            .handle_of(self.pbx, self.call(handle))
            .expect("app sees the call");
        app.events();
        seen
    }

    pub fn call(&self, handle: CallHandle) -> CallId {
        self.host.call_of(handle).expect("handle is live").1
    }

    /// An offered inbound call at `address`, as the app's handle.
    pub fn offered(&self, address: AddressId, from: &str) -> CallHandle {
        let call = self
            .host
            .remote_offer(self.pbx, address, from, &[])
            .expect("offer");
        self.app
            .handle_of(self.pbx, call)
            .expect("app got a handle")
    }

    /// A connected outbound call to `to`, events drained.
    pub fn connected(&self, address: AddressId, to: &str) -> CallHandle {
        let (_, handle) = self
            .app
            .make_call(self.pbx, address, to)
            .expect("make call");
        self.host
            .remote_answer(self.pbx, self.call(handle))
            .expect("answer");
        self.app.events();
        handle
    }

    /// A call to `a` held pending a transfer to `b`, which answered; events
    /// drained. Returns the primary and the consultation call.
    pub fn transfer_pending(
        &self,
        address: AddressId,
        a: &str,
        b: &str,
    ) -> (CallHandle, CallHandle) {
        let primary = self.connected(address, a);
        let (_, consult) = self.app.setup_transfer(primary, b).expect("setup transfer");
        self.host
            .remote_answer(self.pbx, self.call(consult))
            .expect("consult answers");
        self.app.events();
        (primary, consult)
    }

    /// A conference at `address` with parties `to`, events drained. Returns
    /// the parent and the children in join order.
    pub fn conference(&self, address: AddressId, to: &[&str]) -> (CallHandle, Vec<CallHandle>) {
        let first = self.connected(address, to[0]);
        let mut parent = first;
        let mut children = vec![first];
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
            children.push(consult);
        }
        self.app.events();
        (parent, children)
    }

    pub fn far_end(&self) -> Vec<RemoteParty> {
        self.host.far_end(self.pbx).expect("far-end view")
    }

    pub fn party(&self, name: &str) -> RemoteParty {
        self.far_end()
            .into_iter()
            .find(|p| p.name == name)
            .expect("party exists")
    }
}

/// One line per event: `h3 Idle Owner`, `h4 Conferenced(h2) Owner`,
/// `reply Ok`, `reply Err(NotOwner)`. Request ids are left out (they vary
/// with history); `check_reply` checks them.
pub fn render(events: &[Event]) -> Vec<String> {
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

/// Drains `app`'s events and compares them with `expected`, where
/// `{name}` placeholders are replaced by handles: `check(&app, &[("a", h)], ["{a} Idle Owner"])`.
pub fn check(app: &App, names: &[(&str, CallHandle)], expected: &[&str]) {
    let expected: Vec<String> = expected
        .iter()
        .map(|line| {
            names
                .iter()
                .fold((*line).to_owned(), |line, (name, handle)| {
                    line.replace(&format!("{{{name}}}"), &handle.to_string())
                })
        })
        .collect();
    assert_eq!(render(&app.events()), expected);
}

/// What one drop of a conference parent shows its owner (SPEC C1, C2, D4):
/// every party Idle in join order, then the parent, then the one Reply.
pub fn cascade_transcript(parent: CallHandle, parties: &[CallHandle]) -> Vec<String> {
    parties
        .iter()
        .chain([&parent])
        .map(|handle| format!("{handle} Idle Owner"))
        .chain(["reply Ok".to_owned()])
        .collect()
}

/// The request id of every Reply in `events`, in order.
pub fn replies(events: &[Event]) -> Vec<RequestId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Reply { request, .. } => Some(*request),
            Event::CallState { .. } => None,
        })
        .collect()
}
