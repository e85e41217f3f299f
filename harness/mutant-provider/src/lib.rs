//! Deliberately broken variants of a provider (normally pbx-sim), for the
//! conformance suite's mutation proof: each variant breaks one SPEC rule the
//! way a real provider might, and the suite must notice.
//!
//! This is an ABI-level decorator, not a Rust wrapper: it never links
//! pbx-sim (whose rlib exports the same `#[no_mangle]` symbols). Its root
//! module's `open` loads the *inner* provider library by path, opens it with
//! a sink of its own wrapped around the host's, and hands the host a
//! provider that forwards every method to the inner one, with the mutant's
//! change applied. Every method of the decorator and of its sink runs inside
//! one panic guard (`guard`), as the SDK's do.
//!
//! # Configuration
//!
//! `;`-separated `key=value` pairs. `mutant=NAME` and `inner=PATH` (the inner
//! provider library, e.g. `target/debug/libpbx_sim.so`) are required and
//! consumed; every other pair is handed on, in order, as the inner
//! provider's configuration. For example
//! `mutant=truncate_uui;inner=target/debug/libpbx_sim.so;uui=16`.
//!
//! # Mutants
//!
//! - `none`: pure pass-through, the control: behaves exactly like the inner
//!   provider.
//! - `skip_child_event` (SPEC C1, D4): while a `drop_call` is forwarded, the
//!   first `Idle` state report is swallowed. In a conference cascade pbx-sim
//!   reports the parties Idle first, then the parent, so one party's event
//!   is lost (on a plain drop, the dropped call's own).
//! - `truncate_uui` (SPEC U2): `info` declares the inner capabilities, but a
//!   drop with UUI longer than the declared `uui_drop_size` is forwarded with
//!   the UUI cut to that size instead of failing with `UserUserInfoTooBig`.
//!   Use it with inner configuration `uui=16`.
//! - `reject_undeclared` (SPEC R2): `info` declares `reject_by_drop = false`
//!   while the inner provider (with reject by drop on, pbx-sim's default)
//!   still rejects: dropping an Offering call succeeds instead of failing
//!   with `OperationUnavail`.
//! - `no_reply` (SPEC D3): the completion of every `drop_call` request is
//!   swallowed; the host never gets the Reply. Other requests complete.
//! - `idle_on_hang_up` (SPEC S3): while `remote_hang_up` is forwarded, a
//!   `Disconnected` state report is rewritten to `Idle` (mode 0), so the
//!   call skips Disconnected and its owner can no longer drop it.
//! - `leak_handle` (SPEC T5): after a successful `drop_call`, a brand-new
//!   call (a "ghost", ids from 2^40 up, so never one of the inner's) is
//!   reported on the dropped call's address with no request, then reported
//!   Idle: every app with that line open holds an Idle handle it never asked
//!   for. `call_info` of a ghost answers Idle at that address, `close_call`
//!   forgets it.
//! - `panic_mid_drop` (SPEC X2): `drop_call` forwards to the inner provider
//!   (which drops the call and reports it) and then panics; the guard returns
//!   what the SDK returns for a panic (`OperationFailed` with the panic
//!   message), so the host faults the provider.
//!
//! The mutants below break one rule in one *situation* only (the kind of
//! call an operation meets, with the capability edge it meets, SPEC §0):
//! the decorator asks the inner provider (its call info and far-end view)
//! what situation a call is in, and everywhere else forwards unchanged.
//! Whatever one of them tells the host about a call, call info answers
//! too, so the mistake looks like one a provider made, not a torn view.
//!
//! Combined situations:
//!
//! - `hang_up_mode_in_conference` (SPEC S3, in C6): a far hang-up whose
//!   cause is not normal clearing (17, 21, …) on a party of a conference
//!   that keeps at least two parties is reported, and kept in call info, as
//!   `Disconnected/Normal` instead of the cause's mode. A plain call, or a
//!   party whose hang-up collapses a two-party conference (C4), gets the
//!   right mode.
//! - `consult_hang_up_keeps_primary_pending` (SPEC D8): dropping a
//!   consultation call whose far end already hung up (Disconnected) leaves
//!   its primary OnHoldPendConf or OnHoldPendTransfer: the primary's
//!   `Connected` report is lost and call info keeps the pending state.
//!   Dropping a consultation that is still up returns the primary as it
//!   should.
//! - `oversize_uui_on_disconnected` (SPEC U2): a drop of a Disconnected call
//!   (the far end already left, so D6 sends nothing) with UUI longer than
//!   `uui_drop_size` is accepted, the UUI thrown away, instead of failing
//!   with `UserUserInfoTooBig`. Oversize UUI on a live call is refused.
//! - `oversize_uui_on_conference` (SPEC U2): a drop of a live conference
//!   parent with UUI longer than `uui_drop_size` runs the cascade with the
//!   UUI cut to the declared size. Oversize UUI on a party, or on a plain
//!   call, is refused.
//! - `close_left_party_releases` (SPEC D6, via T3): when the last handle of
//!   a conference party whose far end hung up (it left the conference, C6)
//!   goes, the provider sends that party a release (cause 16), as if it
//!   were still in the conference. The last handle of a plain call the far
//!   end left sends nothing, and so does dropping the party.
//! - `close_parent_keeps_parties` (SPEC C1, via T3): when the last handle of
//!   a live conference parent on an address with `conf_drop` goes, only the
//!   parent is forgotten: it is never dropped, and its parties stay
//!   Conferenced, their far ends connected. Dropping the parent cascades,
//!   and so does freeing it on an address without `conf_drop` (C2).
//! - `no_answer_on_hold_rejects` (SPEC R3): `Disconnect(NoAnswer)` of a held
//!   call sends the far end a rejection with the no-answer cause (19)
//!   instead of the plain release (cause 16) `Normal` would. On a
//!   Connected call it is a plain release.
//! - `busy_on_accepted_rejects_21` (SPEC R3, §10): `Disconnect(Busy)` of an
//!   Accepted call rejects it with cause 21 (call rejected) instead of 17
//!   (user busy). On an Offering call the caller gets 17.
//! - `no_answer_conference_rejects_19` (SPEC R3, in C1): `Disconnect(NoAnswer)`
//!   of a live conference parent with `conf_drop` hands the code down the
//!   cascade: every party gets a rejection with cause 19 instead of a
//!   release with cause 16. `NoAnswer` on one party is a plain release.
//! - `direct_conference_unowned` (SPEC P1): the parent that
//!   `add_to_conference` creates by joining two connected calls (no
//!   `setup_conference` before it) is reported with no request (0), so
//!   every app with the line open gets its line privilege: a second Owner
//!   of the line owns it too instead of monitoring it. The parent of a
//!   conference set up with `setup_conference` is its maker's alone.
//! - `nested_cascade_drops_uui` (SPEC U3, in C5): dropping with UUI a
//!   conference that has a conference nested in it releases the nested
//!   conference's parties without the UUI (and their call info shows none
//!   sent); the parties of the top level get it. A flat conference's
//!   parties all get it.
//! - `nested_party_drop_unnests` (SPEC C3, in C5): dropping a party of a
//!   nested conference that keeps at least two parties also reports the
//!   nested conference (a party of the outer one) `Connected` instead of
//!   leaving it Conferenced. A party dropped from a flat conference leaves
//!   the others as they were.
//! - `close_collapse_leaves_party_conferenced` (SPEC C4, via T3): when the
//!   last handle of a party of a two-party conference goes, the parent goes
//!   Idle but the remaining party's `Connected` report is lost: it is left
//!   Conferenced to a parent that is gone. Dropping the party instead
//!   leaves the remaining one Connected.
//!
//! Capability edges (`uui=N` goes on to pbx-sim):
//!
//! - `small_size_refuses_exact_uui` (SPEC U3): with a `uui_drop_size` of 1,
//!   2 or 3, a drop with UUI of exactly that size fails with
//!   `UserUserInfoTooBig` (one byte kept back for the discriminator).
//!   Shorter UUI, and UUI of exactly a larger size, are sent.
//! - `small_size_reject_takes_one_more` (SPEC U2): with a `uui_drop_size` of
//!   1, 2 or 3 and `reject_by_drop`, a drop that rejects an Accepted call
//!   accepts UUI one byte over the size and sends all of it. The decorator
//!   declares the size itself and runs pbx-sim with room for more (its
//!   `uui=N` is taken from the inner configuration); one byte over on any
//!   other call, an Offering one included, is refused.
//! - `far_uui_cut_to_drop_size` (SPEC U5): call info shows the UUI a far
//!   hang-up carried cut to `uui_drop_size` where it was longer (in
//!   Disconnected and after the drop); UUI within the size reads whole.
//! - `ringback_cancel_cuts_max_uui` (SPEC U3, in D7): dropping an alerting
//!   outbound call (Ringback) with UUI of exactly `uui_drop_size` sends it
//!   one byte short (call info shows the short UUI as sent). The same UUI
//!   on a Proceeding call, or on a connected one, goes whole.
//!
//! Time (`advance_time`, which pbx-sim itself ignores):
//!
//! - `timer_clears_disconnected` (SPEC S3): when simulated time passes,
//!   every call waiting in Disconnected is reported (and answers) Idle, as a
//!   clearing timer would, though its owner never dropped it. Without time
//!   passing it waits for its drop.
//! - `stale_ring_timer` (SPEC S1): when simulated time passes, an outbound
//!   call that was cancelled (dropped before it was answered) and is Idle
//!   is reported `Ringback` again, its ring timer never stopped. A call
//!   dropped after its answer stays Idle.
//!
//! What crosses the wire (the far-end view):
//!
//! - `accepted_reject_with_uui_cause_16` (SPEC R1, §10): rejecting an
//!   Accepted call with UUI sends the rejection with cause 16 instead of
//!   21. Without UUI, or on an Offering call, it is 21.
//! - `conference_consult_ringback_releases` (SPEC D7): dropping the
//!   consultation call of `setup_conference` while it is alerting
//!   (Ringback) sends the far end a release (a hang-up), not a cancel. The
//!   consultation of `setup_transfer`, and a plain call, are cancelled.
//! - `nested_cascade_releases_twice` (SPEC C5): dropping a conference with
//!   a conference nested in it sends each party of the nested conference
//!   its release twice. A flat conference's parties get one each.
//! - `long_cascade_uui_reordered` (SPEC U3, in C1): dropping a conference
//!   with UUI longer than 8 bytes hands each party the UUI with its 8-byte
//!   blocks in reverse order. 8 bytes or fewer, or a plain drop of any
//!   length, arrive byte for byte.
//!
//! Declarations that lie about the far end (SPEC L2, contract 1.2), over
//! analog-bridge: the provider behaves as the inner one does, and declares
//! otherwise.
//!
//! - `declares_far_causes` (SPEC S3): declares that the far end's causes
//!   reach it, on a loop that hears none: a far hang-up with cause 17 or 21
//!   still reads `Disconnected/Normal`.
//! - `declares_hang_up_at_once` (SPEC S3): declares `hang_up_delay_ms` 0 on
//!   a loop without supervision (`supervision=off` going on to it), so a
//!   far hang-up is not seen until the tone is detected.
//!
//! Bridged stations (`inner` is analog-bridge, `sharing=shared` or
//! `sharing=new` going on to it):
//!
//! - `step_out_goes_idle` (SPEC B1): dropping an Active appearance of a
//!   BridgedShared call while another station is still active on it
//!   reports the appearance Idle (and call info answers Idle) instead of
//!   Connected/Inactive. The last active station's drop clears as it
//!   should.
//! - `inactive_drop_releases_far` (SPEC B3): dropping a Connected/Inactive
//!   appearance idles only it, as it should, but the far end receives a
//!   release (cause 16) as if the call had cleared. Dropping an Active
//!   appearance sends what it should.
//! - `last_station_keeps_inactive` (SPEC B2): when the last active station
//!   drops, the other stations' Inactive appearances get no Idle report
//!   (the host and call info keep them Connected/Inactive); the far end is
//!   released as it should be. A drop with another station still active
//!   steps out as it should.
//! - `new_station_drop_idles_other` (SPEC B4): on a BridgedNew line,
//!   dropping an Active call also reports Idle for another station's call
//!   of its own (dial tone) that the drop never touched. With no other
//!   station off-hook the drop is right.
//! - `bridged_hang_up_misses_inactive` (SPEC S3): a far hang-up of a
//!   BridgedShared call reaches only its Active appearances: the Inactive
//!   ones are never reported Disconnected. A hang-up with every appearance
//!   Active, or of a call at one station, is right.
//!
//! A configuration error (no `mutant`, an unknown one, no `inner`, an inner
//! library that does not load, an inner configuration the inner provider
//! refuses) makes `open` fail with a sentence saying what was expected.
//!
//! Test-only: not bundled, never loaded by the `cleardown` command unless
//! named by path.

