//! A fixture that cannot be used gets one clear error naming the file, the
//! line and what was expected; never a panic.

use cleardown_conformance::fixture::parse;

#[test]
fn placeholder() {
    assert!(parse("x.toml", "").is_err());
}
