//! What the far end of the line receives from us when a call ends, as the
//! Q.931 clearing message on the D channel (SPEC §10, ISDN column): the
//! message, the call reference, the Q.850 cause and the user-user
//! information element carrying the drop's UUI byte for byte (SPEC U3).

use cleardown_sdk::{DisconnectCode, RemoteSignal, SignalKind, hex_bytes};

/// The largest user-user information element contents, protocol
/// discriminator included, that the line carries in either direction.
pub const MAX_UUI: u32 = 128;

/// Q.850 causes this line sends and explains.
pub const NORMAL_CLEARING: u32 = 16;
const USER_BUSY: u32 = 17;
const NO_ANSWER: u32 = 19;
const CALL_REJECTED: u32 = 21;

/// The clearing of one call, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearing {
    /// DISCONNECT of an answered call (SPEC D5).
    Release,
    /// DISCONNECT of our outbound call before its CONNECT came (SPEC D7).
    Cancel,
    /// Refusal of the far end's SETUP with a cause (SPEC R1, R3): RELEASE
    /// COMPLETE before we alerted, DISCONNECT once we had (`alerted`).
    Reject { cause: u32, alerted: bool },
}

impl Clearing {
    /// The rejection `code` asks for (SPEC R3, §10): 17 for busy, 19 for no
    /// answer, 21 call rejected otherwise.
    pub fn reject(code: DisconnectCode, alerted: bool) -> Clearing {
        let cause = match code {
            DisconnectCode::Busy => USER_BUSY,
            DisconnectCode::NoAnswer => NO_ANSWER,
            DisconnectCode::Normal | DisconnectCode::Rejected => CALL_REJECTED,
        };
        Clearing::Reject { cause, alerted }
    }

    /// The signal as the far end received it on call reference `crv`.
    pub fn signal(self, crv: u8, uui: &[u8]) -> RemoteSignal {
        let (kind, cause, message) = match self {
            Clearing::Release => (SignalKind::Release, NORMAL_CLEARING, "DISCONNECT"),
            Clearing::Cancel => (SignalKind::Cancel, NORMAL_CLEARING, "DISCONNECT"),
            Clearing::Reject { cause, alerted } => (
                SignalKind::Reject,
                cause,
                if alerted {
                    "DISCONNECT"
                } else {
                    "RELEASE COMPLETE"
                },
            ),
        };
        let mut wire = format!("{message} crv={crv:#04x} cause #{cause} {}", explain(cause));
        if self == Clearing::Cancel {
            wire.push_str(", before CONNECT");
        }
        if !uui.is_empty() {
            wire.push_str(&format!(" uu[{}]={}", uui.len(), hex_bytes::encode(uui)));
        }
        RemoteSignal {
            kind,
            cause,
            uui: uui.to_vec(),
            wire,
        }
    }
}

fn explain(cause: u32) -> &'static str {
    match cause {
        NORMAL_CLEARING => "normal call clearing",
        USER_BUSY => "user busy",
        NO_ANSWER => "no answer from user (user alerted)",
        CALL_REJECTED => "call rejected",
        _ => "unspecified",
    }
}
