//! Write a cleardown provider plugin.
//!
//! A provider drives one telephony world (a SIP stack, an analog line card, a
//! PBX) and is loaded by the cleardown host at run time. To write one:
//!
//! 1. Make a `cdylib` crate that depends on `cleardown-sdk` and on
//!    `abi_stable = "0.11.3"` (the export attribute refers to it by name):
//!
//!    ```toml
//!    [lib]
//!    crate-type = ["cdylib", "rlib"]
//!    ```
//!
//! 2. Implement [`Provider`] for your type. Report every state change through
//!    the [`Reporter`] you are given at [`Provider::open`], and complete every
//!    request you accepted exactly once, after the state events it caused
//!    (SPEC D3, D4).
//!
//! 3. Export it: `cleardown_sdk::export_provider!(MyProvider);`
//!
//! A minimal provider, one line where calls are only ever offered, then
//! driven without a host:
//!
//! ```
//! use cleardown_sdk::{testing::{Recording, Reported}, *};
//!
//! struct OneLine { events: Reporter, up: Option<CallId> }
//!
//! impl Provider for OneLine {
//!     fn open(config: &str, events: Reporter) -> Result<Self, String> {
//!         match config {
//!             "" => Ok(OneLine { events, up: None }),
//!             other => Err(format!("unknown configuration {other:?}")),
//!         }
//!     }
//!     fn info(&self) -> ProviderInfo {
//!         ProviderInfo {
//!             name: "one-line".into(),
//!             version: "0.1.0".into(),
//!             capabilities: Capabilities {
//!                 uui_drop_size: 0,
//!                 reject_by_drop: true,
//!                 close_drop: false,
//!                 addresses: vec![AddressCaps {
//!                     name: "line".into(),
//!                     conf_drop: false,
//!                     sharing: Sharing::Private,
//!                     // Refuse the rest with OperationUnavail, as declared.
//!                     features: CallFeatures::ANSWER | CallFeatures::DROP,
//!                 }],
//!             },
//!         }
//!     }
//!     fn make_call(&mut self, _: RequestId, _: AddressId, _: &str) -> LineResult<CallId> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn answer(&mut self, _: RequestId, _: CallId) -> LineResult<()> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn drop_call(&mut self, request: RequestId, call: CallId, _: DisconnectCode, uui: &[u8])
//!         -> LineResult<()>
//!     {
//!         if self.up != Some(call) { return Err(LineError::InvalCallState); }
//!         if !uui.is_empty() { return Err(LineError::UserUserInfoTooBig); }
//!         // Reject the offered call (SPEC R1): its state first, then the reply.
//!         self.up = None;
//!         self.events.state(call, CallStatus::Idle);
//!         self.events.complete(request, Ok(()));
//!         Ok(())
//!     }
//!     fn close_call(&mut self, _: CallId) -> LineResult<()> { Ok(()) }
//!     fn call_info(&self, _: CallId) -> LineResult<CallInfo<CallId>> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn far_end(&self) -> Vec<RemoteParty> { Vec::new() }
//!     fn remote_offer(&mut self, address: AddressId, _: &str, _: &[u8]) -> LineResult<CallId> {
//!         let call = CallId(1);
//!         self.up = Some(call);
//!         self.events.new_call(call, address, None);
//!         self.events.state(call, CallStatus::Offering);
//!         Ok(call)
//!     }
//!     fn remote_answer(&mut self, _: CallId) -> LineResult<()> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn remote_hang_up(&mut self, _: CallId, _: u32, _: &[u8]) -> LineResult<()> {
//!         Err(LineError::OperationUnavail)
//!     }
//! }
//!
//! cleardown_sdk::export_provider!(OneLine);
//!
//! let recording = Recording::new();
//! let mut line = OneLine::open("", recording.reporter()).unwrap();
//! let call = line.remote_offer(AddressId(0), "caller", &[]).unwrap();
//! line.drop_call(RequestId(7), call, DisconnectCode::Normal, &[]).unwrap();
//! assert_eq!(recording.take().last(), Some(&Reported::Complete { request: RequestId(7), result: Ok(()) }));
//! ```
//!
//! Every entry point the host calls runs inside a panic guard: a panic in your
//! code becomes `OperationFailed` for that request and marks your provider
//! faulted in the host, instead of aborting the host process (SPEC X2). You
//! cannot forget it, because you never write an entry point yourself.

#![warn(missing_docs)]

