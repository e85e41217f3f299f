//! The memory transport's far end: a second SIP user agent, playing every
//! remote party, driven by the contract's stimuli (`remote_offer`,
//! `remote_alert`, `remote_answer`, `remote_hang_up`) and answering by
//! itself whatever it receives (200 to BYE; 200 to CANCEL and 487 to the
//! INVITE; ACK to final responses). It is deliberately small: one dialog
//! per Call-ID, no retransmissions (the memory wire loses nothing).
//!
//! What its parties see is the far-end view ([`Parties`]): each BYE,
//! CANCEL or rejection that ended a party's call, with the Q.850 cause and
//! UUI it carried and its text as it crossed the wire.

use std::collections::BTreeMap;

use cleardown_contract::{RemoteParty, RemoteState, SignalKind};

use crate::LINE;
use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{Header, HostWithPort, Method, Request, Response, SipMessage, Uri};

use crate::message::{self, Common, RequestParts};
use crate::remote::{Parties, PartyId};

/// Which side of the call the far end is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// We called it: it answers our INVITE.
    Callee,
    /// It called us: it sent the INVITE.
    Caller,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No final response to the INVITE yet.
    Early,
    /// The callee sent 200 and waits for the ACK.
    Answered,
    Confirmed,
    /// Over for this party (it hung up, or was hung up on).
    Ended,
}

#[derive(Debug)]
struct FarCall {
    party: PartyId,
    role: Role,
    /// The INVITE: received as callee, sent as caller.
    invite: Request,
    branch: String,
    local_uri: Uri,
    local_tag: String,
    remote_uri: Uri,
    remote_tag: Option<String>,
    remote_target: Uri,
    cseq: u32,
    phase: Phase,
    /// The caller cancelled its INVITE.
    cancelled: bool,
    /// Order of arrival (or of sending), for [`FarUa::incoming`].
    seq: u64,
}

/// The far user agent. See the module documentation.
#[derive(Debug)]
pub struct FarUa {
    /// Its own host, `far.invalid`.
    host: HostWithPort,
    /// Ours, for the Request-URI of its offers.
    line: HostWithPort,
    /// The line's name: the user part of its offers' Request-URI, and the
    /// station a connected party is shown connected to.
    station: String,
    calls: BTreeMap<String, FarCall>,
    /// OPTIONS it sent (by Call-ID), and whether each was answered.
    pings: BTreeMap<String, bool>,
    parties: Parties,
    counter: u64,
    out: Vec<SipMessage>,
}

/// The final response a callee gives when it "hangs up" before answering,
/// by Q.850 cause (RFC 3398 §8.2.6.1, with 16 and 21 as a decline).
fn status_for_cause(cause: u32) -> u16 {
    match cause {
        17 => 486,
        16 | 21 => 603,
        1 => 404,
        34 | 38 | 41 | 42 => 503,
        _ => 480,
    }
}

/// The Q.850 cause of a rejection by its status code (SPEC §10).
fn cause_for_status(code: u16, reason: Option<u32>) -> u32 {
    match code {
        603 => 21,
        486 => 17,
        480 => 19,
        _ => reason.unwrap_or(31),
    }
}

impl FarUa {
    pub fn new(host: HostWithPort, line: HostWithPort) -> Self {
        FarUa {
            host,
            line,
            station: LINE.to_owned(),
            calls: BTreeMap::new(),
            pings: BTreeMap::new(),
            parties: Parties::default(),
            counter: 0,
            out: Vec::new(),
        }
    }

    pub fn take_output(&mut self) -> Vec<SipMessage> {
        std::mem::take(&mut self.out)
    }

    /// The line it calls and shows its parties connected to (the sip
    /// provider's [`LINE`] unless told otherwise).
    pub fn set_station(&mut self, station: &str) {
        station.clone_into(&mut self.station);
    }

    pub fn view(&self) -> Vec<RemoteParty> {
        self.parties.view(&self.station)
    }

    /// The calls our line placed to it, in the order their INVITEs came:
    /// each one's Call-ID and the user it called.
    pub fn incoming(&self) -> Vec<(String, String)> {
        let mut calls: Vec<(u64, String, String)> = self
            .calls
            .iter()
            .filter(|(_, call)| call.role == Role::Callee)
            .map(|(id, call)| {
                let user = call.invite.uri.user().unwrap_or_default().to_owned();
                (call.seq, id.clone(), user)
            })
            .collect();
        calls.sort();
        calls.into_iter().map(|(_, id, user)| (id, user)).collect()
    }

