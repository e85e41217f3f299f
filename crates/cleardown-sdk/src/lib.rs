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
//!    (SPEC D3, D4). The host checks only what an app got wrong (handle,
//!    privilege, an Idle call); what your declared [`Capabilities`] allow is
//!    yours to refuse: see [`Provider`] for who checks what.
//!
//! 3. Export it: `cleardown_sdk::export_provider!(MyProvider);`
//!
//! 4. Prove it: `cleardown conformance --plugin path/to/libmy_provider.so`
//!    replays the bundled scenarios through it, once per `--config`.
//!
//! A minimal provider, one line where calls are only ever offered and a drop
//! rejects them, then driven without a host:
//!
//! ```
//! use cleardown_sdk::{testing::{Recording, Reported}, *};
//!
//! struct OneLine { events: Reporter, calls: Vec<Offer> }
//!
//! /// One offered call; `CallId(n)` is `calls[n - 1]`, so ids are never 0.
//! struct Offer {
//!     caller: String,
//!     status: CallStatus<CallId>,
//!     uui_received: Vec<u8>,
//!     rejection: Option<RemoteSignal>,
//! }
//!
//! impl OneLine {
//!     fn offer(&mut self, call: CallId) -> LineResult<&mut Offer> {
//!         let index = (call.0 as usize).wrapping_sub(1);
//!         self.calls.get_mut(index).ok_or(LineError::InvalPointer)
//!     }
//!
//!     /// SPEC R1, R3: the caller hears the rejection, the call goes Idle.
//!     fn reject(&mut self, call: CallId, code: DisconnectCode) -> LineResult<()> {
//!         let cause = match code {
//!             DisconnectCode::Busy => 17,
//!             DisconnectCode::NoAnswer => 19,
//!             DisconnectCode::Normal | DisconnectCode::Rejected => 21,
//!         };
//!         let offer = self.offer(call)?;
//!         if offer.status == CallStatus::Offering {
//!             let wire = format!("reject cause {cause}");
//!             offer.rejection = Some(RemoteSignal { kind: SignalKind::Reject, cause, uui: vec![], wire });
//!         }
//!         offer.status = CallStatus::Idle;
//!         self.events.state(call, CallStatus::Idle);
//!         Ok(())
//!     }
//! }
//!
//! impl Provider for OneLine {
//!     fn open(config: &str, events: Reporter) -> Result<Self, String> {
//!         match config {
//!             "" => Ok(OneLine { events, calls: Vec::new() }),
//!             other => Err(format!("one-line takes no configuration, not {other:?}")),
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
//!                     // Only drop; answer and the rest are OperationUnavail.
//!                     features: CallFeatures::DROP,
//!                 }],
//!                 // What it hears of the far end (contract 1.2): no
//!                 // causes, no UUI, hang-ups signalled at once.
//!                 far_causes: false,
//!                 uui_received_size: 0,
//!                 hang_up_delay_ms: 0,
//!             },
//!         }
//!     }
//!     fn make_call(&mut self, _: RequestId, _: AddressId, _: &str) -> LineResult<CallId> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn answer(&mut self, _: RequestId, _: CallId) -> LineResult<()> {
//!         Err(LineError::OperationUnavail)
//!     }
//!     fn drop_call(&mut self, request: RequestId, call: CallId, code: DisconnectCode, uui: &[u8])
//!         -> LineResult<()>
//!     {
//!         self.offer(call)?;
//!         // The host does not check capabilities: uui_drop_size is 0 (SPEC U4).
//!         if !uui.is_empty() { return Err(LineError::UserUserInfoTooBig); }
//!         // Offering: reject (R1); Disconnected: Idle, nothing sent (D6).
//!         self.reject(call, code)?;
//!         self.events.complete(request, Ok(()));
//!         Ok(())
//!     }
//!     fn close_call(&mut self, call: CallId) -> LineResult<()> {
//!         // SPEC T3: the last handle went; a call still up is dropped.
//!         if !self.offer(call)?.status.is_idle() {
//!             self.reject(call, DisconnectCode::Normal)?;
//!         }
//!         Ok(())
//!     }
//!     fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>> {
//!         let offer = self.calls.get((call.0 as usize).wrapping_sub(1)).ok_or(LineError::InvalPointer)?;
//!         Ok(CallInfo {
//!             address: AddressId(0),
//!             status: offer.status,
//!             related: vec![],
//!             remote: offer.caller.clone(),
//!             disconnect_mode: match offer.status {
//!                 CallStatus::Disconnected { mode } => Some(mode),
//!                 _ => None,
//!             },
//!             uui_received: offer.uui_received.clone(),
//!             uui_sent: vec![],
//!         })
//!     }
//!     fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
//!         let party = |offer: &Offer| RemoteParty {
//!             name: offer.caller.clone(),
//!             state: if offer.status == CallStatus::Offering {
//!                 RemoteState::Calling
//!             } else {
//!                 RemoteState::Released
//!             },
//!             connected_to: vec![],
//!             received: offer.rejection.iter().cloned().collect(),
//!         };
//!         Ok(self.calls.iter().map(party).collect())
//!     }
//!     fn remote_offer(&mut self, address: AddressId, from: &str, _: &[u8]) -> LineResult<CallId> {
//!         if address != AddressId(0) || from.is_empty() { return Err(LineError::InvalPointer); }
//!         self.calls.push(Offer {
//!             caller: from.into(),
//!             status: CallStatus::Offering,
//!             uui_received: vec![],
//!             rejection: None,
//!         });
//!         let call = CallId(self.calls.len() as u64);
//!         self.events.new_call(call, address, None);
//!         self.events.state(call, CallStatus::Offering);
//!         Ok(call)
//!     }
//!     fn remote_answer(&mut self, call: CallId) -> LineResult<()> {
//!         // Only an outbound call is answered by the far end; there are none.
//!         self.offer(call)?;
//!         Err(LineError::InvalCallState)
//!     }
//!     fn remote_hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
//!         let offer = self.offer(call)?;
//!         if offer.status != CallStatus::Offering { return Err(LineError::InvalCallState); }
//!         // SPEC S3, U5: Disconnected, never straight to Idle; the UUI is kept.
//!         let status = CallStatus::Disconnected { mode: DisconnectMode::from_q850(cause) };
//!         (offer.status, offer.uui_received) = (status, uui.to_vec());
//!         self.events.state(call, status);
//!         Ok(())
//!     }
//! }
//!
//! cleardown_sdk::export_provider!(OneLine);
//!
//! let (mut line, recording) = Recording::open::<OneLine>("");
//! let call = line.remote_offer(AddressId(0), "caller", &[]).unwrap();
//! assert_eq!(line.drop_call(RequestId(6), call, DisconnectCode::Normal, &[4]), Err(LineError::UserUserInfoTooBig));
//! line.drop_call(RequestId(7), call, DisconnectCode::Normal, &[]).unwrap();
//! recording.assert_reported(&[
//!     "new call#1 at 0",
//!     "state call#1 Offering",
//!     "state call#1 Idle",
//!     "complete request#7 Ok",
//! ]);
//! assert_eq!(line.far_end().unwrap()[0].received[0].cause, 21);
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
    EventSinkBox, FfiCallInfo, FfiFarEndCaps, FfiProvider, FfiProvider_TO, FfiProviderInfo,
    FfiRemoteParty, ProviderBox, ProviderError, ProviderModule, ProviderModule_Ref, ProviderResult,
};
pub use cleardown_contract::*;

