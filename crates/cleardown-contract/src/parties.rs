//! The bookkeeping behind a simulated far end's view (SPEC §10,
//! `far_end()`): one party per name, in the order they first took part,
//! never forgotten (the view reports everyone who ever took part), each
//! with where it stands and the ending signals it received from us, oldest
//! first. A provider's SDK re-exports it as `cleardown_sdk::parties`; the
//! SIP far user agent keeps its parties with it too.
//!
//! `L` is what the provider links a party to in its own world (the call it
//! is on, a talk on a loop): [`Parties::view`] asks the provider, for each
//! connected party, whom it talks to.

use std::collections::HashMap;

use crate::{RemoteParty, RemoteSignal, RemoteState};

/// A party, by creation order; stable, as parties are never removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(usize);

/// One far party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party<L> {
    /// Its name, as dialled or as it offered.
    pub name: String,
    /// Where it stands now.
    pub state: RemoteState,
    /// The ending signals it received, oldest first.
    pub received: Vec<RemoteSignal>,
    /// The provider's link for it, updated each time it takes part.
    pub link: L,
}

/// Every far party.
#[derive(Debug, Clone)]
pub struct Parties<L> {
    list: Vec<Party<L>>,
    by_name: HashMap<String, PartyId>,
}

impl<L> Default for Parties<L> {
    fn default() -> Self {
        Parties {
            list: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<L> Parties<L> {
    /// The party called `name`, now in `state` and linked to `link`. A name
    /// seen before keeps its record, so what it received accumulates.
    pub fn engage(&mut self, name: &str, state: RemoteState, link: L) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(party) = self.list.get_mut(id.0) {
                party.state = state;
                party.link = link;
                return id;
            }
        }
        let id = PartyId(self.list.len());
        self.list.push(Party {
            name: name.to_owned(),
            state,
            received: Vec::new(),
            link,
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// The party `id`.
    pub fn get(&self, id: PartyId) -> Option<&Party<L>> {
        self.list.get(id.0)
    }

    /// Whether party `id` is still on its call (not Released).
    pub fn present(&self, id: PartyId) -> bool {
        self.get(id)
            .is_some_and(|party| party.state != RemoteState::Released)
    }

    /// Party `id` is now in `state`.
    pub fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.state = state;
        }
    }

    /// `signal` reached party `id`, which ends its call: it is Released.
    pub fn receive(&mut self, id: PartyId, signal: RemoteSignal) {
        if let Some(party) = self.list.get_mut(id.0) {
            party.received.push(signal);
            party.state = RemoteState::Released;
        }
    }

    /// Every party in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Party<L>> {
        self.list.iter()
    }

    /// The far-end view: every party in creation order; whom a *connected*
    /// party talks to is `connected(party)` (our address's name, other
    /// parties), and nobody for a party that is not connected.
    pub fn view(&self, mut connected: impl FnMut(&Party<L>) -> Vec<String>) -> Vec<RemoteParty> {
        self.list
            .iter()
            .map(|party| RemoteParty {
                name: party.name.clone(),
                state: party.state,
                connected_to: if party.state == RemoteState::Connected {
                    connected(party)
                } else {
                    Vec::new()
                },
                received: party.received.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignalKind;

    fn release() -> RemoteSignal {
        RemoteSignal {
            kind: SignalKind::Release,
            cause: 16,
            uui: Vec::new(),
            wire: "bye".to_owned(),
        }
    }

    #[test]
    fn one_party_per_name_keeping_what_it_received() {
        let mut parties: Parties<u32> = Parties::default();
        let alice = parties.engage("alice", RemoteState::Calling, 1);
        let bob = parties.engage("bob", RemoteState::Connected, 2);
        parties.receive(alice, release());
        assert!(!parties.present(alice) && parties.present(bob));
        // Alice calls again: the same record, her signal kept, a new link.
        assert_eq!(parties.engage("alice", RemoteState::Connected, 3), alice);
        let view = parties.view(|party| vec![format!("line of {}", party.link)]);
        assert_eq!(view.len(), 2);
        assert_eq!(view[0].name, "alice");
        assert_eq!(view[0].received, [release()]);
        assert_eq!(view[0].connected_to, ["line of 3"]);
        parties.receive(bob, release());
        let view = parties.view(|_| vec!["nobody may be asked".to_owned()]);
        assert!(
            view[1].connected_to.is_empty(),
            "a released party talks to nobody"
        );
    }
}
