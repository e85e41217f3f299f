//! What a drop does, by the situation its call is in (SPEC §2, §3, §5,
//! §10): which calls change and to what, and what each far party is sent.
//! The same rules serve a drop, a disconnect, the close of a last handle
//! (T3) and the close of a line with close_drop (B5).

use std::fmt;

use cleardown_contract::{
    CallState, CallStatus, ConnectedMode, DisconnectCode, DisconnectMode, Sharing, SignalKind,
};

use crate::{
    Context,
    world::{Signal, World},
};

/// What a call must become for every app holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Idle,
    /// Connected/Active (C4's remaining party, D8's primary).
    Connected,
    /// Connected/Inactive: up at another station, not this one (B1).
    Inactive,
    Disconnected,
    /// Disconnected with this mode (§10's cause mapping).
    DisconnectedAs(DisconnectMode),
    /// No state event at all.
    Unchanged,
    /// May change in any way: a call linked to the affected ones where
    /// SPEC fixes nothing for it.
    Any,
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Want::Idle => "Idle",
            Want::Connected => "Connected/Active",
            Want::Inactive => "Connected/Inactive",
            Want::Disconnected => "Disconnected",
            Want::DisconnectedAs(DisconnectMode::Busy) => "Disconnected/Busy",
            Want::DisconnectedAs(DisconnectMode::Reject) => "Disconnected/Reject",
            Want::DisconnectedAs(_) => "Disconnected/Normal",
            Want::Unchanged => "no change",
            Want::Any => "anything",
        })
    }
}

