//! The far-end view (SPEC §10): the parties the far
//! user agent plays, and the SIP messages that ended or rejected their
//! calls, as they crossed the wire.

use std::collections::HashMap;

use cleardown_contract::{RemoteParty, RemoteSignal, RemoteState, SignalKind};

/// Index of a party in creation order; parties are never removed (the view
/// reports everyone who ever took part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartyId(usize);

#[derive(Debug)]
struct Party {
    name: String,
    state: RemoteState,
    received: Vec<RemoteSignal>,
}

/// Every far party, one per SIP user, looked up by name.
#[derive(Debug, Default)]
pub struct Parties {
    list: Vec<Party>,
    by_name: HashMap<String, PartyId>,
}

impl Parties {
    /// The party called `name`, now in `state`. A name seen before reuses
    /// its record, so its signals accumulate (as pbx-sim's do).
    pub fn engage(&mut self, name: &str, state: RemoteState) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            self.set_state(id, state);
            return id;
        }
        let id = PartyId(self.list.len());
        self.list.push(Party {
            name: name.to_owned(),
            state,
            received: Vec::new(),
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    pub fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.state = state;
        }
    }

    /// The party received a message that ended or rejected its call.
    pub fn receive(&mut self, id: PartyId, kind: SignalKind, cause: u32, uui: Vec<u8>, wire: &str) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.received.push(RemoteSignal {
                kind,
                cause,
                uui,
                wire: wire.replace("\r\n", "\n"),
            });
            party.state = RemoteState::Released;
        }
    }

    /// Every party in creation order; a connected party talks to
    /// `station`, the line of the user agent under test.
    pub fn view(&self, station: &str) -> Vec<RemoteParty> {
        self.list
            .iter()
            .map(|party| RemoteParty {
                name: party.name.clone(),
                state: party.state,
                connected_to: match party.state {
                    RemoteState::Connected => vec![station.to_owned()],
                    _ => Vec::new(),
                },
                received: party.received.clone(),
            })
            .collect()
    }
}
