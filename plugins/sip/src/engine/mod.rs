//! Our user agent, sans I/O: dialogs and the INVITE and non-INVITE
//! transactions of RFC 3261 for one line, driven by parsed messages, the
//! contract's operations and a clock it is told about. What it wants sent
//! and what it reports come out, in order, from [`Engine::take_output`]; a
//! transport moves the bytes and hands the reports to the host.
//!
//! Every identifier comes from a counter (Call-ID `N@cleardown.invalid`,
//! tags `tN`, branches `z9hG4bKbN`) and time only moves when the transport
//! says so, so the same inputs always give the same messages.
//!
//! Mapping onto the contract (SPEC §10):
//! * an outbound call is an INVITE; 100 → Proceeding, 180/183 → Ringback,
//!   2xx → ACK and Connected, a final error → ACK and Disconnected (its
//!   Q.850 `Reason` if any, else the status code, picks the mode);
//! * an inbound INVITE is a new call in Offering (after a 100 Trying);
//!   accept sends 180, answer sends 200 and the call is Connected at once
//!   (the request completes then; the ACK only stops retransmissions);
//! * dropping sends what the state requires — BYE with `Reason:
//!   Q.850;cause=16` for a confirmed dialog, CANCEL for an unanswered
//!   outbound call (D7), a 603/486/480 rejection for an offered one (R1,
//!   R3), nothing after the far end left (D6) — each with `User-to-User`
//!   when the drop has UUI (U3). The call is Idle at once; the drop's
//!   request completes when the far end has answered what we sent (the
//!   BYE's final response, the 487 to the cancelled INVITE), or when the
//!   transaction times out ([`TIMEOUT`], RFC 3261 Timer F); then the
//!   release was never confirmed, and call info says so with the
//!   disconnect mode `Unreachable` (see [`timers`]);
//! * the far end's BYE (or CANCEL, or final error) is Disconnected with the
//!   mode of its Q.850 cause (S3) and its UUI (U5).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use cleardown_sdk::{
    AddressId, CallId, CallInfo, CallStatus, DisconnectCode, DisconnectMode, LineError, LineResult,
    RequestId,
    calls::{self, Calls},
    drop::{self, Release},
    step::Step,
};
use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{Header, HostWithPort, Method, Request, Response, SipMessage, Uri};

use crate::message::{self, Common, RequestParts};

mod answer;
mod checks;
mod incoming;
mod output;
mod timers;

use output::Outbox;
pub(crate) use output::Output;
use timers::Timer;

/// The only address: one SIP line.
pub(crate) use cleardown_sip::LINE;
pub(crate) use timers::{T1, TIMEOUT};
/// A request whose header section is larger is refused with 513.
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;
/// The UUI a drop may carry (SPEC U1), as ISDN's user-user element.
pub(crate) const MAX_UUI: u32 = 128;
/// Answered non-INVITE requests remembered for retransmissions.
const ANSWERED: usize = 64;

/// Where a message came from or goes: a transport address, or `None` for
/// the configured peer (the memory transport's far end is always the peer).
pub(crate) type Source = Option<SocketAddr>;

