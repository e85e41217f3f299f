//! Messages in: requests (after [`super::checks`]) and responses, matched
//! to their dialog and transaction (RFC 3261 §12, §17), and what each does
//! to a call (SPEC §10 read backwards: a BYE, CANCEL or final error from
//! the far end is its hang-up, S3).

use cleardown_sdk::{AddressId, CallId, CallStatus, DisconnectMode};
use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{Header, Method, Request, Response, SipMessage};

use super::{
    Cancel, Dialog, Engine, Invite, MAX_HEADER_BYTES, ServerInvite, SipCall, Source, T1, Timer,
    TxKey, answer, checks, far_reason, invite_cseq, is_unanswered_outbound, mode_of_status,
    options_tag, stop_retransmitting, tx_key,
};
use crate::message::{self, Common, RequestParts};

impl Engine {
    // ---- messages in --------------------------------------------------------

    /// A message from the far end; `source` is where responses go.
    pub(crate) fn receive(&mut self, message: SipMessage, source: Source) {
        match message {
            SipMessage::Request(request) => self.on_request(request, source),
            SipMessage::Response(response) => self.on_response(response),
        }
    }

    /// Answers `request` outside any INVITE transaction; the answer is
    /// remembered for retransmissions of the request.
    pub(super) fn reply(
        &mut self,
        request: &Request,
        source: Source,
        code: u16,
        to_tag: Option<String>,
        extra: Vec<Header>,
    ) {
        let tag = match to_tag {
            Some(tag) => tag,
            None => self.new_tag(),
        };
        let response = message::response(request, code, Some(&tag), extra);
        if let Ok(common) = Common::read(request) {
            self.remember(tx_key(&common), request.method, response.clone(), source);
        }
        self.send(response, source);
    }

    /// A message as it arrived (a datagram, or one framed off a stream):
    /// parsed with rsip, or, for a request rsip refuses, answered all the
    /// same where its headers can be read (501 for a method rsip does not
    /// know, RFC 3261 §8.2.1; 400 for a request line it cannot read). What
    /// is not SIP at all is `Err`, saying why, and changes nothing.
    pub(crate) fn receive_bytes(&mut self, bytes: &[u8], source: Source) -> Result<(), String> {
        match parse(bytes) {
            Ok(SipMessage::Request(request)) => {
                if let Some(refusal) = checks::request_line_refusal(bytes) {
                    self.refuse(&request, source, &refusal);
                } else {
                    self.on_request(request, source);
                }
                Ok(())
            }
            Ok(message) => {
                self.receive(message, source);
                Ok(())
            }
            Err(error) => {
                let text = String::from_utf8_lossy(bytes);
                let Some((refusal, request)) = checks::salvage(&text) else {
                    return Err(error.to_string());
                };
                self.note(format!("answered {} to {}", refusal.code, refusal.why));
                let tag = Common::read(&request).ok().and_then(|c| c.to_tag);
                self.reply(&request, source, refusal.code, tag, refusal.extra);
                Ok(())
            }
        }
    }

    fn refuse(&mut self, request: &Request, source: Source, refusal: &checks::Refusal) {
        self.note(format!(
            "refused a {} request with {}: {}",
            request.method, refusal.code, refusal.why
        ));
        // An ACK is never answered (RFC 3261 §17.2.3).
        if request.method != Method::Ack {
            self.reply(request, source, refusal.code, None, refusal.extra.clone());
        }
    }