mod bridged;
mod overlay;
mod situation;

use std::{
    collections::{HashMap, HashSet},
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use abi_stable::{
    library::lib_header_from_path,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RArc, ROption, RResult, RSlice, RStr, RString, RVec},
};
use cleardown_contract::{
    AddressId, CallId, CallState, ContractVersion, LineError, RequestId,
    abi::{
        EventSink, EventSink_TO, EventSinkBox, FfiCallInfo, FfiFarEndCaps, FfiProvider,
        FfiProvider_TO, FfiProviderInfo, FfiRemoteParty, ProviderBox, ProviderError,
        ProviderModule, ProviderModule_Ref, ProviderResult,
    },
};

use crate::overlay::{Overlay, Status};

cleardown_sdk::export_contract_stamp!();

/// The abi_stable root module of the mutant provider.
#[abi_stable::export_root_module]
pub fn cleardown_root_module() -> ProviderModule_Ref {
    ProviderModule { open }.leak_into_prefix()
}

/// Which rule the decorator breaks (see the crate documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// Pass-through: the control.
    None,
    /// Loses the first Idle report of a drop (C1, D4).
    SkipChildEvent,
    /// Truncates oversize UUI instead of refusing it (U2).
    TruncateUui,
    /// Rejects by drop without declaring it (R2).
    RejectUndeclared,
    /// Never completes a drop request (D3).
    NoReply,
    /// Reports a remote hang-up as Idle (S3).
    IdleOnHangUp,
    /// Leaves an Idle handle behind after a drop (T5).
    LeakHandle,
    /// Panics after forwarding a drop (X2).
    PanicMidDrop,
    /// A non-normal far hang-up in a conference that survives it reads Normal (S3).
    HangUpModeInConference,
    /// Dropping a Disconnected consultation leaves its primary pending (D8).
    ConsultHangUpKeepsPrimaryPending,
    /// Accepts oversize UUI on a Disconnected call (U2).
    OversizeUuiOnDisconnected,
    /// Cuts oversize UUI on a conference drop (U2).
    OversizeUuiOnConference,
    /// Freeing a party that left its conference releases it (D6, T3).
    CloseLeftPartyReleases,
    /// Freeing a live conference parent does not cascade (C1, T3).
    CloseParentKeepsParties,
    /// `NoAnswer` on a held call rejects with 19 (R3).
    NoAnswerOnHoldRejects,
    /// `Busy` on an Accepted call rejects with 21 (R3).
    BusyOnAcceptedRejects21,
    /// `NoAnswer` on a conference parent rejects every party with 19 (R3).
    NoAnswerConferenceRejects19,
    /// A conference parent joined directly is owned by every Owner (P1).
    DirectConferenceUnowned,
    /// A nested conference's parties get no UUI in a cascade (U3).
    NestedCascadeDropsUui,
    /// Dropping a party of a nested conference unnests it (C3).
    NestedPartyDropUnnests,
    /// Freeing a party of a two-party conference leaves the other Conferenced (C4).
    CloseCollapseLeavesPartyConferenced,
    /// Refuses UUI of exactly a small declared size (U3).
    SmallSizeRefusesExactUui,
    /// Accepts one byte over a small size rejecting an Accepted call (U2).
    SmallSizeRejectTakesOneMore,
    /// Cuts far hang-up UUI to the drop size in call info (U5).
    FarUuiCutToDropSize,
    /// Cuts max UUI by one byte on a Ringback cancel (U3, D7).
    RingbackCancelCutsMaxUui,
    /// Time clears Disconnected calls to Idle (S3).
    TimerClearsDisconnected,
    /// Time brings a cancelled call back from Idle (S1).
    StaleRingTimer,
    /// Rejecting an Accepted call with UUI sends cause 16 (R1).
    AcceptedRejectWithUuiCause16,
    /// A conference consultation in Ringback is released, not cancelled (D7).
    ConferenceConsultRingbackReleases,
    /// A nested conference's parties are released twice (C5).
    NestedCascadeReleasesTwice,
    /// Cascade UUI over 8 bytes arrives reordered (U3).
    LongCascadeUuiReordered,
    /// A hang-up that collapses a conference loses its UUI (U5).
    CollapseHangUpLosesUui,
    /// A station stepping out of a shared call goes Idle, not Inactive (B1).
    StepOutGoesIdle,
    /// Dropping an Inactive appearance releases the far end (B3).
    InactiveDropReleasesFar,
    /// The last active station's drop leaves the Inactive appearances up (B2).
    LastStationKeepsInactive,
    /// A BridgedNew drop also idles another station's own call (B4).
    NewStationDropIdlesOther,
    /// A far hang-up never reaches the Inactive appearances (S3).
    BridgedHangUpMissesInactive,
    /// Declares far causes it never hears (L2, S3).
    DeclaresFarCauses,
    /// Declares hang-ups signalled at once where they are found late (L2, S3).
    DeclaresHangUpAtOnce,
}

