//! The mutants of bridged stations (SPEC §6), run around analog-bridge:
//! each breaks its rule only where a call shows at more than one station,
//! and forwards unchanged everywhere else.

use abi_stable::std_types::RSlice;
use cleardown_contract::{
    CallId, CallState, ConnectedMode, RequestId, SignalKind, abi::ProviderResult,
};

use crate::{
    Mutant, Mutated,
    overlay::{Plan, Status, signal},
    situation::Seen,
};

impl Mutated {
    /// The other calls the host last heard Connected that reach the same
    /// far party at another address: the call's appearances at the other
    /// stations of a BridgedShared line, with the mode the host heard.
    fn appearances(&self, call: CallId, seen: &Seen) -> Vec<(CallId, u32)> {
        if seen.remote.is_empty() {
            return Vec::new();
        }
        let heard = self.overlay().heard_in(CallState::Connected);
        heard
            .into_iter()
            .filter(|&other| other != call)
            .filter_map(|other| {
                let there = self.seen(other)?;
                let mode = self.overlay().heard(other)?.mode;
                (there.remote == seen.remote && there.address != seen.address)
                    .then_some((other, mode))
            })
            .collect()
    }

    /// A drop the bridged mutants change, or `None` to go on as usual.
    pub(crate) fn drop_bridged(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
        seen: &Seen,
    ) -> Option<ProviderResult<()>> {
        if seen.state != CallState::Connected {
            return None;
        }
        let mode = self.overlay().heard(call)?.mode;
        let active = ConnectedMode::Active.code();
        let others = self.appearances(call, seen);
        let other_active = others.iter().any(|&(_, m)| m == active);
        let drop = |m: &mut Mutated| m.inner.drop_call(request, call, code, uui);
        match self.tap.mutant {
            Mutant::StepOutGoesIdle if mode == active && other_active => {
                let mut plan = Plan::default();
                plan.swallow.insert(call);
                plan.inject.push((call, Status::new(CallState::Idle, 0)));
                Some(self.planned(plan, drop))
            }
            Mutant::InactiveDropReleasesFar if mode == ConnectedMode::Inactive.code() => {
                let before = self.signal_counts();
                let outcome = drop(self);
                if outcome.is_ok() {
                    let at = before.get(&seen.remote).copied().unwrap_or(0);
                    self.overlay().insert_signal(
                        &seen.remote,
                        at,
                        signal(SignalKind::Release, 16, &[]),
                    );
                }
                Some(outcome)
            }
            Mutant::LastStationKeepsInactive
                if mode == active && !other_active && !others.is_empty() =>
            {
                let mut plan = Plan::default();
                plan.swallow.extend(others.iter().map(|&(c, _)| c));
                Some(self.planned(plan, drop))
            }
            Mutant::NewStationDropIdlesOther if mode == active => {
                let victims: Vec<CallId> = self
                    .overlay()
                    .heard_in(CallState::Dialtone)
                    .into_iter()
                    .filter(|&c| self.seen(c).is_some_and(|s| s.address != seen.address))
                    .collect();
                if victims.is_empty() {
                    return None;
                }
                let plan = Plan {
                    inject: victims
                        .into_iter()
                        .map(|c| (c, Status::new(CallState::Idle, 0)))
                        .collect(),
                    ..Plan::default()
                };
                Some(self.planned(plan, drop))
            }
            _ => None,
        }
    }

    /// A far hang-up the bridged mutants change, or `None`.
    pub(crate) fn hang_up_bridged(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> Option<ProviderResult<()>> {
        if self.tap.mutant != Mutant::BridgedHangUpMissesInactive {
            return None;
        }
        let seen = self.seen(call)?;
        let inactive: Vec<CallId> = self
            .appearances(call, &seen)
            .into_iter()
            .filter(|&(_, m)| m == ConnectedMode::Inactive.code())
            .map(|(c, _)| c)
            .collect();
        if inactive.is_empty() {
            return None;
        }
        let mut plan = Plan::default();
        plan.swallow.extend(inactive);
        Some(self.planned(plan, |m| m.inner.remote_hang_up(call, cause, uui)))
    }
}
