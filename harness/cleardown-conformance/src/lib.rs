//! The cleardown conformance suite: proves a provider honours SPEC.md.
//!
//! A [`fixture`] is one scenario in TOML: app-side actions and far-end
//! stimuli on calls named by aliases, the SPEC rules it covers, and the
//! capabilities it needs ([`replay::gate`]). [`replay`] runs it through a
//! provider loaded by the host and writes a normalized transcript, which is
//! compared with a [`snapshot`] keyed by the fixture and the capability
//! profile that matters to it, so every provider with that profile must
//! produce the same transcript. [`run`] does this for every fixture of a
//! [`suite::Suite`] and every target, each target in a child process so a
//! crashing or hanging provider fails fixtures instead of the run, and
//! builds the [`cleardown_report::Report`]. [`render`] prints it for people,
//! [`junit`] for CI. A fixture with `wire = true` also keeps the provider's own
//! [`wire`] text, judged against that provider's pinned wire snapshot.

pub mod junit;
pub mod markdown;
pub mod render;
pub mod replay;
pub mod run;
pub mod snapshot;
pub mod suite;
pub mod wire;

pub use cleardown_fixture as fixture;
pub use cleardown_oracle as oracle;

/// A well-mixed seed from any number (for `--seed random`).
pub fn explore_seed(from: u64) -> u64 {
    cleardown_explore::rng::Rng::new(from).next_u64()
}
pub use cleardown_report as report;
