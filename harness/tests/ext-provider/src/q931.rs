//! What the far end of the line receives from us when a call ends, as the
//! Q.931 clearing message on the D channel (SPEC §10, ISDN column): the
//! message, the call reference, the Q.850 cause and the user-user
//! information element carrying the drop's UUI byte for byte (SPEC U3).

use cleardown_sdk::{RemoteSignal, drop::Release, drop::q850, hex_bytes};

/// The largest user-user information element contents, protocol
/// discriminator included, that the line carries in either direction.
pub const MAX_UUI: u32 = 128;

/// The clearing message `release` (the SDK's plan of a drop) puts on call
/// reference `crv`: DISCONNECT of an answered call (D5) or of our outbound
/// call before its CONNECT (D7); for a refused SETUP (R1, R3), RELEASE
/// COMPLETE before we alerted, DISCONNECT once we had. `None`: nothing.
pub fn clearing(release: Release, alerted: bool, crv: u8, uui: &[u8]) -> Option<RemoteSignal> {
    let (kind, cause) = (release.signal_kind()?, release.cause()?);
    let message = match release {
        Release::Reject { .. } if !alerted => "RELEASE COMPLETE",
        _ => "DISCONNECT",
    };
    let mut wire = format!("{message} crv={crv:#04x} cause #{cause} {}", q850::explain(cause));
    if release == Release::Cancel {
        wire.push_str(", before CONNECT");
    }
    if !uui.is_empty() {
        wire.push_str(&format!(" uu[{}]={}", uui.len(), hex_bytes::encode(uui)));
    }
    Some(RemoteSignal { kind, cause, uui: uui.to_vec(), wire })
}