impl Mutant {
    /// Every mutant, in documentation order.
    pub const ALL: &'static [Mutant] = &[
        Mutant::None,
        Mutant::SkipChildEvent,
        Mutant::TruncateUui,
        Mutant::RejectUndeclared,
        Mutant::NoReply,
        Mutant::IdleOnHangUp,
        Mutant::LeakHandle,
        Mutant::PanicMidDrop,
        Mutant::HangUpModeInConference,
        Mutant::ConsultHangUpKeepsPrimaryPending,
        Mutant::OversizeUuiOnDisconnected,
        Mutant::OversizeUuiOnConference,
        Mutant::CloseLeftPartyReleases,
        Mutant::CloseParentKeepsParties,
        Mutant::NoAnswerOnHoldRejects,
        Mutant::BusyOnAcceptedRejects21,
        Mutant::NoAnswerConferenceRejects19,
        Mutant::DirectConferenceUnowned,
        Mutant::NestedCascadeDropsUui,
        Mutant::NestedPartyDropUnnests,
        Mutant::CloseCollapseLeavesPartyConferenced,
        Mutant::SmallSizeRefusesExactUui,
        Mutant::SmallSizeRejectTakesOneMore,
        Mutant::FarUuiCutToDropSize,
        Mutant::RingbackCancelCutsMaxUui,
        Mutant::TimerClearsDisconnected,
        Mutant::StaleRingTimer,
        Mutant::AcceptedRejectWithUuiCause16,
        Mutant::ConferenceConsultRingbackReleases,
        Mutant::NestedCascadeReleasesTwice,
        Mutant::LongCascadeUuiReordered,
        Mutant::CollapseHangUpLosesUui,
        Mutant::StepOutGoesIdle,
        Mutant::InactiveDropReleasesFar,
        Mutant::LastStationKeepsInactive,
        Mutant::NewStationDropIdlesOther,
        Mutant::BridgedHangUpMissesInactive,
        Mutant::DeclaresFarCauses,
        Mutant::DeclaresHangUpAtOnce,
    ];

    /// The value of `mutant=` that selects it.
    pub const fn name(self) -> &'static str {
        match self {
            Mutant::None => "none",
            Mutant::SkipChildEvent => "skip_child_event",
            Mutant::TruncateUui => "truncate_uui",
            Mutant::RejectUndeclared => "reject_undeclared",
            Mutant::NoReply => "no_reply",
            Mutant::IdleOnHangUp => "idle_on_hang_up",
            Mutant::LeakHandle => "leak_handle",
            Mutant::PanicMidDrop => "panic_mid_drop",
            Mutant::HangUpModeInConference => "hang_up_mode_in_conference",
            Mutant::ConsultHangUpKeepsPrimaryPending => "consult_hang_up_keeps_primary_pending",
            Mutant::OversizeUuiOnDisconnected => "oversize_uui_on_disconnected",
            Mutant::OversizeUuiOnConference => "oversize_uui_on_conference",
            Mutant::CloseLeftPartyReleases => "close_left_party_releases",
            Mutant::CloseParentKeepsParties => "close_parent_keeps_parties",
            Mutant::NoAnswerOnHoldRejects => "no_answer_on_hold_rejects",
            Mutant::BusyOnAcceptedRejects21 => "busy_on_accepted_rejects_21",
            Mutant::NoAnswerConferenceRejects19 => "no_answer_conference_rejects_19",
            Mutant::DirectConferenceUnowned => "direct_conference_unowned",
            Mutant::NestedCascadeDropsUui => "nested_cascade_drops_uui",
            Mutant::NestedPartyDropUnnests => "nested_party_drop_unnests",
            Mutant::CloseCollapseLeavesPartyConferenced => {
                "close_collapse_leaves_party_conferenced"
            }
            Mutant::SmallSizeRefusesExactUui => "small_size_refuses_exact_uui",
            Mutant::SmallSizeRejectTakesOneMore => "small_size_reject_takes_one_more",
            Mutant::FarUuiCutToDropSize => "far_uui_cut_to_drop_size",
            Mutant::RingbackCancelCutsMaxUui => "ringback_cancel_cuts_max_uui",
            Mutant::TimerClearsDisconnected => "timer_clears_disconnected",
            Mutant::StaleRingTimer => "stale_ring_timer",
            Mutant::AcceptedRejectWithUuiCause16 => "accepted_reject_with_uui_cause_16",
            Mutant::ConferenceConsultRingbackReleases => "conference_consult_ringback_releases",
            Mutant::NestedCascadeReleasesTwice => "nested_cascade_releases_twice",
            Mutant::LongCascadeUuiReordered => "long_cascade_uui_reordered",
            Mutant::CollapseHangUpLosesUui => "collapse_hang_up_loses_uui",
            Mutant::StepOutGoesIdle => "step_out_goes_idle",
            Mutant::InactiveDropReleasesFar => "inactive_drop_releases_far",
            Mutant::LastStationKeepsInactive => "last_station_keeps_inactive",
            Mutant::NewStationDropIdlesOther => "new_station_drop_idles_other",
            Mutant::BridgedHangUpMissesInactive => "bridged_hang_up_misses_inactive",
            Mutant::DeclaresFarCauses => "declares_far_causes",
            Mutant::DeclaresHangUpAtOnce => "declares_hang_up_at_once",
        }
    }

    /// The mutant `mutant=name` selects.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| m.name() == name)
    }
}