/// The effects of one operation, each with the rule that fixes it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Effects {
    pub wants: Vec<(String, Want, &'static str)>,
    pub signals: Vec<(String, Signal, &'static str)>,
    /// Parties that must be sent nothing by this operation.
    pub silent: Vec<(String, &'static str)>,
    pub uui_sent: Vec<(String, Vec<u8>)>,
    /// Parties reached by something not modelled.
    pub unjudged_parties: Vec<String>,
    pub unjudged: Vec<String>,
}

impl Effects {
    pub fn want(&mut self, call: &str, want: Want, rule: &'static str) {
        self.wants.push((call.to_owned(), want, rule));
    }

    pub fn unchanged(call: &str, rule: &'static str) -> Effects {
        let mut effects = Effects::default();
        effects.want(call, Want::Unchanged, rule);
        effects
    }

    pub fn extend(&mut self, other: Effects) {
        self.wants.extend(other.wants);
        self.signals.extend(other.signals);
        self.silent.extend(other.silent);
        self.uui_sent.extend(other.uui_sent);
        self.unjudged_parties.extend(other.unjudged_parties);
        self.unjudged.extend(other.unjudged);
    }

    /// Names `rule` for what happens to `call` itself (T3, B5: the call
    /// is dropped because of them); its related calls keep their rules.
    pub fn retag(&mut self, call: &str, rule: &'static str) {
        for (c, _, r) in &mut self.wants {
            if c == call {
                *r = rule;
            }
        }
    }

    /// What the far party of `call` alone is sent when it is dropped in
    /// its present state, as part of a larger operation (B5's close): no
    /// effect on linked calls.
    pub fn signal_only(world: &World, call: &str, reject: bool) -> Result<Effects, String> {
        let mut effects = Effects::default();
        let c = world
            .call(call)
            .ok_or_else(|| format!("a drop of {call}, which never appeared"))?;
        let Some(party) = c.party.clone() else {
            return Ok(effects);
        };
        match c.state() {
            Some(CallState::Offering | CallState::Accepted) if reject => {
                effects
                    .signals
                    .push((party, (SignalKind::Reject, 21, Vec::new()), "R1"))
            }
            Some(CallState::Offering | CallState::Accepted) => effects.unjudged_parties.push(party),
            Some(
                CallState::Dialtone
                | CallState::Dialing
                | CallState::Proceeding
                | CallState::Ringback,
            ) => effects
                .signals
                .push((party, (SignalKind::Cancel, 16, Vec::new()), "D7")),
            Some(CallState::Disconnected) => effects.silent.push((party, "D6")),
            Some(CallState::Connected | CallState::OnHold | CallState::Conferenced) => effects
                .signals
                .push((party, (SignalKind::Release, 16, Vec::new()), "U3")),
            other => return Err(format!("a call dropped in {other:?}")),
        }
        Ok(effects)
    }

    /// A drop of `call` with `code` (a plain drop is `Normal`; NoAnswer
    /// outside Offering has already become `Normal`) and `uui`, accepted.
    /// `Err` names a situation the oracle does not model.
    pub fn of_drop(
        context: &Context,
        world: &World,
        call: &str,
        code: DisconnectCode,
        uui: &[u8],
    ) -> Result<Effects, String> {
        let mut effects = Effects::default();
        drop_into(context, world, call, code, uui, &mut effects, 0)?;
        Ok(effects)
    }
}

fn reject_cause(code: DisconnectCode) -> (u32, &'static str) {
    match code {
        DisconnectCode::Busy => (17, "R3"),
        DisconnectCode::NoAnswer => (19, "R3"),
        DisconnectCode::Rejected => (21, "R3"),
        _ => (21, "R1"),
    }
}

fn drop_into(
    context: &Context,
    world: &World,
    call: &str,
    code: DisconnectCode,
    uui: &[u8],
    effects: &mut Effects,
    depth: usize,
) -> Result<(), String> {
    // 0: the call dropped; 1: a party of the conference dropped (C1);
    // deeper: a party of a nested conference (C5).
    let in_cascade = depth > 0;
    let cascade_rule = if depth > 1 { "C5" } else { "C1" };
    let c = world
        .call(call)
        .ok_or_else(|| format!("a drop of {call}, which never appeared"))?;
    if c.unmodelled {
        return Err("calls touched by an unmodelled situation".to_owned());
    }
    if world.parent_unknown()
        && (c.conference || matches!(c.status, Some(CallStatus::Conferenced { .. })))
    {
        return Err("a conference party whose parent no app holding it can name".to_owned());
    }
    let Some(address) = c.line.as_deref().and_then(|l| context.line(l)) else {
        return Err(
            "calls the script never placed on a line (station appearances, unnamed calls)"
                .to_owned(),
        );
    };
    let party = c.party.clone();
    let state = c
        .state()
        .ok_or_else(|| format!("a drop of {call} in no known state"))?;
    if address.sharing == Sharing::BridgedShared && !in_cascade {
        let shared = |line: &str| {
            context
                .line(line)
                .is_some_and(|a| a.sharing == Sharing::BridgedShared)
        };
        let others = world.appearances(call, shared);
        if bridged_shared(world, call, state, &others, uui, effects)? {
            return Ok(());
        }
    }
    // B4: on a BridgedExclusive or BridgedNew line the call is the holding
    // station's alone, so its drop is a private line's.
    let exclusive = matches!(
        address.sharing,
        Sharing::BridgedExclusive | Sharing::BridgedNew
    );
    let address = Some(address);
    let release = |effects: &mut Effects, rule: &'static str| {
        if let Some(party) = &party {
            effects
                .signals
                .push((party.clone(), (SignalKind::Release, 16, uui.to_vec()), rule));
        }
        effects.uui_sent.push((call.to_owned(), uui.to_vec()));
    };
    if c.conference && !matches!(state, CallState::Idle | CallState::Disconnected) {
        let conf_drop = address.is_some_and(|a| a.conf_drop);
        let rule = if conf_drop { "C1" } else { "C2" };
        effects.want(call, Want::Idle, if in_cascade { "C5" } else { rule });
        // The UUI is the drop's, on the call dropped; a nested parent has
        // no far end of its own to have sent it to.
        if !in_cascade {
            effects.uui_sent.push((call.to_owned(), uui.to_vec()));
        }
        if state == CallState::OnHoldPendConf {
            return Err("a conference dropped while a party is being added".to_owned());
        }
        if matches!(state, CallState::Conferenced) && !in_cascade {
            return Err("a drop of a nested conference from inside it".to_owned());
        }
        for child in world.children(call) {
            if conf_drop {
                drop_into(context, world, &child, code, uui, effects, depth + 1)?;
            } else {
                idle_here(world, &child, effects);
            }
        }
        return Ok(());
    }
    match state {
        CallState::Offering | CallState::Accepted => {
            let (cause, rule) = reject_cause(code);
            effects.want(call, Want::Idle, rule);
            if let Some(party) = &party {
                effects.signals.push((
                    party.clone(),
                    (SignalKind::Reject, cause, uui.to_vec()),
                    rule,
                ));
            }
            effects.uui_sent.push((call.to_owned(), uui.to_vec()));
        }
        CallState::Dialtone | CallState::Dialing | CallState::Proceeding | CallState::Ringback => {
            effects.want(call, Want::Idle, "D7");
            if let Some(party) = &party {
                effects
                    .signals
                    .push((party.clone(), (SignalKind::Cancel, 16, uui.to_vec()), "D7"));
            }
            effects.uui_sent.push((call.to_owned(), uui.to_vec()));
        }
        CallState::Disconnected => {
            effects.want(call, Want::Idle, "D6");
            if let Some(party) = &party {
                effects.silent.push((party.clone(), "D6"));
            }
        }
        CallState::Connected | CallState::OnHold => {
            effects.want(
                call,
                Want::Idle,
                if in_cascade {
                    cascade_rule
                } else if exclusive {
                    "B4"
                } else {
                    "D5"
                },
            );
            release(effects, if in_cascade { cascade_rule } else { "U3" });
        }
        CallState::Conferenced if in_cascade => {
            effects.want(call, Want::Idle, cascade_rule);
            release(effects, cascade_rule);
        }
        CallState::Conferenced => {
            let Some(CallStatus::Conferenced { parent }) = &c.status else {
                return Err("a party of an unknown conference".to_owned());
            };
            effects.want(call, Want::Idle, "C3");
            release(effects, "C3");
            let rest: Vec<String> = world
                .children(parent)
                .into_iter()
                .filter(|x| x != call)
                .collect();
            let nested = matches!(
                world.call(parent).and_then(|p| p.state()),
                Some(CallState::Conferenced)
            );
            if rest.len() >= 2 {
                for x in &rest {
                    effects.want(x, Want::Unchanged, "C3");
                }
                effects.want(parent, Want::Unchanged, "C3");
            } else if nested {
                return Err("a nested conference falling to one party (C4 nested)".to_owned());
            } else if let [last] = rest.as_slice() {
                effects.want(parent, Want::Idle, "C4");
                effects.want(last, Want::Connected, "C4");
            }
        }
        other => return Err(format!("a drop in {other}")),
    }
    // D8: a consultation dropped, in whatever state, returns its primary
    // to Connected while the primary waits for it.
    if let Some(primary) = &c.primary {
        let pending = world.call(primary).and_then(|p| p.state());
        if matches!(
            pending,
            Some(CallState::OnHoldPendConf | CallState::OnHoldPendTransfer)
        ) {
            effects.want(primary, Want::Connected, "D8");
        }
    }
    Ok(())
}

/// A drop of `call`, an appearance at a BridgedShared station, where
/// `others` are the other live appearances of its far call (SPEC B1-B3).
/// `Ok(false)` when the appearance stands alone in a state §6 says nothing
/// of: the drop is then a private line's.
fn bridged_shared(
    world: &World,
    call: &str,
    state: CallState,
    others: &[String],
    uui: &[u8],
    effects: &mut Effects,
) -> Result<bool, String> {
    let party = world.call(call).and_then(|c| c.party.clone());
    let status = world.call(call).and_then(|c| c.status.clone());
    let active = |alias: &str| {
        matches!(
            world.call(alias).and_then(|c| c.status.clone()),
            Some(CallStatus::Connected {
                mode: ConnectedMode::Active
            })
        )
    };
    let leave = |effects: &mut Effects, want: Want, rule: &'static str| {
        effects.want(call, want, rule);
        for other in others {
            effects.want(other, Want::Unchanged, rule);
        }
        if let Some(party) = &party {
            effects.silent.push((party.clone(), rule));
        }
    };
    match (state, status) {
        // B3: an appearance up elsewhere, not here: only it goes.
        (
            CallState::Connected,
            Some(CallStatus::Connected {
                mode: ConnectedMode::Inactive,
            }),
        ) => leave(effects, Want::Idle, "B3"),
        // B1: another station is still on the call.
        (CallState::Connected, _) if others.iter().any(|o| active(o)) => {
            leave(effects, Want::Inactive, "B1");
        }
        // B2: the last active station: the call clears everywhere.
        (CallState::Connected, _) => {
            effects.want(call, Want::Idle, "B2");
            for other in others {
                effects.want(other, Want::Idle, "B2");
            }
            if let Some(party) = &party {
                effects.signals.push((
                    party.clone(),
                    (SignalKind::Release, 16, uui.to_vec()),
                    "B2",
                ));
            }
            effects.uui_sent.push((call.to_owned(), uui.to_vec()));
        }
        // D6 at one station: the far end already left; the other
        // stations' appearances are theirs to drop.
        (CallState::Disconnected, _) => {
            effects.want(call, Want::Idle, "D6");
            for other in others {
                effects.want(other, Want::Any, "D6");
            }
            if let Some(party) = &party {
                effects.silent.push((party.clone(), "D6"));
            }
        }
        _ if others.is_empty() => return Ok(false),
        (other, _) => {
            return Err(format!(
                "a drop of one of several station appearances in {other}"
            ));
        }
    }
    Ok(true)
}

/// C2: without conf_drop a conference's party goes Idle at this station
/// and its far party stays connected (sent nothing); a party that is a
/// conference itself takes its own parties with it (C5).
fn idle_here(world: &World, call: &str, effects: &mut Effects) {
    effects.want(call, Want::Idle, "C2");
    if let Some(p) = world.call(call).and_then(|c| c.party.clone()) {
        effects.silent.push((p, "C2"));
    }
    if world.call(call).is_some_and(|c| c.conference) {
        for child in world.children(call) {
            idle_here(world, &child, effects);
        }
    }
}
