//! End-to-end tests of the host through dynamically loaded plugins.
//!
//! Every test names the SPEC rule it checks. Providers are always the real
//! `cdylib`s, built by cargo and loaded by path (`locate::find`).

mod support;

mod bridged;
mod drop;
mod loading;
mod related;
mod terminate;
