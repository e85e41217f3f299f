//! The `memory` transport: our engine and the far user agent ([`FarUa`])
//! joined by a wire that loses nothing. Every message, in both directions,
//! is serialized to text and parsed back with rsip before it is delivered
//! (so what crosses is real SIP), and its text is appended to the wire log.
//!
//! Processing is synchronous: every operation and stimulus runs until
//! nothing is left in flight before it returns, in FIFO order, so the same
//! scenario always gives the same wire log and the same reports.

use std::collections::VecDeque;

use cleardown_sdk::{
    AddressId, CallId, CallState, LineError, LineResult, RemoteParty, Reporter, drop,
    step::{self, Step},
};
use rsipstack::rsip::SipMessage;

use crate::engine::{Engine, MAX_UUI, Output};
use crate::far::FarUa;
use crate::message;

/// Our host as the memory wire shows it, and the far end's.
pub(crate) use cleardown_sip::{FAR_HOST, LOCAL_HOST};
/// A scenario that has not settled after this many deliveries is a bug;
/// the loop stops rather than spin.
const MAX_DELIVERIES: usize = 10_000;

/// One message as it crossed the memory wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireEntry {
    /// From our line to the far end (else the other way).
    pub(crate) outbound: bool,
    /// Its text exactly as serialized (CRLF line ends).
    pub(crate) text: String,
}

impl std::fmt::Display for WireEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arrow = if self.outbound { "->" } else { "<-" };
        write!(f, "{arrow} {}", self.text.replace("\r\n", "\n"))
    }
}

#[derive(Debug)]
struct InFlight {
    outbound: bool,
    message: SipMessage,
    text: String,
}

/// The memory transport. See the module documentation.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) engine: Engine,
    far: FarUa,
    reporter: Reporter,
    clock: u64,
    queue: VecDeque<InFlight>,
    wire: Vec<WireEntry>,
    notes: Vec<String>,
    /// Tests: keep messages for the far end here instead of delivering
    /// them, to make messages cross (glare, a 200 crossing a CANCEL).
    hold_outbound: bool,
    held: VecDeque<InFlight>,
}

impl Memory {
    pub(crate) fn new(reporter: Reporter, no_answer_ms: u64) -> Self {
        let local = rsipstack::rsip::HostWithPort::from(rsipstack::rsip::Domain::from(LOCAL_HOST));
        let far = rsipstack::rsip::HostWithPort::from(rsipstack::rsip::Domain::from(FAR_HOST));
        let mut engine = Engine::new(local.clone(), far.clone(), true);
        engine.set_no_answer(no_answer_ms);
        Memory {
            engine,
            far: FarUa::new(far, local),
            reporter,
            clock: 0,
            queue: VecDeque::new(),
            wire: Vec::new(),
            notes: Vec::new(),
            hold_outbound: false,
            held: VecDeque::new(),
        }
    }

    /// Runs `f` on the engine, then everything it set off.
    pub(crate) fn run<T>(&mut self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let result = f(&mut self.engine);
        self.settle();
        result
    }

    #[cfg(test)]
    pub(crate) fn wire(&self) -> &[WireEntry] {
        &self.wire
    }

    #[cfg(test)]
    pub(crate) fn notes(&self) -> &[String] {
        &self.notes
    }

    pub(crate) fn far_end(&self) -> Vec<RemoteParty> {
        self.far.view()
    }

    /// Tests: hold (or deliver again) what our line sends to the far end.
    #[cfg(test)]
    pub(crate) fn hold_outbound(&mut self, hold: bool) {
        self.hold_outbound = hold;
        if !hold {
            self.queue.extend(self.held.drain(..));
            self.settle();
        }
    }

    /// Tests: the far user agent, to make it act where the stimuli would
    /// refuse (our side already Idle); call [`Memory::settle`] after.
    #[cfg(test)]
    pub(crate) fn far_mut(&mut self) -> &mut FarUa {
        &mut self.far
    }

