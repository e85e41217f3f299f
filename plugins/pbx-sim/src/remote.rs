//! The far end (SPEC §10): the remote parties our calls reach over an
//! ISDN-like trunk, and the release messages they receive from us.

use std::collections::{HashMap, VecDeque};

use smallvec::SmallVec;

use cleardown_sdk::{CallId, RemoteSignal, RemoteState, SignalKind, drop::q850};

use cleardown_sdk::seq::SeqMap;

/// A remote party, numbered in creation order. Never reused: a party that
/// was forgotten and calls again is a new party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PartyId(u64);

/// How many parties whose calls are over (released, and closed at our
/// station) the far-end view keeps showing: enough for any scenario to look
/// back at what its parties received, while a long-running provider stays
/// bounded in memory (a million calls must not grow it).
pub(crate) const RETIRED_SHOWN: usize = 64;

/// How many signals one party's record keeps, the latest ones: a party
/// called again and again would otherwise grow without bound.
pub(crate) const SIGNALS_KEPT: usize = 64;

/// A group of remote parties that keep talking to each other after our
/// station left them (SPEC C2, completed transfers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BridgeId(u64);

/// One remote party as the far end sees it.
#[derive(Debug)]
pub(crate) struct Party {
    pub(crate) name: String,
    pub(crate) state: RemoteState,
    /// Oldest first, at most [`SIGNALS_KEPT`]. Inline for the first: a
    /// cascade records one for each of its parties, and most parties never
    /// receive a second.
    received: SmallVec<[Received; 1]>,
    /// The call at our station that last reached this party: whether it is
    /// still up decides whether our station is among the party's peers.
    pub(crate) call: CallId,
    pub(crate) bridge: Option<BridgeId>,
}

impl Party {
    /// What the party received, oldest first, as the far-end view shows it.
    pub(crate) fn received(&self) -> Vec<RemoteSignal> {
        self.received
            .iter()
            .map(|received| RemoteSignal {
                kind: received.signal.kind(),
                cause: received.signal.cause(),
                uui: received.uui.to_vec(),
                wire: received.signal.wire().to_owned(),
            })
            .collect()
    }
}

/// One signal as a party received it: everything else the far-end view
/// shows of it follows from the [`Signal`], and is built only when asked
/// for. An empty UUI takes no allocation.
#[derive(Debug)]
struct Received {
    signal: Signal,
    uui: Box<[u8]>,
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
    /// The rejection with Q.850 `cause` (the SDK's drop plan picks it from
    /// the code, SPEC R3, §10).
    pub(crate) fn reject(cause: u32) -> Signal {
        match cause {
            q850::USER_BUSY => Signal::Busy,
            q850::NO_ANSWER => Signal::NoAnswer,
            _ => Signal::Rejected,
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
            Signal::Release | Signal::Cancel => q850::NORMAL_CLEARING,
            Signal::Rejected => q850::CALL_REJECTED,
            Signal::Busy => q850::USER_BUSY,
            Signal::NoAnswer => q850::NO_ANSWER,
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

/// Every remote party still shown, looked up by id and by name.
#[derive(Debug, Default)]
pub(crate) struct Parties {
    list: SeqMap<PartyId, Party>,
    by_name: HashMap<String, PartyId>,
    next_party: u64,
    next_bridge: u64,
    /// Parties whose calls are over, oldest first: the ones past
    /// [`RETIRED_SHOWN`] are forgotten.
    retired: VecDeque<PartyId>,
}

impl Parties {
    /// The party called `name`, now in `state` on `call`. A name seen before
    /// reuses its record so its signals accumulate; it leaves any bridge,
    /// because it now talks to our station again.
    pub(crate) fn engage(&mut self, name: &str, state: RemoteState, call: CallId) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(party) = self.list.get_mut(&id) {
                party.state = state;
                party.call = call;
                party.bridge = None;
                return id;
            }
        }
        let id = PartyId(self.next_party);
        self.next_party += 1;
        self.list.insert(
            id,
            Party {
                name: name.to_owned(),
                state,
                received: SmallVec::new(),
                call,
                bridge: None,
            },
        );
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// `call` was forgotten at our station. A released party whose last
    /// call it was is retired; the oldest retired parties past
    /// [`RETIRED_SHOWN`] are forgotten, unless they have called again
    /// since (`live` says whether a call still exists).
    pub(crate) fn retire(&mut self, id: PartyId, call: CallId, live: impl Fn(CallId) -> bool) {
        let done = self
            .list
            .get(&id)
            .is_some_and(|party| party.call == call && party.state == RemoteState::Released);
        if !done {
            return;
        }
        self.retired.push_back(id);
        while self.retired.len() > RETIRED_SHOWN {
            let Some(oldest) = self.retired.pop_front() else {
                break;
            };
            let forget = self
                .list
                .get(&oldest)
                .is_some_and(|party| party.state == RemoteState::Released && !live(party.call));
            if forget {
                if let Some(party) = self.list.remove(&oldest) {
                    self.by_name.remove(&party.name);
                }
            }
        }
    }

    pub(crate) fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(&id) {
            party.state = state;
        }
    }

    /// `signal` reaches the party with `uui` byte for byte (SPEC U3); the
    /// call is over for it.
    pub(crate) fn send(&mut self, id: PartyId, signal: Signal, uui: &[u8]) {
        if let Some(party) = self.list.get_mut(&id) {
            if party.received.len() == SIGNALS_KEPT {
                party.received.remove(0);
            }
            party.received.push(Received {
                signal,
                uui: uui.into(),
            });
            party.state = RemoteState::Released;
        }
    }

    /// Puts `members` in a new bridge: from now on they talk to each other.
    pub(crate) fn bridge(&mut self, members: &[PartyId]) {
        let bridge = BridgeId(self.next_bridge);
        self.next_bridge += 1;
        for id in members {
            if let Some(party) = self.list.get_mut(id) {
                party.bridge = Some(bridge);
            }
        }
    }

    pub(crate) fn name(&self, id: PartyId) -> Option<&str> {
        self.list.get(&id).map(|party| party.name.as_str())
    }

    /// Every party in creation order. Sorted on each call: the far-end view
    /// is rare, while a cascade looks a party up for every call it ends.
    pub(crate) fn in_order(&self) -> Vec<&Party> {
        let mut parties: Vec<(PartyId, &Party)> =
            self.list.iter().map(|(&id, party)| (id, party)).collect();
        parties.sort_unstable_by_key(|&(id, _)| id);
        parties.into_iter().map(|(_, party)| party).collect()
    }
}
