//! Where each rule was checked (SPEC §0 "situation"): the situations a rule
//! applies to under a declaration ([`implied`]), and the ones a judged run
//! reached ([`reached`]). A rule passes only where every situation the
//! declaration implies was reached and judged; the report says which were
//! not.
//!
//! A situation is the kind of call an operation meets, with the capability
//! edge it meets where the rule is about one (UUI of exactly the size, one
//! byte over). Rules that hold over a whole run whatever the calls (S1, D3,
//! D4, T5, X1, …) have one situation, [`Situation::AnyRun`]: any judged
//! run reaches it.

use std::fmt;

use cleardown_contract::{
    AddressCaps, CallFeatures, CallState, CallStatus, Capabilities, Privilege, Sharing,
};
use cleardown_fixture::Step;

use crate::{Context, world::World};

/// The kind of call an operation meets, or the edge it meets it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Situation {
    /// Any judged run: the rules that hold whatever the calls.
    AnyRun,
    /// A plain call, connected.
    Connected,
    /// An offered call (Offering or Accepted).
    Offered,
    /// An outbound call not yet answered (Dialing, Proceeding, Ringback).
    Outbound,
    /// Disconnected: the far end already left.
    Disconnected,
    /// On hold.
    Held,
    /// The consultation call of a conference or transfer being set up.
    Consultation,
    /// A conference parent.
    ConferenceParent,
    /// A party of a conference.
    ConferenceParty,
    /// A conference parent that is itself a party of another.
    NestedParent,
    /// An appearance active at its station, on a bridged line.
    BridgedActive,
    /// A Connected/Inactive appearance at a BridgedShared station.
    BridgedInactive,
    /// UUI of exactly the declared size.
    UuiAtSize,
    /// UUI one byte (or more) over the declared size.
    UuiOverSize,
}

impl Situation {
    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Situation::AnyRun => "any run",
            Situation::Connected => "connected",
            Situation::Offered => "offered",
            Situation::Outbound => "outbound unanswered",
            Situation::Disconnected => "disconnected by the far end",
            Situation::Held => "held",
            Situation::Consultation => "consultation",
            Situation::ConferenceParent => "conference parent",
            Situation::ConferenceParty => "conference party",
            Situation::NestedParent => "nested parent",
            Situation::BridgedActive => "bridged appearance Active",
            Situation::BridgedInactive => "bridged appearance Inactive",
            Situation::UuiAtSize => "UUI of exactly the size",
            Situation::UuiOverSize => "UUI over the size",
        }
    }
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One situation a judged run reached for a rule, and whether the rule
/// broke there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reached {
    /// The SPEC rule.
    pub rule: &'static str,
    /// Where.
    pub situation: Situation,
    /// The rule broke at that step.
    pub failed: bool,
}

use Situation::*;

/// What the declaration makes possible, for the filters of [`implied`].
struct Can {
    private: bool,
    conference: bool,
    conf_drop: bool,
    no_conf_drop: bool,
    hold: bool,
    consultation: bool,
    shared: bool,
    bridged: bool,
    separate: bool,
    reject: bool,
    uui: bool,
    received: bool,
}

impl Can {
    fn of(caps: &Capabilities) -> Can {
        let any = |f: &dyn Fn(&AddressCaps) -> bool| caps.addresses.iter().any(f);
        let conf =
            CallFeatures(CallFeatures::SETUP_CONFERENCE.0 | CallFeatures::ADD_TO_CONFERENCE.0);
        let private = |a: &AddressCaps| a.sharing == Sharing::Private;
        Can {
            private: any(&private),
            conference: any(&|a| private(a) && a.features.contains(conf)),
            conf_drop: any(&|a| private(a) && a.features.contains(conf) && a.conf_drop),
            no_conf_drop: any(&|a| private(a) && a.features.contains(conf) && !a.conf_drop),
            hold: any(&|a| {
                private(a)
                    && a.features
                        .contains(CallFeatures(CallFeatures::HOLD.0 | CallFeatures::UNHOLD.0))
            }),
            consultation: any(&|a| {
                private(a)
                    && (a.features.contains(CallFeatures::SETUP_CONFERENCE)
                        || a.features.contains(CallFeatures::SETUP_TRANSFER))
            }),
            shared: any(&|a| a.sharing == Sharing::BridgedShared),
            bridged: any(&|a| {
                matches!(
                    a.sharing,
                    Sharing::BridgedShared | Sharing::BridgedExclusive | Sharing::BridgedNew
                )
            }),
            separate: any(&|a| {
                matches!(a.sharing, Sharing::BridgedExclusive | Sharing::BridgedNew)
            }),
            reject: caps.reject_by_drop,
            uui: caps.uui_drop_size > 0,
            received: caps.uui_received_size > 0,
        }
    }
}

