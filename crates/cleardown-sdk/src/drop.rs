//! The contract's logic of a drop, once, for every provider: what dropping
//! a call in a state with a code does (SPEC §2, D5–D7, R1–R3, T3), which
//! Q.850 cause goes with it (SPEC §10), and the UUI size check (U2, U4).
//! A provider keeps its own world (how a release looks on its wire, which
//! parties hear it); it asks [`plan`] what to do and refuses what it
//! refuses.
//!
//! ```
//! use cleardown_sdk::drop::{self, Release};
//! use cleardown_sdk::{CallState, DisconnectCode, LineError};
//!
//! // An answered call is released with normal clearing.
//! let answered = drop::Situation::new(CallState::Connected, DisconnectCode::Normal);
//! assert_eq!(drop::plan(answered), Ok(Release::Release));
//!
//! // An offered call is rejected, busy, where the provider declares
//! // reject_by_drop (SPEC R1, R3, §10: Q.850 cause 17).
//! let offered = drop::Situation::new(CallState::Offering, DisconnectCode::Busy).rejecting(true);
//! assert_eq!(drop::plan(offered), Ok(Release::Reject { cause: drop::q850::USER_BUSY }));
//!
//! // `Busy` outside an offered call is refused (SPEC R3).
//! let wrong = drop::Situation::new(CallState::Connected, DisconnectCode::Busy);
//! assert_eq!(drop::plan(wrong), Err(LineError::InvalCallState));
//! ```

use crate::{CallState, DisconnectCode, LineError, LineResult};

/// What a drop signals to the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Clear a call that was answered (connected, held, conferenced):
    /// SPEC D5, normal clearing.
    Release,
    /// Abandon our outbound call before it was answered (dialing,
    /// proceeding, ringback): SPEC D7.
    Cancel,
    /// Refuse the far end's offered call (SPEC R1, R3, §10).
    Reject {
        /// The Q.850 cause the code asks for ([`q850::reject_cause`]).
        cause: u32,
    },
    /// Signal nothing: the far end has left already (SPEC D6), there is
    /// nobody to tell (dial tone, busy tone), or a call being closed that
    /// may not be rejected is left unanswered (T3). Only our side goes Idle.
    Nothing,
}

impl Release {
    /// The kind of signal the far end receives, if anything is sent.
    pub fn signal_kind(self) -> Option<crate::SignalKind> {
        match self {
            Release::Release => Some(crate::SignalKind::Release),
            Release::Cancel => Some(crate::SignalKind::Cancel),
            Release::Reject { .. } => Some(crate::SignalKind::Reject),
            Release::Nothing => None,
        }
    }

    /// The Q.850 cause the far end receives, if anything is sent (SPEC §10).
    pub fn cause(self) -> Option<u32> {
        match self {
            Release::Release | Release::Cancel => Some(q850::NORMAL_CLEARING),
            Release::Reject { cause } => Some(cause),
            Release::Nothing => None,
        }
    }
}

/// The drop asked for: the call's state, the code, what the provider
/// declares, and whether the host is closing the call rather than an app
/// dropping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    /// The call's state now.
    pub state: CallState,
    /// The drop's code (TAPI 3 `DISCONNECT_CODE`; `Normal` for `lineDrop`).
    pub code: DisconnectCode,
    /// The provider declares `reject_by_drop` (SPEC R1).
    pub reject_by_drop: bool,
    /// `TSPI_lineCloseCall` (SPEC T3): the last handle went away, so the
    /// call is dropped as a plain drop would be, and an offered call that
    /// may not be rejected is left alone instead of refused.
    pub closing: bool,
}

impl Situation {
    /// An app's drop of a call in `state` with `code`, by a provider that
    /// does not reject by drop.
    pub fn new(state: CallState, code: DisconnectCode) -> Situation {
        Situation {
            state,
            code,
            reject_by_drop: false,
            closing: false,
        }
    }

    /// As declared: the provider rejects offered calls by drop (R1).
    pub fn rejecting(self, reject_by_drop: bool) -> Situation {
        Situation {
            reject_by_drop,
            ..self
        }
    }

