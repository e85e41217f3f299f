//! The plugin boundary: what crosses between the host and a provider library.
//!
//! A provider library exports two things:
//!
//! 1. [`ContractStamp`] under the plain symbol [`STAMP_SYMBOL`]: the contract
//!    version it was built against. The host reads it *before* any layout
//!    check, so a plugin of another major version is refused with both
//!    versions named instead of a layout error (SPEC L1).
//! 2. An abi_stable root module, [`ProviderModule`], whose `open` returns a
//!    [`FfiProvider`] trait object for one configuration (SPEC L3).
//!
//! Provider authors never write these by hand: `cleardown-sdk`'s
//! `export_provider!` emits both and wraps every entry point so that a panic
//! becomes `OperationFailed` instead of aborting the host (SPEC X2).
//!
//! # Evolution within a major version
//!
//! Enumerations travel as `u32` TAPI codes, so a newer minor may define new
//! values (and the host can tell garbage from a value). Structs here never
//! change within a major. New operations are new methods appended after the
//! last one of [`FfiProvider`] or [`EventSink`] (both are prefix types); the host
//! calls only methods that exist in the negotiated minor version
//! ([`negotiate`]), the way TAPI's `lineNegotiateAPIVersion` works.

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RArc, RBox, ROption, RResult, RSlice, RStr, RString, RVec},
};

use crate::{
    error::LineError,
    model::{
        AddressCaps, AddressId, CallFeatures, CallId, CallInfo, Capabilities, ProviderInfo,
        Related, Relation, RemoteParty, RemoteSignal, RemoteState, RequestId, Sharing, SignalKind,
    },
    state::{CallState, CallStatus, DisconnectMode},
};

/// A contract version: `major` changes break plugins, `minor` ones add.
#[repr(C)]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    StableAbi,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ContractVersion {
    /// The major version: plugins of another major are refused.
    pub major: u32,
    /// The minor version: additions only; the lower of host's and plugin's is used.
    pub minor: u32,
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The contract version this crate defines.
///
/// - 1.0: the drop contract.
/// - 1.1: [`FfiProvider::call_features`], per-address call features.
/// - 1.2: [`FfiProvider::far_end_caps`], what the provider hears of the far
///   end: its causes, its UUI, and how soon its hang-up.
pub const CONTRACT_VERSION: ContractVersion = ContractVersion { major: 1, minor: 2 };

/// The first version whose providers answer [`FfiProvider::call_features`].
pub const CALL_FEATURES_SINCE: ContractVersion = ContractVersion { major: 1, minor: 1 };

/// The first version whose providers answer [`FfiProvider::far_end_caps`].
pub const FAR_END_CAPS_SINCE: ContractVersion = ContractVersion { major: 1, minor: 2 };

/// Why a plugin's contract version cannot be used by this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the plugin was built against contract {plugin}, this host speaks contract {}.x (up to {host})",
    host.major
)]
pub struct VersionMismatch {
    /// The version this host speaks.
    pub host: ContractVersion,
    /// The version the plugin says it was built against.
    pub plugin: ContractVersion,
}

/// Agrees on the version both sides speak (TAPI-style negotiation): the same
/// major, and the lower of the two minors. A plugin built against an older
/// minor loads (the host leaves the newer methods uncalled); a newer minor
/// loads too (the plugin's extra methods go unused). Another major is refused.
pub fn negotiate(
    host: ContractVersion,
    plugin: ContractVersion,
) -> Result<ContractVersion, VersionMismatch> {
    if host.major != plugin.major {
        return Err(VersionMismatch { host, plugin });
    }
    Ok(ContractVersion {
        major: host.major,
        minor: host.minor.min(plugin.minor),
    })
}

/// The symbol under which a provider library exports its [`ContractStamp`].
pub const STAMP_SYMBOL: &str = "CLEARDOWN_CONTRACT_STAMP";

/// What [`ContractStamp::magic`] holds in a cleardown provider.
pub const STAMP_MAGIC: [u8; 16] = *b"cleardown-stamp\0";

/// The plain, layout-free record a provider library exports under
/// [`STAMP_SYMBOL`]. Its layout never changes across major versions.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ContractStamp {
    /// [`STAMP_MAGIC`]; anything else means the symbol is not ours.
    pub magic: [u8; 16],
    /// The contract version the library was built against.
    pub version: ContractVersion,
}

