//! Which state a call must be in for an app's operation or a far-end
//! stimulus to apply (TAPI's state rules; SPEC S3 for the far end's
//! hang-up), once for every provider: anything else is `InvalCallState`
//! and changes nothing (SPEC X1).
//!
//! ```
//! use cleardown_sdk::step::{self, Step};
//! use cleardown_sdk::{CallState, LineError};
//!
//! assert_eq!(step::check(Step::Answer, CallState::Accepted, false), Ok(()));
//! // The far end alerts only a call we placed, before it rings.
//! assert_eq!(
//!     step::check(Step::FarAlert, CallState::Ringback, true),
//!     Err(LineError::InvalCallState)
//! );
//! ```

use crate::{CallState, LineError, LineResult};

/// An app's operation on one call, or a stimulus of the simulated far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `lineAnswer`: an offered call, accepted or not (one the far end
    /// placed).
    Answer,
    /// `lineAccept`: an offered call not yet accepted.
    Accept,
    /// `lineHold`: a connected call.
    Hold,
    /// `lineUnhold`: a held call.
    Unhold,
    /// The far end alerts (rings) a call we placed: dialing or proceeding.
    FarAlert,
    /// The far end answers a call we placed: dialing, proceeding or ringback.
    FarAnswer,
    /// The far end hangs up: wherever a far party is on the call (SPEC S3,
    /// [`CallState::far_party_present`]).
    FarHangUp,
}

/// Whether `step` applies to a call in `state`; `outbound`: the call is one
/// we placed (the far end's alert and answer need that, and the app's
/// accept and answer need the opposite: only the far end's call is offered).
pub const fn allows(step: Step, state: CallState, outbound: bool) -> bool {
    match step {
        Step::Answer => !outbound && state.is_offered(),
        Step::Accept => !outbound && matches!(state, CallState::Offering),
        Step::Hold => matches!(state, CallState::Connected),
        Step::Unhold => matches!(state, CallState::OnHold),
        Step::FarAlert => outbound && matches!(state, CallState::Dialing | CallState::Proceeding),
        Step::FarAnswer => {
            outbound
                && matches!(
                    state,
                    CallState::Dialing | CallState::Proceeding | CallState::Ringback
                )
        }
        Step::FarHangUp => state.far_party_present(),
    }
}

/// `Ok` where `step` applies (see [`allows`]), else `InvalCallState`.
pub const fn check(step: Step, state: CallState, outbound: bool) -> LineResult<()> {
    if allows(step, state, outbound) {
        Ok(())
    } else {
        Err(LineError::InvalCallState)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_in_its_states_only() {
        use CallState::*;
        let every = [
            Idle,
            Offering,
            Accepted,
            Dialtone,
            Dialing,
            Ringback,
            Busy,
            SpecialInfo,
            Connected,
            Proceeding,
            OnHold,
            Conferenced,
            OnHoldPendConf,
            OnHoldPendTransfer,
            Disconnected,
        ];
        let allowed = |step, outbound| -> Vec<CallState> {
            every
                .into_iter()
                .filter(|s| allows(step, *s, outbound))
                .collect()
        };
        assert_eq!(allowed(Step::Answer, false), [Offering, Accepted]);
        assert_eq!(allowed(Step::Accept, false), [Offering]);
        assert_eq!(
            allowed(Step::Answer, true),
            [],
            "our own call is never offered"
        );
        assert_eq!(allowed(Step::Accept, true), []);
        assert_eq!(allowed(Step::Hold, false), [Connected]);
        assert_eq!(allowed(Step::Unhold, false), [OnHold]);
        assert_eq!(allowed(Step::FarAlert, true), [Dialing, Proceeding]);
        assert_eq!(allowed(Step::FarAlert, false), []);
        assert_eq!(
            allowed(Step::FarAnswer, true),
            [Dialing, Ringback, Proceeding]
        );
        assert!(!allowed(Step::FarHangUp, false).contains(&Disconnected));
        assert!(!allowed(Step::FarHangUp, false).contains(&Idle));
        assert!(allowed(Step::FarHangUp, false).contains(&OnHold));
        assert_eq!(
            check(Step::Hold, OnHold, false),
            Err(LineError::InvalCallState)
        );
    }
}
