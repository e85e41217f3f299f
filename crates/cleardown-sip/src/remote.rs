//! The far-end view (SPEC §10): the parties the far
//! user agent plays, and the SIP messages that ended or rejected their
//! calls, as they crossed the wire.

use cleardown_contract::{RemoteParty, RemoteSignal, RemoteState, SignalKind, parties};

pub use cleardown_contract::parties::PartyId;

/// Every far party, one per SIP user: the contract's bookkeeping, with
/// the SIP wire text of what each received.
#[derive(Debug, Default)]
pub struct Parties(parties::Parties<()>);

impl Parties {
    /// The party called `name`, now in `state`. A name seen before reuses
    /// its record, so its signals accumulate (as pbx-sim's do).
    pub fn engage(&mut self, name: &str, state: RemoteState) -> PartyId {
        self.0.engage(name, state, ())
    }

    pub fn set_state(&mut self, id: PartyId, state: RemoteState) {
        self.0.set_state(id, state);
    }

    /// The party received a message that ended or rejected its call.
    pub fn receive(&mut self, id: PartyId, kind: SignalKind, cause: u32, uui: Vec<u8>, wire: &str) {
        self.0.receive(
            id,
            RemoteSignal {
                kind,
                cause,
                uui,
                wire: wire.replace("\r\n", "\n"),
            },
        );
    }

    /// Every party in creation order; a connected party talks to
    /// `station`, the line of the user agent under test.
    pub fn view(&self, station: &str) -> Vec<RemoteParty> {
        self.0.view(|_| vec![station.to_owned()])
    }
}