use std::{
    mem::ManuallyDrop,
    panic::{AssertUnwindSafe, catch_unwind},
};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RResult, RSlice, RStr, RString, RVec},
};
use cleardown_contract::abi::{
    EventSinkBox, FfiCallInfo, FfiProvider, FfiProvider_TO, FfiProviderInfo, FfiRemoteParty,
    ProviderBox, ProviderError, ProviderModule, ProviderModule_Ref, ProviderResult,
};
pub use cleardown_contract::*;

/// What a provider implements. Methods with a default answer
/// `OperationUnavail`: leave them out where your world has no such operation,
/// and make sure your [`Capabilities`] say so.
///
/// Asynchronous operations take the host's [`RequestId`]. Return `Err` to
/// refuse the request synchronously (and change nothing, SPEC S2); return
/// `Ok` to accept it, then call [`Reporter::complete`] for it exactly once,
/// now or later, from any thread.
pub trait Provider: Send + Sized + 'static {
    /// Builds an instance from a configuration string (SPEC L3), e.g.
    /// `"conf_drop=off"`. `Err` is a sentence naming what is wrong.
    fn open(config: &str, events: Reporter) -> Result<Self, String>;

    /// Name, version and declared capabilities (SPEC L2).
    fn info(&self) -> ProviderInfo;

    /// An app opened `address`. Fail with `InvalPointer` for an unknown address.
    fn open_line(&mut self, address: AddressId) -> LineResult<()> {
        let _ = address;
        Ok(())
    }

    /// The last app closed `address`. The host has already dropped the calls
    /// that `close_drop` requires (SPEC B5).
    fn close_line(&mut self, address: AddressId) -> LineResult<()> {
        let _ = address;
        Ok(())
    }

    /// Places an outbound call; reports it with [`Reporter::new_call`] and
    /// `Some(request)` before its first state.
    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId>;

    /// Answers an offered call.
    fn answer(&mut self, request: RequestId, call: CallId) -> LineResult<()>;

    /// Accepts an offered call (TAPI `lineAccept`).
    fn accept(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// Puts a connected call on hold.
    fn hold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// Takes a held call off hold.
    fn unhold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// Holds `call` pending a conference (OnHoldPendConf) and places a
    /// consultation call to `destination`, which it returns.
    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        let _ = (request, call, destination);
        Err(LineError::OperationUnavail)
    }

    /// Joins `consult` to `call` and returns the conference parent.
    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<CallId> {
        let _ = (request, call, consult);
        Err(LineError::OperationUnavail)
    }

    /// Holds `call` pending a transfer (OnHoldPendTransfer) and places a
    /// consultation call to `destination`, which it returns.
    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        let _ = (request, call, destination);
        Err(LineError::OperationUnavail)
    }

    /// Connects the far ends of `call` and `consult` and leaves both.
    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<()> {
        let _ = (request, call, consult);
        Err(LineError::OperationUnavail)
    }

    /// Drops `call` (`TSPI_lineDrop`). The host has already checked privilege,
    /// Idle, UUI size and `reject_by_drop` (SPEC D1, D2, U2, R2); check again
    /// whatever your world can refuse.
    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()>;

    /// The host holds no handle to `call` any more (`TSPI_lineCloseCall`).
    /// If it is not Idle, drop it (SPEC T3); then forget it.
    fn close_call(&mut self, call: CallId) -> LineResult<()>;

    /// Call info (SPEC Q1). Must answer for every call until `close_call`.
    fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>>;

    /// What every remote party saw (SPEC §10).
    fn far_end(&self) -> Vec<RemoteParty>;

    /// Stimulus: the far end `from` offers a call at `address`.
    fn remote_offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId>;

    /// Stimulus: the far end of an outbound call is alerted (Ringback).
    fn remote_alert(&mut self, call: CallId) -> LineResult<()> {
        let _ = call;
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the far end of an outbound call answers.
    fn remote_answer(&mut self, call: CallId) -> LineResult<()>;

    /// Stimulus: the far end hangs up with a Q.850 cause and UUI (SPEC S3, U5).
    fn remote_hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()>;

    /// Stimulus: a bridged station goes off-hook or on-hook (SPEC §6).
    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> LineResult<()> {
        let _ = (address, off_hook);
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: `millis` milliseconds of simulated time pass. A provider
    /// with timers of its own (tone detection, retransmission) fires those
    /// that fall due, in order; one on real time, or with nothing
    /// scheduled, does nothing.
    fn advance_time(&mut self, millis: u64) -> LineResult<()> {
        let _ = millis;
        Ok(())
    }
}

/// Where a provider reports what happened. Cheap to clone; usable from any
/// thread.
#[derive(Clone)]
pub struct Reporter {
    sink: EventSinkBox,
    version: ContractVersion,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter onto `sink`, for a provider driven outside a host (tests;
    /// see [`testing`]). Inside a host the SDK builds it for you.
    pub fn new(sink: EventSinkBox, version: ContractVersion) -> Self {
        Reporter { sink, version }
    }

    /// The contract version agreed with the host. Methods added in a later
    /// minor than this must not be called.
    pub fn contract_version(&self) -> ContractVersion {
        self.version
    }

    /// `call` now exists at `address`; `request` is the request that created
    /// it, `None` for a call the far end offered.
    pub fn new_call(&self, call: CallId, address: AddressId, request: Option<RequestId>) {
        self.sink
            .new_call(call, address, request.unwrap_or(RequestId(0)));
    }

    /// `call` entered `status`.
    pub fn state(&self, call: CallId, status: CallStatus<CallId>) {
        let parent = match status {
            CallStatus::Conferenced { parent } => parent,
            _ => CallId(0),
        };
        self.sink
            .call_state(call, status.state().code(), status.mode_code(), parent);
    }

    /// `request` completed. Exactly once per accepted request, after the
    /// state events it caused.
    pub fn complete(&self, request: RequestId, result: LineResult<()>) {
        self.sink
            .complete(request, result.err().map_or(0, LineError::code));
    }
}

/// The panic guard around a provider: every entry point the host calls goes
/// through [`Guarded::guard`] or [`Guarded::guard_ref`], and so does dropping
/// it when the host lets go of the provider.
struct Guarded<P> {
    inner: ManuallyDrop<P>,
}

impl<P> Drop for Guarded<P> {
    fn drop(&mut self) {
        // SAFETY: `inner` is taken exactly once, here, and never used after.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        // A panicking destructor would unwind out of an `extern "C"` vtable
        // entry and abort the host; it is swallowed instead: the provider is
        // going away either way.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(inner)));
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "provider panicked with a non-string payload".to_owned()
    }
}

fn into_ffi<T>(outcome: std::thread::Result<LineResult<T>>) -> ProviderResult<T> {
    match outcome {
        Ok(Ok(value)) => RResult::ROk(value),
        Ok(Err(error)) => RResult::RErr(error.into()),
        Err(payload) => RResult::RErr(ProviderError {
            code: LineError::OperationFailed.code(),
            panic: abi_stable::std_types::ROption::RSome(panic_message(&*payload).into()),
        }),
    }
}

impl<P: Provider> Guarded<P> {
    fn guard<T>(&mut self, f: impl FnOnce(&mut P) -> LineResult<T>) -> ProviderResult<T> {
        into_ffi(catch_unwind(AssertUnwindSafe(|| f(&mut self.inner))))
    }

    fn guard_ref<T>(&self, f: impl FnOnce(&P) -> LineResult<T>) -> ProviderResult<T> {
        into_ffi(catch_unwind(AssertUnwindSafe(|| f(&self.inner))))
    }
}

fn disconnect_code(code: u32) -> LineResult<DisconnectCode> {
    DisconnectCode::from_code(code).ok_or(LineError::InvalPointer)
}

impl<P: Provider> FfiProvider for Guarded<P> {
    fn info(&self) -> ProviderResult<FfiProviderInfo> {
        self.guard_ref(|p| Ok(FfiProviderInfo::from(&p.info())))
    }
    fn open_line(&mut self, address: AddressId) -> ProviderResult<()> {
        self.guard(|p| p.open_line(address))
    }
    fn close_line(&mut self, address: AddressId) -> ProviderResult<()> {
        self.guard(|p| p.close_line(address))
    }
    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        self.guard(|p| p.make_call(request, address, destination.as_str()))
    }
    fn answer(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.answer(request, call))
    }
    fn accept(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.accept(request, call))
    }
    fn hold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.hold(request, call))
    }
    fn unhold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.unhold(request, call))
    }
    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        self.guard(|p| p.setup_conference(request, call, destination.as_str()))
    }
    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<CallId> {
        self.guard(|p| p.add_to_conference(request, call, consult))
    }
    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        self.guard(|p| p.setup_transfer(request, call, destination.as_str()))
    }
    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<()> {
        self.guard(|p| p.complete_transfer(request, call, consult))
    }
    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        self.guard(|p| p.drop_call(request, call, disconnect_code(code)?, uui.as_slice()))
    }
    fn close_call(&mut self, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.close_call(call))
    }
    fn call_info(&self, call: CallId) -> ProviderResult<FfiCallInfo> {
        self.guard_ref(|p| p.call_info(call).map(|info| FfiCallInfo::from(&info)))
    }
    fn far_end(&self) -> ProviderResult<RVec<FfiRemoteParty>> {
        self.guard_ref(|p| Ok(p.far_end().iter().map(FfiRemoteParty::from).collect()))
    }
    fn remote_offer(
        &mut self,
        address: AddressId,
        from: RStr<'_>,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<CallId> {
        self.guard(|p| p.remote_offer(address, from.as_str(), uui.as_slice()))
    }
    fn remote_alert(&mut self, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.remote_alert(call))
    }
    fn remote_answer(&mut self, call: CallId) -> ProviderResult<()> {
        self.guard(|p| p.remote_answer(call))
    }
    fn remote_hang_up(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        self.guard(|p| p.remote_hang_up(call, cause, uui.as_slice()))
    }
    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> ProviderResult<()> {
        self.guard(|p| p.station_hook(address, off_hook))
    }
    fn advance_time(&mut self, millis: u64) -> ProviderResult<()> {
        self.guard(|p| p.advance_time(millis))
    }
    fn call_features(&self, address: AddressId) -> ProviderResult<u32> {
        // Declared once, in `info`, so the two answers cannot disagree.
        self.guard_ref(|p| {
            p.info()
                .capabilities
                .address(address)
                .map(|a| a.features.0)
                .ok_or(LineError::InvalPointer)
        })
    }
}

