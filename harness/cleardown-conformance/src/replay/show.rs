//! How the transcript shows a step, its answer and its events.

use cleardown_oracle::history::{Answer, Seen};

use super::{replayer::Replayer, uui_pattern};
use crate::fixture::{Step, Uui};

impl Replayer<'_> {
    /// Bytes as the transcript shows them: `-`, `<max>` for exactly the
    /// declared drop size of the test pattern (`<received_max>` for the
    /// declared received size, where that differs), `<pattern N>` for
    /// another length of it (a truncation shows up so), else hex.
    pub(super) fn show_uui(&self, bytes: &[u8]) -> String {
        let drop_size = self.caps.uui_drop_size as usize;
        if bytes.is_empty() {
            "-".to_owned()
        } else if bytes == uui_pattern(bytes.len()) && bytes.len() > 4 {
            if bytes.len() == drop_size {
                "<max>".to_owned()
            } else if bytes.len() == drop_size + 1 {
                "<max+1>".to_owned()
            } else if bytes.len() == self.caps.uui_received_size as usize {
                "<received_max>".to_owned()
            } else {
                format!("<pattern {}>", bytes.len())
            }
        } else {
            cleardown_host::hex_bytes::encode(bytes)
        }
    }

    pub(super) fn echo(&self, step: &Step) -> String {
        let uui = |uui: &Uui| match uui {
            Uui::Bytes(b) if b.is_empty() => String::new(),
            Uui::Bytes(b) => format!(" uui={}", cleardown_host::hex_bytes::encode(b)),
            Uui::Max => " uui=max".to_owned(),
            Uui::OverMax => " uui=max+1".to_owned(),
            Uui::ReceivedMax => " uui=received_max".to_owned(),
        };
        match step {
            Step::Open {
                app,
                line,
                privilege,
            } => format!("{app}: open {line} as {privilege}"),
            Step::Close { app, line } => format!("{app}: close {line}"),
            Step::MakeCall {
                app,
                call,
                line,
                to,
            } => format!("{app}: make_call {call} on {line} to {to}"),
            Step::Simple { app, op, call } => format!("{app}: {op} {call}"),
            Step::Setup {
                app,
                transfer,
                call,
                consult,
                to,
            } => format!(
                "{app}: setup_{} {call} consult {consult} to {to}",
                if *transfer { "transfer" } else { "conference" }
            ),
            Step::AddToConference {
                app, call, consult, ..
            } => format!("{app}: add_to_conference {call} + {consult}"),
            Step::CompleteTransfer { app, call, consult } => {
                format!("{app}: complete_transfer {call} to {consult}")
            }
            Step::Drop { app, call, uui: u } => format!("{app}: drop {call}{}", uui(u)),
            Step::Disconnect {
                app,
                call,
                code,
                uui: u,
            } => format!("{app}: disconnect {call} {code}{}", uui(u)),
            Step::Deallocate { app, call } => format!("{app}: deallocate {call}"),
            Step::Info { app, call } => format!("{app}: info {call}"),
            Step::Leaks => "leaks".to_owned(),
            Step::FarOffer {
                call,
                line,
                from,
                uui: u,
                appearances,
            } => format!(
                "far: offer {call} on {line} from {from}{}{}",
                uui(u),
                show_appearances(appearances)
            ),
            Step::FarAlert { call } => format!("far: alert {call}"),
            Step::FarAnswer { call, appearances } => {
                format!("far: answer {call}{}", show_appearances(appearances))
            }
            Step::FarHangUp {
                call,
                cause,
                uui: u,
            } => format!("far: hang_up {call} cause {cause}{}", uui(u)),
            Step::Station { line, off_hook, .. } => format!(
                "far: station {line} {}",
                if *off_hook { "off-hook" } else { "on-hook" }
            ),
            Step::Advance { ms } => format!("far: advance {ms} ms"),
            Step::FarEnd => "far_end".to_owned(),
            Step::PauseEvents => "pause_events".to_owned(),
            Step::ResumeEvents => "resume_events".to_owned(),
            Step::Wait {
                app, call, state, ..
            } => format!("{app}: wait {call} {state}"),
        }
    }

    /// The answer as the transcript shows it after `->`.
    pub(super) fn show_answer(&self, answer: &Answer) -> String {
        match answer {
            Answer::Done => "ok".to_owned(),
            Answer::Request(request) => request.clone(),
            Answer::Requested(request) => format!("requested {request}"),
            Answer::Refused(error) => format!("Err({error})"),
            Answer::AlreadyIdle => "already idle".to_owned(),
            Answer::Conference {
                request,
                conference,
            } => format!("{request}, conference {conference}"),
            Answer::Closed {
                dropped,
                still_active,
            } => format!(
                "dropped [{}] still_active [{}]",
                dropped.join(", "),
                still_active.join(", ")
            ),
            Answer::Deallocated(freed) => {
                let lines: Vec<String> = freed
                    .iter()
                    .map(|(name, error)| match error {
                        None => name.clone(),
                        Some(e) => format!("{name} Err({e})"),
                    })
                    .collect();
                format!("deallocated [{}]", lines.join(", "))
            }
            Answer::Info(info) => {
                let related: Vec<String> = info
                    .related
                    .iter()
                    .map(|(relation, call)| format!("{relation} {call}"))
                    .collect();
                format!(
                    "{} {} on {}\nremote {}\nrelated [{}]\ndisconnect_mode {}\nuui_received {}\nuui_sent {}",
                    info.status,
                    info.privilege
                        .map_or_else(|e| format!("Err({e})"), |p| p.to_string()),
                    info.line,
                    if info.remote.is_empty() {
                        "-"
                    } else {
                        &info.remote
                    },
                    related.join(", "),
                    info.disconnect_mode
                        .map_or_else(|| "-".to_owned(), |m| m.to_string()),
                    self.show_uui(&info.uui_received),
                    self.show_uui(&info.uui_sent),
                )
            }
            Answer::Leaks(leaks) if leaks.is_empty() => "none".to_owned(),
            Answer::Leaks(leaks) => leaks
                .iter()
                .map(|(app, names)| format!("{app}: {}", names.join(", ")))
                .collect::<Vec<_>>()
                .join("\n"),
            Answer::FarEnd(parties) if parties.is_empty() => "nobody".to_owned(),
            Answer::FarEnd(parties) => parties
                .iter()
                .map(|party| {
                    let received: Vec<String> = party
                        .received
                        .iter()
                        .map(|(kind, cause, uui)| {
                            format!("{kind} cause {cause} uui {}", self.show_uui(uui))
                        })
                        .collect();
                    format!(
                        "{}: {}, connected to [{}], received [{}]",
                        party.name,
                        party.state,
                        party.connected_to.join(", "),
                        received.join("; ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Answer::Waited(None) | Answer::Quiet => String::new(),
            Answer::Waited(Some(text)) | Answer::Unrunnable(text) => text.clone(),
        }
    }

    pub(super) fn show_event(&self, app: usize, seen: &Seen) -> String {
        let app_name = &self.apps[app].0;
        match seen {
            Seen::State {
                call,
                status,
                privilege,
            } => format!("{app_name}: {call} {status} {privilege}"),
            Seen::Reply { request, result } => {
                let result = match result {
                    Ok(()) => "Ok".to_owned(),
                    Err(e) => format!("Err({e})"),
                };
                format!("{app_name}: reply {request} {result}")
            }
        }
    }
}

/// ` (appearances c2 on s2, c3 on s3)`, or nothing.
fn show_appearances(appearances: &[(String, String)]) -> String {
    if appearances.is_empty() {
        return String::new();
    }
    let list: Vec<String> = appearances
        .iter()
        .map(|(line, alias)| format!("{alias} on {line}"))
        .collect();
    format!(" (appearances {})", list.join(", "))
}
