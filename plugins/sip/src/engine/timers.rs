//! The engine's clock: RFC 3261's transaction timers, on the time the
//! transport tells (simulated on the memory wire, real on UDP), so every
//! one of them is unit-tested without waiting.
//!
//! | timer | what | when |
//! |---|---|---|
//! | A (§17.1.1.2) | our INVITE again | unreliable transport, no response yet: T1, doubling |
//! | B | our INVITE gave up: the call is Disconnected/Unreachable | no response within [`TIMEOUT`] |
//! | E (§17.1.2.2) | our BYE or CANCEL again | unreliable transport, no final response yet: T1, doubling up to T2 |
//! | F | the far end never confirmed the release | no final response to it within [`TIMEOUT`] |
//! | G (§17.2.1), §13.3.1.4 | our final response to an INVITE again | a 2xx on any transport, an error on an unreliable one, until the ACK: T1, doubling up to T2 |
//! | no answer | an offered call the app never answered: 480 to the caller, Disconnected/NoAnswer to the app | `no_answer_ms` (configuration) after the INVITE |
//! | H | no ACK ever came: an answered call ends (below); a rejection reads `Unreachable` in call info | within [`TIMEOUT`] of the final response |
//!
//! **A release that is never confirmed** (Timer F on our BYE or CANCEL):
//! the call is Idle already, and stays so (SPEC S1, S2); the drop's Reply
//! is `Ok` (the drop did everything it could, and D9 forbids failing a
//! request whose states were reported); call info's disconnect mode then
//! reads `Unreachable`, so the app can tell that the far end may never
//! have heard the hang-up.
//!
//! **A 2xx that is never acknowledged** (Timer H on an answered call): the
//! dialog is confirmed but its session is over (§13.3.1.4): we send a
//! BYE, and the app sees the call Disconnected/Unreachable, as if the far
//! end had gone; its drop then sends nothing more (SPEC D6).

use cleardown_sdk::{CallId, DisconnectMode};

use super::{Engine, Invite, is_unanswered_outbound};

/// RFC 3261's round-trip estimate.
pub(crate) const T1: u64 = 500;
/// The longest interval between retransmissions of a non-INVITE request
/// or of a final response.
pub(crate) const T2: u64 = 4_000;
/// How long a transaction waits before it gives up (64·T1): Timers B, F
/// and H.
pub(crate) const TIMEOUT: u64 = 64 * T1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// Timer G: our final response to an inbound INVITE again, unless it
    /// was acknowledged.
    Retransmit(CallId),
    /// Timer H: stop waiting for the ACK of our final response.
    AckTimeout(CallId),
    /// Timer A: our INVITE again, while nothing has come back.
    ResendInvite { call: CallId, every: u64 },
    /// Timer B: our INVITE got no response at all.
    NoResponse(CallId),
    /// Timer E: our BYE and CANCEL again, while unanswered.
    Resend { call: CallId, every: u64 },
    /// Timer F: stop waiting for the far end's answer to a drop.
    GiveUp(CallId),
    /// An offered call rang too long without an answer.
    NoAnswer(CallId),
}

impl Timer {
    pub(super) fn call(self) -> CallId {
        match self {
            Timer::Retransmit(id)
            | Timer::AckTimeout(id)
            | Timer::NoResponse(id)
            | Timer::GiveUp(id)
            | Timer::NoAnswer(id)
            | Timer::ResendInvite { call: id, .. }
            | Timer::Resend { call: id, .. } => id,
        }
    }
}

