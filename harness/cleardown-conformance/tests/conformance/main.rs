//! The conformance crate's tests: the fixture parser's errors and SPEC
//! coverage. The bundled fixtures against their snapshots are the test
//! target `snapshots`, in `fixtures/snapshots.rs` (see there why).

mod bad_fixtures;
mod coverage;
mod gates;
mod oracle;