/// The rules with situations of their own, and the situations each applies
/// to, before the declaration filters them. Every other rule of SPEC.md
/// has the one situation [`Situation::AnyRun`].
const TABLE: &[(&str, &[Situation])] = &[
    ("D1", &[Connected, BridgedActive, Disconnected]),
    (
        "D5",
        &[
            Connected,
            Offered,
            Outbound,
            Held,
            ConferenceParent,
            ConferenceParty,
            BridgedActive,
        ],
    ),
    ("D6", &[Disconnected]),
    ("D7", &[Outbound]),
    ("D8", &[Consultation]),
    ("R1", &[Offered]),
    ("R2", &[Offered]),
    ("R3", &[Offered, Connected, BridgedActive]),
    ("U2", &[UuiOverSize]),
    ("U3", &[UuiAtSize]),
    ("U4", &[UuiOverSize]),
    ("U5", &[Connected, ConferenceParty]),
    (
        "S3",
        &[Connected, Offered, Outbound, BridgedActive, BridgedInactive],
    ),
    ("C1", &[ConferenceParent]),
    ("C2", &[ConferenceParent]),
    ("C3", &[ConferenceParty]),
    ("C4", &[ConferenceParty]),
    ("C5", &[NestedParent]),
    ("C6", &[ConferenceParty]),
    ("B1", &[BridgedActive]),
    ("B2", &[BridgedActive]),
    ("B3", &[BridgedInactive]),
    ("B4", &[BridgedActive]),
    ("B5", &[Connected, BridgedActive]),
    (
        "T3",
        &[
            Connected,
            Offered,
            Outbound,
            Disconnected,
            ConferenceParent,
            ConferenceParty,
            BridgedActive,
        ],
    ),
];

/// Every situation `rule` applies to under some declaration: its row of
/// the table, or [`Situation::AnyRun`] for a rule that holds over a whole
/// run.
pub fn situations(rule: &str) -> &'static [Situation] {
    TABLE
        .iter()
        .find(|(r, _)| *r == rule)
        .map_or(&[AnyRun], |(_, s)| s)
}

/// Whether `rule` applies at all under the declaration, and if not, the
/// capability that is missing (the skip reason).
pub fn needs(rule: &str, caps: &Capabilities) -> Option<&'static str> {
    let can = Can::of(caps);
    let missing = |ok: bool, what: &'static str| (!ok).then_some(what);
    match rule {
        "R1" => missing(can.reject, "reject_by_drop"),
        "R2" => missing(!can.reject, "the absence of reject_by_drop"),
        "U2" | "U3" => missing(can.uui, "uui_drop_size > 0"),
        "U4" => missing(!can.uui, "uui_drop_size == 0"),
        "U5" => missing(can.received, "uui_received_size > 0"),
        "C1" => missing(can.conf_drop, "an address with conference and conf_drop"),
        "C2" => missing(
            can.no_conf_drop,
            "an address with conference and without conf_drop",
        ),
        "C3" | "C4" | "C5" | "C6" => missing(can.conference, "an address with conference"),
        "D8" => missing(
            can.consultation,
            "an address with setup_conference or setup_transfer",
        ),
        "B1" | "B2" | "B3" => missing(can.shared, "a BridgedShared address"),
        "B4" => missing(can.separate, "a BridgedExclusive or BridgedNew address"),
        _ => None,
    }
}

/// The situations `rule` applies to under the declaration `caps`; empty
/// where it does not apply at all ([`needs`] says why).
pub fn implied(rule: &str, caps: &Capabilities) -> Vec<Situation> {
    if needs(rule, caps).is_some() {
        return Vec::new();
    }
    let can = Can::of(caps);
    let Some((_, all)) = TABLE.iter().find(|(r, _)| *r == rule) else {
        return vec![AnyRun];
    };
    all.iter()
        .copied()
        .filter(|s| match s {
            // A connected call on a bridged line is an appearance.
            Connected => can.private,
            Held => can.hold,
            Consultation => can.consultation,
            ConferenceParent | ConferenceParty => can.conference,
            NestedParent => can.conference,
            BridgedActive => can.bridged,
            BridgedInactive => can.shared,
            // An offered call is dropped, disconnected or let go only
            // where dropping it rejects it; without, R2 is its rule. Its
            // caller may give up whatever the declaration (S3).
            Offered => can.reject || rule == "R2" || rule == "S3",
            _ => true,
        })
        .collect()
}

