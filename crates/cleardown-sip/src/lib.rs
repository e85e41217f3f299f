//! SIP for cleardown, sans I/O: what the sip provider and the harness's
//! SIP far end share, so that neither depends on the other (the harness
//! never depends on a provider crate).
//!
//! * [`message`]: building and reading SIP messages with rsipstack's
//!   message layer, including the headers SPEC §10 maps a drop onto
//!   (`Reason: Q.850;cause=N`, RFC 3326; `User-to-User`, RFC 7433).
//! * [`far`]: the far user agent, a second SIP UA that plays every remote
//!   party of a call (rings, answers, rejects, hangs up, offers calls) and
//!   records what each party received ([`remote`], the far-end view).
//!
//! Nothing here does I/O or reads a clock: messages go in and come out;
//! the caller moves them (the provider's memory wire, or a UDP socket).

pub mod far;
pub mod message;
pub mod remote;

pub use far::FarUa;
pub use remote::{Parties, PartyId};
/// rsipstack's message layer, as this crate uses it.
pub use rsipstack::rsip;

/// The name of the sip provider's one address, as its far end names the
/// station a party is connected to when nobody says otherwise.
pub const LINE: &str = "line-1";

/// The far end's host name on the memory wire, and what the harness's SIP
/// far end calls its own loopback address in the wire text it reports, so
/// the same provider shows the same wire text over either.
pub const FAR_HOST: &str = "far.invalid";

/// The host name of the user agent under test, likewise.
pub const LOCAL_HOST: &str = "cleardown.invalid";
