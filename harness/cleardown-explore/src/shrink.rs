//! Shrinking a failing scenario: fewer steps first (chunks, then single
//! steps, as delta debugging does), then smaller values (no UUI, the
//! normal cause), keeping each cut only while the scenario still fails the
//! same way. A cut that leaves a step naming a call nobody defined is
//! refused by the fixture parser, so the caller's closure sees only scripts
//! that parse.

use crate::Scenario;

/// Shrinks `failing` while `still_fails` says a candidate breaks the same
/// rule, trying at most `budget` candidates (each is a run of the
/// provider). Returns the smallest failing scenario found.
pub fn shrink(
    failing: &Scenario,
    budget: usize,
    still_fails: &mut dyn FnMut(&Scenario) -> bool,
) -> Scenario {
    let mut best = failing.clone();
    let mut tries = 0;
    let mut attempt = |candidate: &Scenario, tries: &mut usize| {
        *tries += 1;
        still_fails(candidate)
    };
    // Steps: remove chunks of halving size, from the front, until no
    // single step can go.
    let mut chunk = (best.steps.len() / 2).max(1);
    loop {
        let mut removed = false;
        let mut start = 0;
        while start < best.steps.len() && tries < budget {
            let end = (start + chunk).min(best.steps.len());
            let mut candidate = best.clone();
            candidate.steps.drain(start..end);
            if !candidate.steps.is_empty() && attempt(&candidate, &mut tries) {
                best = candidate;
                removed = true;
            } else {
                start = end;
            }
        }
        if tries >= budget || (chunk == 1 && !removed) {
            break;
        }
        if !removed {
            chunk = (chunk / 2).max(1);
        }
    }
    // Values: each UUI dropped, then cut to its discriminator; each cause
    // made the normal one.
    for index in 0..best.steps.len() {
        // Simplest first; a step may lose its UUI and have its cause made
        // normal, so after a success its other value is tried again.
        let mut progress = true;
        while progress {
            progress = false;
            for smaller in smaller_values(&best.steps[index]) {
                if tries >= budget {
                    return best;
                }
                let mut candidate = best.clone();
                candidate.steps[index] = smaller;
                if attempt(&candidate, &mut tries) {
                    best = candidate;
                    progress = true;
                    break;
                }
            }
        }
    }
    best
}

/// Simpler versions of one step: without its UUI, with a one-byte UUI,
/// with cause 16.
fn smaller_values(step: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(start) = step.find(", uui = \"") {
        let rest = &step[start + 9..];
        if let Some(end) = rest.find('"') {
            let value = &rest[..end];
            let tail = &rest[end + 1..];
            out.push(format!("{}{tail}", &step[..start]));
            if value != "04" && value != "max" && value != "max+1" {
                out.push(format!("{}, uui = \"04\"{tail}", &step[..start]));
            }
        }
    }
    if let Some(start) = step.find(", cause = ") {
        let rest = &step[start + 10..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if &rest[..end] != "16" {
            out.push(format!("{}, cause = 16{}", &step[..start], &rest[end..]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(steps: &[&str]) -> Scenario {
        Scenario {
            seed: 0,
            rules: vec!["D5".to_owned()],
            lines: Vec::new(),
            steps: steps.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn keeps_only_the_steps_the_failure_needs() {
        let big = scenario(&["a", "b", "x uui = \"04 01\"", "c", "y", "d", "e"]);
        // "Fails" while it still has x and y, in order.
        let mut fails = |s: &Scenario| {
            let x = s.steps.iter().position(|t| t.starts_with('x'));
            let y = s.steps.iter().position(|t| t == "y");
            matches!((x, y), (Some(x), Some(y)) if x < y)
        };
        let small = shrink(&big, 100, &mut fails);
        assert_eq!(small.steps, ["x uui = \"04 01\"", "y"]);
    }

    #[test]
    fn makes_values_smaller_where_the_failure_allows() {
        let big = scenario(&["{ do = \"drop\", call = \"c1\", uui = \"04 aa bb\" }"]);
        let small = shrink(&big, 100, &mut |s: &Scenario| !s.steps.is_empty());
        assert_eq!(small.steps, ["{ do = \"drop\", call = \"c1\" }"]);
        let big = scenario(&["{ do = \"far_hang_up\", call = \"c1\", cause = 21 }"]);
        let small = shrink(&big, 100, &mut |s: &Scenario| !s.steps.is_empty());
        assert_eq!(
            small.steps,
            ["{ do = \"far_hang_up\", call = \"c1\", cause = 16 }"]
        );
    }

    #[test]
    fn stops_at_the_budget() {
        let big = scenario(&["a", "b", "c", "d"]);
        let mut runs = 0;
        let _ = shrink(&big, 3, &mut |_| {
            runs += 1;
            false
        });
        assert_eq!(runs, 3);
    }
}
