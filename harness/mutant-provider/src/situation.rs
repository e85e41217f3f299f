//! The mutants that break a rule in one situation only: each entry point
//! first asks the inner provider what situation the call is in (its state,
//! its conference and consultation links), and only there changes what is
//! forwarded or what the host is told. Everywhere else it forwards
//! unchanged.

use std::collections::HashMap;

use abi_stable::std_types::{RResult, RSlice, RVec};
use cleardown_contract::{
    AddressId, CallId, CallState, ConnectedMode, DisconnectCode, DisconnectMode, LineError,
    Relation, RequestId, SignalKind,
    abi::{FfiCallInfo, FfiProviderInfo, FfiRemoteSignal, ProviderError, ProviderResult},
};

use crate::{
    Mutant, Mutated,
    overlay::{Overlay, Plan, Status, signal},
};

/// What the inner provider says about one call.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) state: CallState,
    pub(crate) address: AddressId,
    pub(crate) parent: Option<CallId>,
    pub(crate) children: Vec<CallId>,
    pub(crate) primary: Option<CallId>,
    /// The far party's name; empty for a conference parent.
    pub(crate) remote: String,
}

impl Seen {
    fn of(info: &FfiCallInfo) -> Option<Seen> {
        let related = |relation: Relation| {
            info.related
                .iter()
                .filter(move |r| r.relation == relation.code())
                .map(|r| r.call)
        };
        Some(Seen {
            state: CallState::from_code(info.state)?,
            address: info.address,
            parent: related(Relation::Parent).next(),
            children: related(Relation::Child).collect(),
            primary: related(Relation::Primary).next(),
            remote: info.remote.to_string(),
        })
    }

    /// Still up here, neither Idle nor left by its far end.
    fn is_live(&self) -> bool {
        !matches!(self.state, CallState::Idle | CallState::Disconnected)
    }

    /// A conference parent whose conference is still on.
    fn is_live_parent(&self) -> bool {
        self.is_live() && !self.children.is_empty()
    }

    fn is_unanswered_outbound(&self) -> bool {
        self.state.is_unanswered_outbound()
    }
}

fn too_big<T>() -> ProviderResult<T> {
    RResult::RErr(ProviderError {
        code: LineError::UserUserInfoTooBig.code(),
        panic: abi_stable::std_types::ROption::RNone,
    })
}

/// `long_cascade_uui_reordered`: the UUI in blocks of 8 bytes, the blocks
/// in reverse order (a copy loop that walks its blocks from the end).
pub(crate) fn reorder_blocks(uui: &[u8]) -> Vec<u8> {
    uui.chunks(8).rev().flatten().copied().collect()
}

/// Each party's signal count: where the signals a forwarded call sends start.
pub(crate) type Counts = HashMap<String, usize>;

