//! Plain data of the contract: identifiers, capabilities (SPEC L2), call info
//! (SPEC Q1) and the far-end view (SPEC §10).
//!
//! These are the Rust-side shapes. Across the plugin boundary they travel as
//! their mirrors in [`crate::abi`], which encode enums as TAPI codes.

use serde::{Deserialize, Serialize};

use crate::state::{CallStatus, DisconnectMode, code_enum};

/// A provider's name for one of its calls (one appearance at one address).
///
/// Chosen by the provider, never 0, never reused while the host may still ask
/// about it (until [`close_call`](crate::abi::FfiProvider::close_call)).
#[repr(transparent)]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    abi_stable::StableAbi,
)]
pub struct CallId(pub u64);

/// The host's number for an asynchronous request (SPEC D3). Always > 0.
#[repr(transparent)]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    abi_stable::StableAbi,
)]
pub struct RequestId(pub u64);

/// An address (a line appearance, an extension) of a provider: the index into
/// [`Capabilities::addresses`].
#[repr(transparent)]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    abi_stable::StableAbi,
)]
pub struct AddressId(pub u32);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request#{}", self.0)
    }
}

code_enum! {
    /// What an app may do with a call (TAPI `LINECALLPRIVILEGE_*`).
    Privilege {
        /// May only observe and query (SPEC D1: dropping fails `NotOwner`).
        Monitor = 0x2,
        /// May change the call's state.
        Owner = 0x4,
    }
}

code_enum! {
    /// How an address is shared between stations (TAPI `LINEADDRESSSHARING_*`, SPEC §6).
    Sharing {
        /// One station only.
        Private = 0x1,
        /// Bridged; a call is taken by one station exclusively (B4).
        BridgedExclusive = 0x2,
        /// Bridged; a new call appearance per station (B4).
        BridgedNew = 0x4,
        /// Bridged; stations share the call (B1, B2, B3).
        BridgedShared = 0x8,
        /// Monitored only.
        Monitored = 0x10,
    }
}

/// Capabilities of one address (TAPI `LINEADDRESSCAPS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressCaps {
    /// A name people recognise ("ext-100", "station-2").
    pub name: String,
    /// Dropping a conference parent drops its parties too (SPEC C1);
    /// without it the parties stay connected to each other (C2).
    pub conf_drop: bool,
    /// How the address is shared between stations (SPEC §6).
    pub sharing: Sharing,
    /// The operations calls on this address support (TAPI
    /// `LINEADDRESSCAPS.dwCallFeatures`). A provider must still refuse an
    /// operation it does not support with `OperationUnavail`; the
    /// conformance suite uses this to skip scenarios that need it.
    #[serde(default = "CallFeatures::all")]
    pub features: CallFeatures,
}

/// Operations a call supports: TAPI `LINECALLFEATURE_*` bits, with TAPI's
/// values. Crosses the boundary as a `u32` (contract 1.1); a provider built
/// against 1.0 cannot say, and is taken to support [`CallFeatures::ALL`].
///
/// In JSON (`cleardown inspect --json`, the conformance report) it is the
/// list of [`CallFeatures::names`], e.g. `["answer", "drop"]`, with any bit
/// the contract does not name as a hex string (`"0x40"`). Reading accepts
/// that list, and the bare number older files hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallFeatures(pub u32);