/// The address of the line call `alias` is on.
fn address<'c>(world: &World, context: &'c Context, alias: &str) -> Option<&'c AddressCaps> {
    world
        .call(alias)
        .and_then(|c| c.line.as_deref())
        .and_then(|l| context.line(l))
}

/// The kind of call `alias` is before the step, as the rules tell them.
fn kind(world: &World, context: &Context, alias: &str) -> Option<Situation> {
    let call = world.call(alias)?;
    if call.unmodelled {
        return None;
    }
    let status = call.status.as_ref()?;
    let bridged = address(world, context, alias).is_some_and(|a| a.sharing != Sharing::Private);
    Some(match status {
        CallStatus::Idle => return None,
        _ if call.conference => {
            if matches!(status, CallStatus::Conferenced { .. }) {
                NestedParent
            } else {
                ConferenceParent
            }
        }
        CallStatus::Conferenced { .. } => ConferenceParty,
        _ if call.primary.is_some() && status.state() != CallState::Disconnected => Consultation,
        CallStatus::Disconnected { .. } => Disconnected,
        CallStatus::Connected { mode } if bridged => {
            if *mode == cleardown_contract::ConnectedMode::Inactive {
                BridgedInactive
            } else {
                BridgedActive
            }
        }
        _ => match status.state() {
            CallState::Offering | CallState::Accepted => Offered,
            CallState::Dialing | CallState::Proceeding | CallState::Ringback => Outbound,
            CallState::OnHold | CallState::OnHoldPendConf | CallState::OnHoldPendTransfer => Held,
            _ => Connected,
        },
    })
}