    /// The host closing the call (T3), which drops it with `Normal`.
    pub fn closing(self) -> Situation {
        Situation {
            closing: true,
            code: DisconnectCode::Normal,
            ..self
        }
    }
}

/// What dropping in `situation` does, or why SPEC refuses it:
/// `InvalCallState` for an Idle call and for `Rejected`/`Busy` outside an
/// offered call (R3); `OperationUnavail` for an app's drop of an offered
/// call by a provider that does not reject by drop (R2).
pub fn plan(situation: Situation) -> LineResult<Release> {
    let Situation {
        state,
        code,
        reject_by_drop,
        closing,
    } = situation;
    let rejecting = matches!(code, DisconnectCode::Rejected | DisconnectCode::Busy);
    if state == CallState::Idle || (rejecting && !state.is_offered()) {
        return Err(LineError::InvalCallState);
    }
    Ok(match state {
        CallState::Offering | CallState::Accepted if reject_by_drop => Release::Reject {
            cause: q850::reject_cause(code),
        },
        CallState::Offering | CallState::Accepted if closing => Release::Nothing,
        CallState::Offering | CallState::Accepted => return Err(LineError::OperationUnavail),
        CallState::Dialing | CallState::Proceeding | CallState::Ringback => Release::Cancel,
        CallState::Connected
        | CallState::OnHold
        | CallState::OnHoldPendConf
        | CallState::OnHoldPendTransfer
        | CallState::Conferenced => Release::Release,
        CallState::Disconnected
        | CallState::Idle
        | CallState::Dialtone
        | CallState::Busy
        | CallState::SpecialInfo
        | CallState::Unknown => Release::Nothing,
    })
}

/// SPEC U2, U4: UUI longer than the provider's `limit` is refused with
/// `UserUserInfoTooBig`, never truncated.
pub fn check_uui(uui: &[u8], limit: u32) -> LineResult<()> {
    match u32::try_from(uui.len()) {
        Ok(len) if len <= limit => Ok(()),
        _ => Err(LineError::UserUserInfoTooBig),
    }
}

/// The Q.850 causes of SPEC §10, both ways: the cause a drop sends, and
/// the disconnect mode a cause received means ([`mode`]).
pub mod q850 {
    use crate::{DisconnectCode, DisconnectMode};

    /// Normal call clearing: a release or a cancel.
    pub const NORMAL_CLEARING: u32 = 16;
    /// User busy: a busy rejection.
    pub const USER_BUSY: u32 = 17;
    /// No answer from user (user alerted).
    pub const NO_ANSWER: u32 = 19;
    /// Call rejected.
    pub const CALL_REJECTED: u32 = 21;

    /// The cause that rejecting an offered call with `code` sends (SPEC R3,
    /// §10): 17 for busy, 19 for no answer, 21 otherwise.
    pub const fn reject_cause(code: DisconnectCode) -> u32 {
        match code {
            DisconnectCode::Busy => USER_BUSY,
            DisconnectCode::NoAnswer => NO_ANSWER,
            DisconnectCode::Normal | DisconnectCode::Rejected => CALL_REJECTED,
        }
    }

    /// The disconnect mode the far end's clearing with `cause` gives the
    /// call (SPEC S3, §10).
    pub const fn mode(cause: u32) -> DisconnectMode {
        DisconnectMode::from_q850(cause)
    }