impl CallFeatures {
    /// `lineAccept`.
    pub const ACCEPT: CallFeatures = CallFeatures(0x1);
    /// `lineAddToConference`.
    pub const ADD_TO_CONFERENCE: CallFeatures = CallFeatures(0x2);
    /// `lineAnswer`.
    pub const ANSWER: CallFeatures = CallFeatures(0x4);
    /// `lineCompleteTransfer`.
    pub const COMPLETE_TRANSFER: CallFeatures = CallFeatures(0x20);
    /// `lineDrop`.
    pub const DROP: CallFeatures = CallFeatures(0x80);
    /// `lineHold`.
    pub const HOLD: CallFeatures = CallFeatures(0x800);
    /// `lineSetupConference`.
    pub const SETUP_CONFERENCE: CallFeatures = CallFeatures(0x0100_0000);
    /// `lineSetupTransfer`.
    pub const SETUP_TRANSFER: CallFeatures = CallFeatures(0x0200_0000);
    /// `lineUnhold`.
    pub const UNHOLD: CallFeatures = CallFeatures(0x0800_0000);
    /// Every operation of the contract.
    pub const ALL: CallFeatures = CallFeatures(
        Self::ACCEPT.0
            | Self::ADD_TO_CONFERENCE.0
            | Self::ANSWER.0
            | Self::COMPLETE_TRANSFER.0
            | Self::DROP.0
            | Self::HOLD.0
            | Self::SETUP_CONFERENCE.0
            | Self::SETUP_TRANSFER.0
            | Self::UNHOLD.0,
    );
    /// Each feature with the name `inspect` and the conformance suite use.
    pub const NAMED: &'static [(CallFeatures, &'static str)] = &[
        (Self::ACCEPT, "accept"),
        (Self::ANSWER, "answer"),
        (Self::DROP, "drop"),
        (Self::HOLD, "hold"),
        (Self::UNHOLD, "unhold"),
        (Self::SETUP_CONFERENCE, "setup_conference"),
        (Self::ADD_TO_CONFERENCE, "add_to_conference"),
        (Self::SETUP_TRANSFER, "setup_transfer"),
        (Self::COMPLETE_TRANSFER, "complete_transfer"),
    ];

    /// [`CallFeatures::ALL`], for serde defaults.
    pub const fn all() -> CallFeatures {
        Self::ALL
    }

    /// Whether every feature of `other` is in `self`.
    pub const fn contains(self, other: CallFeatures) -> bool {
        self.0 & other.0 == other.0
    }

    /// The names of the features in `self`, in [`CallFeatures::NAMED`] order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, name)| *name)
            .collect()
    }
}

impl CallFeatures {
    /// The feature called `name` in [`CallFeatures::NAMED`], or a single
    /// unnamed bit written in hex (`0x40`), as [`CallFeatures`] serializes
    /// them.
    pub fn from_name(name: &str) -> Option<CallFeatures> {
        if let Some(&(feature, _)) = Self::NAMED.iter().find(|(_, n)| *n == name) {
            return Some(feature);
        }
        let hex = name.strip_prefix("0x")?;
        u32::from_str_radix(hex, 16).ok().map(CallFeatures)
    }

    /// The bits of `self` that [`CallFeatures::NAMED`] has no name for.
    const fn unnamed(self) -> u32 {
        self.0 & !Self::ALL.0
    }
}

impl Serialize for CallFeatures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let unnamed = self.unnamed();
        let names = self.names();
        let mut seq = s.serialize_seq(Some(names.len() + unnamed.count_ones() as usize))?;
        for name in names {
            seq.serialize_element(name)?;
        }
        for bit in (0..32).map(|i| 1u32 << i).filter(|bit| unnamed & bit != 0) {
            seq.serialize_element(&format!("{bit:#x}"))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for CallFeatures {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Features;
        impl<'de> serde::de::Visitor<'de> for Features {
            type Value = CallFeatures;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of call feature names, or their LINECALLFEATURE_* bits")
            }
            fn visit_u64<E: serde::de::Error>(self, bits: u64) -> Result<CallFeatures, E> {
                u32::try_from(bits)
                    .map(CallFeatures)
                    .map_err(|_| E::custom(format!("call features {bits:#x} exceed 32 bits")))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<CallFeatures, A::Error> {
                let mut features = CallFeatures(0);
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    let feature = CallFeatures::from_name(&name).ok_or_else(|| {
                        let known: Vec<&str> =
                            CallFeatures::NAMED.iter().map(|(_, n)| *n).collect();
                        serde::de::Error::custom(format!(
                            "unknown call feature `{name}`; expected one of {} or a hex bit (0x40)",
                            known.join(", ")
                        ))
                    })?;
                    features = features | feature;
                }
                Ok(features)
            }
        }
        d.deserialize_any(Features)
    }
}

impl std::ops::BitOr for CallFeatures {
    type Output = CallFeatures;
    fn bitor(self, other: CallFeatures) -> CallFeatures {
        CallFeatures(self.0 | other.0)
    }
}

