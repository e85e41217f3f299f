//! Generated scenarios for the conformance explorer.
//!
//! [`generate`] draws a script from what a provider declares (its
//! addresses, call features, UUI size, reject and close capabilities) over
//! SPEC's situations (§0: plain connected, offered, outbound unanswered,
//! Disconnected after a far hang-up, held, consultation, conference parent
//! and party, nested, and on bridged lines a call's appearances at two or
//! three stations, Active and Inactive) and the operations that meet them (drop with UUI at
//! the size's edges, disconnect with every code, deallocate by the sole
//! owner or one of two holders, close, far hang-ups with every §10 cause
//! and UUI up to the protocol's largest, a second app as Owner or Monitor,
//! events read late). A seed fixes the script, on every machine.
//!
//! A script is an ordinary fixture ([`Scenario::source`]): it runs through
//! the same replay, in the same worker processes, and is judged by the
//! oracle. [`shrink`] cuts a failing one down to the fewest steps and the
//! smallest values that still break the same rule, so what is written for
//! the author is a fixture small enough to read.
//!
//! Architecture invariant: generation and shrinking do no I/O and run no
//! provider; running a candidate is the caller's closure.

mod generate;
pub mod rng;
mod shrink;

pub use generate::generate;
pub use shrink::shrink;

/// One generated script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The scenario's own seed ([`rng::scenario_seed`]).
    pub seed: u64,
    /// The SPEC rules its operations meet.
    pub rules: Vec<String>,
    /// Its lines, each with the conditions it is bound with: `main` for a
    /// private line, `s1`, `s2`… for the stations of a bridged one.
    pub lines: Vec<(String, Vec<String>)>,
    /// The steps, each an inline TOML table of the fixture format.
    pub steps: Vec<String>,
}

impl Scenario {
    /// Ends the script as a fixture should: every app that appears
    /// deallocates every call it holds (`deallocate *`), where it does not
    /// already.
    pub fn close(&mut self) {
        let mut apps = vec![cleardown_fixture::DEFAULT_APP.to_owned()];
        for step in &self.steps {
            if let Some(start) = step.find("app = \"") {
                let rest = &step[start + 7..];
                if let Some(end) = rest.find('"') {
                    let app = rest[..end].to_owned();
                    if !apps.contains(&app) {
                        apps.push(app);
                    }
                }
            }
        }
        for app in apps {
            let step = if app == cleardown_fixture::DEFAULT_APP {
                "{ do = \"deallocate\", call = \"*\" }".to_owned()
            } else {
                format!("{{ do = \"deallocate\", call = \"*\", app = {app:?} }}")
            };
            if !self.steps.ends_with(std::slice::from_ref(&step)) && !self.steps.contains(&step) {
                self.steps.push(step);
            }
        }
    }

    /// The scenario as a fixture file, with a title saying where it came
    /// from and, for a failure, what it shows.
    pub fn source(&self, title: &str) -> String {
        let quote = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("{i:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let lines = self
            .lines
            .iter()
            .map(|(alias, conditions)| format!("{alias} = [{}]", quote(conditions)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = format!(
            "title = {title:?}\nrules = [{}]\nlines = {{ {lines} }}\nsteps = [\n",
            quote(&self.rules),
        );
        for step in &self.steps {
            out.push_str("  ");
            out.push_str(step);
            out.push_str(",\n");
        }
        out.push_str("]\n");
        out
    }
}