    pub(super) fn on_request(&mut self, request: Request, source: Source) {
        if let Some(refusal) = checks::refusal(&request) {
            self.refuse(&request, source, &refusal);
            return;
        }
        let common = match Common::read(&request) {
            Ok(common) => common,
            Err(error) => {
                self.note(format!(
                    "ignored a {} request rsip cannot read: {error}",
                    request.method
                ));
                return;
            }
        };
        if message::header_bytes(&request.headers) > MAX_HEADER_BYTES {
            if request.method != Method::Ack {
                self.reply(&request, source, 513, None, Vec::new());
            }
            return;
        }
        if request.method == Method::Ack {
            self.on_ack(&common);
            return;
        }
        let key = tx_key(&common);
        if self.retransmission(&request, &key) {
            return;
        }
        match request.method {
            Method::Invite => self.on_invite(request, common, key, source),
            Method::Bye => self.on_bye(&request, &common, source),
            Method::Cancel => self.on_cancel(&request, &common, source),
            Method::Options => {
                if common.to_tag.is_some() && self.in_dialog(&common).is_none() {
                    self.reply(&request, source, 481, None, Vec::new());
                } else {
                    // Outside a dialog an OPTIONS creates none (RFC 3261
                    // §11): its tag comes from its branch, not from the
                    // dialogs' tag sequence, so probing the line (as the
                    // harness's SIP far end does to settle the wire) leaves
                    // the tags of its calls as they would have been.
                    let tag = match self.in_dialog(&common) {
                        Some(_) => common.to_tag.clone(),
                        None => Some(options_tag(&key)),
                    };
                    self.reply(&request, source, 200, tag, vec![message::allow()]);
                }
            }
            // RFC 3261 §8.2.1: a method rsipstack knows that this agent does not
            // implement (a method it does not know does not parse at all).
            _ => {
                let tag = common.to_tag.clone();
                self.reply(&request, source, 405, tag, vec![message::allow()]);
            }
        }
    }

    /// A request we answered already gets the same answer again: the same
    /// branch, sent-by and method (RFC 3261 §17.2.3). A new request from
    /// another client that happens to reuse a branch is a new request.
    pub(super) fn retransmission(&mut self, request: &Request, key: &TxKey) -> bool {
        if request.method == Method::Invite {
            if let Some(&id) = self.server_invites.get(key) {
                let last = match self.calls.get(id).map(|call| &call.invite) {
                    Ok(Invite::Server(invite)) => invite.last.clone().map(|r| (r, invite.source)),
                    _ => None,
                };
                if let Some((response, to)) = last {
                    self.send(response, to);
                }
                return true;
            }
        }
        let found = self
            .answered
            .iter()
            .find(|a| a.key == *key && a.method == request.method)
            .map(|a| (a.response.clone(), a.to));
        match found {
            Some((response, to)) => {
                self.send(response, to);
                true
            }
            None => false,
        }
    }

    /// The call whose dialog the in-dialog request `common` belongs to.
    pub(super) fn in_dialog(&self, common: &Common) -> Option<CallId> {
        let id = *self.dialogs.get(&common.call_id)?;
        let call = self.calls.get(id).ok()?;
        let dialog = &call.dialog;
        let ours = common.to_tag.as_deref() == Some(dialog.local_tag.as_str());
        let theirs = dialog.remote_tag.is_none() || dialog.remote_tag == common.from_tag;
        (ours && theirs).then_some(id)
    }

    pub(super) fn on_invite(
        &mut self,
        request: Request,
        common: Common,
        key: TxKey,
        source: Source,
    ) {
        if common.to_tag.is_some() {
            // A re-INVITE: this line has no session to change.
            let code = if self.in_dialog(&common).is_some() {
                488
            } else {
                481
            };
            let tag = common.to_tag.clone();
            self.reply(&request, source, code, tag, Vec::new());
            return;
        }
        if self.dialogs.contains_key(&common.call_id) {
            // RFC 3261 §8.2.2.2: a merged request (same Call-ID, another branch).
            self.reply(&request, source, 482, None, Vec::new());
            return;
        }
        let content_type = message::header_value(&request.headers, "Content-Type", "c");
        let host = self.local.host.to_string();
        let next = self.calls.next_id().0;
        let session = match answer::answer(&request.body, content_type, &host, next) {
            answer::Offer::None => Some(answer::offer(&host, next)),
            answer::Offer::Answer(text) => Some(text),
            answer::Offer::Unreadable(why) => {
                // RFC 3261 §13.3.1.3: an offer we cannot take is a 488.
                self.note(format!("refused an INVITE with {why}"));
                self.reply(&request, source, 488, None, Vec::new());
                return;
            }
        };
        let tag = self.new_tag();
        let remote_target =
            message::contact_uri(&request).unwrap_or_else(|| common.from_uri.clone());
        let remote_name = common
            .from_uri
            .user()
            .map_or_else(|| common.from_uri.host().to_string(), str::to_owned);
        let uui_received = message::uui(&request.headers).unwrap_or_default();
        // RFC 3261 §17.2.1: the app may take its time, so say Trying now,
        // before the app hears of the call (the table announces it as it
        // adds it).
        let trying = message::response(&request, 100, None, Vec::new());
        self.send(trying.clone(), source);
        let dialog = Dialog {
            call_id: common.call_id.clone(),
            local_uri: common.to_uri.clone(),
            local_tag: tag,
            remote_uri: common.from_uri.clone(),
            remote_tag: common.from_tag.clone(),
            remote_target,
            local_cseq: 0,
        };
        let server = Invite::Server(ServerInvite {
            request,
            key: key.clone(),
            source,
            last: Some(trying),
            final_at: None,
            acked: false,
            every: T1,
            session,
        });
        let call = SipCall::new(remote_name, uui_received, dialog, server);
        let id = self.calls.offer(AddressId(0), call);
        self.dialogs.insert(common.call_id, id);
        self.server_invites.insert(key, id);
        if self.no_answer_ms > 0 {
            self.schedule(self.no_answer_ms, Timer::NoAnswer(id));
        }
    }