    /// Tests: `text` arrives from the far end as it is (a retransmission,
    /// a request for a dialog that does not exist), parsed with rsip.
    #[cfg(test)]
    pub(crate) fn inject(&mut self, text: &str) {
        match SipMessage::try_from(text) {
            Ok(message) => {
                self.wire.push(WireEntry {
                    outbound: false,
                    text: text.to_owned(),
                });
                self.engine.receive(message, None);
                self.settle();
            }
            Err(error) => self
                .notes
                .push(format!("injected text is not SIP: {error}")),
        }
    }

    pub(crate) fn advance_time(&mut self, millis: u64) {
        self.clock = self.clock.saturating_add(millis);
        let now = self.clock;
        self.run(|engine| engine.set_time(now));
    }

    fn transmit(&mut self, outbound: bool, message: &SipMessage) {
        match message::round_trip(message) {
            Ok((text, message)) => {
                self.wire.push(WireEntry {
                    outbound,
                    text: text.clone(),
                });
                self.queue.push_back(InFlight {
                    outbound,
                    message,
                    text,
                });
            }
            Err(error) => {
                let text = message::wire_text(message);
                self.notes
                    .push(format!("rsip cannot read back what was sent: {error}"));
                self.wire.push(WireEntry { outbound, text });
            }
        }
    }

    fn drain(&mut self) {
        for output in self.engine.take_output() {
            match output.report(&self.reporter) {
                Some(Output::Send { message, .. }) => self.transmit(true, &message),
                Some(Output::Note(note)) => self.notes.push(note),
                _ => {}
            }
        }
        for message in self.far.take_output() {
            self.transmit(false, &message);
        }
    }

    /// Delivers until nothing is in flight.
    pub(crate) fn settle(&mut self) {
        for _ in 0..MAX_DELIVERIES {
            self.drain();
            let Some(item) = self.queue.pop_front() else {
                return;
            };
            if item.outbound && self.hold_outbound {
                self.held.push_back(item);
            } else if item.outbound {
                self.far.receive(item.message, &item.text);
            } else {
                self.engine.receive(item.message, None);
            }
        }
        self.notes
            .push("the memory wire did not settle; stopped delivering".to_owned());
    }

    // ---- stimuli (the far end acts) -----------------------------------------

    /// Whether we placed `call`, its state and its SIP Call-ID.
    fn sip_call_id(&self, call: CallId) -> LineResult<(bool, CallState, String)> {
        let view = self.engine.view(call).ok_or(LineError::InvalPointer)?;
        Ok((view.outbound, view.status.state(), view.sip_call_id))
    }

    pub(crate) fn remote_offer(
        &mut self,
        address: AddressId,
        from: &str,
        uui: &[u8],
    ) -> LineResult<CallId> {
        if address != AddressId(0) || !message::is_plain_user(from) {
            return Err(LineError::InvalPointer);
        }
        drop::check_uui(uui, MAX_UUI)?;
        let call_id = self.far.offer(from, uui);
        self.settle();
        self.engine
            .call_for(&call_id)
            .ok_or(LineError::OperationFailed)
    }

    pub(crate) fn remote_alert(&mut self, call: CallId) -> LineResult<()> {
        let (outbound, state, call_id) = self.sip_call_id(call)?;
        step::check(Step::FarAlert, state, outbound)?;
        if !self.far.alert(&call_id) {
            return Err(LineError::InvalCallState);
        }
        self.settle();
        Ok(())
    }

    pub(crate) fn remote_answer(&mut self, call: CallId) -> LineResult<()> {
        let (outbound, state, call_id) = self.sip_call_id(call)?;
        step::check(Step::FarAnswer, state, outbound)?;
        if !self.far.answer(&call_id) {
            return Err(LineError::InvalCallState);
        }
        self.settle();
        Ok(())
    }

    pub(crate) fn remote_hang_up(
        &mut self,
        call: CallId,
        cause: u32,
        uui: &[u8],
    ) -> LineResult<()> {
        let (_, state, call_id) = self.sip_call_id(call)?;
        drop::check_uui(uui, MAX_UUI)?;
        step::check(Step::FarHangUp, state, false)?;
        if !self.far.hang_up(&call_id, cause, uui) {
            return Err(LineError::InvalCallState);
        }
        self.settle();
        Ok(())
    }
}