impl Mutated {
    pub(crate) fn overlay(&self) -> std::sync::MutexGuard<'_, Overlay> {
        self.tap.overlay()
    }

    pub(crate) fn seen(&self, call: CallId) -> Option<Seen> {
        match self.inner.call_info(call) {
            RResult::ROk(info) => Seen::of(&info),
            RResult::RErr(_) => None,
        }
    }

    /// The `uui_drop_size` the host was told.
    pub(crate) fn drop_size(&self) -> usize {
        match self.info_new() {
            RResult::ROk(info) => info.uui_drop_size as usize,
            RResult::RErr(_) => 0,
        }
    }

    fn conf_drop(&self, address: AddressId) -> bool {
        match self.inner.info() {
            RResult::ROk(info) => info
                .addresses
                .get(address.0 as usize)
                .is_some_and(|a| a.conf_drop),
            RResult::RErr(_) => false,
        }
    }

    /// The parties (by name, with their call) of every conference nested in
    /// the one `root` is the parent of, at any depth.
    fn nested_parties(&self, root: &Seen) -> Vec<(String, CallId)> {
        let mut parties = Vec::new();
        let mut stack: Vec<(CallId, bool)> = root.children.iter().map(|&c| (c, false)).collect();
        while let Some((call, nested)) = stack.pop() {
            let Some(seen) = self.seen(call) else {
                continue;
            };
            if seen.children.is_empty() {
                if nested && !seen.remote.is_empty() {
                    parties.push((seen.remote, call));
                }
            } else {
                stack.extend(seen.children.iter().map(|&c| (c, true)));
            }
        }
        parties
    }

    pub(crate) fn signal_counts(&self) -> Counts {
        match self.inner.far_end() {
            RResult::ROk(parties) => parties
                .iter()
                .map(|p| (p.name.to_string(), p.received.len()))
                .collect(),
            RResult::RErr(_) => Counts::new(),
        }
    }

    /// Every signal the inner provider sent since `before`, offered to
    /// `edit`; what it returns stands in its place in the far-end view.
    fn edit_new_signals(
        &self,
        before: &Counts,
        mut edit: impl FnMut(&str, &FfiRemoteSignal) -> Option<Vec<FfiRemoteSignal>>,
    ) {
        let RResult::ROk(parties) = self.inner.far_end() else {
            return;
        };
        let mut overlay = self.overlay();
        for party in parties.iter() {
            let from = before.get(party.name.as_str()).copied().unwrap_or(0);
            for (at, sent) in party.received.iter().enumerate().skip(from) {
                if let Some(signals) = edit(party.name.as_str(), sent) {
                    overlay.replace_signal(party.name.as_str(), at, signals);
                }
            }
        }
    }

    /// Runs `f` with the sink following `plan`, then clears the plan.
    pub(crate) fn planned<T>(&mut self, plan: Plan, f: impl FnOnce(&mut Self) -> T) -> T {
        self.overlay().plan = plan;
        let outcome = f(self);
        self.overlay().plan = Plan::default();
        outcome
    }

    /// Forwards a drop, then lets `edit` rewrite what it sent.
    fn drop_editing(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
        edit: impl FnMut(&str, &FfiRemoteSignal) -> Option<Vec<FfiRemoteSignal>>,
    ) -> ProviderResult<()> {
        let before = self.signal_counts();
        let outcome = self.inner.drop_call(request, call, code, uui);
        if outcome.is_ok() {
            self.edit_new_signals(&before, edit);
        }
        outcome
    }

    pub(crate) fn info_new(&self) -> ProviderResult<FfiProviderInfo> {
        self.inner.info().map(|mut info| {
            if let Some(size) = self.declared_uui {
                info.uui_drop_size = size;
            }
            info
        })
    }

    pub(crate) fn drop_new(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        let Some(seen) = self.seen(call) else {
            return self.inner.drop_call(request, call, code, uui);
        };
        if let Some(outcome) = self.drop_bridged(request, call, code, uui, &seen) {
            return outcome;
        }
        let size = self.drop_size();
        let code_is = |wanted: DisconnectCode| code == wanted.code();
        match self.tap.mutant {
            Mutant::ConsultHangUpKeepsPrimaryPending => {
                let primary = seen
                    .primary
                    .filter(|_| seen.state == CallState::Disconnected)
                    .filter(|&p| {
                        self.seen(p).is_some_and(|p| {
                            matches!(
                                p.state,
                                CallState::OnHoldPendConf | CallState::OnHoldPendTransfer
                            )
                        })
                    });
                let mut plan = Plan::default();
                plan.swallow.extend(primary);
                self.planned(plan, |m| m.inner.drop_call(request, call, code, uui))
            }
            Mutant::OversizeUuiOnDisconnected
                if seen.state == CallState::Disconnected && uui.len() > size =>
            {
                self.inner
                    .drop_call(request, call, code, RSlice::from_slice(&[]))
            }
            Mutant::OversizeUuiOnConference if seen.is_live_parent() && uui.len() > size => {
                let cut = &uui.as_slice()[..size];
                self.inner.drop_call(request, call, code, cut.into())
            }
            Mutant::NoAnswerOnHoldRejects
                if code_is(DisconnectCode::NoAnswer) && seen.state == CallState::OnHold =>
            {
                self.drop_editing(request, call, code, uui, |_, sent| {
                    Some(vec![signal(SignalKind::Reject, 19, &sent.uui)])
                })
            }
            Mutant::BusyOnAcceptedRejects21
                if code_is(DisconnectCode::Busy) && seen.state == CallState::Accepted =>
            {
                self.drop_editing(request, call, code, uui, |_, sent| {
                    Some(vec![signal(SignalKind::Reject, 21, &sent.uui)])
                })
            }
            Mutant::NoAnswerConferenceRejects19
                if code_is(DisconnectCode::NoAnswer) && seen.is_live_parent() =>
            {
                self.drop_editing(request, call, code, uui, |_, sent| {
                    Some(vec![signal(SignalKind::Reject, 19, &sent.uui)])
                })
            }
            Mutant::NestedCascadeDropsUui if seen.is_live_parent() && !uui.is_empty() => {
                let nested = self.nested_parties(&seen);
                let outcome = self.drop_editing(request, call, code, uui, |party, sent| {
                    let mut bare = sent.clone();
                    bare.uui = RVec::new();
                    nested
                        .iter()
                        .any(|(name, _)| name == party)
                        .then(|| vec![bare])
                });
                if outcome.is_ok() {
                    let mut overlay = self.overlay();
                    for (_, party) in &nested {
                        overlay.edit_info(*party).uui_sent = Some(Vec::new());
                    }
                }
                outcome
            }
            Mutant::NestedCascadeReleasesTwice if seen.is_live_parent() => {
                let nested = self.nested_parties(&seen);
                self.drop_editing(request, call, code, uui, |party, sent| {
                    nested
                        .iter()
                        .any(|(name, _)| name == party)
                        .then(|| vec![sent.clone(), sent.clone()])
                })
            }
            Mutant::LongCascadeUuiReordered if seen.is_live_parent() && uui.len() > 8 => self
                .drop_editing(request, call, code, uui, |_, sent| {
                    let mut reordered = sent.clone();
                    reordered.uui = reorder_blocks(&sent.uui).as_slice().into();
                    Some(vec![reordered])
                }),
            Mutant::NestedPartyDropUnnests => {
                let nested = seen
                    .parent
                    .and_then(|p| self.seen(p).map(|parent| (p, parent)))
                    .filter(|(_, parent)| parent.parent.is_some() && parent.children.len() >= 3);
                let mut plan = Plan::default();
                if let Some((parent, _)) = nested {
                    let connected = Status::new(CallState::Connected, ConnectedMode::Active.code());
                    plan.inject.push((parent, connected));
                }
                self.planned(plan, |m| m.inner.drop_call(request, call, code, uui))
            }
            Mutant::SmallSizeRefusesExactUui if (1..=3).contains(&size) && uui.len() == size => {
                too_big()
            }
            Mutant::SmallSizeRejectTakesOneMore => {
                let reject_by_drop = self
                    .inner
                    .info()
                    .into_result()
                    .is_ok_and(|info| info.reject_by_drop);
                let hole = reject_by_drop
                    && seen.state == CallState::Accepted
                    && (1..=3).contains(&size)
                    && uui.len() == size + 1;
                if uui.len() > size && !hole {
                    return too_big();
                }
                self.inner.drop_call(request, call, code, uui)
            }
            Mutant::RingbackCancelCutsMaxUui
                if seen.state == CallState::Ringback && size > 0 && uui.len() == size =>
            {
                let cut = &uui.as_slice()[..size - 1];
                self.inner.drop_call(request, call, code, cut.into())
            }
            Mutant::StaleRingTimer if seen.is_unanswered_outbound() => {
                let outcome = self.inner.drop_call(request, call, code, uui);
                if outcome.is_ok() {
                    self.cancelled.insert(call);
                }
                outcome
            }
            Mutant::AcceptedRejectWithUuiCause16
                if seen.state == CallState::Accepted
                    && !uui.is_empty()
                    && (code_is(DisconnectCode::Normal) || code_is(DisconnectCode::Rejected)) =>
            {
                self.drop_editing(request, call, code, uui, |_, sent| {
                    Some(vec![signal(SignalKind::Reject, 16, &sent.uui)])
                })
            }
            Mutant::ConferenceConsultRingbackReleases
                if seen.state == CallState::Ringback
                    && seen.primary.is_some_and(|p| {
                        self.seen(p)
                            .is_some_and(|p| p.state == CallState::OnHoldPendConf)
                    }) =>
            {
                self.drop_editing(request, call, code, uui, |_, sent| {
                    Some(vec![signal(SignalKind::Release, 16, &sent.uui)])
                })
            }
            _ => self.inner.drop_call(request, call, code, uui),
        }
    }

    pub(crate) fn close_new(&mut self, call: CallId) -> ProviderResult<()> {
        let seen = self.seen(call);
        let outcome = match (self.tap.mutant, seen) {
            (Mutant::CloseLeftPartyReleases, Some(seen))
                if seen.state == CallState::Disconnected && self.left.contains(&call) =>
            {
                let before = self.signal_counts();
                let outcome = self.inner.close_call(call);
                if outcome.is_ok() {
                    let at = before.get(&seen.remote).copied().unwrap_or(0);
                    let release = signal(SignalKind::Release, 16, &[]);
                    self.overlay().insert_signal(&seen.remote, at, release);
                }
                outcome
            }
            (Mutant::CloseParentKeepsParties, Some(seen))
                if seen.is_live_parent() && self.conf_drop(seen.address) =>
            {
                // Forgotten here, never dropped: its parties stay in a
                // conference nobody can reach any more.
                RResult::ROk(())
            }
            (Mutant::CloseCollapseLeavesPartyConferenced, Some(seen)) if seen.is_live() => {
                let remaining = seen
                    .parent
                    .and_then(|p| self.seen(p))
                    .filter(|parent| parent.parent.is_none() && parent.children.len() == 2)
                    .and_then(|parent| parent.children.into_iter().find(|&c| c != call));
                let mut plan = Plan::default();
                plan.swallow.extend(remaining);
                self.planned(plan, |m| m.inner.close_call(call))
            }
            _ => self.inner.close_call(call),
        };
        self.left.remove(&call);
        self.cancelled.remove(&call);
        self.overlay().forget(call);
        outcome
    }

    pub(crate) fn hang_up_new(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        let seen = self.seen(call);
        let in_conference = seen
            .as_ref()
            .filter(|s| s.state == CallState::Conferenced)
            .and_then(|s| s.parent)
            .and_then(|p| self.seen(p));
        let parties = in_conference.as_ref().map_or(0, |p| p.children.len());
        if let Some(outcome) = self.hang_up_bridged(call, cause, uui) {
            return outcome;
        }
        match self.tap.mutant {
            Mutant::HangUpModeInConference if parties >= 3 => {
                let normal = DisconnectMode::Normal.code();
                let mut plan = Plan::default();
                plan.mode.insert(call, normal);
                let outcome = self.planned(plan, |m| m.inner.remote_hang_up(call, cause, uui));
                if outcome.is_ok() {
                    self.overlay().edit_info(call).disconnect_mode = Some(normal);
                }
                outcome
            }
            Mutant::CloseLeftPartyReleases if parties > 0 => {
                let outcome = self.inner.remote_hang_up(call, cause, uui);
                if outcome.is_ok() {
                    self.left.insert(call);
                }
                outcome
            }
            Mutant::CollapseHangUpLosesUui if parties == 2 && !uui.is_empty() => {
                let outcome = self.inner.remote_hang_up(call, cause, uui);
                if outcome.is_ok() {
                    self.overlay().edit_info(call).uui_received = Some(Vec::new());
                }
                outcome
            }
            _ => self.inner.remote_hang_up(call, cause, uui),
        }
    }

    pub(crate) fn add_new(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<CallId> {
        let direct = self.tap.mutant == Mutant::DirectConferenceUnowned
            && self
                .seen(call)
                .is_some_and(|s| s.state == CallState::Connected && s.children.is_empty());
        let plan = Plan {
            unrequested: direct,
            ..Plan::default()
        };
        self.planned(plan, |m| m.inner.add_to_conference(request, call, consult))
    }

    pub(crate) fn time_new(&mut self, millis: u64) -> ProviderResult<()> {
        let outcome = self.inner.advance_time(millis);
        if outcome.is_err() {
            return outcome;
        }
        let (calls, status) = match self.tap.mutant {
            Mutant::TimerClearsDisconnected => (
                self.overlay().heard_in(CallState::Disconnected),
                Status::new(CallState::Idle, 0),
            ),
            Mutant::StaleRingTimer => {
                let mut cancelled: Vec<CallId> = self.cancelled.drain().collect();
                cancelled.sort_unstable();
                let overlay = self.overlay();
                cancelled.retain(|&c| {
                    overlay
                        .heard(c)
                        .is_some_and(|s| s.state == CallState::Idle.code())
                });
                drop(overlay);
                (cancelled, Status::new(CallState::Ringback, 0))
            }
            _ => return outcome,
        };
        for call in calls {
            self.overlay().made_up(call, status);
            self.host
                .call_state(call, status.state, status.mode, status.parent);
        }
        outcome
    }

    pub(crate) fn call_info_new(&self, call: CallId) -> ProviderResult<FfiCallInfo> {
        self.inner.call_info(call).map(|mut info| {
            self.overlay().apply_info(call, &mut info);
            if self.tap.mutant == Mutant::FarUuiCutToDropSize && info.disconnect_mode != 0 {
                let size = self.drop_size();
                if info.uui_received.len() > size {
                    info.uui_received.truncate(size);
                }
            }
            info
        })
    }

    pub(crate) fn far_end_new(
        &self,
    ) -> ProviderResult<RVec<cleardown_contract::abi::FfiRemoteParty>> {
        self.inner.far_end().map(|mut parties| {
            self.overlay().apply_far(&mut parties);
            parties
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reordered_blocks_only_move_past_eight_bytes() {
        let short: Vec<u8> = (0..8).collect();
        assert_eq!(reorder_blocks(&short), short);
        let long: Vec<u8> = (0..12).collect();
        assert_eq!(
            reorder_blocks(&long),
            [8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7]
        );
    }
}