impl ContractStamp {
    /// The stamp of a plugin built against this crate.
    pub const CURRENT: ContractStamp = ContractStamp {
        magic: STAMP_MAGIC,
        version: CONTRACT_VERSION,
    };
}

/// An error a provider returns from an entry point.
///
/// `panic` is set by the SDK's guard when the provider panicked; the host
/// then marks the provider faulted (SPEC X2).
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct ProviderError {
    /// A [`LineError`] code.
    pub code: u32,
    /// The panic message, if the entry point panicked.
    pub panic: ROption<RString>,
}

impl From<LineError> for ProviderError {
    fn from(error: LineError) -> Self {
        ProviderError {
            code: error.code(),
            panic: ROption::RNone,
        }
    }
}

/// What every provider entry point returns.
pub type ProviderResult<T> = RResult<T, ProviderError>;

/// The host's side of the boundary: where a provider reports what happened.
/// Safe to call from any thread, at any time, including from inside a
/// [`FfiProvider`] method.
#[sabi_trait]
pub trait EventSink: Send + Sync + Clone {
    /// A call now exists at `address`. `request` is the request that created
    /// it (0 for a call the far end offered). Report it before its first state.
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId);

    /// `call` entered `state` (a [`CallState`] code) with `mode` (the
    /// connected or disconnect mode code, else 0) and, for `Conferenced`, its
    /// `parent` (else `CallId(0)`).
    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId);

    /// `request` completed with `result`: 0 for success, else a
    /// [`LineError`] code. Exactly once per request, after every state event
    /// the request caused (SPEC D3, D4).
    #[sabi(last_prefix_field)]
    fn complete(&self, request: RequestId, result: u32);
}

/// The sink a provider receives at open.
pub type EventSinkBox = EventSink_TO<'static, RArc<()>>;

