//! The conformance crate's tests: the bundled fixtures against pbx-sim in
//! every configuration variant (insta snapshots, so `cargo insta review`
//! works here), the fixture parser's errors, and SPEC coverage.

mod bad_fixtures;
mod coverage;
mod snapshots;
