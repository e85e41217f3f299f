//! The far end (SPEC §10): the remote parties our calls reach over an
//! ISDN-like trunk, and the release messages they receive from us. The
//! bookkeeping is the SDK's ([`parties`]); what is this trunk's own is the
//! Q.931 text of each signal, and the bridges parties are left in.

use cleardown_sdk::{CallId, RemoteSignal, SignalKind, drop::q850, parties};

pub(crate) use cleardown_sdk::parties::PartyId;

/// How many parties whose calls are over (released, and closed at our
/// station) the far-end view keeps showing: enough for any scenario to look
/// back at what its parties received, while a long-running provider stays
/// bounded in memory (a million calls must not grow it).
pub(crate) const RETIRED_SHOWN: usize = 64;

/// How many signals one party's record keeps, the latest ones: a party
/// called again and again would otherwise grow without bound.
pub(crate) const SIGNALS_KEPT: usize = 64;

/// The remote parties, each linked to where it stands at our station.
pub(crate) type Parties = parties::Parties<Link, Received>;

/// The parties [`RETIRED_SHOWN`] and [`SIGNALS_KEPT`] bound.
pub(crate) fn parties() -> Parties {
    Parties::bounded(RETIRED_SHOWN, SIGNALS_KEPT)
}

/// A group of remote parties that keep talking to each other after our
/// station left them (SPEC C2, completed transfers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BridgeId(pub(crate) u64);

/// Where a party stands in our world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    /// The call at our station that last reached this party: whether it is
    /// still up decides whether our station is among the party's peers.
    pub(crate) call: CallId,
    /// The bridge it was left in; taking part again takes it out.
    pub(crate) bridge: Option<BridgeId>,
}

impl Link {
    /// On `call`, in no bridge.
    pub(crate) fn to(call: CallId) -> Link {
        Link { call, bridge: None }
    }
}

/// One signal as a party received it: everything else the far-end view
/// shows of it follows from the [`Signal`], and is built only when asked
/// for. An empty UUI takes no allocation.
#[derive(Debug)]
pub(crate) struct Received {
    signal: Signal,
    uui: Box<[u8]>,
}

impl Received {
    /// `signal` with `uui`, byte for byte (SPEC U3).
    pub(crate) fn new(signal: Signal, uui: &[u8]) -> Received {
        Received {
            signal,
            uui: uui.into(),
        }
    }
}

impl parties::SignalRecord for Received {
    fn to_remote(&self) -> RemoteSignal {
        RemoteSignal {
            kind: self.signal.kind(),
            cause: self.signal.cause(),
            uui: self.uui.to_vec(),
            wire: self.signal.wire().to_owned(),
        }
    }
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
