//! Wire logs: what the far end received, as the provider put it on the
//! wire (a SIP BYE, an ISDN RELEASE), for fixtures with `wire = true`.
//!
//! What SPEC §10 fixes about the far end (which signal, which cause, the
//! UUI bytes) is in the transcript, from the provider-neutral far-end view,
//! and judged for every provider. The exact text is each provider's own, so
//! it is judged against *that provider's* pinned snapshot: the bundled
//! providers' are embedded in the binary; any other provider's live in a
//! directory its author keeps ([`Home`]). Until the author pins them, a
//! wire log is reported as not pinned, never failed: cleardown cannot hold
//! the wire text of a provider it has never seen.

use std::{fmt::Write as _, path::PathBuf};

use cleardown_host::{Capabilities, LineResult, RemoteParty};

use crate::{
    fixture::{Fixture, Number, ProfileKey, Step, Uui},
    replay::Binding,
};

/// Every signal the far end received, one block per party (in name
/// order), each headed by its signal and cause.
pub fn log(parties: LineResult<Vec<RemoteParty>>) -> String {
    let mut parties = match parties {
        Ok(parties) => parties,
        Err(error) => return format!("far-end view: Err({error})\n"),
    };
    parties.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for party in parties {
        for signal in &party.received {
            let _ = writeln!(
                out,
                "=== to {}: {} cause {}",
                party.name, signal.kind, signal.cause
            );
            for line in signal.wire.lines() {
                let _ = writeln!(out, "{}", line.trim_end_matches('\r'));
            }
        }
    }
    out
}

/// The declared sizes a fixture's UUI is sized from (`max`, `max+1`:
/// `uui_drop_size`; `received_max`: `uui_received_size`), in that order:
/// the bytes on the wire depend on them.
pub fn uui_sized_from(fixture: &Fixture) -> Vec<Number> {
    let uses = |number: Number| {
        fixture.steps.iter().any(|(_, step)| match step {
            Step::Drop { uui, .. }
            | Step::Disconnect { uui, .. }
            | Step::FarOffer { uui, .. }
            | Step::FarHangUp { uui, .. } => match uui {
                Uui::Max | Uui::OverMax => number == Number::UuiDropSize,
                Uui::ReceivedMax => number == Number::UuiReceivedSize,
                Uui::Bytes(_) => false,
            },
            _ => false,
        })
    };
    [Number::UuiDropSize, Number::UuiReceivedSize]
        .into_iter()
        .filter(|n| uses(*n))
        .collect()
}

/// The name of a fixture's wire snapshot for `provider` (its declared
/// name): `FIXTURE[@PROFILE].wire-PROVIDER`. The profile is the
/// transcript's, plus whatever else changes the wire text: the declared
/// `uui_drop_size` when the fixture's UUI is sized from it, since a SIP
/// `User-to-User` header or an ISDN user-user element carries every byte.
pub fn snapshot_name(
    fixture: &Fixture,
    binding: &Binding,
    caps: &Capabilities,
    provider: &str,
) -> String {
    let mut profile: Vec<String> = if binding.profile.is_empty() {
        Vec::new()
    } else {
        vec![binding.profile.clone()]
    };
    for number in uui_sized_from(fixture) {
        if !fixture.profile.contains(&ProfileKey::Number(number)) {
            profile.push(format!("{number}={}", number.value(caps)));
        }
    }
    let provider = file_safe(provider);
    if profile.is_empty() {
        format!("{}.wire-{provider}", fixture.name)
    } else {
        format!("{}@{}.wire-{provider}", fixture.name, profile.join(","))
    }
}

/// `name` as a file name: letters, digits, `-`, `_` and `.` kept, anything
/// else (a path separator, a space) made `_`.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where a provider's wire snapshots for a fixture are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Home {
    /// Embedded in the binary: a bundled fixture on a bundled provider,
    /// named as such. A missing one is cleardown's own bug, so it fails.
    Bundled,
    /// A directory the provider's author keeps: `--wire-snapshots DIR`, or
    /// the `snapshots/` of their fixtures. Pending `.snap.new` files go here.
    Dir(PathBuf),
    /// Nowhere given: the wire log can only be reported as not pinned.
    Nowhere,
}
