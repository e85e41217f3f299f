//! What a fixture asks of the provider's declaration (SPEC L2): the gates
//! of `requires`, the conditions of `lines`, and the capabilities of
//! `profile` that select its snapshot.

use std::{collections::HashSet, fmt};

use cleardown_contract::{CallFeatures, Capabilities, Sharing};

/// A provider-level gate: `reject_by_drop`, `!close_drop`, `uui_drop_size >= 4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A boolean capability is (or, negated, is not) declared.
    Flag { name: Flag, declared: bool },
    /// A numeric capability compared with a number.
    Number { name: Number, op: Op, value: u32 },
}

/// The boolean provider capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// SPEC R1.
    RejectByDrop,
    /// SPEC B5.
    CloseDrop,
    /// SPEC L2, S3: the far end's causes reach the provider (contract 1.2).
    FarCauses,
}

/// The numeric provider capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// SPEC U1: the largest UUI a drop carries.
    UuiDropSize,
    /// SPEC L2, U5: the largest UUI kept from the far end (contract 1.2).
    UuiReceivedSize,
    /// SPEC L2, S3: how long a far hang-up may take to be found; 0, at
    /// once (contract 1.2).
    HangUpDelayMs,
}

impl Number {
    /// Every numeric capability, in the order messages list them.
    pub const ALL: [Number; 3] = [
        Number::UuiDropSize,
        Number::UuiReceivedSize,
        Number::HangUpDelayMs,
    ];

    /// Its name in gates, profiles and `inspect`.
    pub const fn name(self) -> &'static str {
        match self {
            Number::UuiDropSize => "uui_drop_size",
            Number::UuiReceivedSize => "uui_received_size",
            Number::HangUpDelayMs => "hang_up_delay_ms",
        }
    }

    /// The unit its values are in, for messages.
    const fn unit(self) -> &'static str {
        match self {
            Number::UuiDropSize | Number::UuiReceivedSize => "a number of bytes",
            Number::HangUpDelayMs => "a number of milliseconds",
        }
    }

    fn from_name(text: &str) -> Option<Number> {
        Number::ALL.into_iter().find(|n| n.name() == text)
    }

    /// Its declared value.
    pub fn value(self, caps: &Capabilities) -> u32 {
        match self {
            Number::UuiDropSize => caps.uui_drop_size,
            Number::UuiReceivedSize => caps.uui_received_size,
            Number::HangUpDelayMs => caps.hang_up_delay_ms,
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

/// What an address must offer to be bound to a line alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCondition {
    /// `conf_drop` / `!conf_drop`.
    ConfDrop(bool),
    /// `sharing == X` / `sharing != X`.
    Sharing { equal: bool, sharing: Sharing },
    /// `hold`, `conference`, `transfer`, `accept`, `answer` (or negated):
    /// calls on the address support the operations (contract 1.1).
    Features {
        name: &'static str,
        features: CallFeatures,
        wanted: bool,
    },
}

/// The call-feature conditions a line may name, and the features each needs.
pub const FEATURE_CONDITIONS: &[(&str, CallFeatures)] = &[
    (
        "hold",
        CallFeatures(CallFeatures::HOLD.0 | CallFeatures::UNHOLD.0),
    ),
    (
        "conference",
        CallFeatures(CallFeatures::SETUP_CONFERENCE.0 | CallFeatures::ADD_TO_CONFERENCE.0),
    ),
    (
        "transfer",
        CallFeatures(CallFeatures::SETUP_TRANSFER.0 | CallFeatures::COMPLETE_TRANSFER.0),
    ),
    ("accept", CallFeatures::ACCEPT),
    ("answer", CallFeatures::ANSWER),
];

/// A capability that selects the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileKey {
    /// A provider-level flag.
    Flag(Flag),
    /// A numeric capability: its value.
    Number(Number),
    /// `hang_up_detection`: `at_once` or `delayed` (`hang_up_delay_ms`
    /// above 0), for a transcript that shows how a far hang-up was found
    /// (a loop without supervision reports `Disconnected/Unknown`), whatever
    /// the delay.
    HangUpDetection,
    /// `LINE.conf_drop`.
    ConfDrop(String),
    /// `LINE.sharing`.
    Sharing(String),
}

fn parse_flag(name: &str) -> Option<Flag> {
    match name {
        "reject_by_drop" => Some(Flag::RejectByDrop),
        "close_drop" => Some(Flag::CloseDrop),
        "far_causes" => Some(Flag::FarCauses),
        _ => None,
    }
}

fn split_op(text: &str) -> Option<(&str, Op, &str)> {
    for (symbol, op) in [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ] {
        if let Some((left, right)) = text.split_once(symbol) {
            return Some((left.trim(), op, right.trim()));
        }
    }
    None
}

const CONDITIONS: &str = "a flag `reject_by_drop`, `close_drop` or `far_causes` (each may be \
     negated with `!`), or `NAME OP N` with NAME one of uui_drop_size, uui_received_size, \
     hang_up_delay_ms and OP one of == != >= <= > <";