/// The dialog of a call (RFC 3261 §12), from our side.
#[derive(Debug)]
struct Dialog {
    call_id: String,
    local_uri: Uri,
    local_tag: String,
    remote_uri: Uri,
    remote_tag: Option<String>,
    /// Where in-dialog requests go: the far end's Contact.
    remote_target: Uri,
    local_cseq: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancel {
    No,
    /// Dropped before any provisional response: RFC 3261 §9.1 says wait
    /// for one before sending the CANCEL.
    Deferred,
    Sent,
}

/// Our INVITE client transaction (an outbound call).
#[derive(Debug)]
struct ClientInvite {
    request: Request,
    branch: String,
    /// Any response arrived.
    responded: bool,
    /// The final response, or 408 when we stopped waiting.
    final_code: Option<u16>,
    /// The ACK we sent for the final response, sent again if it repeats.
    ack: Option<Request>,
    cancel: Cancel,
    /// The CANCEL we sent, for its retransmissions, until its own final
    /// response (RFC 3261 §9.1: a non-INVITE transaction of its own).
    cancel_request: Option<Box<Request>>,
    /// The UUI of the drop that cancelled: also on the BYE if a 2xx
    /// crosses the CANCEL.
    drop_uui: Vec<u8>,
}

/// A server transaction's key (RFC 3261 §17.2.3): the top Via's branch
/// and sent-by. The method is matched beside it (an ACK or CANCEL finds
/// the INVITE's transaction by this key).
type TxKey = (String, String);

/// The tag of our answer to an OPTIONS outside a dialog: made from its
/// transaction, so the same request gets the same tag and no dialog tag
/// is used up (a `token`, whatever the branch held).
fn options_tag(key: &TxKey) -> String {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys: the same tag on every run.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    format!("o{:x}", hasher.finish())
}

/// RFC 3261's branches begin so; a request without one comes from an RFC
/// 2543 element.
const MAGIC_COOKIE: &str = "z9hG4bK";

/// The key of `common`'s transaction: its branch and sent-by, or for an
/// RFC 2543 request (no magic cookie) what §17.2.3 matches it by instead,
/// the Call-ID, CSeq number and From tag (To tags differ between an INVITE
/// and its ACK), with the sent-by.
fn tx_key(common: &Common) -> TxKey {
    let branch = match &common.branch {
        Some(branch) if branch.starts_with(MAGIC_COOKIE) => branch.clone(),
        _ => format!(
            "rfc2543;{};{};{}",
            common.call_id,
            common.cseq,
            common.from_tag.as_deref().unwrap_or_default()
        ),
    };
    (branch, common.sent_by.clone())
}

/// The INVITE server transaction of an inbound call.
#[derive(Debug)]
struct ServerInvite {
    request: Request,
    key: TxKey,
    source: Source,
    last: Option<Response>,
    /// When the final response went out.
    final_at: Option<u64>,
    /// The ACK for the final response arrived (or we stopped waiting).
    acked: bool,
    /// The interval until the final response is sent again (Timer G, and
    /// §13.3.1.4 for a 2xx): T1, doubling up to T2.
    every: u64,
    /// The SDP our 2xx carries: the answer to the INVITE's offer, or our
    /// offer when it made none (§13.2.1).
    session: Option<String>,
}

#[derive(Debug)]
enum Invite {
    Client(ClientInvite),
    Server(ServerInvite),
}

/// A call: the table's record (address, state, direction, disconnect
/// mode) with the SIP side of it.
type Call = calls::Call<SipCall>;

/// The SIP side of a call: its dialog, transactions and timers.
#[derive(Debug)]
struct SipCall {
    remote_name: String,
    uui_received: Vec<u8>,
    uui_sent: Vec<u8>,
    /// The host let go of it (`close_call`); kept only until what is on
    /// the wire for it is over.
    closed: bool,
    /// The dialog is over: no more requests of ours, the far end's get 481.
    ended: bool,
    dialog: Dialog,
    invite: Invite,
    /// The drop request waiting for the far end's answer (completes once).
    drop_request: Option<RequestId>,
    /// The branch of our BYE, until its final response.
    bye: Option<String>,
    /// That BYE, for its retransmissions (Timer E).
    bye_request: Option<Request>,
    /// A BYE to send once our 2xx is acknowledged (RFC 3261 §15), with UUI.
    bye_after_ack: Option<Vec<u8>>,
    /// Its timers, so that forgetting it forgets them.
    timers: Vec<(u64, u64)>,
}

impl SipCall {
    fn new(remote_name: String, uui_received: Vec<u8>, dialog: Dialog, invite: Invite) -> Self {
        SipCall {
            remote_name,
            uui_received,
            uui_sent: Vec::new(),
            closed: false,
            ended: false,
            dialog,
            invite,
            drop_request: None,
            bye: None,
            bye_request: None,
            bye_after_ack: None,
            timers: Vec::new(),
        }
    }