/// What the decorator's configuration string says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Config {
    mutant: Mutant,
    inner: PathBuf,
    /// Every pair that is not ours, in order, joined by `;`.
    inner_config: String,
}

fn mutant_names() -> String {
    Mutant::ALL
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Config {
    fn parse(text: &str) -> Result<Config, String> {
        let mut mutant = None;
        let mut inner = None;
        let mut passed_on = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .map_or((pair, ""), |(k, v)| (k.trim(), v.trim()));
            let slot = match key {
                "mutant" => &mut mutant,
                "inner" => &mut inner,
                _ => {
                    passed_on.push(pair);
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                return Err(format!(
                    "duplicate key `{key}` in mutant-provider configuration; give it once"
                ));
            }
        }
        let mutant = match mutant {
            None => {
                return Err(format!(
                    "mutant-provider configuration has no `mutant=NAME`; expected one of {}",
                    mutant_names()
                ));
            }
            Some(name) => Mutant::from_name(name).ok_or_else(|| {
                format!(
                    "unknown mutant `{name}` in mutant-provider configuration; expected one of {}",
                    mutant_names()
                )
            })?,
        };
        let inner = match inner {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => {
                return Err(
                    "mutant-provider configuration has no `inner=PATH`; expected the \
                     path of the inner provider library, e.g. target/debug/libpbx_sim.so"
                        .to_owned(),
                );
            }
        };
        Ok(Config {
            mutant,
            inner,
            inner_config: passed_on.join(";"),
        })
    }
}

/// What a panic turns into where it is caught: the same shapes the SDK uses.
trait OnPanic {
    fn on_panic(message: String) -> Self;
}

/// A sink method: the report is lost, the host is unharmed.
impl OnPanic for () {
    fn on_panic(_: String) {}
}

/// A provider method: `OperationFailed` with the message, which faults the
/// provider in the host (SPEC X2), exactly as the SDK's guard does.
impl<T> OnPanic for ProviderResult<T> {
    fn on_panic(message: String) -> Self {
        RResult::RErr(ProviderError {
            code: LineError::OperationFailed.code(),
            panic: ROption::RSome(message.into()),
        })
    }
}

/// `open`: a sentence, as for a configuration the provider refuses.
impl<T> OnPanic for RResult<T, RString> {
    fn on_panic(message: String) -> Self {
        RResult::RErr(format!("mutant-provider panicked while opening: {message}").into())
    }
}

/// The one panic guard: runs `f`, turning a panic into `R`'s panic answer. A
/// panic must never unwind out of a `#[sabi_trait]` method (the process
/// would abort), so every method of the decorator and its sink goes through
/// here.
fn guard<R: OnPanic>(f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "provider panicked with a non-string payload".to_owned()
        };
        R::on_panic(message)
    })
}