/// A provider instance, as the host drives it. Implemented by
/// `cleardown-sdk`, never by hand.
///
/// Asynchronous operations take the host's [`RequestId`]: an `Err` return
/// means the request was refused synchronously and nothing changed; `Ok`
/// means it was accepted and will be completed exactly once through
/// [`EventSink::complete`].
#[sabi_trait]
pub trait FfiProvider: Send {
    /// Name, version and capabilities (SPEC L2).
    fn info(&self) -> ProviderResult<FfiProviderInfo>;
    /// An app opened `address`.
    fn open_line(&mut self, address: AddressId) -> ProviderResult<()>;
    /// The last app closed `address`.
    fn close_line(&mut self, address: AddressId) -> ProviderResult<()>;
    /// Place an outbound call; returns the new call.
    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId>;
    /// Answer an offered call.
    fn answer(&mut self, request: RequestId, call: CallId) -> ProviderResult<()>;
    /// Accept an offered call (it rings locally).
    fn accept(&mut self, request: RequestId, call: CallId) -> ProviderResult<()>;
    /// Put a connected call on hold.
    fn hold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()>;
    /// Take a held call off hold.
    fn unhold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()>;
    /// Hold `call` pending a conference and place a consultation call to
    /// `destination`; returns the consultation call.
    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId>;
    /// Join `consult` to `call` (a conference, or a plain call that becomes
    /// the first party of a new conference); returns the conference parent.
    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<CallId>;
    /// Hold `call` pending a transfer and place a consultation call.
    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId>;
    /// Connect the far ends of `call` and `consult` and leave both.
    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<()>;
    /// Drop `call` (`TSPI_lineDrop`) with a [`crate::DisconnectCode`] code and UUI.
    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()>;
    /// The host holds no handle to `call` any more (`TSPI_lineCloseCall`):
    /// drop it if it is not Idle (SPEC T3), then forget it.
    fn close_call(&mut self, call: CallId) -> ProviderResult<()>;
    /// Call info (SPEC Q1); answers until `close_call`.
    fn call_info(&self, call: CallId) -> ProviderResult<FfiCallInfo>;
    /// What every remote party saw (SPEC §10).
    fn far_end(&self) -> ProviderResult<RVec<FfiRemoteParty>>;
    /// Stimulus: the far end `from` offers a call at `address`; returns it.
    fn remote_offer(
        &mut self,
        address: AddressId,
        from: RStr<'_>,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<CallId>;
    /// Stimulus: the far end of outbound `call` is alerted (Ringback).
    fn remote_alert(&mut self, call: CallId) -> ProviderResult<()>;
    /// Stimulus: the far end of outbound `call` answers.
    fn remote_answer(&mut self, call: CallId) -> ProviderResult<()>;
    /// Stimulus: the far end of `call` hangs up with a Q.850 `cause` and UUI.
    fn remote_hang_up(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()>;
    /// Stimulus: the station at `address` goes off-hook (`true`) or on-hook
    /// (bridged lines, SPEC §6).
    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> ProviderResult<()>;
    /// Stimulus: `millis` milliseconds of the provider's simulated time pass
    /// (timers, tone detection). Providers on real time ignore it.
    #[sabi(last_prefix_field)]
    fn advance_time(&mut self, millis: u64) -> ProviderResult<()>;
    /// Since contract 1.1: the TAPI `LINECALLFEATURE_*` bits calls on
    /// `address` support ([`crate::CallFeatures`]). The host calls it only
    /// when the negotiated version is at least [`CALL_FEATURES_SINCE`]; a 1.0
    /// plugin does not have it.
    fn call_features(&self, address: AddressId) -> ProviderResult<u32>;
    /// Since contract 1.2: what the provider hears of the far end
    /// ([`Capabilities::far_causes`], [`Capabilities::uui_received_size`],
    /// [`Capabilities::hang_up_delay_ms`]). The host calls it only when the
    /// negotiated version is at least [`FAR_END_CAPS_SINCE`]; an older
    /// plugin does not have it, and its info decodes to the old behaviour.
    fn far_end_caps(&self) -> ProviderResult<FfiFarEndCaps>;
}

/// A provider instance behind the boundary.
pub type ProviderBox = FfiProvider_TO<'static, RBox<()>>;

/// The root module a provider library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct ProviderModule {
    /// Opens one provider instance: `config` is its configuration string
    /// (SPEC L3), `host` the negotiated contract version, `sink` where it
    /// reports events. An `Err` is a sentence saying what is wrong with `config`.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(
        config: RStr<'_>,
        host: ContractVersion,
        sink: EventSinkBox,
    ) -> RResult<ProviderBox, RString>,
}

impl std::fmt::Debug for ProviderModule_Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderModule_Ref")
    }
}

impl RootModule for ProviderModule_Ref {
    declare_root_module_statics! {ProviderModule_Ref}
    const BASE_NAME: &'static str = "cleardown_provider";
    const NAME: &'static str = "cleardown_provider";
    // abi_stable compares only the major of this for versions >= 1; the real
    // negotiation is the stamp's (see `negotiate`), so this is pinned to the
    // contract major rather than following the crate version.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");
}

/// Something a provider sent across the boundary that is not a value the
/// contract defines (SPEC X2: "returns garbage").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("provider returned garbage: {0}")]
pub struct Garbage(pub String);

fn decode_code<T>(
    what: &str,
    code: u32,
    from: impl FnOnce(u32) -> Option<T>,
) -> Result<T, Garbage> {
    from(code).ok_or_else(|| Garbage(format!("{what} code {code:#x} is not defined")))
}

/// [`AddressCaps`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, StableAbi)]
pub struct FfiAddressCaps {
    /// [`AddressCaps::name`].
    pub name: RString,
    /// [`AddressCaps::conf_drop`].
    pub conf_drop: bool,
    /// A [`Sharing`] code.
    pub sharing: u32,
}

/// [`ProviderInfo`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, StableAbi)]
pub struct FfiProviderInfo {
    /// [`ProviderInfo::name`].
    pub name: RString,
    /// [`ProviderInfo::version`].
    pub version: RString,
    /// [`Capabilities::uui_drop_size`].
    pub uui_drop_size: u32,
    /// [`Capabilities::reject_by_drop`].
    pub reject_by_drop: bool,
    /// [`Capabilities::close_drop`].
    pub close_drop: bool,
    /// [`Capabilities::addresses`].
    pub addresses: RVec<FfiAddressCaps>,
}