pub(crate) fn parse_condition(text: &str) -> Result<Condition, String> {
    let text = text.trim();
    if let Some((left, op, right)) = split_op(text) {
        let Some(name) = Number::from_name(left) else {
            return Err(format!(
                "unknown capability `{left}` in `{text}`; expected {CONDITIONS}"
            ));
        };
        let value = right
            .parse()
            .map_err(|_| format!("`{right}` in `{text}` is not {}", name.unit()))?;
        return Ok(Condition::Number { name, op, value });
    }
    let (declared, name) = match text.strip_prefix('!') {
        Some(rest) => (false, rest.trim()),
        None => (true, text),
    };
    parse_flag(name)
        .map(|name| Condition::Flag { name, declared })
        .ok_or_else(|| format!("unknown capability `{text}`; expected {CONDITIONS}"))
}

fn parse_sharing(text: &str) -> Result<Sharing, String> {
    Sharing::ALL
        .iter()
        .copied()
        .find(|s| s.name() == text)
    .ok_or_else(|| {
        format!(
            "unknown sharing `{text}`; expected Private, BridgedExclusive, BridgedNew, BridgedShared or Monitored"
        )
    })
}

const LINE_CONDITIONS: &str = "`conf_drop`, `sharing == X`, `sharing != X`, or a call \
     feature `hold`, `conference`, `transfer`, `accept`, `answer` (each may be negated with `!`)";

pub(crate) fn parse_line_condition(text: &str) -> Result<LineCondition, String> {
    let text = text.trim();
    if let Some((left, op, right)) = split_op(text) {
        if left != "sharing" || !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!(
                "unknown line condition `{text}`; expected {LINE_CONDITIONS}"
            ));
        }
        return Ok(LineCondition::Sharing {
            equal: op == Op::Eq,
            sharing: parse_sharing(right)?,
        });
    }
    let (wanted, name) = match text.strip_prefix('!') {
        Some(rest) => (false, rest.trim()),
        None => (true, text),
    };
    if name == "conf_drop" {
        return Ok(LineCondition::ConfDrop(wanted));
    }
    FEATURE_CONDITIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(name, features)| LineCondition::Features {
            name,
            features: *features,
            wanted,
        })
        .ok_or_else(|| format!("unknown line condition `{text}`; expected {LINE_CONDITIONS}"))
}

pub(crate) fn parse_profile_key(text: &str, lines: &HashSet<&str>) -> Result<ProfileKey, String> {
    if let Some((line, key)) = text.split_once('.') {
        if !lines.contains(line) {
            return Err(format!(
                "profile key `{text}` names line `{line}`, which `lines` does not define"
            ));
        }
        return match key {
            "conf_drop" => Ok(ProfileKey::ConfDrop(line.to_owned())),
            "sharing" => Ok(ProfileKey::Sharing(line.to_owned())),
            _ => Err(format!(
                "unknown line capability `{key}` in profile key `{text}`; expected `conf_drop` or `sharing`"
            )),
        };
    }
    if let Some(number) = Number::from_name(text) {
        return Ok(ProfileKey::Number(number));
    }
    if text == "hang_up_detection" {
        return Ok(ProfileKey::HangUpDetection);
    }
    parse_flag(text).map(ProfileKey::Flag).ok_or_else(|| {
        format!(
            "unknown profile key `{text}`; expected reject_by_drop, close_drop, far_causes, \
             uui_drop_size, uui_received_size, hang_up_delay_ms, hang_up_detection, LINE.conf_drop \
             or LINE.sharing"
        )
    })
}

impl Condition {
    /// Whether `caps` meets the condition.
    pub fn holds(&self, caps: &Capabilities) -> bool {
        match *self {
            Condition::Flag { name, declared } => flag(caps, name) == declared,
            Condition::Number { name, op, value } => op.apply(name.value(caps), value),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Flag { name, declared } => {
                write!(f, "{}{name}", if *declared { "" } else { "!" })
            }
            Condition::Number { name, op, value } => write!(f, "{name} {op} {value}"),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flag::RejectByDrop => "reject_by_drop",
            Flag::CloseDrop => "close_drop",
            Flag::FarCauses => "far_causes",
        })
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
        })
    }
}

impl Op {
    fn apply(self, left: u32, right: u32) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Ge => left >= right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Lt => left < right,
        }
    }
}

impl fmt::Display for LineCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineCondition::ConfDrop(true) => f.write_str("conf_drop"),
            LineCondition::ConfDrop(false) => f.write_str("!conf_drop"),
            LineCondition::Sharing { equal, sharing } => {
                write!(f, "sharing {} {sharing}", if *equal { "==" } else { "!=" })
            }
            LineCondition::Features { name, wanted, .. } => {
                write!(f, "{}{name}", if *wanted { "" } else { "!" })
            }
        }
    }
}

impl LineCondition {
    /// Whether an address with these capabilities meets the condition.
    pub fn holds(&self, address: &cleardown_contract::AddressCaps) -> bool {
        match *self {
            LineCondition::ConfDrop(wanted) => address.conf_drop == wanted,
            LineCondition::Sharing { equal, sharing } => (address.sharing == sharing) == equal,
            LineCondition::Features {
                features, wanted, ..
            } => address.features.contains(features) == wanted,
        }
    }
}

/// The value of a boolean capability.
pub fn flag(caps: &Capabilities, flag: Flag) -> bool {
    match flag {
        Flag::RejectByDrop => caps.reject_by_drop,
        Flag::CloseDrop => caps.close_drop,
        Flag::FarCauses => caps.far_causes,
    }
}