/// State the decorator and its sink share: the sink is called by the inner
/// provider from inside the decorator's forwarded calls.
#[derive(Debug)]
struct Tap {
    mutant: Mutant,
    /// `skip_child_event`: the next Idle report is swallowed.
    skip_next_idle: AtomicBool,
    /// `idle_on_hang_up`: a `remote_hang_up` is being forwarded.
    hanging_up: AtomicBool,
    /// `no_reply`: drop requests whose completion is swallowed.
    drop_requests: Mutex<HashSet<RequestId>>,
    /// The situational mutants' changes (see [`overlay`]).
    overlay: Mutex<Overlay>,
}

impl Tap {
    fn drop_requests(&self) -> MutexGuard<'_, HashSet<RequestId>> {
        self.drop_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn overlay(&self) -> MutexGuard<'_, Overlay> {
        self.overlay.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `f` with `flag` set.
fn while_set<T>(flag: &AtomicBool, f: impl FnOnce() -> T) -> T {
    flag.store(true, Ordering::SeqCst);
    let outcome = f();
    flag.store(false, Ordering::SeqCst);
    outcome
}

const IDLE: u32 = CallState::Idle.code();
const DISCONNECTED: u32 = CallState::Disconnected.code();

/// The sink the inner provider reports to: filters or rewrites reports per
/// mutant, then passes them to the host's sink.
#[derive(Clone)]
struct MutantSink {
    host: EventSinkBox,
    tap: Arc<Tap>,
}

impl EventSink for MutantSink {
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId) {
        guard(|| {
            let request = if self.tap.overlay().plan.unrequested {
                RequestId(0)
            } else {
                request
            };
            self.host.new_call(call, address, request);
        });
    }

    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId) {
        guard(|| {
            let tap = &self.tap;
            let (state, mode) = match tap.mutant {
                Mutant::SkipChildEvent
                    if state == IDLE && tap.skip_next_idle.swap(false, Ordering::SeqCst) =>
                {
                    return;
                }
                Mutant::IdleOnHangUp
                    if state == DISCONNECTED && tap.hanging_up.load(Ordering::SeqCst) =>
                {
                    (IDLE, 0)
                }
                _ => (state, mode),
            };
            let routed = tap.overlay().route(
                call,
                Status {
                    state,
                    mode,
                    parent,
                },
            );
            if let Some(out) = routed {
                self.host.call_state(call, out.state, out.mode, out.parent);
            }
        });
    }

    fn complete(&self, request: RequestId, result: u32) {
        guard(|| {
            let inject = std::mem::take(&mut self.tap.overlay().plan.inject);
            for (call, status) in inject {
                self.tap.overlay().made_up(call, status);
                self.host
                    .call_state(call, status.state, status.mode, status.parent);
            }
            if self.tap.mutant == Mutant::NoReply && self.tap.drop_requests().remove(&request) {
                return;
            }
            self.host.complete(request, result);
        });
    }
}

