//! A loop of cascades for a profiler: builds a world (on one reused host,
//! as the benchmarks do, `Worlds`), times its drop, and again, then prints
//! the mean cost per affected call. Criterion's own
//! process spends most of its time building worlds and analysing; this
//! one spends it building worlds and dropping them, and a profile filtered
//! to `Cascade::run` shows the drop alone.
//!
//! ```text
//! export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only   # symbols for perf, plugin included
//! cargo run --release -p cleardown-benches --bin profile -- dynamic 1000 200
//! perf record --call-graph dwarf,16384 target/release/profile bare 1000 2000
//! ```
//!
//! Arguments: `dynamic`, `linked`, `bare`, `nested` (fanout 10) or
//! `bridged` (see `Shape`); the size (parties, depth or stations); how many
//! drops.

use std::{hint::black_box, process::ExitCode, time::Duration, time::Instant};

use cleardown_benches::{Linkage, Shape, Worlds};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map_or("dynamic", String::as_str);
    let size: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let drops: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let shape = match kind {
        "dynamic" => Shape::Conference(Linkage::Dynamic),
        "linked" => Shape::Conference(Linkage::Linked),
        "bare" => Shape::Bare,
        "nested" => Shape::Nested { fanout: 10 },
        "bridged" => Shape::Bridged,
        other => {
            eprintln!("profile: {other:?} is not dynamic, linked, bare, nested or bridged");
            return ExitCode::from(2);
        }
    };
    let mut worlds = Worlds::new(shape, size);
    let mut timed = Duration::ZERO;
    let mut calls = 0;
    for _ in 0..drops {
        let cascade = worlds.next_world();
        calls += cascade.calls;
        let start = Instant::now();
        black_box(cascade.run());
        timed += start.elapsed();
    }
    println!(
        "{kind} {size}: {drops} drops, {:.1} ns per affected call",
        timed.as_nanos() as f64 / calls as f64
    );
    ExitCode::SUCCESS
}