impl From<&ProviderInfo> for FfiProviderInfo {
    fn from(info: &ProviderInfo) -> Self {
        let caps = &info.capabilities;
        FfiProviderInfo {
            name: info.name.as_str().into(),
            version: info.version.as_str().into(),
            uui_drop_size: caps.uui_drop_size,
            reject_by_drop: caps.reject_by_drop,
            close_drop: caps.close_drop,
            addresses: caps
                .addresses
                .iter()
                .map(|a| FfiAddressCaps {
                    name: a.name.as_str().into(),
                    conf_drop: a.conf_drop,
                    sharing: a.sharing.code(),
                })
                .collect(),
        }
    }
}

impl FfiProviderInfo {
    /// Back to [`ProviderInfo`], refusing undefined codes.
    pub fn decode(&self) -> Result<ProviderInfo, Garbage> {
        let addresses = self
            .addresses
            .iter()
            .map(|a| {
                Ok(AddressCaps {
                    name: a.name.to_string(),
                    conf_drop: a.conf_drop,
                    sharing: decode_code("sharing", a.sharing, Sharing::from_code)?,
                    // Not in the 1.0 struct: the host asks `call_features`
                    // where the negotiated version has it.
                    features: CallFeatures::ALL,
                })
            })
            .collect::<Result<_, Garbage>>()?;
        Ok(ProviderInfo {
            name: self.name.to_string(),
            version: self.version.to_string(),
            capabilities: Capabilities {
                uui_drop_size: self.uui_drop_size,
                reject_by_drop: self.reject_by_drop,
                close_drop: self.close_drop,
                addresses,
                // Not in the 1.0 struct: the host asks `far_end_caps` where
                // the negotiated version has it. Before 1.2 the suite stood
                // in for them so: causes heard where UUI is carried, UUI kept
                // up to the drop size, hang-ups signalled at once.
                far_causes: self.uui_drop_size >= 1,
                uui_received_size: self.uui_drop_size,
                hang_up_delay_ms: 0,
            },
        })
    }
}

/// The far-end capabilities at the boundary (contract 1.2), a struct of
/// their own because [`FfiProviderInfo`] never changes within a major.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct FfiFarEndCaps {
    /// [`Capabilities::far_causes`].
    pub far_causes: bool,
    /// [`Capabilities::uui_received_size`].
    pub uui_received_size: u32,
    /// [`Capabilities::hang_up_delay_ms`].
    pub hang_up_delay_ms: u32,
}

impl From<&Capabilities> for FfiFarEndCaps {
    fn from(caps: &Capabilities) -> Self {
        FfiFarEndCaps {
            far_causes: caps.far_causes,
            uui_received_size: caps.uui_received_size,
            hang_up_delay_ms: caps.hang_up_delay_ms,
        }
    }
}

impl FfiFarEndCaps {
    /// Writes these into `caps`.
    pub fn apply(&self, caps: &mut Capabilities) {
        caps.far_causes = self.far_causes;
        caps.uui_received_size = self.uui_received_size;
        caps.hang_up_delay_ms = self.hang_up_delay_ms;
    }
}

/// [`Related`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, Copy, StableAbi)]
pub struct FfiRelated {
    /// A [`Relation`] code.
    pub relation: u32,
    /// The related call.
    pub call: CallId,
}

/// [`CallInfo`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, StableAbi)]
pub struct FfiCallInfo {
    /// [`CallInfo::address`].
    pub address: AddressId,
    /// A [`CallState`] code.
    pub state: u32,
    /// The connected or disconnect mode code, else 0.
    pub mode: u32,
    /// The conference parent when `Conferenced`, else `CallId(0)`.
    pub parent: CallId,
    /// [`CallInfo::related`].
    pub related: RVec<FfiRelated>,
    /// [`CallInfo::remote`].
    pub remote: RString,
    /// A [`DisconnectMode`] code, or 0 for none.
    pub disconnect_mode: u32,
    /// [`CallInfo::uui_received`].
    pub uui_received: RVec<u8>,
    /// [`CallInfo::uui_sent`].
    pub uui_sent: RVec<u8>,
}

