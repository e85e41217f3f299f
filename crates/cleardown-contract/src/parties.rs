//! The bookkeeping behind a simulated far end's view (SPEC §10,
//! `far_end()`): one party per name, in the order they first took part,
//! each with where it stands and the ending signals it received from us,
//! oldest first. A provider's SDK re-exports it as `cleardown_sdk::parties`;
//! the SIP far user agent keeps its parties with it too.
//!
//! `L` is what the provider links a party to in its own world (the call it
//! is on, a talk on a loop): [`Parties::view`] asks the provider, for each
//! connected party, whom it talks to. `S` is what a party keeps of each
//! signal: a [`RemoteSignal`] itself, or a provider's smaller record of it
//! ([`SignalRecord`]) that the view expands only when asked.
//!
//! By default nobody is forgotten: the view reports everyone who ever took
//! part. A provider meant to run for a long time bounds it
//! ([`Parties::bounded`]): parties whose calls are over are forgotten
//! beyond the latest few, and each party keeps its latest signals only, so
//! that a million calls do not grow it.

use std::collections::{HashMap, VecDeque};

use smallvec::SmallVec;

use crate::seq::SeqMap;
use crate::{RemoteParty, RemoteSignal, RemoteState};

/// A party, by creation order. Never reused: a party that was forgotten
/// and takes part again is a new party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(u64);

/// What a party keeps of a signal it received, expanded into the far-end
/// view's [`RemoteSignal`] when the view is asked for.
pub trait SignalRecord {
    /// The signal as the far-end view shows it.
    fn to_remote(&self) -> RemoteSignal;
}

impl SignalRecord for RemoteSignal {
    fn to_remote(&self) -> RemoteSignal {
        self.clone()
    }
}

/// One far party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party<L, S = RemoteSignal> {
    /// Its name, as dialled or as it offered.
    pub name: String,
    /// Where it stands now.
    pub state: RemoteState,
    /// Oldest first, the latest [`Parties::bounded`] keeps. Inline for the
    /// first: a cascade records one for each of its parties, and most
    /// parties never receive a second.
    received: SmallVec<[S; 1]>,
    /// The provider's link for it, updated each time it takes part.
    pub link: L,
}

impl<L, S: SignalRecord> Party<L, S> {
    /// The signals it received, oldest first, as records.
    pub fn received(&self) -> &[S] {
        &self.received
    }

    /// The same, as the far-end view shows them.
    pub fn signals(&self) -> Vec<RemoteSignal> {
        self.received.iter().map(SignalRecord::to_remote).collect()
    }
}

/// Every far party still shown.
#[derive(Debug, Clone)]
pub struct Parties<L, S = RemoteSignal> {
    list: SeqMap<PartyId, Party<L, S>>,
    by_name: HashMap<String, PartyId>,
    next: u64,
    /// Parties whose calls are over, oldest first ([`Parties::retire`]).
    retired: VecDeque<PartyId>,
    retired_shown: usize,
    signals_kept: usize,
}

impl<L, S> Default for Parties<L, S> {
    fn default() -> Self {
        Parties::bounded(usize::MAX, usize::MAX)
    }
}

impl<L, S> Parties<L, S> {
    /// Parties of which the view keeps showing at most `retired_shown`
    /// whose calls are over ([`Parties::retire`]), each with its latest
    /// `signals_kept` signals (at least one).
    pub fn bounded(retired_shown: usize, signals_kept: usize) -> Self {
        Parties {
            list: SeqMap::default(),
            by_name: HashMap::new(),
            next: 0,
            retired: VecDeque::new(),
            retired_shown,
            signals_kept: signals_kept.max(1),
        }
    }
}

impl<L, S: SignalRecord> Parties<L, S> {
    /// The party called `name`, now in `state` and linked to `link`. A name
    /// still shown keeps its record, so what it received accumulates.
    pub fn engage(&mut self, name: &str, state: RemoteState, link: L) -> PartyId {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(party) = self.list.get_mut(&id) {
                party.state = state;
                party.link = link;
                return id;
            }
        }
        let id = PartyId(self.next);
        self.next += 1;
        self.list.insert(
            id,
            Party {
                name: name.to_owned(),
                state,
                received: SmallVec::new(),
                link,
            },
        );
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// The party `id`.
    pub fn get(&self, id: PartyId) -> Option<&Party<L, S>> {
        self.list.get(&id)
    }

