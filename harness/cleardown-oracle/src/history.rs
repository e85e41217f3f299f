//! What a replay observed, step by step, in the fixture's own names: the
//! history the oracle judges. Calls are named by their fixture alias (or
//! `~N` for one the fixture did not name), requests by `rN`, apps and lines
//! by the fixture's names, so a history holds nothing provider-specific and
//! two providers with the same behaviour give the same history.

use cleardown_contract::{
    CallStatus, DisconnectMode, LineError, Privilege, RemoteState, SignalKind,
};
use serde::{Deserialize, Serialize};

/// A call's status with the conference parent named by alias.
pub type Status = CallStatus<String>;

/// One event an app read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seen {
    /// `CallState`: the call (alias), its new status, the app's privilege.
    State {
        /// The call's alias.
        call: String,
        /// Its new status.
        status: Status,
        /// The app's privilege on its handle.
        privilege: Privilege,
    },
    /// `Reply` of request `rN`.
    Reply {
        /// The request's `rN` name (`?N` for one the replay never issued).
        request: String,
        /// Its result.
        result: Result<(), LineError>,
    },
}

/// What the far end saw of one party, as the far-end view reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySeen {
    /// The party's name (the fixture's `to`/`from`).
    pub name: String,
    /// Where it stands.
    pub state: RemoteState,
    /// Whom it still talks to: line aliases for our stations, party names.
    pub connected_to: Vec<String>,
    /// Every ending signal it received, in order: kind, Q.850 cause, UUI.
    pub received: Vec<(SignalKind, u32, Vec<u8>)>,
}

/// Call info as an app read it (SPEC Q1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoSeen {
    /// The call's status.
    pub status: Status,
    /// The app's privilege, or why it could not be read.
    pub privilege: Result<Privilege, LineError>,
    /// The line alias of its address.
    pub line: String,
    /// The remote party's name; empty for none.
    pub remote: String,
    /// Related calls: relation name and alias.
    pub related: Vec<(String, String)>,
    /// The disconnect mode, once there is one.
    pub disconnect_mode: Option<DisconnectMode>,
    /// UUI the far end sent with its hang-up (U5).
    pub uui_received: Vec<u8>,
    /// UUI sent with our drop (U3).
    pub uui_sent: Vec<u8>,
}

/// What a step returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// It succeeded with nothing to show (`open`, a far-end stimulus…).
    Done,
    /// A request was started: its `rN`.
    Request(String),
    /// `disconnect` started a request (SPEC R3): its `rN`.
    Requested(String),
    /// The operation was refused.
    Refused(LineError),
    /// `disconnect` of an Idle call (SPEC R3: not an error).
    AlreadyIdle,
    /// `add_to_conference`: the request and the conference's alias.
    Conference {
        /// The request's `rN`.
        request: String,
        /// The conference call's alias.
        conference: String,
    },
    /// `close`: the handles dropped and those left active (SPEC B5).
    Closed {
        /// Dropped because the closing app was their sole owner.
        dropped: Vec<String>,
        /// Still active.
        still_active: Vec<String>,
    },
    /// `deallocate *`: each alias and whether it was refused.
    Deallocated(Vec<(String, Option<LineError>)>),
    /// `info`.
    Info(Box<InfoSeen>),
    /// `leaks`: per app, the aliases of its Idle, undeallocated handles.
    Leaks(Vec<(String, Vec<String>)>),
    /// `far_end`: every party, in name order.
    FarEnd(Vec<PartySeen>),
    /// `wait`: `None` when the state came, else what timed out.
    Waited(Option<String>),
    /// The step could not be run at all (no such call or handle yet).
    Unrunnable(String),
    /// A step that shows nothing (`pause_events`, `resume_events`).
    Quiet,
}

/// One step of the script as it was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSeen {
    /// What the step returned.
    pub answer: Answer,
    /// Every event each app read while the step settled, per app in the
    /// order the apps appeared, each app's in arrival order (uncollapsed).
    pub events: Vec<(String, Vec<Seen>)>,
    /// Calls this step gave a fixture alias after they were shown as `~N`
    /// (a `station` step naming the appearance it picked up): `(~N,
    /// alias)`, applied before the step's events, which use the alias.
    #[serde(default)]
    pub renamed: Vec<(String, String)>,
}

impl StepSeen {
    /// The events `app` read in this step.
    pub fn events_of(&self, app: &str) -> &[Seen] {
        self.events
            .iter()
            .find(|(a, _)| a == app)
            .map_or(&[], |(_, e)| e.as_slice())
    }

    /// Every state event of the step, with its app.
    pub fn states(&self) -> impl Iterator<Item = (&str, &str, &Status)> {
        self.events.iter().flat_map(|(app, events)| {
            events.iter().filter_map(move |e| match e {
                Seen::State { call, status, .. } => Some((app.as_str(), call.as_str(), status)),
                Seen::Reply { .. } => None,
            })
        })
    }
}

/// A whole run of a script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// One per script step, in order.
    pub steps: Vec<StepSeen>,
    /// After the last step: per app, its Idle handles never deallocated.
    pub leaks: Vec<(String, Vec<String>)>,
    /// Requests that never got a Reply.
    pub missing_replies: Vec<String>,
    /// Why the host faulted the provider, if it did (SPEC X2).
    #[serde(default)]
    pub fault: Option<String>,
    /// Each call's line alias, as the host recorded its address when the
    /// provider announced it: `(call, line)`.
    #[serde(default)]
    pub lines: Vec<(String, String)>,
}

impl History {
    /// The line alias of `call`, when the run showed it.
    pub fn line_of(&self, call: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(c, _)| c == call)
            .map(|(_, l)| l.as_str())
    }
}
