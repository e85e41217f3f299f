//! What the far end of the line receives from us when a call ends, as the
//! Q.931 clearing message on the D channel (SPEC §10, ISDN column): the
//! message, the call reference, the Q.850 cause and the user-user
//! information element carrying the drop's UUI byte for byte (SPEC U3).

use cleardown_sdk::{RemoteSignal, SignalKind, drop::q850, hex_bytes};

/// The largest user-user information element contents, protocol
/// discriminator included, that the line carries in either direction.
pub const MAX_UUI: u32 = 128;

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
    /// The signal as the far end received it on call reference `crv`.
    pub fn signal(self, crv: u8, uui: &[u8]) -> RemoteSignal {
        let (kind, cause, message) = match self {
            Clearing::Release => (SignalKind::Release, q850::NORMAL_CLEARING, "DISCONNECT"),
            Clearing::Cancel => (SignalKind::Cancel, q850::NORMAL_CLEARING, "DISCONNECT"),
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
        let mut wire = format!(
            "{message} crv={crv:#04x} cause #{cause} {}",
            q850::explain(cause)
        );
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