impl Engine {
    /// Moves the clock to `now` (milliseconds; never backwards) and fires
    /// the timers that fall due, in order.
    pub(crate) fn set_time(&mut self, now: u64) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = *entry.key();
            let timer = entry.remove();
            // Each timer fires at its own time, so the ones it sets fall
            // in the right place even when time jumps far ahead.
            self.now = self.now.max(key.0);
            self.fire(key, timer);
        }
        self.now = self.now.max(now);
    }

    fn fire(&mut self, key: (u64, u64), timer: Timer) {
        if let Ok(mut call) = self.calls.get_mut(timer.call()) {
            call.timers.retain(|k| *k != key);
        }
        match timer {
            Timer::Retransmit(id) => self.retransmit_final(id),
            Timer::AckTimeout(id) => self.ack_timeout(id),
            Timer::ResendInvite { call, every } => self.resend_invite(call, every),
            Timer::NoResponse(id) => self.no_response(id),
            Timer::Resend { call, every } => self.resend(call, every),
            Timer::GiveUp(id) => self.give_up(id),
            Timer::NoAnswer(id) => self.no_answer(id),
        }
    }

    /// Schedules Timer E for the BYE or CANCEL just sent, on a transport
    /// that loses messages.
    pub(super) fn resend_later(&mut self, id: CallId) {
        if !self.reliable {
            self.schedule(
                T1,
                Timer::Resend {
                    call: id,
                    every: T1,
                },
            );
        }
    }

    fn retransmit_final(&mut self, id: CallId) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let Invite::Server(invite) = &mut call.invite else {
            return;
        };
        let (Some(_), Some(last), false) = (invite.final_at, invite.last.clone(), invite.acked)
        else {
            return;
        };
        invite.every = (invite.every * 2).min(T2);
        let (to, every) = (invite.source, invite.every);
        self.send(last, to);
        self.schedule(every, Timer::Retransmit(id));
    }

    fn ack_timeout(&mut self, id: CallId) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let Invite::Server(invite) = &mut call.invite else {
            return;
        };
        if invite.acked || invite.final_at.is_none() {
            return;
        }
        invite.acked = true;
        let answered = invite
            .last
            .as_ref()
            .is_some_and(|r| r.status_code.code() < 300);
        let connected = answered && !call.ended && !call.status.is_idle();
        if !answered && call.disconnect_mode.is_none() {
            // Our rejection was never acknowledged: as for a BYE that
            // times out, the far end may never have heard it.
            call.disconnect_mode = Some(DisconnectMode::Unreachable);
        }
        self.note(format!("{id}: no ACK for the final response; giving up"));
        if connected {
            // §13.3.1.4: the session SHOULD be terminated, with a BYE.
            self.send_bye(id, &[]);
            self.end_by_far(id, DisconnectMode::Unreachable, Vec::new());
        }
        self.after_ack(id);
    }

    fn resend_invite(&mut self, id: CallId, every: u64) {
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        let Invite::Client(invite) = &call.invite else {
            return;
        };
        if invite.responded || invite.final_code.is_some() {
            return;
        }
        let request = invite.request.clone();
        self.send(request, None);
        let every = every * 2;
        self.schedule(every, Timer::ResendInvite { call: id, every });
    }

    fn resend(&mut self, id: CallId, every: u64) {
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        let mut again = Vec::new();
        again.extend(call.bye_request.clone());
        if let Invite::Client(invite) = &call.invite {
            again.extend(invite.cancel_request.as_deref().cloned());
        }
        if again.is_empty() {
            return;
        }
        for request in again {
            self.send(request, None);
        }
        let every = (every * 2).min(T2);
        self.schedule(every, Timer::Resend { call: id, every });
    }

    fn give_up(&mut self, id: CallId) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let mut unconfirmed = false;
        if let Some(branch) = call.bye.take() {
            self.client_branches.remove(&branch);
            unconfirmed = true;
        }
        call.bye_request = None;
        call.bye_after_ack = None;
        if let Invite::Client(invite) = &mut call.invite {
            invite.cancel_request = None;
            if invite.final_code.is_none() {
                invite.final_code = Some(408);
                unconfirmed = true;
            }
        }
        if unconfirmed && call.disconnect_mode.is_none() {
            // The far end may never have heard the hang-up: call info says
            // so (see the module documentation).
            call.disconnect_mode = Some(DisconnectMode::Unreachable);
        }
        let request = call.drop_request.take();
        if let Some(request) = request {
            self.note(format!("{id}: the far end did not answer the drop in time"));
            self.calls.complete(request);
        }
        self.cleanup(id);
    }

    /// The app never answered an offered call: the caller is told 480
    /// Temporarily Unavailable, and the app sees the call
    /// Disconnected/NoAnswer (it ended without it, SPEC S3); its drop then
    /// sends nothing (D6). Without this, INVITEs nobody answers pile up.
    fn no_answer(&mut self, id: CallId) {
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        let waiting = matches!(&call.invite, Invite::Server(invite) if invite.final_at.is_none());
        if !waiting || !call.state().is_offered() {
            return;
        }
        self.note(format!(
            "{id}: not answered in {} ms; told the caller 480",
            self.no_answer_ms
        ));
        self.respond_invite(id, 480, Vec::new());
        self.end_by_far(id, DisconnectMode::NoAnswer, Vec::new());
    }

    fn no_response(&mut self, id: CallId) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let alive = is_unanswered_outbound(&call);
        let Invite::Client(invite) = &mut call.invite else {
            return;
        };
        if invite.responded || invite.final_code.is_some() {
            return;
        }
        // Timer B: the INVITE timed out.
        invite.final_code = Some(408);
        if alive {
            self.end_by_far(id, DisconnectMode::Unreachable, Vec::new());
        } else if let Some(request) = self.take_drop_request(id) {
            self.calls.complete(request);
        }
        self.cleanup(id);
    }
}