    /// Nothing is left on the wire for this call.
    fn settled(&self) -> bool {
        let invite_done = match &self.invite {
            Invite::Client(invite) => invite.final_code.is_some(),
            Invite::Server(invite) => invite.final_at.is_none() || invite.acked,
        };
        self.drop_request.is_none()
            && self.bye.is_none()
            && self.bye_after_ack.is_none()
            && invite_done
    }
}

/// We placed `call` and it is not answered yet: a drop cancels it.
fn is_unanswered_outbound(call: &Call) -> bool {
    call.outbound && call.state().is_unanswered_outbound()
}

/// What dropping `call` sends, from the SDK's plan of SPEC §2 (this line
/// rejects by drop, R1), in SIP: a final response for an offered call
/// (the cause's status, RFC 3398), CANCEL before the answer, BYE once the
/// dialog is confirmed, nothing once either side has ended it (D6).
fn sip_drop(call: &Call, release: Release) -> DropPlan {
    match release {
        Release::Reject { cause } => DropPlan::Reject(match cause {
            drop::q850::USER_BUSY => 486,
            drop::q850::NO_ANSWER => 480,
            _ => 603,
        }),
        Release::Cancel if is_unanswered_outbound(call) => DropPlan::Cancel,
        Release::Release | Release::Cancel if !call.ended => DropPlan::Bye,
        _ => DropPlan::Nothing,
    }
}

/// What a drop sends, from the call's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropPlan {
    /// An offered call: this final response (SPEC R1).
    Reject(u16),
    /// An unanswered outbound call: CANCEL (SPEC D7).
    Cancel,
    /// A confirmed dialog: BYE.
    Bye,
    /// The far end already left (SPEC D6).
    Nothing,
}

/// A request we answered, for its retransmissions.
#[derive(Debug)]
struct Answered {
    key: TxKey,
    method: Method,
    response: Response,
    to: Source,
}

/// The user agent. See the module documentation.
#[derive(Debug)]
pub(crate) struct Engine {
    /// Our host (and port) as Via, From and Contact show it.
    local: HostWithPort,
    /// The peer's, for the Request-URI of new calls.
    peer: HostWithPort,
    /// The transport loses nothing (the memory wire, TCP): requests are
    /// not retransmitted (RFC 3261 §17.1.1.2, §17.1.2.2), and neither are
    /// final error responses (§17.2.1); a 2xx still is, until its ACK
    /// (§13.3.1.4), whatever the transport.
    reliable: bool,
    /// What our Vias name: UDP (the memory wire too) or TCP.
    transport: rsipstack::rsip::Transport,
    /// How long an offered call rings before the caller is told 480
    /// (0: until someone ends it).
    no_answer_ms: u64,
    now: u64,
    /// The calls, reporting into the queue of everything we want done.
    calls: Calls<SipCall, Outbox>,
    /// SIP Call-ID → call.
    dialogs: HashMap<String, CallId>,
    /// Branches of our INVITEs and BYEs → call.
    client_branches: HashMap<String, CallId>,
    /// Transactions of inbound INVITEs → call.
    server_invites: HashMap<TxKey, CallId>,
    answered: VecDeque<Answered>,
    timers: BTreeMap<(u64, u64), Timer>,
    counter: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    call_id: u64,
    tag: u64,
    branch: u64,
    timer: u64,
}

/// What the memory transport's stimuli need to know about a call.
#[derive(Debug, Clone)]
pub(crate) struct CallView {
    pub(crate) outbound: bool,
    pub(crate) status: CallStatus<CallId>,
    pub(crate) sip_call_id: String,
}