extern "C" fn open<P: Provider>(
    config: RStr<'_>,
    host: ContractVersion,
    sink: EventSinkBox,
) -> RResult<ProviderBox, RString> {
    let reporter = Reporter {
        sink,
        version: host,
    };
    match catch_unwind(AssertUnwindSafe(|| P::open(config.as_str(), reporter))) {
        Ok(Ok(provider)) => RResult::ROk(FfiProvider_TO::from_value(
            Guarded {
                inner: ManuallyDrop::new(provider),
            },
            TD_Opaque,
        )),
        Ok(Err(reason)) => RResult::RErr(reason.into()),
        Err(payload) => RResult::RErr(
            format!(
                "provider panicked while opening: {}",
                panic_message(&*payload)
            )
            .into(),
        ),
    }
}

/// The root module for `P`. [`export_provider!`] exports it from a plugin;
/// call it directly to link a provider statically into a host (benchmarks do,
/// to measure what the plugin boundary costs).
pub fn root_module<P: Provider>() -> ProviderModule_Ref {
    ProviderModule { open: open::<P> }.leak_into_prefix()
}

pub mod config;
pub mod testing;

#[doc(hidden)]
pub mod __private {
    pub use cleardown_contract::abi::{ContractStamp, ProviderModule_Ref};
}

/// Exports only the contract stamp, the plain static the host reads before
/// any layout check (SPEC L1), under the symbol
/// `CLEARDOWN_CONTRACT_STAMP`. [`export_provider!`] uses it; call it
/// yourself only in a library that exports its own abi_stable root module
/// instead of implementing [`Provider`] (a test decorator that wraps another
/// provider at the ABI level does). Use it once, at the crate root of a
/// `cdylib`.
#[macro_export]
macro_rules! export_contract_stamp {
    () => {
        /// The contract version this plugin was built against (SPEC L1).
        #[unsafe(no_mangle)]
        pub static CLEARDOWN_CONTRACT_STAMP: $crate::__private::ContractStamp =
            $crate::__private::ContractStamp::CURRENT;
    };
}

/// Exports `$provider` (a type implementing [`Provider`]) as this library's
/// cleardown provider: the contract stamp the host checks first (SPEC L1,
/// [`export_contract_stamp!`]) and the abi_stable root module. Use it once,
/// at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        $crate::export_contract_stamp!();

        /// The abi_stable root module of this plugin.
        #[::abi_stable::export_root_module]
        pub fn cleardown_root_module() -> $crate::__private::ProviderModule_Ref {
            $crate::root_module::<$provider>()
        }
    };
}
