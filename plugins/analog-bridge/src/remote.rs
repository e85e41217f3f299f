//! The far end (SPEC §10): the parties reached over the analog loop, and
//! what they hear from us. An analog loop carries no cause and no UUI: the
//! far end only notices the loop opening (on-hook), before or after answer.

use cleardown_sdk::{RemoteSignal, SignalKind, parties};

use crate::world::TalkId;

/// A remote party (the SDK's bookkeeping), linked to the call on our loop
/// that last reached it: the stations active on that call are the ones
/// the party talks to.
pub(crate) type Parties = parties::Parties<TalkId>;
pub(crate) use cleardown_sdk::parties::PartyId;

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
    /// The signal as the far end received it.
    pub(crate) fn remote(self) -> RemoteSignal {
        let (kind, wire) = match self {
            Signal::Release => (SignalKind::Release, "loop open (on-hook)"),
            Signal::Cancel => (SignalKind::Cancel, "loop open before answer"),
        };
        RemoteSignal {
            kind,
            cause: cleardown_sdk::drop::q850::NORMAL_CLEARING,
            uui: Vec::new(),
            wire: wire.to_owned(),
        }
    }
}