/// Decodes a state report (state code, mode code, parent) into a status.
#[inline]
pub fn decode_status(state: u32, mode: u32, parent: CallId) -> Result<CallStatus<CallId>, Garbage> {
    let bare = decode_code("call state", state, CallState::from_code)?;
    CallStatus::from_parts(bare, mode, parent).ok_or_else(|| {
        Garbage(format!(
            "mode code {mode:#x} is not defined for state {bare}"
        ))
    })
}

impl From<&CallInfo<CallId>> for FfiCallInfo {
    fn from(info: &CallInfo<CallId>) -> Self {
        let parent = match info.status {
            CallStatus::Conferenced { parent } => parent,
            _ => CallId(0),
        };
        FfiCallInfo {
            address: info.address,
            state: info.status.state().code(),
            mode: info.status.mode_code(),
            parent,
            related: info
                .related
                .iter()
                .map(|r| FfiRelated {
                    relation: r.relation.code(),
                    call: r.call,
                })
                .collect(),
            remote: info.remote.as_str().into(),
            disconnect_mode: info.disconnect_mode.map_or(0, DisconnectMode::code),
            uui_received: info.uui_received.as_slice().into(),
            uui_sent: info.uui_sent.as_slice().into(),
        }
    }
}

impl FfiCallInfo {
    /// Back to [`CallInfo`], refusing undefined codes.
    pub fn decode(&self) -> Result<CallInfo<CallId>, Garbage> {
        Ok(CallInfo {
            address: self.address,
            status: decode_status(self.state, self.mode, self.parent)?,
            related: self
                .related
                .iter()
                .map(|r| {
                    Ok(Related {
                        relation: decode_code("relation", r.relation, Relation::from_code)?,
                        call: r.call,
                    })
                })
                .collect::<Result<_, Garbage>>()?,
            remote: self.remote.to_string(),
            disconnect_mode: match self.disconnect_mode {
                0 => None,
                code => Some(decode_code(
                    "disconnect mode",
                    code,
                    DisconnectMode::from_code,
                )?),
            },
            uui_received: self.uui_received.to_vec(),
            uui_sent: self.uui_sent.to_vec(),
        })
    }
}

/// [`RemoteSignal`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, StableAbi)]
pub struct FfiRemoteSignal {
    /// A [`SignalKind`] code.
    pub kind: u32,
    /// [`RemoteSignal::cause`].
    pub cause: u32,
    /// [`RemoteSignal::uui`].
    pub uui: RVec<u8>,
    /// [`RemoteSignal::wire`].
    pub wire: RString,
}

/// [`RemoteParty`] at the boundary.
#[repr(C)]
#[derive(Debug, Clone, StableAbi)]
pub struct FfiRemoteParty {
    /// [`RemoteParty::name`].
    pub name: RString,
    /// A [`RemoteState`] code.
    pub state: u32,
    /// [`RemoteParty::connected_to`].
    pub connected_to: RVec<RString>,
    /// [`RemoteParty::received`].
    pub received: RVec<FfiRemoteSignal>,
}

impl From<&RemoteParty> for FfiRemoteParty {
    fn from(party: &RemoteParty) -> Self {
        FfiRemoteParty {
            name: party.name.as_str().into(),
            state: party.state.code(),
            connected_to: party
                .connected_to
                .iter()
                .map(|n| RString::from(n.as_str()))
                .collect(),
            received: party
                .received
                .iter()
                .map(|s| FfiRemoteSignal {
                    kind: s.kind.code(),
                    cause: s.cause,
                    uui: s.uui.as_slice().into(),
                    wire: s.wire.as_str().into(),
                })
                .collect(),
        }
    }
}

impl FfiRemoteParty {
    /// Back to [`RemoteParty`], refusing undefined codes.
    pub fn decode(&self) -> Result<RemoteParty, Garbage> {
        Ok(RemoteParty {
            name: self.name.to_string(),
            state: decode_code("remote state", self.state, RemoteState::from_code)?,
            connected_to: self.connected_to.iter().map(|n| n.to_string()).collect(),
            received: self
                .received
                .iter()
                .map(|s| {
                    Ok(RemoteSignal {
                        kind: decode_code("signal kind", s.kind, SignalKind::from_code)?,
                        cause: s.cause,
                        uui: s.uui.to_vec(),
                        wire: s.wire.to_string(),
                    })
                })
                .collect::<Result<_, Garbage>>()?,
        })
    }
}