/// What a provider implements.
///
/// # What the host checks, and what is yours
///
/// The host refuses what the *app* got wrong before your method is called,
/// so you never see it: a handle that is unknown or was deallocated
/// (`InvalCallHandle`, SPEC T2), an operation that changes a call asked for
/// by an app holding it as Monitor (`NotOwner`, D1), a call placed on a line
/// the app has not opened (`Uninitialized`), opening an address that is not
/// in your [`Capabilities::addresses`] (`InvalPointer`), and for a drop: an
/// Idle call (`InvalCallState`, D2) and the codes `Rejected` and `Busy` on
/// a call that is not Offering or Accepted (`InvalCallState`, R3).
///
/// Everything else is yours to refuse, and in particular the host **does not
/// enforce your [`Capabilities`]**: it passes on a UUI longer than
/// `uui_drop_size` and a drop of an offered call without `reject_by_drop`,
/// so that the conformance suite sees a provider that ignores its own
/// declaration. Refuse, with nothing changed:
///
/// * an operation in a state your world does not allow it in:
///   `InvalCallState` (answering a connected call, holding a held one);
/// * an operation you do not offer: `OperationUnavail` (the default
///   methods below do), and leave its bit out of [`AddressCaps::features`];
/// * a call id you do not know, or an empty destination or caller:
///   `InvalPointer`. Stimuli (`remote_*`, [`Provider::station_hook`]) come
///   from the test harness with provider call ids and addresses the host has
///   not checked.
///
/// # Requests
///
/// Asynchronous operations take the host's [`RequestId`]. Return `Err` to
/// refuse the request synchronously: nothing may have changed and nothing
/// may have been reported for it (SPEC S2, X1), and no Reply follows. Return
/// `Ok` to accept it: report the new state of every call it affects (and,
/// first, [`Reporter::new_call`] for every call it creates), then call
/// [`Reporter::complete`] for it exactly once, after those states, now or
/// later, from any thread (D3, D4). Failing after accepting is
/// `complete(request, Err(..))` with every state left as it was (D9).
/// Reporting from inside a method the host is calling is fine: the reporter
/// never waits for the host.
///
/// # Defaults
///
/// | method | default | what it means |
/// |---|---|---|
/// | [`accept`](Provider::accept), [`hold`](Provider::hold), [`unhold`](Provider::unhold), [`setup_conference`](Provider::setup_conference), [`add_to_conference`](Provider::add_to_conference), [`setup_transfer`](Provider::setup_transfer), [`complete_transfer`](Provider::complete_transfer) | `Err(OperationUnavail)` | your calls do not have the operation; leave its [`CallFeatures`] bit out, so the suite skips the scenarios that need it |
/// | [`remote_alert`](Provider::remote_alert), [`station_hook`](Provider::station_hook) | `Err(OperationUnavail)` | the stimulus cannot happen in your world (no alerting signal, no bridged stations) |
/// | [`far_end`](Provider::far_end), [`remote_offer`](Provider::remote_offer), [`remote_answer`](Provider::remote_answer), [`remote_hang_up`](Provider::remote_hang_up) | `Err(OperationUnavail)` | you simulate no far end: your calls meet a real network, and the suite judges you through a far-end driver on it (`--far-end sip`) |
/// | [`open_line`](Provider::open_line), [`close_line`](Provider::close_line) | `Ok(())` | nothing to set up or tear down per line: the host can open and close every address you declare |
/// | [`advance_time`](Provider::advance_time) | `Ok(())` | nothing of yours runs on simulated time, so time passing changes nothing |
pub trait Provider: Send + Sized + 'static {
    /// Builds an instance from a configuration string (SPEC L3), e.g.
    /// `"conf_drop=off"`; `""` is your defaults. `Err` is a sentence naming
    /// what is wrong and what was expected, which the host shows the user
    /// ([`config::ConfigReader`] writes them). Keep `events`: it is where
    /// everything is reported, and [`Reporter::contract_version`] says which
    /// contract version the host agreed to.
    fn open(config: &str, events: Reporter) -> Result<Self, String>;

    /// Name, version and declared capabilities (SPEC L2): what the host and
    /// `cleardown inspect` show, and what the conformance suite runs. Declare
    /// only what you do: every capability left out has its negative path
    /// checked (`UserUserInfoTooBig` for UUI beyond `uui_drop_size`,
    /// `OperationUnavail` for a drop of an offered call without
    /// `reject_by_drop`). The host reads it once, when it loads you (the SDK
    /// answers the host's per-address call-features question from it too),
    /// so give the same answer every time.
    fn info(&self) -> ProviderInfo;

    /// The first app opened `address` (`lineOpen`). The host has checked
    /// that the address is one of your [`Capabilities::addresses`], and
    /// calls this once per address until the last app closes it
    /// ([`Provider::close_line`]). `Err` refuses the open for the app.
    ///
    /// Default: `Ok(())`, for a provider with nothing to set up per line.
    fn open_line(&mut self, address: AddressId) -> LineResult<()> {
        let _ = address;
        Ok(())
    }

    /// The last app that had `address` open closed it (`lineClose`). Each
    /// time an app closes a line, the host first revokes its ownership of its
    /// calls there and, where you declare `close_drop`, drops each live call
    /// that app was the sole owner of through [`Provider::drop_call`] (code
    /// `Normal`, no UUI, a request to complete as usual; SPEC B5). Without
    /// `close_drop` those calls stay up. The line is closed for the app
    /// whatever this returns.
    ///
    /// Default: `Ok(())`, for a provider with nothing to tear down per line.
    fn close_line(&mut self, address: AddressId) -> LineResult<()> {
        let _ = address;
        Ok(())
    }

    /// Places an outbound call from `address` to `destination`
    /// (`lineMakeCall`); the host has checked that the app has `address`
    /// open. Refuse an empty or malformed destination with `InvalPointer`.
    /// Accepting: report [`Reporter::new_call`] with `Some(request)`, then its
    /// states (Dialing, Proceeding, …), complete the request once the call is
    /// placed (not when it is answered), and return the call. A remote party
    /// named `destination` appears in [`Provider::far_end`].
    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId>;

    /// Answers an offered call (`lineAnswer`): Offering or Accepted goes to
    /// Connected/Active and the caller sees its call connected. Any other
    /// state: `InvalCallState`. The host has checked handle and Owner.
    fn answer(&mut self, request: RequestId, call: CallId) -> LineResult<()>;

    /// Accepts an offered call (`lineAccept`): Offering goes to Accepted (it
    /// rings at this station); any other state: `InvalCallState`.
    ///
    /// Default: `Err(OperationUnavail)`; leave [`CallFeatures::ACCEPT`] out.
    fn accept(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// Puts a Connected call on hold (`lineHold`): OnHold. Any other state:
    /// `InvalCallState`. The far end stays connected.
    ///
    /// Default: `Err(OperationUnavail)`; leave [`CallFeatures::HOLD`] out.
    fn hold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// Takes an OnHold call off hold (`lineUnhold`): Connected/Active. Any
    /// other state: `InvalCallState`.
    ///
    /// Default: `Err(OperationUnavail)`; leave [`CallFeatures::UNHOLD`] out.
    fn unhold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let _ = (request, call);
        Err(LineError::OperationUnavail)
    }

    /// `lineSetupConference`: puts the Connected `call` in OnHoldPendConf and
    /// places a consultation call to `destination` on the same address,
    /// reported as [`Provider::make_call`] reports a call, and returns it.
    /// Dropping the consultation call before it joins returns `call` to
    /// Connected (SPEC D8).
    ///
    /// Default: `Err(OperationUnavail)`; leave
    /// [`CallFeatures::SETUP_CONFERENCE`] out.
    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        let _ = (request, call, destination);
        Err(LineError::OperationUnavail)
    }

    /// `lineAddToConference`: joins `consult` to the conference of `call`
    /// and returns the conference parent. `call` is a conference parent, or
    /// a call in OnHoldPendConf whose consultation call `consult` is, or a
    /// plain Connected call: then the parent is a new call, reported with
    /// [`Reporter::new_call`] and `Some(request)`. The parties go
    /// `Conferenced { parent }`, the parent Connected (SPEC §5).
    ///
    /// Default: `Err(OperationUnavail)`; leave
    /// [`CallFeatures::ADD_TO_CONFERENCE`] out.
    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<CallId> {
        let _ = (request, call, consult);
        Err(LineError::OperationUnavail)
    }

    /// `lineSetupTransfer`: puts the Connected `call` in OnHoldPendTransfer
    /// and places a consultation call to `destination`, reported as
    /// [`Provider::make_call`] reports a call, and returns it. Dropping the
    /// consultation call returns `call` to Connected (SPEC D8).
    ///
    /// Default: `Err(OperationUnavail)`; leave
    /// [`CallFeatures::SETUP_TRANSFER`] out.
    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        let _ = (request, call, destination);
        Err(LineError::OperationUnavail)
    }

    /// `lineCompleteTransfer`: connects the far ends of `call` (in
    /// OnHoldPendTransfer) and of its consultation call `consult` with each
    /// other, and takes both calls to Idle at this station.
    ///
    /// Default: `Err(OperationUnavail)`; leave
    /// [`CallFeatures::COMPLETE_TRANSFER`] out.
    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<()> {
        let _ = (request, call, consult);
        Err(LineError::OperationUnavail)
    }

    /// Drops `call` (`lineDrop`, `TSPI_lineDrop`; TAPI 3 `Disconnect(code)`),
    /// sending `uui` to the far end. A `lineDrop` comes with code `Normal`.
    ///
    /// **The host has checked** only what the app got wrong: the handle
    /// (SPEC T2), Owner privilege (D1), that the call is not Idle (D2), and
    /// that `Rejected` and `Busy` come only for an Offering or Accepted call
    /// (R3).
    ///
    /// **You check** what your capabilities allow; refuse with `Err` and
    /// change nothing (S2):
    ///
    /// * `uui` longer than your `uui_drop_size`: `UserUserInfoTooBig` (U2),
    ///   so with a size of 0 any non-empty UUI (U4). Never truncate it.
    /// * an Offering or Accepted call when you do not declare
    ///   `reject_by_drop`: `OperationUnavail`, whatever the `code` (R2).
    /// * a call you do not know: `InvalPointer`; a drop your world cannot do
    ///   in the call's state: `InvalCallState`.
    ///
    /// **Accepting**, report every affected call's new state, then complete
    /// the request (D3, D4). By the call's state:
    ///
    /// * Connected, OnHold, pending, Conferenced: the far end receives a
    ///   release (Q.850 16) carrying `uui` byte for byte (U3); Idle (D5).
    /// * Dialing, Proceeding, Ringback (unanswered outbound): a cancel, not a
    ///   hang-up (D7); Idle.
    /// * Offering, Accepted, with `reject_by_drop`: the caller receives a
    ///   rejection: Q.850 21 for `Normal` and `Rejected`, 17 for `Busy`, 19
    ///   for `NoAnswer` (R1, R3); Idle. `NoAnswer` on any other call is a
    ///   plain drop.
    /// * Disconnected (the far end already left): Idle, nothing sent (D6).
    /// * A conference parent takes its parties with it, each with its own
    ///   state (C1, C5; without `conf_drop` on the address they stay
    ///   connected to each other, C2); a party leaves alone (C3), and a
    ///   conference left with one party ends (C4). A consultation call
    ///   returns its primary to Connected (D8). On a shared bridged line a
    ///   drop with another station still active leaves this appearance
    ///   Connected/Inactive (B1–B3).
    ///
    /// Keep what you sent for [`CallInfo::uui_sent`] (Q1).
    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()>;

    /// The host holds no handle to `call` any more (`TSPI_lineCloseCall`):
    /// the last app deallocated it, or it went Idle on an address no app has
    /// open. If it is not Idle, drop it yourself (SPEC T3) as a plain drop
    /// without UUI: report its states as [`Provider::drop_call`] would, but
    /// there is no request to complete; an offered call you cannot reject
    /// goes Idle with nothing sent. Then forget it: the host never names it
    /// again, and you may reuse its id. The answer is ignored.
    fn close_call(&mut self, call: CallId) -> LineResult<()>;

    /// Call info (SPEC Q1; `lineGetCallInfo`). Answer for every call from its
    /// [`Reporter::new_call`] until [`Provider::close_call`], after a drop and
    /// after Idle too: its address and status, related calls (kept as they
    /// were when it went Idle), the remote party's name as
    /// [`Provider::far_end`] gives it, the last disconnect mode, the UUI the
    /// far end sent with its hang-up (U5) and the UUI you sent with your drop
    /// (U3). `InvalPointer` for a call you do not know.
    fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>>;

    /// What every remote party saw (SPEC §10): one [`RemoteParty`] per party
    /// your calls reached or that called you, named as `make_call`'s
    /// destination or `remote_offer`'s caller, with every ending signal it
    /// received. Keep parties whose calls are over, so that a test can look
    /// back at what they received (bounded as you see fit). This view is
    /// for the conformance suite and tests: it is how they see the far end.
    ///
    /// Each signal's kind, cause and UUI are judged for every provider, in
    /// the transcript. Its [`RemoteSignal::wire`] text is yours alone: the
    /// suite keeps it as your *wire snapshot*, reported "not pinned" (never
    /// failed) until you pin it (`cleardown conformance --wire-snapshots
    /// DIR`, then rename the `.snap.new` files to `.snap`), and compared
    /// from then on, so a change in what you put on the wire is caught.
    ///
    /// Default: `Err(OperationUnavail)`, for a provider that simulates no
    /// far end: one on a real network, judged through a far-end driver
    /// (`cleardown conformance --far-end sip`) that reports the view
    /// itself, from what it received on the wire.
    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the far end `from` offers a call at `address` (`uui`: what
    /// came with the offer). Report [`Reporter::new_call`] with `None`, then
    /// Offering, and return the call. `InvalPointer` for an unknown address
    /// or an empty `from`.
    ///
    /// Default: `Err(OperationUnavail)`, for a provider that simulates no
    /// far end (see [`Provider::far_end`]); so are
    /// [`remote_answer`](Provider::remote_answer) and
    /// [`remote_hang_up`](Provider::remote_hang_up). Without a far-end
    /// driver, the fixtures that need the far end to act are then skipped,
    /// saying so.
    fn remote_offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        let _ = (address, from, uui);
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the called party of outbound `call` is alerted: Ringback.
    /// `InvalCallState` for a call that is not an outbound one still
    /// waiting for its answer.
    ///
    /// Default: `Err(OperationUnavail)`, for a world that signals no
    /// alerting.
    fn remote_alert(&mut self, call: CallId) -> LineResult<()> {
        let _ = call;
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the called party of outbound `call` answers:
    /// Connected/Active. `InvalCallState` for a call that is not an outbound
    /// one still waiting for its answer.
    ///
    /// Default: `Err(OperationUnavail)` (see [`Provider::remote_offer`]).
    fn remote_answer(&mut self, call: CallId) -> LineResult<()> {
        let _ = call;
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the far end of `call` hangs up with a Q.850 `cause` and
    /// `uui`. The call goes `Disconnected` with
    /// [`DisconnectMode::from_q850`]`(cause)`, never straight to Idle (SPEC
    /// S3); keep the mode and the UUI for call info (U5). The owner's drop
    /// then takes it to Idle with nothing sent (D6). `InvalCallState` for a
    /// call whose far end is already gone (Disconnected, Idle) or that has
    /// none (a conference parent).
    ///
    /// Default: `Err(OperationUnavail)` (see [`Provider::remote_offer`]).
    fn remote_hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        let _ = (call, cause, uui);
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: the bridged station at `address` goes off-hook (`true`) or
    /// on-hook (SPEC §6).
    ///
    /// Default: `Err(OperationUnavail)`, for a world without bridged stations.
    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> LineResult<()> {
        let _ = (address, off_hook);
        Err(LineError::OperationUnavail)
    }

    /// Stimulus: `millis` milliseconds of simulated time pass. A provider
    /// with timers of its own (tone detection, retransmission) fires those
    /// that fall due, in order, reporting what they change.
    ///
    /// Default: `Ok(())`, doing nothing: right for a provider with nothing
    /// scheduled on simulated time, or one on real time, where time passing
    /// changes nothing. Never `OperationUnavail`: a scenario that lets time
    /// pass must see the same transcript from every provider.
    fn advance_time(&mut self, millis: u64) -> LineResult<()> {
        let _ = millis;
        Ok(())
    }
}

/// Where a provider reports what happened: the [`Provider::open`] argument.
/// Cheap to clone; usable from any thread, and from inside a method the host
/// is calling (it only queues the report, it never waits for the host).
/// Reports reach apps in the order they were made (SPEC D10).
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

    /// The contract version agreed with the host. Every method of this
    /// reporter is in contract 1.0; one added in a later minor will say so,
    /// and must not be called when this version is lower.
    pub fn contract_version(&self) -> ContractVersion {
        self.version
    }

    /// `call` now exists at `address`; report it before its first state.
    /// `request` is the request that created it (`make_call`, a consultation
    /// call of `setup_conference` or `setup_transfer`, the new parent of
    /// `add_to_conference`); `None` for a call the far end offered, or any
    /// other call no request made (a bridged station's appearance). Every app
    /// with `address` open gets a handle to it.
    pub fn new_call(&self, call: CallId, address: AddressId, request: Option<RequestId>) {
        self.sink
            .new_call(call, address, request.unwrap_or(RequestId(0)));
    }

    /// `call` entered `status`. Report every change, as it happens: the host
    /// gives each to every app holding the call (SPEC D4). Idle is final
    /// (S1): nothing follows it for that call.
    pub fn state(&self, call: CallId, status: CallStatus<CallId>) {
        let parent = match status {
            CallStatus::Conferenced { parent } => parent,
            _ => CallId(0),
        };
        self.sink
            .call_state(call, status.state().code(), status.mode_code(), parent);
    }

    /// `request` completed. Exactly once per accepted request, after the
    /// state events it caused (SPEC D3, D4); `Err` for a request that failed
    /// after it was accepted, which must leave every state as it was (D9).
    /// Never for a request you refused by returning `Err`.
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
        self.guard_ref(|p| Ok(p.far_end()?.iter().map(FfiRemoteParty::from).collect()))
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
    fn far_end_caps(&self) -> ProviderResult<FfiFarEndCaps> {
        // From `info` too, for the same reason.
        self.guard_ref(|p| Ok(FfiFarEndCaps::from(&p.info().capabilities)))
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

pub mod calls;
pub mod config;
pub mod drop;
pub mod step;
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