    pub(super) fn on_ack(&mut self, common: &Common) {
        // A non-2xx ACK shares the INVITE's transaction; a 2xx ACK is
        // in-dialog.
        let by_branch = self.server_invites.get(&tx_key(common)).copied();
        let Some(id) = by_branch.or_else(|| self.in_dialog(common)) else {
            return;
        };
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let Invite::Server(invite) = &mut call.invite else {
            return;
        };
        if invite.final_at.is_some() && !invite.acked {
            invite.acked = true;
            self.after_ack(id);
        }
    }

    /// The final response of an inbound INVITE is acknowledged (or given
    /// up on): a BYE that waited for it goes now (RFC 3261 §15).
    pub(super) fn after_ack(&mut self, id: CallId) {
        let waiting = self
            .calls
            .get_mut(id)
            .ok()
            .and_then(|mut call| call.bye_after_ack.take());
        if let Some(uui) = waiting {
            self.send_bye(id, &uui);
        }
        self.cleanup(id);
    }

    pub(super) fn on_bye(&mut self, request: &Request, common: &Common, source: Source) {
        let to_tag = common.to_tag.clone();
        let Some(id) = self.in_dialog(common) else {
            self.reply(request, source, 481, to_tag, Vec::new());
            return;
        };
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        if call.bye.is_some() || call.bye_after_ack.is_some() {
            // Glare: both ends hung up; ours already ended the call here.
            self.reply(request, source, 200, to_tag, Vec::new());
            let unsent = self.calls.get_mut(id).ok().and_then(|mut call| {
                // Their BYE confirms the dialog: our 2xx arrived, and the
                // BYE that waited for its ACK is needed no more.
                call.bye_after_ack.take()?;
                stop_retransmitting(&mut call);
                call.drop_request.take()
            });
            if let Some(request) = unsent {
                self.calls.complete(request);
            }
            self.cleanup(id);
            return;
        }
        if call.ended {
            self.reply(request, source, 481, to_tag, Vec::new());
            return;
        }
        let (mode, uui) = far_reason(&request.headers, DisconnectMode::Normal);
        let early_inbound = !call.outbound && call.state().is_offered();
        self.reply(request, source, 200, to_tag, Vec::new());
        if let Some(mut call) = self.calls.get_mut(id).ok().filter(|_| !early_inbound) {
            stop_retransmitting(&mut call);
        }
        if early_inbound {
            // RFC 3261 §15.1.2: a BYE in an early dialog ends the INVITE too.
            self.respond_invite(id, 487, Vec::new());
        }
        self.end_by_far(id, mode, uui);
    }

