//! The cleardown contract: how a telephony call is dropped and terminated.
//!
//! This crate is the behaviour contract of `SPEC.md` expressed as types: call
//! states and modes ([`CallState`], [`CallStatus`]), the TAPI errors
//! ([`LineError`]), capabilities as plain data ([`Capabilities`]), call info
//! ([`CallInfo`]), the far-end view ([`RemoteParty`]), what an app receives
//! ([`Event`], [`CallHandle`]) and, in [`abi`], the
//! layout-checked plugin boundary between the host and a provider library.
//!
//! It does no I/O and loads nothing. Provider authors use it through
//! `cleardown-sdk`; apps through `cleardown-host`.

#![warn(missing_docs)]

// `#[sabi_trait]` expands to items that trip these lints; allowed here only,
// where the traits are declared, so `-D warnings` holds elsewhere.
#[allow(
    non_local_definitions,
    unused_braces,
    missing_debug_implementations,
    non_camel_case_types
)]
pub mod abi;
mod app;
mod error;
mod model;
pub mod parties;
pub mod seq;
mod state;

pub use abi::{CONTRACT_VERSION, ContractVersion};
pub use app::{CallHandle, Disconnected, Event, LineClosed};
pub use error::{LineError, LineResult};
pub use model::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, Capabilities, Privilege, ProviderInfo,
    Related, Relation, RemoteParty, RemoteSignal, RemoteState, RequestId, Sharing, SignalKind,
    hex_bytes,
};
pub use state::{CallState, CallStatus, ConnectedMode, DisconnectCode, DisconnectMode};