impl Engine {
    pub(crate) fn new(local: HostWithPort, peer: HostWithPort, reliable: bool) -> Self {
        Engine {
            local,
            peer,
            reliable,
            transport: rsipstack::rsip::Transport::Udp,
            no_answer_ms: 0,
            now: 0,
            calls: Calls::new(Outbox::default()),
            dialogs: HashMap::new(),
            client_branches: HashMap::new(),
            server_invites: HashMap::new(),
            answered: VecDeque::new(),
            timers: BTreeMap::new(),
            counter: Counters::default(),
        }
    }

    /// Over TCP: Vias say so, and nothing is retransmitted but a 2xx.
    pub(crate) fn over_tcp(&mut self) {
        self.transport = rsipstack::rsip::Transport::Tcp;
        self.reliable = true;
    }

    /// How long an offered call may ring unanswered (0: no limit).
    pub(crate) fn set_no_answer(&mut self, millis: u64) {
        self.no_answer_ms = millis;
    }

    /// Everything the engine wants done since the last call, in order.
    pub(crate) fn take_output(&mut self) -> Vec<Output> {
        self.calls.events_mut().take()
    }

    /// The number of calls it still keeps (live, or waiting for the wire).
    #[cfg(test)]
    pub(crate) fn calls_kept(&self) -> usize {
        self.calls.len()
    }

    /// A call as the stimuli see it; `None` for one the host closed.
    pub(crate) fn view(&self, id: CallId) -> Option<CallView> {
        let call = self.open_call(id).ok()?;
        Some(CallView {
            outbound: call.outbound,
            status: call.status,
            sip_call_id: call.dialog.call_id.clone(),
        })
    }

    /// The call a SIP Call-ID belongs to.
    pub(crate) fn call_for(&self, sip_call_id: &str) -> Option<CallId> {
        self.dialogs.get(sip_call_id).copied()
    }

    // ---- identifiers and small helpers ----------------------------------

    fn new_tag(&mut self) -> String {
        self.counter.tag += 1;
        format!("t{}", self.counter.tag)
    }

    fn new_branch(&mut self) -> String {
        self.counter.branch += 1;
        format!("z9hG4bKb{}", self.counter.branch)
    }

    fn local_contact(&self) -> Uri {
        message::sip_uri(LINE, &self.local)
    }

    fn send(&mut self, message: impl Into<SipMessage>, to: Source) {
        self.calls.events_mut().push(Output::Send {
            message: Box::new(message.into()),
            to,
        });
    }

    fn note(&mut self, text: String) {
        self.calls.events_mut().push(Output::Note(text));
    }

    fn schedule(&mut self, after: u64, timer: Timer) {
        self.counter.timer += 1;
        let key = (self.now + after, self.counter.timer);
        self.timers.insert(key, timer);
        if let Ok(mut call) = self.calls.get_mut(timer.call()) {
            call.timers.push(key);
        }
    }

    /// The drop request of call `id` that waits for the far end, taken:
    /// it completes once.
    fn take_drop_request(&mut self, id: CallId) -> Option<RequestId> {
        let mut call = self.calls.get_mut(id).ok()?;
        call.drop_request.take()
    }

    /// A call the host still holds.
    fn open_call(&self, id: CallId) -> LineResult<&Call> {
        self.calls
            .get(id)
            .ok()
            .filter(|call| !call.closed)
            .ok_or(LineError::InvalPointer)
    }

    /// Forgets a closed call once nothing is left on the wire for it; a
    /// final response it sent stays answerable for retransmitted INVITEs.
    fn cleanup(&mut self, id: CallId) {
        let done = self
            .calls
            .get(id)
            .is_ok_and(|call| call.closed && call.status.is_idle() && call.settled());
        if !done {
            return;
        }
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        for key in &call.timers {
            self.timers.remove(key);
        }
        if self.dialogs.get(&call.dialog.call_id) == Some(&id) {
            self.dialogs.remove(&call.dialog.call_id);
        }
        match call.data.invite {
            Invite::Client(invite) => {
                self.client_branches.remove(&invite.branch);
            }
            Invite::Server(invite) => {
                self.server_invites.remove(&invite.key);
                if let Some(response) = invite.last {
                    self.remember(invite.key, Method::Invite, response, invite.source);
                }
            }
        }
    }

