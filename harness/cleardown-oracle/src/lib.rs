//! The oracle: SPEC.md as code.
pub mod history;