/// What a provider declares it can do (SPEC L2). The conformance suite runs
/// every rule these imply and the negative path of every one left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Largest UUI a drop may carry, in bytes (SPEC U1); 0: none (U4). The
    /// host does not enforce it: the provider refuses a longer UUI with
    /// `UserUserInfoTooBig`, never truncating it (U2).
    pub uui_drop_size: u32,
    /// Dropping an offered (or accepted) call rejects it (SPEC R1); without
    /// it the provider refuses that drop with `OperationUnavail`, whatever
    /// the disconnect code (R2). The host does not check it.
    pub reject_by_drop: bool,
    /// Closing a line drops the calls the closing app solely owned (SPEC
    /// B5): the host asks the provider to drop each of them; without it
    /// they stay up.
    pub close_drop: bool,
    /// The provider's addresses; [`AddressId`] indexes this list.
    pub addresses: Vec<AddressCaps>,
    /// The far end's release causes reach the provider (digital signalling:
    /// ISDN, SIP), so a far hang-up's Q.850 cause selects its disconnect
    /// mode (SPEC S3, §10). An analog loop hears none: every far hang-up is
    /// alike to it. Since contract 1.2; an older plugin is taken to hear
    /// causes where it carries UUI on drop.
    #[serde(default)]
    pub far_causes: bool,
    /// Largest UUI the provider keeps from the far end (SPEC U5; TAPI
    /// `LINECALLINFO.dwUUICallInfoSize`), which may exceed [`Self::uui_drop_size`];
    /// 0: none. Since contract 1.2; an older plugin is taken to keep up to
    /// its drop size.
    #[serde(default)]
    pub uui_received_size: u32,
    /// How a far hang-up is detected (SPEC S3, L2): 0, it is signalled at
    /// once; N, it is found within N milliseconds of the provider's time
    /// (tone detection on a loop without disconnect supervision), and the
    /// suite lets that much time pass before it looks. Since contract 1.2;
    /// an older plugin is taken to signal at once.
    #[serde(default)]
    pub hang_up_delay_ms: u32,
}

impl Capabilities {
    /// The capabilities of one address, if it exists.
    pub fn address(&self, address: AddressId) -> Option<&AddressCaps> {
        self.addresses.get(address.0 as usize)
    }
}

/// Who a provider is and what it declares (SPEC L2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Short name, e.g. `pbx-sim`.
    pub name: String,
    /// The provider's own version.
    pub version: String,
    /// What it declares.
    pub capabilities: Capabilities,
}

code_enum! {
    /// How another call relates to this one (TAPI's related-call fields).
    Relation {
        /// That call is the conference this call is a party of.
        Parent = 0x1,
        /// That call is a party of this conference.
        Child = 0x2,
        /// That call is this call's consultation call (conference or transfer).
        Consult = 0x3,
        /// This call is the consultation call of that primary call.
        Primary = 0x4,
    }
}

/// One related call, named by `C` (a [`CallId`] at the boundary, a handle in the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related<C> {
    /// How that call relates to this one.
    pub relation: Relation,
    /// That call.
    pub call: C,
}

/// What a call-info query answers (SPEC Q1; TAPI `LINECALLINFO`). The
/// provider keeps answering it for a call until the host closes the call,
/// after drop and after Idle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo<C> {
    /// The address the call is on.
    pub address: AddressId,
    /// The current state and its detail.
    pub status: CallStatus<C>,
    /// Conference parent/children and consultation links, in a stable order.
    pub related: Vec<Related<C>>,
    /// The remote party, as the far-end view names it (empty for a conference parent).
    pub remote: String,
    /// The last disconnect mode, kept after Idle (`None` if never disconnected).
    pub disconnect_mode: Option<DisconnectMode>,
    /// UUI the far end sent with its hang-up (SPEC U5).
    #[serde(with = "hex_bytes")]
    pub uui_received: Vec<u8>,
    /// UUI this side sent with its drop (SPEC U3).
    #[serde(with = "hex_bytes")]
    pub uui_sent: Vec<u8>,
}

code_enum! {
    /// Where a remote party stands, as the far end sees it.
    RemoteState {
        /// Being alerted by a call from us.
        Ringing = 0x1,
        /// Calling us, not yet answered.
        Calling = 0x2,
        /// In a call (with us, or with the parties in `connected_to`).
        Connected = 0x3,
        /// Gone: the call ended for this party.
        Released = 0x4,
    }
}

code_enum! {
    /// What kind of ending a remote party received.
    SignalKind {
        /// Hang-up of an established call (SIP BYE, ISDN release, analog on-hook).
        Release = 0x1,
        /// Withdrawal of an unanswered outbound call (SIP CANCEL → 487).
        Cancel = 0x2,
        /// Rejection of the party's offered call (SIP 603/486/480).
        Reject = 0x3,
    }
}