    fn remember(&mut self, key: TxKey, method: Method, response: Response, to: Source) {
        if self.answered.len() == ANSWERED {
            self.answered.pop_front();
        }
        self.answered.push_back(Answered {
            key,
            method,
            response,
            to,
        });
    }

    // ---- the contract's operations ---------------------------------------

    pub(crate) fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        if address != AddressId(0) || !message::is_plain_user(destination) {
            return Err(LineError::InvalPointer);
        }
        self.counter.call_id += 1;
        let call_id = format!("{}@cleardown.invalid", self.counter.call_id);
        let (tag, branch) = (self.new_tag(), self.new_branch());
        let local_uri = self.local_contact();
        let remote_uri = message::sip_uri(destination, &self.peer);
        let invite = message::request(
            RequestParts {
                method: Method::Invite,
                uri: &remote_uri,
                via: message::via_over(self.transport, &self.local, &branch),
                from: message::from_header(&local_uri, Some(&tag)),
                to: message::to_header(&remote_uri, None),
                call_id: &call_id,
                cseq: 1,
            },
            vec![message::contact(&local_uri), message::allow()],
        );
        let dialog = Dialog {
            call_id: call_id.clone(),
            local_uri,
            local_tag: tag,
            remote_target: remote_uri.clone(),
            remote_uri,
            remote_tag: None,
            local_cseq: 1,
        };
        let client = Invite::Client(ClientInvite {
            request: invite.clone(),
            branch: branch.clone(),
            responded: false,
            final_code: None,
            ack: None,
            cancel: Cancel::No,
            cancel_request: None,
            drop_uui: Vec::new(),
        });
        let call = SipCall::new(destination.to_owned(), Vec::new(), dialog, client);
        // Not `Calls::dial`: the INVITE goes out between Dialing and
        // Proceeding.
        let id = self.calls.add(address, true, Some(request), call);
        self.dialogs.insert(call_id, id);
        self.client_branches.insert(branch, id);
        self.calls.enter(id, CallStatus::Dialing);
        self.send(invite, None);
        self.calls.enter(id, CallStatus::Proceeding);
        if !self.reliable {
            self.schedule(
                T1,
                Timer::ResendInvite {
                    call: id,
                    every: T1,
                },
            );
        }
        self.schedule(TIMEOUT, Timer::NoResponse(id));
        self.calls.complete(request);
        Ok(id)
    }

    /// Sends a response to the inbound INVITE of `id`; a final one starts
    /// the retransmissions that the ACK stops.
    fn respond_invite(&mut self, id: CallId, code: u16, extra: Vec<Header>) {
        let contact = self.local_contact();
        let now = self.now;
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let call: &mut SipCall = &mut call;
        let Invite::Server(invite) = &mut call.invite else {
            return;
        };
        let mut extra = extra;
        if code < 300 && code > 100 {
            extra.insert(0, message::contact(&contact));
        }
        let tag = (code > 100).then_some(call.dialog.local_tag.as_str());
        let mut response = message::response(&invite.request, code, tag, extra);
        if let (200..=299, Some(session)) = (code, &invite.session) {
            // RFC 3261 §13.3.1, §13.2.1: a 2xx carries the answer to the
            // INVITE's offer, or an offer of its own.
            response =
                message::with_body(response, "application/sdp", session.clone().into_bytes());
        }
        invite.last = Some(response.clone());
        let to = invite.source;
        let is_final = code >= 200;
        if is_final {
            invite.final_at = Some(now);
            invite.every = T1;
        }
        self.send(response, to);
        if is_final {
            // A 2xx is sent again until its ACK whatever the transport
            // (§13.3.1.4); an error only over one that loses (Timer G).
            if code < 300 || !self.reliable {
                self.schedule(T1, Timer::Retransmit(id));
            }
            self.schedule(TIMEOUT, Timer::AckTimeout(id));
        }
    }

    pub(crate) fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // Only the far end's INVITE can be accepted (the step's rule).
        self.open_call(id)?;
        self.calls.check(id, Step::Accept)?;
        self.respond_invite(id, 180, Vec::new());
        self.calls.enter(id, CallStatus::Accepted);
        self.calls.complete(request);
        Ok(())
    }

    pub(crate) fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        self.open_call(id)?;
        self.calls.check(id, Step::Answer)?;
        self.respond_invite(id, 200, vec![message::allow()]);
        self.calls.enter(id, CallStatus::connected());
        self.calls.complete(request);
        Ok(())
    }

    pub(crate) fn drop_call(
        &mut self,
        request: RequestId,
        id: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        let call = self.open_call(id)?;
        drop::check_uui(uui, MAX_UUI)?;
        let plan = sip_drop(call, self.calls.plan_drop(id, code, true, false)?);
        self.execute_drop(id, plan, uui, Some(request));
        Ok(())
    }

    /// `TSPI_lineCloseCall` (SPEC T3): a live call is dropped as a plain
    /// drop without UUI and without a request; then the host forgets it
    /// (we keep it until the wire is quiet).
    pub(crate) fn close_call(&mut self, id: CallId) -> LineResult<()> {
        let call = self.open_call(id)?;
        if !call.status.is_idle() {
            if let Ok(release) = self.calls.plan_drop(id, DisconnectCode::Normal, true, true) {
                self.execute_drop(id, sip_drop(call, release), &[], None);
            }
        }
        if let Ok(mut call) = self.calls.get_mut(id) {
            call.closed = true;
        }
        self.cleanup(id);
        Ok(())
    }

    fn execute_drop(&mut self, id: CallId, plan: DropPlan, uui: &[u8], request: Option<RequestId>) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let call: &mut SipCall = &mut call;
        if plan != DropPlan::Nothing {
            call.uui_sent = uui.to_vec();
            call.ended = true;
        }
        let waits = matches!(plan, DropPlan::Cancel | DropPlan::Bye);
        if waits {
            call.drop_request = request;
        }
        match plan {
            DropPlan::Reject(status) => self.respond_invite(id, status, uui_header(uui)),
            DropPlan::Cancel => {
                // SPEC D7; RFC 3261 §9.1: only once something came back.
                let send_now = match &mut call.invite {
                    Invite::Client(invite) => {
                        invite.drop_uui = uui.to_vec();
                        invite.cancel = if invite.responded {
                            Cancel::Sent
                        } else {
                            Cancel::Deferred
                        };
                        invite.responded
                    }
                    Invite::Server(_) => false,
                };
                if send_now {
                    self.send_cancel(id);
                }
            }
            DropPlan::Bye => {
                // RFC 3261 §15: not before our 2xx is acknowledged.
                let unacked = matches!(&call.invite, Invite::Server(invite)
                    if invite.final_at.is_some() && !invite.acked);
                if unacked {
                    call.bye_after_ack = Some(uui.to_vec());
                } else {
                    self.send_bye(id, uui);
                }
            }
            DropPlan::Nothing => {}
        }
        self.calls.enter(id, CallStatus::Idle);
        if waits {
            self.schedule(TIMEOUT, Timer::GiveUp(id));
        } else if let Some(request) = request {
            self.calls.complete(request);
        }
    }

    fn send_cancel(&mut self, id: CallId) {
        let local = self.local.clone();
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        let Invite::Client(invite) = &call.invite else {
            return;
        };
        let mut extra = vec![message::reason(16)];
        extra.extend(uui_header(&invite.drop_uui));
        let cancel = message::request(
            RequestParts {
                method: Method::Cancel,
                uri: &invite.request.uri,
                via: message::via_over(self.transport, &local, &invite.branch),
                from: message::from_header(&call.dialog.local_uri, Some(&call.dialog.local_tag)),
                to: message::to_header(&call.dialog.remote_uri, None),
                call_id: &call.dialog.call_id,
                cseq: invite_cseq(&invite.request),
            },
            extra,
        );
        if let Ok(mut call) = self.calls.get_mut(id) {
            if let Invite::Client(invite) = &mut call.invite {
                invite.cancel_request = Some(Box::new(cancel.clone()));
            }
        }
        self.send(cancel, None);
        self.resend_later(id);
    }

    fn send_bye(&mut self, id: CallId, uui: &[u8]) {
        let branch = self.new_branch();
        let local = self.local.clone();
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let call: &mut SipCall = &mut call;
        call.dialog.local_cseq += 1;
        let dialog = &call.dialog;
        let mut extra = vec![message::reason(16)];
        extra.extend(uui_header(uui));
        let bye = message::request(
            RequestParts {
                method: Method::Bye,
                uri: &dialog.remote_target,
                via: message::via_over(self.transport, &local, &branch),
                from: message::from_header(&dialog.local_uri, Some(&dialog.local_tag)),
                to: message::to_header(&dialog.remote_uri, dialog.remote_tag.as_deref()),
                call_id: &dialog.call_id,
                cseq: dialog.local_cseq,
            },
            extra,
        );
        call.bye = Some(branch.clone());
        call.bye_request = Some(bye.clone());
        self.client_branches.insert(branch, id);
        self.send(bye, None);
        self.resend_later(id);
    }

    pub(crate) fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.open_call(id)?;
        Ok(CallInfo {
            uui_received: call.uui_received.clone(),
            uui_sent: call.uui_sent.clone(),
            ..call.info(call.remote_name.clone())
        })
    }

    /// The far end ended the call: Disconnected with `mode` (SPEC S3) and
    /// the UUI it sent (U5).
    fn end_by_far(&mut self, id: CallId, mode: DisconnectMode, uui: Vec<u8>) {
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        if call.status.is_idle() {
            return;
        }
        call.ended = true;
        call.uui_received = uui;
        call.disconnected(mode);
    }
}

