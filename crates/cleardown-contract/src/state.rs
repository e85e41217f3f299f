//! Call states and their modes (SPEC §1), TAPI 3 disconnect codes (SPEC R3).
//!
//! Every value is TAPI's (`LINECALLSTATE_*`, `LINECONNECTEDMODE_*`,
//! `LINEDISCONNECTMODE_*`) so a provider author who knows TAPI, JTAPI or CSTA
//! recognises it. Across the plugin boundary these travel as raw `u32` codes
//! (see [`crate::abi`]); the `from_code` constructors are where the host turns
//! them back into enums and detects a provider that reports garbage (SPEC X2).

use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[repr(u32)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)+
        }

        impl $name {
            /// Every value, in TAPI order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The TAPI numeric value.
            #[inline]
            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The variant with this TAPI value, or `None` for a value TAPI
            /// does not define (a provider reporting it is faulty).
            #[inline]
            pub const fn from_code(code: u32) -> Option<Self> {
                match code {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The variant's name as the SPEC writes it.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.name())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// A call's state (TAPI `LINECALLSTATE_*`). Some states carry more detail
    /// in [`CallStatus`]; this is the bare state, as used in capability
    /// checks and on the wire.
    CallState {
        /// No call exists; final (SPEC S1).
        Idle = 0x1,
        /// An inbound call is being offered and may be answered or rejected.
        Offering = 0x2,
        /// An offered call was accepted by this station (ringing locally).
        Accepted = 0x4,
        /// The call has dial tone and may dial.
        Dialtone = 0x8,
        /// Digits are being sent.
        Dialing = 0x10,
        /// The far end is being alerted.
        Ringback = 0x20,
        /// The far end is busy.
        Busy = 0x40,
        /// A special information tone was received.
        SpecialInfo = 0x80,
        /// The call is up; carries a [`ConnectedMode`].
        Connected = 0x100,
        /// Dialing is complete and the call is proceeding through the network.
        Proceeding = 0x200,
        /// The call is on hold.
        OnHold = 0x400,
        /// The call is a party of a conference; carries the parent.
        Conferenced = 0x800,
        /// The call is on hold while a conference party is being added.
        OnHoldPendConf = 0x1000,
        /// The call is on hold while a transfer is being set up.
        OnHoldPendTransfer = 0x2000,
        /// The far end left; carries a [`DisconnectMode`] (SPEC S3).
        Disconnected = 0x4000,
        /// The state is not known.
        Unknown = 0x8000,
    }
}

code_enum! {
    /// Where a connected call is up (TAPI `LINECONNECTEDMODE_*`, SPEC B1).
    ConnectedMode {
        /// The call is up at this station.
        Active = 0x1,
        /// The call is up at another station of a bridged line, not this one.
        Inactive = 0x2,
    }
}

code_enum! {
    /// Why a call was disconnected (TAPI `LINEDISCONNECTMODE_*`).
    DisconnectMode {
        /// A normal hang-up (Q.850 16).
        Normal = 0x1,
        /// The reason is not known (also: hang-up detected by tone, no supervision).
        Unknown = 0x2,
        /// The far end rejected the call (Q.850 21).
        Reject = 0x4,
        /// The call was picked up elsewhere.
        Pickup = 0x8,
        /// The call was forwarded.
        Forwarded = 0x10,
        /// The far end was busy (Q.850 17).
        Busy = 0x20,
        /// The far end did not answer (Q.850 19).
        NoAnswer = 0x40,
        /// The destination is not valid (Q.850 1).
        BadAddress = 0x80,
        /// The destination cannot be reached.
        Unreachable = 0x100,
        /// The network is congested (Q.850 34).
        Congestion = 0x200,
        /// The far end is incompatible.
        Incompatible = 0x400,
        /// The far end is unavailable.
        Unavail = 0x800,
        /// No dial tone was detected.
        NoDialtone = 0x1000,
        /// The number has changed.
        NumberChanged = 0x2000,
        /// The destination is out of order.
        OutOfOrder = 0x4000,
        /// A temporary failure (Q.850 41).
        TempFailure = 0x8000,
        /// The requested quality of service is unavailable.
        QosUnavail = 0x10000,
        /// The call was blocked.
        Blocked = 0x20000,
        /// The far end has do-not-disturb on.
        DoNotDisturb = 0x40000,
        /// The caller cancelled the call.
        Cancelled = 0x80000,
    }
}

impl DisconnectMode {
    /// The disconnect mode a far-end release with this Q.850 cause maps to
    /// (SPEC §10): 16 Normal, 17 Busy, 18/19 NoAnswer, 21 Reject, 1 BadAddress,
    /// 34 Congestion, 41 TempFailure, anything else Unknown.
    pub const fn from_q850(cause: u32) -> Self {
        match cause {
            16 | 31 => DisconnectMode::Normal,
            17 => DisconnectMode::Busy,
            18 | 19 => DisconnectMode::NoAnswer,
            21 => DisconnectMode::Reject,
            1 => DisconnectMode::BadAddress,
            34 => DisconnectMode::Congestion,
            41 => DisconnectMode::TempFailure,
            _ => DisconnectMode::Unknown,
        }
    }
}

code_enum! {
    /// How a drop ends the call: the TAPI 3 `DISCONNECT_CODE` (SPEC R3) plus
    /// the busy rejection of SPEC §10. A TAPI 2 `lineDrop` is `Normal`.
    DisconnectCode {
        /// A plain drop (`DC_NORMAL`). In Offering/Accepted it rejects the
        /// call where the provider declares `reject_by_drop` (SPEC R1).
        Normal = 0x0,
        /// Reject as "no answer" (`DC_NOANSWER`): SIP 480, Q.850 cause 19.
        /// Only meaningful in Offering/Accepted; elsewhere a plain drop.
        NoAnswer = 0x1,
        /// Reject the offered call (`DC_REJECTED`): SIP 603, Q.850 cause 21.
        /// Only valid in Offering/Accepted, else `InvalCallState`.
        Rejected = 0x2,
        /// Reject as busy (cleardown's extension of `DC_REJECTED`): SIP 486,
        /// Q.850 cause 17. Only valid in Offering/Accepted.
        Busy = 0x3,
    }
}

impl CallState {
    /// States of an inbound call that has not been answered: a drop here is a
    /// rejection (SPEC R1, R2).
    pub const fn is_offered(self) -> bool {
        matches!(self, CallState::Offering | CallState::Accepted)
    }

    /// States of an outbound call that is not yet answered: a drop here is a
    /// cancel (SPEC D7).
    pub const fn is_unanswered_outbound(self) -> bool {
        matches!(
            self,
            CallState::Dialtone | CallState::Dialing | CallState::Proceeding | CallState::Ringback
        )
    }

    /// States in which the call's far party is still there and can hang up
    /// (SPEC S3): offered, being set up (once dialled), answered, held or
    /// conferenced. Not Dialtone (nobody is called yet), not Disconnected
    /// (it left), not Idle.
    pub const fn far_party_present(self) -> bool {
        matches!(
            self,
            CallState::Offering
                | CallState::Accepted
                | CallState::Dialing
                | CallState::Proceeding
                | CallState::Ringback
                | CallState::Connected
                | CallState::OnHold
                | CallState::OnHoldPendConf
                | CallState::OnHoldPendTransfer
                | CallState::Conferenced
        )
    }
}

/// A call's state with its detail, as an app sees it (TAPI's
/// `LINE_CALLSTATE` with `dwParam1`/`dwParam2`).
///
/// `C` is how another call is named: a provider's [`crate::CallId`] at the
/// boundary, an app's handle in the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallStatus<C> {
    /// No call; final (S1).
    Idle,
    /// Being offered to this station.
    Offering,
    /// Accepted by this station, ringing locally.
    Accepted,
    /// Dial tone; may dial.
    Dialtone,
    /// Dialling.
    Dialing,
    /// The far end is being alerted.
    Ringback,
    /// The far end is busy.
    Busy,
    /// A special information tone was received.
    SpecialInfo,
    /// Up; at this station or, on a bridged line, at another (B1).
    Connected {
        /// `Active` here, `Inactive` at another station.
        mode: ConnectedMode,
    },
    /// Proceeding through the network, not yet alerting.
    Proceeding,
    /// On hold.
    OnHold,
    /// A party of the conference `parent` (`None` where the observer holds
    /// no handle to the parent).
    Conferenced {
        /// The conference this call is a party of.
        parent: C,
    },
    /// On hold while a conference party is added (D8).
    OnHoldPendConf,
    /// On hold while a transfer is set up (D8).
    OnHoldPendTransfer,
    /// The far end left; the owner must still drop it to reach Idle (S3).
    Disconnected {
        /// Why the far end left.
        mode: DisconnectMode,
    },
    /// Not known.
    Unknown,
}

impl<C> CallStatus<C> {
    /// The bare state.
    pub const fn state(&self) -> CallState {
        match self {
            CallStatus::Idle => CallState::Idle,
            CallStatus::Offering => CallState::Offering,
            CallStatus::Accepted => CallState::Accepted,
            CallStatus::Dialtone => CallState::Dialtone,
            CallStatus::Dialing => CallState::Dialing,
            CallStatus::Ringback => CallState::Ringback,
            CallStatus::Busy => CallState::Busy,
            CallStatus::SpecialInfo => CallState::SpecialInfo,
            CallStatus::Connected { .. } => CallState::Connected,
            CallStatus::Proceeding => CallState::Proceeding,
            CallStatus::OnHold => CallState::OnHold,
            CallStatus::Conferenced { .. } => CallState::Conferenced,
            CallStatus::OnHoldPendConf => CallState::OnHoldPendConf,
            CallStatus::OnHoldPendTransfer => CallState::OnHoldPendTransfer,
            CallStatus::Disconnected { .. } => CallState::Disconnected,
            CallStatus::Unknown => CallState::Unknown,
        }
    }

    /// The same status with the parent call renamed by `f`.
    pub fn map_parent<D>(self, f: impl FnOnce(C) -> D) -> CallStatus<D> {
        match self {
            CallStatus::Idle => CallStatus::Idle,
            CallStatus::Offering => CallStatus::Offering,
            CallStatus::Accepted => CallStatus::Accepted,
            CallStatus::Dialtone => CallStatus::Dialtone,
            CallStatus::Dialing => CallStatus::Dialing,
            CallStatus::Ringback => CallStatus::Ringback,
            CallStatus::Busy => CallStatus::Busy,
            CallStatus::SpecialInfo => CallStatus::SpecialInfo,
            CallStatus::Connected { mode } => CallStatus::Connected { mode },
            CallStatus::Proceeding => CallStatus::Proceeding,
            CallStatus::OnHold => CallStatus::OnHold,
            CallStatus::Conferenced { parent } => CallStatus::Conferenced { parent: f(parent) },
            CallStatus::OnHoldPendConf => CallStatus::OnHoldPendConf,
            CallStatus::OnHoldPendTransfer => CallStatus::OnHoldPendTransfer,
            CallStatus::Disconnected { mode } => CallStatus::Disconnected { mode },
            CallStatus::Unknown => CallStatus::Unknown,
        }
    }

    /// `Connected` with mode `Active`.
    pub const fn connected() -> Self {
        CallStatus::Connected {
            mode: ConnectedMode::Active,
        }
    }

    /// Whether this is `Idle`.
    pub const fn is_idle(&self) -> bool {
        matches!(self, CallStatus::Idle)
    }
}

impl<C> CallStatus<C> {
    /// Builds a status from a bare state plus its detail code (the connected
    /// or disconnect mode; ignored for other states) and its parent (used only
    /// by `Conferenced`). `None` where the state or the mode is not a TAPI
    /// value.
    pub fn from_parts(state: CallState, mode: u32, parent: C) -> Option<Self> {
        Some(match state {
            CallState::Idle => CallStatus::Idle,
            CallState::Offering => CallStatus::Offering,
            CallState::Accepted => CallStatus::Accepted,
            CallState::Dialtone => CallStatus::Dialtone,
            CallState::Dialing => CallStatus::Dialing,
            CallState::Ringback => CallStatus::Ringback,
            CallState::Busy => CallStatus::Busy,
            CallState::SpecialInfo => CallStatus::SpecialInfo,
            CallState::Connected => CallStatus::Connected {
                mode: ConnectedMode::from_code(mode)?,
            },
            CallState::Proceeding => CallStatus::Proceeding,
            CallState::OnHold => CallStatus::OnHold,
            CallState::Conferenced => CallStatus::Conferenced { parent },
            CallState::OnHoldPendConf => CallStatus::OnHoldPendConf,
            CallState::OnHoldPendTransfer => CallStatus::OnHoldPendTransfer,
            CallState::Disconnected => CallStatus::Disconnected {
                mode: DisconnectMode::from_code(mode)?,
            },
            CallState::Unknown => CallStatus::Unknown,
        })
    }

    /// The detail code that travels beside the state: the connected or
    /// disconnect mode, else 0.
    pub const fn mode_code(&self) -> u32 {
        match self {
            CallStatus::Connected { mode } => mode.code(),
            CallStatus::Disconnected { mode } => mode.code(),
            _ => 0,
        }
    }
}

impl<C: std::fmt::Display> std::fmt::Display for CallStatus<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallStatus::Connected { mode } => write!(f, "Connected/{mode}"),
            CallStatus::Disconnected { mode } => write!(f, "Disconnected/{mode}"),
            CallStatus::Conferenced { parent } => write!(f, "Conferenced({parent})"),
            other => f.write_str(other.state().name()),
        }
    }
}
