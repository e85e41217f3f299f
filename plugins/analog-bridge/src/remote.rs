//! The far end (SPEC §10): the parties reached over the analog loop, and
//! what they hear from us. An analog loop carries no cause and no UUI: the
//! far end only notices the loop opening (on-hook), before or after answer.

use std::collections::HashMap;

use cleardown_sdk::{RemoteSignal, RemoteState, SignalKind};

use crate::world::TalkId;

/// Index of a remote party in creation order; stable because parties are
/// never removed (the far-end view reports everyone who ever took part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PartyId(usize);

/// One remote party as the far end sees it.
#[derive(Debug)]
pub(crate) struct Party {
    pub(crate) name: String,
    pub(crate) state: RemoteState,
    pub(crate) received: Vec<RemoteSignal>,
    /// The call on our loop that last reached this party: the stations
    /// active on it are the ones the party talks to.
    pub(crate) talk: TalkId,
}

/// What the far end notices when our side opens the loop. Both carry
/// Q.850 cause 16 in the far-end view, the only ending an analog line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// The last active station went on-hook on an established call.
    Release,
    /// The calling station went on-hook before the far end answered (SPEC D7).
    Cancel,
}

impl Signal {
    fn kind(self) -> SignalKind {
        match self {
            Signal::Release => SignalKind::Release,
            Signal::Cancel => SignalKind::Cancel,
        }
    }

    fn wire(self) -> &'static str {
        match self {
            Signal::Release => "loop open (on-hook)",
            Signal::Cancel => "loop open before answer",
        }
    }
}

/// Every remote party, in creation order, looked up by name.
#[derive(Debug, Default)]
pub(crate) struct Parties {
    list: Vec<Party>,
    by_name: HashMap<String, PartyId>,
}

impl Parties {
    /// The party called `name`, now in `state` on `talk`. A name seen before
    /// reuses its record so what it received accumulates.
    pub(crate) fn engage(&mut self, name: &str, state: RemoteState, talk: TalkId) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(party) = self.list.get_mut(id.0) {
                party.state = state;
                party.talk = talk;
                return id;
            }
        }
        let id = PartyId(self.list.len());
        self.list.push(Party {
            name: name.to_owned(),
            state,
            received: Vec::new(),
            talk,
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    pub(crate) fn get(&self, id: PartyId) -> Option<&Party> {
        self.list.get(id.0)
    }

    pub(crate) fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.state = state;
        }
    }

    /// `signal` reaches the party; the call is over for it.
    pub(crate) fn send(&mut self, id: PartyId, signal: Signal) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.received.push(RemoteSignal {
                kind: signal.kind(),
                cause: 16,
                uui: Vec::new(),
                wire: signal.wire().to_owned(),
            });
            party.state = RemoteState::Released;
        }
    }

    /// Every party in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Party> {
        self.list.iter()
    }
}