/// The situations `step` reaches, for each rule it is judged on, from the
/// world as it was before it.
pub(crate) fn reached(
    world: &World,
    context: &Context,
    step: &Step,
) -> Vec<(&'static str, Situation)> {
    let mut out = Vec::new();
    let size = context.caps.uui_drop_size as usize;
    // The step's UUI as the replay sends it.
    let uui = match step {
        Step::Drop { uui, .. } | Step::Disconnect { uui, .. } | Step::FarHangUp { uui, .. } => {
            uui.bytes(&context.caps)
        }
        _ => Vec::new(),
    };
    match step {
        Step::Drop { app, call, .. } | Step::Disconnect { app, call, .. } => {
            let Some(k) = kind(world, context, call) else {
                return out;
            };
            let held = world.call(call).and_then(|c| c.holders.get(app).copied());
            if held == Some(Privilege::Monitor) {
                out.push(("D1", k));
                return out;
            }
            if held != Some(Privilege::Owner) {
                return out;
            }
            if matches!(step, Step::Disconnect { .. }) {
                out.push(("R3", k));
            }
            match k {
                Disconnected => out.push(("D6", k)),
                Outbound => out.push(("D7", k)),
                Consultation => out.push(("D8", k)),
                Offered => out.push((
                    if context.caps.reject_by_drop {
                        "R1"
                    } else {
                        "R2"
                    },
                    k,
                )),
                ConferenceParent => {
                    let conf_drop = address(world, context, call).is_some_and(|a| a.conf_drop);
                    out.push((if conf_drop { "C1" } else { "C2" }, k));
                    // A parent with a conference among its parties: the
                    // cascade nests (C5).
                    let nested = world
                        .children(call)
                        .iter()
                        .any(|child| world.call(child).is_some_and(|c| c.conference));
                    if nested {
                        out.push(("C5", NestedParent));
                    }
                }
                NestedParent => out.push(("C5", k)),
                ConferenceParty => out.extend([("C3", k), ("C4", k)]),
                BridgedActive | BridgedInactive => {
                    match (address(world, context, call).map(|a| a.sharing), k) {
                        (Some(Sharing::BridgedShared), BridgedActive) => {
                            out.extend([("B1", k), ("B2", k)]);
                        }
                        (Some(Sharing::BridgedShared), _) => out.push(("B3", k)),
                        _ => out.push(("B4", k)),
                    }
                }
                _ => {}
            }
            if !matches!(
                k,
                Disconnected | Consultation | NestedParent | BridgedInactive
            ) {
                out.push(("D5", k));
            }
            if !uui.is_empty() {
                match (size, uui.len()) {
                    (0, _) => out.push(("U4", UuiOverSize)),
                    (size, len) if len > size => out.push(("U2", UuiOverSize)),
                    (size, len) if len == size => out.push(("U3", UuiAtSize)),
                    _ => {}
                }
            }
        }
        Step::FarHangUp { call, .. } => {
            let Some(k) = kind(world, context, call) else {
                return out;
            };
            match k {
                ConferenceParty => out.extend([("C6", k), ("C4", k)]),
                Connected | Offered | Outbound | BridgedActive | BridgedInactive => {
                    out.push(("S3", k));
                }
                _ => {}
            }
            let kept = !uui.is_empty() && uui.len() <= context.caps.uui_received_size as usize;
            if kept && matches!(k, Connected | ConferenceParty) {
                out.push(("U5", k));
            }
        }
        Step::Deallocate { app, call, .. } => {
            let Some(k) = kind(world, context, call) else {
                return out;
            };
            let sole = world.call(call).is_some_and(|c| {
                c.holders.get(app) == Some(&Privilege::Owner)
                    && c.holders
                        .values()
                        .filter(|p| **p == Privilege::Owner)
                        .count()
                        == 1
            });
            if sole {
                out.push(("T3", k));
            }
        }
        Step::Close { app, line } => {
            // The calls the closing app owns on the line, by kind (`kind`
            // names no Idle call).
            let kinds = world
                .calls
                .iter()
                .filter(|(_, c)| {
                    c.line.as_deref() == Some(line.as_str())
                        && c.holders.get(app) == Some(&Privilege::Owner)
                })
                .filter_map(|(alias, _)| kind(world, context, alias))
                .filter(|k| matches!(k, Connected | BridgedActive));
            out.extend(kinds.map(|k| ("B5", k)));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(sharing: Sharing, features: CallFeatures, conf_drop: bool) -> AddressCaps {
        AddressCaps {
            name: "a".to_owned(),
            conf_drop,
            sharing,
            features,
        }
    }

    fn caps(reject: bool, uui: u32, addresses: Vec<AddressCaps>) -> Capabilities {
        Capabilities {
            uui_drop_size: uui,
            reject_by_drop: reject,
            close_drop: true,
            addresses,
            far_causes: true,
            uui_received_size: uui,
            hang_up_delay_ms: 0,
        }
    }

    /// `check(caps, rule, expect)`: the situations the declaration implies
    /// for the rule, by name, or the capability it needs.
    fn check(caps: &Capabilities, rule: &str, expect: Result<&[&str], &str>) {
        let got = match needs(rule, caps) {
            Some(need) => Err(need),
            None => Ok(implied(rule, caps)
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()),
        };
        match (expect, got) {
            (Ok(want), Ok(got)) => assert_eq!(got, want, "{rule}"),
            (Err(want), Err(got)) => assert_eq!(got, want, "{rule}"),
            (want, got) => panic!("{rule}: expected {want:?}, got {got:?}"),
        }
    }

    /// SPEC §0, L2: a PBX line with every feature implies every call kind;
    /// an analog station only appearances and unanswered calls.
    #[test]
    fn situations_follow_the_declaration() {
        let pbx = caps(
            true,
            128,
            vec![address(Sharing::Private, CallFeatures::ALL, true)],
        );
        check(&pbx, "D7", Ok(&["outbound unanswered"]));
        check(&pbx, "C1", Ok(&["conference parent"]));
        check(
            &pbx,
            "C2",
            Err("an address with conference and without conf_drop"),
        );
        check(&pbx, "R2", Err("the absence of reject_by_drop"));
        check(&pbx, "U3", Ok(&["UUI of exactly the size"]));
        check(&pbx, "S1", Ok(&["any run"]));
        check(
            &pbx,
            "D5",
            Ok(&[
                "connected",
                "offered",
                "outbound unanswered",
                "held",
                "conference parent",
                "conference party",
            ]),
        );
        let plain =
            CallFeatures(CallFeatures::ACCEPT.0 | CallFeatures::ANSWER.0 | CallFeatures::DROP.0);
        let analog = caps(
            false,
            0,
            vec![address(Sharing::BridgedShared, plain, false)],
        );
        check(&analog, "U4", Ok(&["UUI over the size"]));
        check(&analog, "U5", Err("uui_received_size > 0"));
        check(
            &analog,
            "D5",
            Ok(&["outbound unanswered", "bridged appearance Active"]),
        );
        check(&analog, "B3", Ok(&["bridged appearance Inactive"]));
        check(
            &analog,
            "B4",
            Err("a BridgedExclusive or BridgedNew address"),
        );
        check(
            &analog,
            "D8",
            Err("an address with setup_conference or setup_transfer"),
        );
        check(
            &analog,
            "S3",
            Ok(&[
                "offered",
                "outbound unanswered",
                "bridged appearance Active",
                "bridged appearance Inactive",
            ]),
        );
    }
}