    /// Sends an OPTIONS to our line (RFC 3261 §11: every UA answers it)
    /// and returns its Call-ID. A user agent that reads its messages in
    /// order has handled everything sent before once it answers: the
    /// harness's SIP far end settles the wire on that.
    pub fn ping(&mut self) -> String {
        // Numbered on their own: the calls' tags and branches stay as
        // they would be without probing.
        let n = self.pings.len() + 1;
        let call_id = format!("p{n}@{}", crate::FAR_HOST);
        let uri = message::sip_uri(&self.station, &self.line);
        let local_uri = message::sip_uri("cleardown", &self.host);
        let options = message::request(
            RequestParts {
                method: Method::Options,
                uri: &uri,
                via: message::via(&self.host, &format!("z9hG4bKp{n}")),
                from: message::from_header(&local_uri, Some(&format!("pt{n}"))),
                to: message::to_header(&uri, None),
                call_id: &call_id,
                cseq: 1,
            },
            Vec::new(),
        );
        self.pings.insert(call_id.clone(), false);
        self.send(options);
        call_id
    }

    /// Whether the OPTIONS `call_id` has had its final response.
    pub fn pinged(&self, call_id: &str) -> bool {
        self.pings.get(call_id).copied().unwrap_or(false)
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn send(&mut self, message: impl Into<SipMessage>) {
        self.out.push(message.into());
    }

    // ---- stimuli ------------------------------------------------------------

    /// `from` calls our line; returns the SIP Call-ID of its INVITE.
    pub fn offer(&mut self, from: &str, uui: &[u8]) -> String {
        let n = self.next();
        let call_id = format!("f{n}@far.invalid");
        let (tag, branch) = (format!("ft{n}"), format!("z9hG4bKf{n}"));
        let local_uri = message::sip_uri(from, &self.host);
        let remote_uri = message::sip_uri(&self.station, &self.line);
        let mut extra = vec![message::contact(&local_uri), message::allow()];
        if !uui.is_empty() {
            extra.push(message::user_to_user(uui));
        }
        let invite = message::request(
            RequestParts {
                method: Method::Invite,
                uri: &remote_uri,
                via: message::via(&self.host, &branch),
                from: message::from_header(&local_uri, Some(&tag)),
                to: message::to_header(&remote_uri, None),
                call_id: &call_id,
                cseq: 1,
            },
            extra,
        );
        let party = self.parties.engage(from, RemoteState::Calling);
        self.calls.insert(
            call_id.clone(),
            FarCall {
                party,
                role: Role::Caller,
                invite: invite.clone(),
                branch,
                local_uri,
                local_tag: tag,
                remote_target: remote_uri.clone(),
                remote_uri,
                remote_tag: None,
                cseq: 1,
                phase: Phase::Early,
                cancelled: false,
                seq: n,
            },
        );
        self.send(invite);
        call_id
    }

    /// The called party rings: 180. `false` if it is not being called.
    pub fn alert(&mut self, call_id: &str) -> bool {
        self.callee_responds(call_id, 180, Vec::new())
    }

    /// The called party answers: 200 OK.
    pub fn answer(&mut self, call_id: &str) -> bool {
        let done = self.callee_responds(call_id, 200, vec![message::allow()]);
        if let Some(call) = self.calls.get_mut(call_id).filter(|_| done) {
            call.phase = Phase::Answered;
        }
        done
    }

    fn callee_responds(&mut self, call_id: &str, code: u16, extra: Vec<Header>) -> bool {
        let Some(call) = self.calls.get(call_id) else {
            return false;
        };
        if call.role != Role::Callee || call.phase != Phase::Early {
            return false;
        }
        let mut headers = vec![message::contact(&call.local_uri)];
        headers.extend(extra);
        let response = message::response(&call.invite, code, Some(&call.local_tag), headers);
        self.send(response);
        true
    }

    /// The party hangs up with a Q.850 cause and UUI: a BYE in a confirmed
    /// dialog, a CANCEL of its own unanswered INVITE, or a final error
    /// response to ours. `false` if its call is already over.
    pub fn hang_up(&mut self, call_id: &str, cause: u32, uui: &[u8]) -> bool {
        let Some(call) = self.calls.get(call_id) else {
            return false;
        };
        let mut extra = vec![message::reason(cause)];
        if !uui.is_empty() {
            extra.push(message::user_to_user(uui));
        }
        let party = call.party;
        match (call.role, call.phase) {
            (_, Phase::Confirmed | Phase::Answered) => self.send_bye(call_id, extra),
            (Role::Callee, Phase::Early) => {
                let response = message::response(
                    &call.invite,
                    status_for_cause(cause),
                    Some(&call.local_tag),
                    extra,
                );
                self.send(response);
            }
            (Role::Caller, Phase::Early) => {
                let cancel = message::request(
                    RequestParts {
                        method: Method::Cancel,
                        uri: &call.invite.uri,
                        via: message::via(&self.host, &call.branch),
                        from: message::from_header(&call.local_uri, Some(&call.local_tag)),
                        to: message::to_header(&call.remote_uri, None),
                        call_id,
                        cseq: 1,
                    },
                    extra,
                );
                self.send(cancel);
                if let Some(call) = self.calls.get_mut(call_id) {
                    call.cancelled = true;
                }
            }
            (_, Phase::Ended) => return false,
        }
        if let Some(call) = self.calls.get_mut(call_id) {
            call.phase = Phase::Ended;
        }
        self.parties.set_state(party, RemoteState::Released);
        true
    }

    fn send_bye(&mut self, call_id: &str, extra: Vec<Header>) {
        let n = self.next();
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        call.cseq += 1;
        let bye = message::request(
            RequestParts {
                method: Method::Bye,
                uri: &call.remote_target,
                via: message::via(&self.host, &format!("z9hG4bKf{n}")),
                from: message::from_header(&call.local_uri, Some(&call.local_tag)),
                to: message::to_header(&call.remote_uri, call.remote_tag.as_deref()),
                call_id,
                cseq: call.cseq,
            },
            extra,
        );
        self.out.push(bye.into());
    }

    // ---- messages in --------------------------------------------------------

    /// A message from our line, with its text as it crossed the wire.
    pub fn receive(&mut self, message: SipMessage, wire: &str) {
        let Ok(common) = Common::read(&message) else {
            return;
        };
        match message {
            SipMessage::Request(request) => self.on_request(request, &common, wire),
            SipMessage::Response(response) => self.on_response(&response, &common, wire),
        }
    }

    fn reply(&mut self, request: &Request, code: u16, tag: Option<&str>) {
        let response = message::response(request, code, tag, Vec::new());
        self.send(response);
    }

    fn on_request(&mut self, request: Request, common: &Common, wire: &str) {
        match request.method {
            Method::Invite if common.to_tag.is_none() => self.on_invite(request, common),
            Method::Ack => {
                if let Some(call) = self.calls.get_mut(&common.call_id) {
                    if call.phase == Phase::Answered {
                        call.phase = Phase::Confirmed;
                        let party = call.party;
                        self.parties.set_state(party, RemoteState::Connected);
                    }
                }
            }
            Method::Cancel => {
                let Some(call) = self.calls.get(&common.call_id) else {
                    return self.reply(&request, 481, None);
                };
                let (tag, party, early) = (
                    call.local_tag.clone(),
                    call.party,
                    call.role == Role::Callee && call.phase == Phase::Early,
                );
                let invite = call.invite.clone();
                self.reply(&request, 200, Some(&tag));
                if early {
                    self.reply(&invite, 487, Some(&tag));
                    let cause = message::q850_cause(&request.headers).unwrap_or(16);
                    let uui = message::uui(&request.headers).unwrap_or_default();
                    self.parties
                        .receive(party, SignalKind::Cancel, cause, uui, wire);
                    if let Some(call) = self.calls.get_mut(&common.call_id) {
                        call.phase = Phase::Ended;
                    }
                }
            }
            Method::Bye => {
                let Some(call) = self.calls.get(&common.call_id) else {
                    return self.reply(&request, 481, common.to_tag.as_deref());
                };
                let (party, phase) = (call.party, call.phase);
                let tag = common.to_tag.clone();
                match phase {
                    Phase::Confirmed | Phase::Answered => {
                        self.reply(&request, 200, tag.as_deref());
                        let cause = message::q850_cause(&request.headers).unwrap_or(16);
                        let uui = message::uui(&request.headers).unwrap_or_default();
                        self.parties
                            .receive(party, SignalKind::Release, cause, uui, wire);
                        if let Some(call) = self.calls.get_mut(&common.call_id) {
                            call.phase = Phase::Ended;
                        }
                    }
                    // Glare: it hung up too; nothing more to record.
                    Phase::Ended => self.reply(&request, 200, tag.as_deref()),
                    Phase::Early => self.reply(&request, 481, tag.as_deref()),
                }
            }
            _ => self.reply(&request, 405, common.to_tag.as_deref()),
        }
    }

    fn on_invite(&mut self, request: Request, common: &Common) {
        if self.calls.contains_key(&common.call_id) {
            return;
        }
        let n = self.next();
        let name = request.uri.user().unwrap_or_default().to_owned();
        let party = self.parties.engage(&name, RemoteState::Ringing);
        let local_uri = message::sip_uri(&name, &self.host);
        let remote_target =
            message::contact_uri(&request).unwrap_or_else(|| common.from_uri.clone());
        self.reply(&request, 100, None);
        self.calls.insert(
            common.call_id.clone(),
            FarCall {
                party,
                role: Role::Callee,
                branch: common.branch.clone().unwrap_or_default(),
                invite: request,
                local_uri,
                local_tag: format!("ft{n}"),
                remote_uri: common.from_uri.clone(),
                remote_tag: common.from_tag.clone(),
                remote_target,
                cseq: 0,
                phase: Phase::Early,
                cancelled: false,
                seq: n,
            },
        );
    }

    fn on_response(&mut self, response: &Response, common: &Common, wire: &str) {
        if common.cseq_method == Method::Options && response.status_code.code() >= 200 {
            if let Some(answered) = self.pings.get_mut(&common.call_id) {
                *answered = true;
            }
            return;
        }
        if common.cseq_method != Method::Invite {
            return;
        }
        let code = response.status_code.code();
        let Some(call) = self.calls.get_mut(&common.call_id) else {
            return;
        };
        // Only responses to its own INVITE transaction.
        if call.role != Role::Caller || common.branch.as_deref() != Some(call.branch.as_str()) {
            return;
        }
        if code < 200 {
            if common.to_tag.is_some() {
                call.remote_tag = common.to_tag.clone();
            }
            return;
        }
        call.remote_tag = common.to_tag.clone();
        let party = call.party;
        let was_cancelled = call.cancelled;
        if code < 300 {
            call.remote_target =
                message::contact_uri(response).unwrap_or_else(|| call.remote_uri.clone());
            self.ack(&common.call_id, None);
            if was_cancelled {
                // Our CANCEL crossed its 200: end the call properly.
                self.send_bye(&common.call_id, vec![message::reason(16)]);
            } else if let Some(call) = self.calls.get_mut(&common.call_id) {
                call.phase = Phase::Confirmed;
                self.parties.set_state(party, RemoteState::Connected);
            }
            return;
        }
        let to = response.to_header().ok().cloned();
        self.ack(&common.call_id, to);
        if let Some(call) = self.calls.get_mut(&common.call_id) {
            call.phase = Phase::Ended;
        }
        if !was_cancelled {
            let cause = cause_for_status(code, message::q850_cause(&response.headers));
            let uui = message::uui(&response.headers).unwrap_or_default();
            self.parties
                .receive(party, SignalKind::Reject, cause, uui, wire);
        }
    }

    /// ACK of a 2xx (`to: None`: a new transaction in the dialog) or of an
    /// error (the INVITE's branch and the response's To).
    fn ack(&mut self, call_id: &str, to: Option<rsipstack::rsip::headers::To>) {
        let n = self.next();
        let Some(call) = self.calls.get(call_id) else {
            return;
        };
        let (uri, branch, to) = match to {
            Some(to) => (&call.invite.uri, call.branch.clone(), Header::To(to)),
            None => (
                &call.remote_target,
                format!("z9hG4bKf{n}"),
                message::to_header(&call.remote_uri, call.remote_tag.as_deref()),
            ),
        };
        let ack = message::request(
            RequestParts {
                method: Method::Ack,
                uri,
                via: message::via(&self.host, &branch),
                from: message::from_header(&call.local_uri, Some(&call.local_tag)),
                to,
                call_id,
                cseq: 1,
            },
            Vec::new(),
        );
        self.out.push(ack.into());
    }
}