    /// The party `id`, to change its link.
    pub fn get_mut(&mut self, id: PartyId) -> Option<&mut Party<L, S>> {
        self.list.get_mut(&id)
    }

    /// Whether party `id` is still on its call (not Released).
    pub fn present(&self, id: PartyId) -> bool {
        self.get(id)
            .is_some_and(|party| party.state != RemoteState::Released)
    }

    /// Party `id` is now in `state`.
    pub fn set_state(&mut self, id: PartyId, state: RemoteState) {
        if let Some(party) = self.list.get_mut(&id) {
            party.state = state;
        }
    }

    /// `signal` reached party `id`, which ends its call: it is Released.
    pub fn receive(&mut self, id: PartyId, signal: S) {
        if let Some(party) = self.list.get_mut(&id) {
            if party.received.len() >= self.signals_kept {
                party.received.remove(0);
            }
            party.received.push(signal);
            party.state = RemoteState::Released;
        }
    }

    /// The provider forgot a call of party `id`; `live(link)` says whether
    /// a link still names a call the provider keeps. A released party no
    /// live call links to is retired; retired parties beyond the
    /// [`Parties::bounded`] number are forgotten, oldest first, unless
    /// they took part again since.
    pub fn retire(&mut self, id: PartyId, live: impl Fn(&L) -> bool) {
        let done = |party: &Party<L, S>| party.state == RemoteState::Released && !live(&party.link);
        if !self.list.get(&id).is_some_and(done) {
            return;
        }
        self.retired.push_back(id);
        while self.retired.len() > self.retired_shown {
            let Some(oldest) = self.retired.pop_front() else {
                break;
            };
            if self.list.get(&oldest).is_some_and(done) {
                if let Some(party) = self.list.remove(&oldest) {
                    self.by_name.remove(&party.name);
                }
            }
        }
    }

    /// Every party in creation order (sorted on each call: the view is
    /// rare, while a cascade looks a party up for every call it ends).
    pub fn iter(&self) -> impl Iterator<Item = &Party<L, S>> {
        let mut parties: Vec<(PartyId, &Party<L, S>)> =
            self.list.iter().map(|(&id, party)| (id, party)).collect();
        parties.sort_unstable_by_key(|&(id, _)| id);
        parties.into_iter().map(|(_, party)| party)
    }

    /// The far-end view: every party in creation order; whom a *connected*
    /// party talks to is `connected(party)` (our address's name, other
    /// parties), and nobody for a party that is not connected.
    pub fn view(&self, mut connected: impl FnMut(&Party<L, S>) -> Vec<String>) -> Vec<RemoteParty> {
        self.iter()
            .map(|party| RemoteParty {
                name: party.name.clone(),
                state: party.state,
                connected_to: if party.state == RemoteState::Connected {
                    connected(party)
                } else {
                    Vec::new()
                },
                received: party.signals(),
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

    #[test]
    fn bounded_forgets_the_oldest_retired_and_keeps_the_latest_signals() {
        let mut parties: Parties<bool> = Parties::bounded(2, 2);
        let live = |link: &bool| *link;
        let ids: Vec<PartyId> = ["a", "b", "c"]
            .iter()
            .map(|name| parties.engage(name, RemoteState::Connected, false))
            .collect();
        // "a" is released; "b" released but its call lives on; "c" is up.
        parties.receive(ids[0], release());
        parties.receive(ids[1], release());
        parties.get_mut(ids[1]).expect("b").link = true;
        for &id in &ids {
            parties.retire(id, live);
        }
        assert_eq!(parties.iter().count(), 3, "one retired, within the bound");
        let d = parties.engage("d", RemoteState::Connected, false);
        let e = parties.engage("e", RemoteState::Connected, false);
        for id in [d, e] {
            parties.receive(id, release());
            parties.retire(id, live);
        }
        let names: Vec<&str> = parties.iter().map(|party| party.name.as_str()).collect();
        assert_eq!(
            names,
            ["b", "c", "d", "e"],
            "the oldest retired, a, is gone"
        );
        // A forgotten name that takes part again is a new party.
        let again = parties.engage("a", RemoteState::Calling, false);
        assert!(again > e && parties.get(again).is_some_and(|p| p.received().is_empty()));
        for _ in 0..3 {
            parties.receive(e, release());
        }
        assert_eq!(parties.get(e).map(|p| p.received().len()), Some(2));
    }
}