/// A request in the dialog shows that our final response to the INVITE
/// arrived, ACK or not: stop sending it.
fn stop_retransmitting(call: &mut SipCall) {
    if let Invite::Server(invite) = &mut call.invite {
        if invite.final_at.is_some() {
            invite.acked = true;
        }
    }
}

fn uui_header(uui: &[u8]) -> Vec<Header> {
    if uui.is_empty() {
        Vec::new()
    } else {
        vec![message::user_to_user(uui)]
    }
}

fn invite_cseq(request: &Request) -> u32 {
    request
        .cseq_header()
        .ok()
        .and_then(|cseq| cseq.typed().ok())
        .map_or(1, |cseq| cseq.seq)
}

/// The disconnect mode and UUI of the far end's ending message: its Q.850
/// cause (SPEC §10) if it has a `Reason`, else `otherwise`.
fn far_reason(
    headers: &rsipstack::rsip::Headers,
    otherwise: DisconnectMode,
) -> (DisconnectMode, Vec<u8>) {
    let mode = message::q850_cause(headers).map_or(otherwise, DisconnectMode::from_q850);
    (mode, message::uui(headers).unwrap_or_default())
}

/// The disconnect mode of a final error response without a Q.850 cause.
fn mode_of_status(code: u16) -> DisconnectMode {
    match code {
        486 | 600 => DisconnectMode::Busy,
        603 => DisconnectMode::Reject,
        408 | 480 => DisconnectMode::NoAnswer,
        404 | 484 | 604 => DisconnectMode::BadAddress,
        _ => DisconnectMode::Unavail,
    }
}