/// Where ghost call ids start (`leak_handle`): far above any id pbx-sim
/// hands out, so they never clash with the inner provider's.
const GHOST_BASE: u64 = 1 << 40;

/// The decorator the host drives.
struct Mutated {
    inner: ProviderBox,
    tap: Arc<Tap>,
    /// The host's own sink, for reports the decorator makes up itself.
    host: EventSinkBox,
    /// `leak_handle`: the ghost calls reported so far, with their address.
    ghosts: HashMap<CallId, AddressId>,
    next_ghost: u64,
    /// `small_size_reject_takes_one_more`: the `uui_drop_size` declared
    /// (and enforced) here, the inner provider running with room for more.
    declared_uui: Option<u32>,
    /// `close_left_party_releases`: parties whose far end hung up while
    /// they were in a conference.
    left: HashSet<CallId>,
    /// `stale_ring_timer`: calls dropped before they were answered.
    cancelled: HashSet<CallId>,
}

impl Mutated {
    /// `leak_handle`: reports a ghost call on `dropped`'s address, then Idle.
    fn leak_ghost(&mut self, dropped: CallId) {
        let RResult::ROk(info) = self.inner.call_info(dropped) else {
            return;
        };
        let ghost = CallId(GHOST_BASE + self.next_ghost);
        self.next_ghost += 1;
        self.ghosts.insert(ghost, info.address);
        // Request 0: no request created it (what the SDK's Reporter sends
        // for `None`), so every app with the line open gets a handle.
        self.host.new_call(ghost, info.address, RequestId(0));
        self.host.call_state(ghost, IDLE, 0, CallId(0));
    }
}

