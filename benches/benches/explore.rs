//! The explorer's speed: generated scenarios per second, as one worker
//! process runs them (generate, replay through the loaded pbx-sim in a
//! fresh host, judge by the oracle), and the generator alone. A worker adds
//! only the pipe to its parent; `cleardown conformance` runs one worker per
//! target, `--jobs` of them at once. README § Performance has the figures.
//!
//! ```text
//! cargo bench -p cleardown-benches --bench explore
//! ```

use std::{hint::black_box, time::Duration};

use cleardown_conformance::{
    fixture,
    replay::{self, Gate, Options},
};
use cleardown_explore::{generate, rng::scenario_seed};
use cleardown_host::{Host, locate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn explore(c: &mut Criterion) {
    let path = locate::find("pbx-sim").expect("pbx-sim builds");
    // Held open for the whole run, as the worker does.
    let library = Host::new();
    let provider = library.load(&path, "").expect("loads");
    let caps = library.describe(provider).expect("describes").capabilities;
    let mut group = c.benchmark_group("explore");
    group
        .throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(5));
    let mut index = 0u64;
    group.bench_function("generate", |b| {
        b.iter(|| {
            index += 1;
            black_box(generate(&caps, scenario_seed(1, index)))
        });
    });
    let mut index = 0u64;
    group.bench_function("scenario", |b| {
        b.iter(|| {
            index += 1;
            let scenario = generate(&caps, scenario_seed(1, index)).expect("a private line");
            let source = scenario.source("bench");
            let fixture = fixture::parse("bench.toml", &source).expect("parses");
            let Gate::Run(binding) = replay::gate(&fixture, &caps) else {
                return;
            };
            let host = Host::new();
            let provider = host.load(&path, "").expect("loads");
            let mut outcome = replay::replay(
                &host,
                provider,
                &caps,
                &fixture,
                &binding,
                Options::default(),
            );
            outcome.judge(&fixture, &replay::oracle_context(&caps, &binding));
            assert!(outcome.verdicts.is_empty(), "{:?}", outcome.verdicts);
            black_box(outcome);
        });
    });
    group.finish();
}

criterion_group!(benches, explore);
criterion_main!(benches);