/// One ending signal a remote party received from us (SPEC §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteSignal {
    /// What kind of ending it was.
    pub kind: SignalKind,
    /// The Q.850 cause it carried (16 normal clearing, 17 busy, 19 no answer, 21 rejected).
    pub cause: u32,
    /// UUI it carried, byte for byte (SPEC U3); empty for none.
    #[serde(with = "hex_bytes")]
    pub uui: Vec<u8>,
    /// The signal as it went over the wire, in the provider's own rendering
    /// ("release cause 16", a SIP BYE with its headers), one or more lines.
    /// Only fixtures marked `wire = true` show it, in a wire snapshot kept
    /// per provider by its author (`--wire-snapshots DIR`; "not pinned",
    /// not a failure, until there is one); transcripts never do. Put every
    /// byte that goes out in it, UUI included, so that pinning it catches
    /// a change.
    pub wire: String,
}

/// A remote party as the far end sees it (SPEC §10): what it received and
/// whom it is still talking to (SPEC C2, B2). A provider's far-end view has
/// one per party its calls reached or that called it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteParty {
    /// The party's name, exactly as given: the destination dialled
    /// (`make_call`, a consultation call), or the caller that offered
    /// (`remote_offer`). One party per name.
    pub name: String,
    /// Where the party stands now.
    pub state: RemoteState,
    /// Whom the party is still in a call with, while it is `Connected`
    /// (empty once it is `Released`):
    ///
    /// * **our own station**: the [`AddressCaps::name`] of the address whose
    ///   call with it is up, exactly as the provider declares it (`ext-100`,
    ///   `station-2`). The conformance suite maps address names to the
    ///   fixture's line aliases, so a party talking to us must name our
    ///   address here (`connected to [main]`); leave it out and the
    ///   transcript says the party talks to nobody (the SPEC B5 scenarios
    ///   check it).
    /// * **other remote parties** it still talks to, by their `name`: the
    ///   parties of a conference it is in, and those that stay connected to
    ///   each other after our station left (C2) or completed a transfer.
    pub connected_to: Vec<String>,
    /// The ending signals it received from us, oldest first; a party called
    /// again keeps what it received before.
    pub received: Vec<RemoteSignal>,
}

/// UUI shows as lowercase hex in reports and fixtures: it is binary.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// `bytes` as lowercase hex.
    pub fn encode(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Hex (either case, even length) back to bytes.
    pub fn decode(text: &str) -> Result<Vec<u8>, String> {
        if text.len() % 2 != 0 {
            return Err(format!("hex string {text:?} has an odd number of digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&text[i..i + 2], 16)
                    .map_err(|_| format!("{:?} is not a hex byte", &text[i..i + 2]))
            })
            .collect()
    }

    /// Serde: bytes as a hex string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    /// Serde: a hex string back to bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC L2: `inspect --json` names the call features the way the text
    /// output and the conformance report do, and reads them back.
    #[test]
    fn l2_call_features_serialize_as_their_names() {
        let features = CallFeatures::ANSWER | CallFeatures::DROP | CallFeatures::HOLD;
        let json = serde_json::to_string(&features).expect("serializes");
        assert_eq!(json, r#"["answer","drop","hold"]"#);
        let back: CallFeatures = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, features);
        let all = serde_json::to_value(CallFeatures::ALL).expect("serializes");
        assert_eq!(all, serde_json::json!(CallFeatures::ALL.names()));
        assert_eq!(serde_json::to_string(&CallFeatures(0)).expect("ok"), "[]");
    }

    /// Bits the contract has no name for survive the round trip, as hex.
    #[test]
    fn l2_unnamed_call_feature_bits_round_trip_as_hex() {
        let features = CallFeatures::DROP | CallFeatures(0x40) | CallFeatures(0x8000_0000);
        let json = serde_json::to_string(&features).expect("serializes");
        assert_eq!(json, r#"["drop","0x40","0x80000000"]"#);
        assert_eq!(
            serde_json::from_str::<CallFeatures>(&json).expect("reads"),
            features
        );
    }

    /// Older files hold the bits as a number; both forms read.
    #[test]
    fn l2_call_features_read_from_an_old_number() {
        let old: CallFeatures = serde_json::from_str("133").expect("a number reads");
        assert_eq!(
            old,
            CallFeatures::ACCEPT | CallFeatures::ANSWER | CallFeatures::DROP
        );
        let caps: AddressCaps = serde_json::from_str(
            r#"{"name":"l","conf_drop":false,"sharing":"Private","features":184551591}"#,
        )
        .expect("an old address reads");
        assert_eq!(caps.features, CallFeatures::ALL);
        let error = serde_json::from_str::<CallFeatures>(r#"["answer","park"]"#)
            .expect_err("an unknown name is refused");
        assert!(
            error.to_string().contains("unknown call feature `park`"),
            "{error}"
        );
        assert!(serde_json::from_str::<CallFeatures>("4294967296").is_err());
    }
}