fn ghost_info(address: AddressId) -> FfiCallInfo {
    FfiCallInfo {
        address,
        state: IDLE,
        mode: 0,
        parent: CallId(0),
        related: RVec::new(),
        remote: RString::new(),
        disconnect_mode: 0,
        uui_received: RVec::new(),
        uui_sent: RVec::new(),
    }
}

impl FfiProvider for Mutated {
    fn info(&self) -> ProviderResult<FfiProviderInfo> {
        guard(|| {
            self.info_new().map(|mut info| {
                if self.tap.mutant == Mutant::RejectUndeclared {
                    info.reject_by_drop = false;
                }
                info
            })
        })
    }

    fn open_line(&mut self, address: AddressId) -> ProviderResult<()> {
        guard(|| self.inner.open_line(address))
    }

    fn close_line(&mut self, address: AddressId) -> ProviderResult<()> {
        guard(|| self.inner.close_line(address))
    }

    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.make_call(request, address, destination))
    }

    fn answer(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.answer(request, call))
    }

    fn accept(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.accept(request, call))
    }

    fn hold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.hold(request, call))
    }

    fn unhold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.unhold(request, call))
    }

    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.setup_conference(request, call, destination))
    }

    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<CallId> {
        guard(|| self.add_new(request, call, consult))
    }

    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.setup_transfer(request, call, destination))
    }

    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<()> {
        guard(|| self.inner.complete_transfer(request, call, consult))
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        guard(|| match self.tap.mutant {
            Mutant::SkipChildEvent => while_set(&self.tap.skip_next_idle, || {
                self.inner.drop_call(request, call, code, uui)
            }),
            Mutant::TruncateUui => {
                let size = match self.inner.info() {
                    RResult::ROk(info) => info.uui_drop_size as usize,
                    RResult::RErr(error) => return RResult::RErr(error),
                };
                let cut = &uui.as_slice()[..uui.len().min(size)];
                self.inner.drop_call(request, call, code, cut.into())
            }
            Mutant::NoReply => {
                self.tap.drop_requests().insert(request);
                let outcome = self.inner.drop_call(request, call, code, uui);
                if outcome.is_err() {
                    // Refused synchronously: there is no completion to lose.
                    self.tap.drop_requests().remove(&request);
                }
                outcome
            }
            Mutant::LeakHandle => {
                let outcome = self.inner.drop_call(request, call, code, uui);
                if outcome.is_ok() {
                    self.leak_ghost(call);
                }
                outcome
            }
            Mutant::PanicMidDrop => {
                let outcome = self.inner.drop_call(request, call, code, uui);
                panic!(
                    "mutant panic_mid_drop: panicking after the inner provider answered {} \
                     to dropping {call}",
                    if outcome.is_ok() { "Ok" } else { "Err" }
                );
            }
            Mutant::None | Mutant::RejectUndeclared | Mutant::IdleOnHangUp => {
                self.inner.drop_call(request, call, code, uui)
            }
            _ => self.drop_new(request, call, code, uui),
        })
    }

    fn close_call(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| match self.ghosts.remove(&call) {
            Some(_) => RResult::ROk(()),
            None => self.close_new(call),
        })
    }

    fn call_info(&self, call: CallId) -> ProviderResult<FfiCallInfo> {
        guard(|| match self.ghosts.get(&call) {
            Some(&address) => RResult::ROk(ghost_info(address)),
            None => self.call_info_new(call),
        })
    }

    fn far_end(&self) -> ProviderResult<RVec<FfiRemoteParty>> {
        guard(|| self.far_end_new())
    }

    fn remote_offer(
        &mut self,
        address: AddressId,
        from: RStr<'_>,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.remote_offer(address, from, uui))
    }

    fn remote_alert(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.remote_alert(call))
    }

    fn remote_answer(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.remote_answer(call))
    }

    fn remote_hang_up(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        guard(|| match self.tap.mutant {
            Mutant::IdleOnHangUp => while_set(&self.tap.hanging_up, || {
                self.inner.remote_hang_up(call, cause, uui)
            }),
            _ => self.hang_up_new(call, cause, uui),
        })
    }

    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> ProviderResult<()> {
        guard(|| self.inner.station_hook(address, off_hook))
    }

    fn advance_time(&mut self, millis: u64) -> ProviderResult<()> {
        guard(|| self.time_new(millis))
    }

    fn call_features(&self, address: AddressId) -> ProviderResult<u32> {
        guard(|| self.inner.call_features(address))
    }

    fn far_end_caps(&self) -> ProviderResult<FfiFarEndCaps> {
        guard(|| {
            self.inner.far_end_caps().map(|mut caps| {
                match self.tap.mutant {
                    Mutant::DeclaresFarCauses => caps.far_causes = true,
                    Mutant::DeclaresHangUpAtOnce => caps.hang_up_delay_ms = 0,
                    _ => {}
                }
                caps
            })
        })
    }
}