    pub(super) fn on_cancel(&mut self, request: &Request, common: &Common, source: Source) {
        let found = self
            .server_invites
            .get(&tx_key(common))
            .copied()
            .filter(|id| {
                self.calls
                    .get(*id)
                    .is_ok_and(|call| call.dialog.call_id == common.call_id)
            });
        let Some(id) = found else {
            let tag = common.to_tag.clone();
            self.reply(request, source, 481, tag, Vec::new());
            return;
        };
        let Ok(call) = self.calls.get(id) else {
            return;
        };
        let tag = Some(call.dialog.local_tag.clone());
        let pending = matches!(&call.invite, Invite::Server(invite) if invite.final_at.is_none());
        self.reply(request, source, 200, tag, Vec::new());
        if pending {
            let (mode, uui) = far_reason(&request.headers, DisconnectMode::Normal);
            self.respond_invite(id, 487, Vec::new());
            self.end_by_far(id, mode, uui);
        }
    }

    pub(super) fn on_response(&mut self, response: Response) {
        let common = match Common::read(&response) {
            Ok(common) => common,
            Err(error) => {
                self.note(format!("ignored a response rsip cannot read: {error}"));
                return;
            }
        };
        let Some(id) = common
            .branch
            .as_ref()
            .and_then(|branch| self.client_branches.get(branch).copied())
        else {
            self.note(format!(
                "ignored a {} response that matches no transaction",
                response.status_code.code()
            ));
            return;
        };
        match common.cseq_method {
            Method::Invite => self.on_invite_response(id, &response, &common),
            Method::Bye => {
                let ours = self
                    .calls
                    .get(id)
                    .is_ok_and(|call| call.bye.is_some() && call.bye == common.branch);
                if ours && response.status_code.code() >= 200 {
                    if let Some(branch) = &common.branch {
                        self.client_branches.remove(branch);
                    }
                    let request = self.calls.get_mut(id).ok().and_then(|mut call| {
                        call.bye = None;
                        call.bye_request = None;
                        call.drop_request.take()
                    });
                    if let Some(request) = request {
                        self.calls.complete(request);
                    }
                    self.cleanup(id);
                }
            }
            // The 200 to a CANCEL ends its retransmissions; the 487 to the
            // INVITE is what the drop waits for.
            Method::Cancel if response.status_code.code() >= 200 => {
                if let Ok(mut call) = self.calls.get_mut(id) {
                    if let Invite::Client(invite) = &mut call.invite {
                        invite.cancel_request = None;
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_invite_response(&mut self, id: CallId, response: &Response, common: &Common) {
        let code = response.status_code.code();
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let alive = is_unanswered_outbound(&call);
        let call: &mut SipCall = &mut call;
        let Invite::Client(invite) = &mut call.invite else {
            return;
        };
        if common.branch.as_deref() != Some(invite.branch.as_str()) {
            return;
        }
        if let Some(done) = invite.final_code {
            match invite.ack.clone() {
                // A retransmitted final response: acknowledge it again.
                Some(ack) if code >= 200 && (done < 300) == (code < 300) => self.send(ack, None),
                // A final response after we stopped waiting for it.
                None if code >= 300 => self.ack_error(id, response),
                None if code >= 200 => {
                    call.dialog.remote_tag = common.to_tag.clone();
                    call.dialog.remote_target = message::contact_uri(response)
                        .unwrap_or_else(|| call.dialog.remote_uri.clone());
                    self.ack_2xx(id, response);
                    self.send_bye(id, &[]);
                }
                _ => {}
            }
            return;
        }
        invite.responded = true;
        if code < 200 {
            if common.to_tag.is_some() {
                call.dialog.remote_tag = common.to_tag.clone();
            }
            let cancel_now = invite.cancel == Cancel::Deferred;
            if cancel_now {
                invite.cancel = Cancel::Sent;
                self.send_cancel(id);
            } else if matches!(code, 180 | 183) {
                self.calls.enter(id, CallStatus::Ringback);
            }
            return;
        }
        invite.final_code = Some(code);
        call.dialog.remote_tag = common.to_tag.clone();
        if code < 300 {
            call.dialog.remote_target =
                message::contact_uri(response).unwrap_or_else(|| call.dialog.remote_uri.clone());
            self.ack_2xx(id, response);
            if alive {
                self.calls.enter(id, CallStatus::connected());
            } else {
                // Answered after we dropped (a 2xx crossed the CANCEL), or
                // after we stopped waiting: end it properly.
                let uui = match self.calls.get(id).map(|call| &call.invite) {
                    Ok(Invite::Client(invite)) => invite.drop_uui.clone(),
                    _ => Vec::new(),
                };
                self.send_bye(id, &uui);
            }
            return;
        }
        self.ack_error(id, response);
        if alive {
            let (mode, uui) = far_reason(&response.headers, mode_of_status(code));
            self.end_by_far(id, mode, uui);
        } else if let Some(request) = self.take_drop_request(id) {
            self.calls.complete(request);
        }
        self.cleanup(id);
    }

    /// RFC 3261 §13.2.2.4: the ACK of a 2xx is a new transaction in the dialog.
    /// If the 2xx made an offer (our INVITE made none), the ACK carries
    /// the answer (RFC 3261 §13.2.1).
    pub(super) fn ack_2xx(&mut self, id: CallId, response: &Response) {
        let branch = self.new_branch();
        let local = self.local.clone();
        let content_type = message::header_value(&response.headers, "Content-Type", "c");
        let host = local.host.to_string();
        let answer = match answer::answer(&response.body, content_type, &host, id.0) {
            answer::Offer::Answer(text) => Some(text),
            answer::Offer::None => None,
            answer::Offer::Unreadable(why) => {
                self.note(format!("{id}: the 2xx to our INVITE carried {why}"));
                None
            }
        };
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let call: &mut SipCall = &mut call;
        let Invite::Client(invite) = &mut call.invite else {
            return;
        };
        let dialog = &call.dialog;
        let ack = message::request(
            RequestParts {
                method: Method::Ack,
                uri: &dialog.remote_target,
                via: message::via_over(self.transport, &local, &branch),
                from: message::from_header(&dialog.local_uri, Some(&dialog.local_tag)),
                to: message::to_header(&dialog.remote_uri, dialog.remote_tag.as_deref()),
                call_id: &dialog.call_id,
                cseq: invite_cseq(&invite.request),
            },
            Vec::new(),
        );
        let ack = match answer {
            Some(text) => message::request_with_body(ack, "application/sdp", text.into_bytes()),
            None => ack,
        };
        invite.ack = Some(ack.clone());
        self.send(ack, None);
    }

    /// RFC 3261 §17.1.1.3: the ACK of an error response belongs to the
    /// INVITE's transaction (same branch, the response's To).
    pub(super) fn ack_error(&mut self, id: CallId, response: &Response) {
        let local = self.local.clone();
        let Ok(mut call) = self.calls.get_mut(id) else {
            return;
        };
        let call: &mut SipCall = &mut call;
        let Invite::Client(invite) = &mut call.invite else {
            return;
        };
        let to = match response.to_header() {
            Ok(to) => Header::To(to.clone()),
            Err(_) => message::to_header(&call.dialog.remote_uri, None),
        };
        let dialog = &call.dialog;
        let ack = message::request(
            RequestParts {
                method: Method::Ack,
                uri: &invite.request.uri,
                via: message::via_over(self.transport, &local, &invite.branch),
                from: message::from_header(&dialog.local_uri, Some(&dialog.local_tag)),
                to,
                call_id: &dialog.call_id,
                cseq: invite_cseq(&invite.request),
            },
            Vec::new(),
        );
        invite.ack = Some(ack.clone());
        self.send(ack, None);
    }
}

/// A message as rsip reads it; a datagram whose header section runs to its
/// very end without the empty line is read as if the line were there (the
/// datagram's end ends the message, RFC 3261 §18.3; RFC 4475's baddn.dat
/// comes so), and then judged on what it says.
fn parse(bytes: &[u8]) -> Result<SipMessage, rsipstack::rsip::Error> {
    match SipMessage::try_from(bytes) {
        Err(error) if !bytes.windows(4).any(|w| w == b"\r\n\r\n") && bytes.ends_with(b"\r\n") => {
            let mut whole = bytes.to_vec();
            whole.extend_from_slice(b"\r\n");
            SipMessage::try_from(whole.as_slice()).map_err(|_| error)
        }
        other => other,
    }
}
