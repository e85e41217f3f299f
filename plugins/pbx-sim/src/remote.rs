//! The far end (SPEC §10): the remote parties our calls reach over an
//! ISDN-like trunk, and the release messages they receive from us.

use std::collections::HashMap;

use cleardown_sdk::{CallId, DisconnectCode, RemoteSignal, RemoteState, SignalKind};

/// Index of a remote party in creation order; stable because parties are
/// never removed (the far-end view reports everyone who ever took part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PartyId(usize);

/// A group of remote parties that keep talking to each other after our
/// station left them (SPEC C2, completed transfers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BridgeId(u64);

/// One remote party as the far end sees it.
#[derive(Debug)]
pub(crate) struct Party {
    pub(crate) name: String,
    pub(crate) state: RemoteState,
    pub(crate) received: Vec<RemoteSignal>,
    /// The call at our station that last reached this party: whether it is
    /// still up decides whether our station is among the party's peers.
    pub(crate) call: CallId,
    pub(crate) bridge: Option<BridgeId>,
}

/// The ending message a party receives from us, with its Q.850 cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Hang-up of an established call, or of a conference it was in.
    Release,
    /// Withdrawal of an unanswered outbound call (SPEC D7).
    Cancel,
    /// Rejection of the party's offered call (SPEC R1).
    Rejected,
    /// Rejection as busy.
    Busy,
    /// Rejection as not answered (SPEC R3).
    NoAnswer,
}

impl Signal {
    /// The rejection a drop with `code` sends to an offering party (SPEC R1, R3).
    pub(crate) fn reject_for(code: DisconnectCode) -> Signal {
        match code {
            DisconnectCode::Busy => Signal::Busy,
            DisconnectCode::NoAnswer => Signal::NoAnswer,
            DisconnectCode::Normal | DisconnectCode::Rejected => Signal::Rejected,
        }
    }

    fn kind(self) -> SignalKind {
        match self {
            Signal::Release => SignalKind::Release,
            Signal::Cancel => SignalKind::Cancel,
            Signal::Rejected | Signal::Busy | Signal::NoAnswer => SignalKind::Reject,
        }
    }

    fn cause(self) -> u32 {
        match self {
            Signal::Release | Signal::Cancel => 16,
            Signal::Rejected => 21,
            Signal::Busy => 17,
            Signal::NoAnswer => 19,
        }
    }

    fn wire(self) -> &'static str {
        match self {
            Signal::Release => "release cause 16 normal clearing",
            Signal::Cancel => "release cause 16 normal clearing (cancel)",
            Signal::Rejected => "release cause 21 call rejected",
            Signal::Busy => "release cause 17 user busy",
            Signal::NoAnswer => "release cause 19 no answer",
        }
    }
}

/// Every remote party, in creation order, looked up by name.
#[derive(Debug, Default)]
pub(crate) struct Parties {
    list: Vec<Party>,
    by_name: HashMap<String, PartyId>,
    next_bridge: u64,
}

impl Parties {
    /// The party called `name`, now in `state` on `call`. A name seen before
    /// reuses its record so its signals accumulate; it leaves any bridge,
    /// because it now talks to our station again.
    pub(crate) fn engage(&mut self, name: &str, state: RemoteState, call: CallId) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(party) = self.list.get_mut(id.0) {
                party.state = state;
                party.call = call;
                party.bridge = None;
                return id;
            }
        }
        let id = PartyId(self.list.len());
        self.list.push(Party {
            name: name.to_owned(),
            state,
            received: Vec::new(),
            call,
            bridge: None,
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    pub(crate) fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.state = state;
        }
    }

    /// `signal` reaches the party with `uui` byte for byte (SPEC U3); the
    /// call is over for it.
    pub(crate) fn send(&mut self, id: PartyId, signal: Signal, uui: &[u8]) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.received.push(RemoteSignal {
                kind: signal.kind(),
                cause: signal.cause(),
                uui: uui.to_vec(),
                wire: signal.wire().to_owned(),
            });
            party.state = RemoteState::Released;
        }
    }

    /// Puts `members` in a new bridge: from now on they talk to each other.
    pub(crate) fn bridge(&mut self, members: &[PartyId]) {
        let bridge = BridgeId(self.next_bridge);
        self.next_bridge += 1;
        for id in members {
            if let Some(party) = self.list.get_mut(id.0) {
                party.bridge = Some(bridge);
            }
        }
    }

    pub(crate) fn name(&self, id: PartyId) -> Option<&str> {
        self.list.get(id.0).map(|party| party.name.as_str())
    }

    /// Every party in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Party> {
        self.list.iter()
    }
}