/// Loads the inner provider's root module. Through the library header per
/// path, as the host does: `RootModule::load_from*` caches one library per
/// root-module type, and the host has usually loaded a provider already.
fn load_inner(path: &Path) -> Result<ProviderModule_Ref, String> {
    lib_header_from_path(path)
        .and_then(|header| header.init_root_module::<ProviderModule_Ref>())
        .map_err(|error| {
            format!(
                "cannot load the inner provider `inner={}`: {error}",
                path.display()
            )
        })
}

fn open_mutant(
    config: &str,
    host: ContractVersion,
    sink: EventSinkBox,
) -> Result<ProviderBox, String> {
    let mut config = Config::parse(config)?;
    let declared_uui = if config.mutant == Mutant::SmallSizeRejectTakesOneMore {
        let (rest, size) = take_uui(&config.inner_config);
        config.inner_config = rest;
        size
    } else {
        None
    };
    let module = load_inner(&config.inner)?;
    let tap = Arc::new(Tap {
        mutant: config.mutant,
        skip_next_idle: AtomicBool::new(false),
        hanging_up: AtomicBool::new(false),
        drop_requests: Mutex::new(HashSet::new()),
        overlay: Mutex::new(Overlay::default()),
    });
    let wrapped = EventSink_TO::from_ptr(
        RArc::new(MutantSink {
            host: sink.clone(),
            tap: tap.clone(),
        }),
        TD_Opaque,
    );
    let inner = match (module.open())(config.inner_config.as_str().into(), host, wrapped) {
        RResult::ROk(inner) => inner,
        RResult::RErr(reason) => {
            return Err(format!(
                "the inner provider `{}` refused its configuration {:?}: {reason}",
                config.inner.display(),
                config.inner_config
            ));
        }
    };
    Ok(FfiProvider_TO::from_value(
        Mutated {
            inner,
            tap,
            host: sink,
            ghosts: HashMap::new(),
            next_ghost: 0,
            declared_uui,
            left: HashSet::new(),
            cancelled: HashSet::new(),
        },
        TD_Opaque,
    ))
}

/// Takes a valid `uui=N` out of an inner configuration: the configuration
/// without it, and `N`. A value pbx-sim would refuse stays, so that it is
/// refused as pbx-sim refuses it.
fn take_uui(config: &str) -> (String, Option<u32>) {
    let mut size = None;
    let rest: Vec<&str> = config
        .split(';')
        .filter(|pair| {
            let value = pair.split_once('=').and_then(|(key, value)| {
                (key.trim() == "uui")
                    .then(|| value.trim().parse::<u32>().ok())
                    .flatten()
                    .filter(|n| *n <= 128)
            });
            match value {
                Some(n) if size.is_none() => {
                    size = Some(n);
                    false
                }
                _ => true,
            }
        })
        .collect();
    (rest.join(";"), size)
}

extern "C" fn open(
    config: RStr<'_>,
    host: ContractVersion,
    sink: EventSinkBox,
) -> RResult<ProviderBox, RString> {
    guard(|| {
        open_mutant(config.as_str(), host, sink)
            .map_err(RString::from)
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_splits_ours_from_the_inner_providers() {
        let config =
            Config::parse(" mutant=truncate_uui ; uui=16;inner=/x/libpbx_sim.so;conf_drop=off;")
                .expect("parses");
        assert_eq!(
            config,
            Config {
                mutant: Mutant::TruncateUui,
                inner: PathBuf::from("/x/libpbx_sim.so"),
                inner_config: "uui=16;conf_drop=off".to_owned(),
            }
        );
        for mutant in Mutant::ALL {
            assert_eq!(Mutant::from_name(mutant.name()), Some(*mutant));
        }
    }

    #[test]
    fn take_uui_takes_a_valid_size_only() {
        assert_eq!(
            take_uui("conf_drop=off; uui = 3 ;close_drop=off"),
            ("conf_drop=off;close_drop=off".to_owned(), Some(3))
        );
        assert_eq!(take_uui(""), (String::new(), None));
        // Left for pbx-sim to refuse as it does.
        assert_eq!(take_uui("uui=129"), ("uui=129".to_owned(), None));
        assert_eq!(take_uui("uui=lots"), ("uui=lots".to_owned(), None));
    }

    #[test]
    fn config_errors_say_what_was_expected() {
        let error = |text: &str| Config::parse(text).expect_err(text);
        assert!(error("inner=/x.so").contains("no `mutant=NAME`"));
        assert!(error("mutant=frob;inner=/x.so").contains("unknown mutant `frob`"));
        assert!(error("mutant=none").contains("no `inner=PATH`"));
        assert!(error("mutant=none;inner=").contains("no `inner=PATH`"));
        assert!(error("mutant=none;mutant=none;inner=/x.so").contains("duplicate key `mutant`"));
    }

    #[test]
    fn the_guard_turns_a_panic_into_the_sdks_error_shape() {
        let outcome: ProviderResult<()> = guard(|| panic!("boom"));
        assert_eq!(
            outcome,
            RResult::RErr(ProviderError {
                code: LineError::OperationFailed.code(),
                panic: ROption::RSome("boom".into()),
            })
        );
        guard::<()>(|| panic!("a lost report"));
    }
}