    /// The cause's name in Q.850's words, for wire text.
    pub const fn explain(cause: u32) -> &'static str {
        match cause {
            NORMAL_CLEARING => "normal call clearing",
            USER_BUSY => "user busy",
            NO_ANSWER => "no answer from user (user alerted)",
            CALL_REJECTED => "call rejected",
            _ => "unspecified",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DisconnectMode;

    const EVERY_STATE: [CallState; 15] = [
        CallState::Idle,
        CallState::Offering,
        CallState::Accepted,
        CallState::Dialtone,
        CallState::Dialing,
        CallState::Ringback,
        CallState::Busy,
        CallState::SpecialInfo,
        CallState::Connected,
        CallState::Proceeding,
        CallState::OnHold,
        CallState::Conferenced,
        CallState::OnHoldPendConf,
        CallState::OnHoldPendTransfer,
        CallState::Disconnected,
    ];

    const EVERY_CODE: [DisconnectCode; 4] = [
        DisconnectCode::Normal,
        DisconnectCode::Rejected,
        DisconnectCode::Busy,
        DisconnectCode::NoAnswer,
    ];

    /// One line per situation: `state code reject_by_drop closing -> plan`.
    fn table() -> String {
        let mut out = String::new();
        for state in EVERY_STATE {
            for code in EVERY_CODE {
                for (rejects, closing) in [(false, false), (true, false), (false, true)] {
                    let mut situation = Situation::new(state, code).rejecting(rejects);
                    situation.closing = closing;
                    out.push_str(&format!(
                        "{state:?} {code:?} rejects={rejects} closing={closing} -> {:?}\n",
                        plan(situation)
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn the_rules_of_spec_section_2() {
        let table = table();
        let has = |line: &str| assert!(table.contains(line), "{line}\n{table}");
        // D5, D7, D6.
        has("Connected Normal rejects=false closing=false -> Ok(Release)");
        has("OnHold Normal rejects=false closing=false -> Ok(Release)");
        has("Ringback NoAnswer rejects=false closing=false -> Ok(Cancel)");
        has("Disconnected Normal rejects=false closing=false -> Ok(Nothing)");
        // R1, R3 and the causes of §10.
        has("Offering Busy rejects=true closing=false -> Ok(Reject { cause: 17 })");
        has("Accepted NoAnswer rejects=true closing=false -> Ok(Reject { cause: 19 })");
        has("Offering Normal rejects=true closing=false -> Ok(Reject { cause: 21 })");
        // R2: no reject by drop; T3 leaves it alone.
        has("Offering Normal rejects=false closing=false -> Err(OperationUnavail)");
        has("Offering Normal rejects=false closing=true -> Ok(Nothing)");
        // R3: rejecting codes only where a call is offered; Idle never.
        has("Connected Rejected rejects=true closing=false -> Err(InvalCallState)");
        has("Dialing Busy rejects=false closing=false -> Err(InvalCallState)");
        for code in EVERY_CODE {
            assert_eq!(
                plan(Situation::new(CallState::Idle, code).rejecting(true)),
                Err(LineError::InvalCallState)
            );
        }
    }

    #[test]
    fn closing_is_a_plain_drop() {
        let closing = Situation::new(CallState::Offering, DisconnectCode::Busy)
            .rejecting(true)
            .closing();
        assert_eq!(plan(closing), Ok(Release::Reject { cause: 21 }));
    }

    #[test]
    fn causes_both_ways() {
        for code in EVERY_CODE {
            let cause = q850::reject_cause(code);
            let mode = q850::mode(cause);
            let expected = match code {
                DisconnectCode::Busy => DisconnectMode::Busy,
                DisconnectCode::NoAnswer => DisconnectMode::NoAnswer,
                _ => DisconnectMode::Reject,
            };
            assert_eq!(mode, expected, "{code:?}");
        }
        assert_eq!(q850::mode(q850::NORMAL_CLEARING), DisconnectMode::Normal);
        assert_eq!(Release::Cancel.cause(), Some(16));
        assert_eq!(
            Release::Reject { cause: 17 }.signal_kind(),
            Some(crate::SignalKind::Reject)
        );
        assert_eq!(Release::Nothing.cause(), None);
    }

    #[test]
    fn uui_is_refused_past_the_limit_never_truncated() {
        assert_eq!(check_uui(&[0; 128], 128), Ok(()));
        assert_eq!(
            check_uui(&[0; 129], 128),
            Err(LineError::UserUserInfoTooBig)
        );
        assert_eq!(check_uui(&[], 0), Ok(()));
        assert_eq!(check_uui(&[1], 0), Err(LineError::UserUserInfoTooBig));
    }
}
