//! Criterion benchmarks of the drop cascade through the host (README.md
//! says what each measures and what was measured on which machine).
//!
//! Every group is parameterised by size and counts throughput in affected
//! calls, so criterion's "elem/s" is calls per second and the per-call cost
//! is its inverse. Worlds are built by `cleardown_benches::Worlds` outside
//! the timed part (`iter_batched` with `BatchSize::PerIteration`: one world
//! per drop, built on a reused host before the clock starts, cleared off it
//! after the clock stops).
//!
//! ```text
//! cargo bench -p cleardown-benches --bench cascade             # everything
//! cargo bench -p cleardown-benches --bench cascade -- c1_cascade/dynamic
//! ```

use std::{hint::black_box, time::Duration};

use cleardown_benches::{Floor, Linkage, Shape, Worlds};
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};

/// Conference sizes N (parties). N = 1 is a plain call: pbx-sim keeps no
/// conference of one (SPEC C4), see `Rig::conference`.
const SIZES: [usize; 5] = [1, 10, 100, 1_000, 10_000];

/// Sampling for a benchmark whose every iteration builds a world of about
/// `calls` calls first. Building costs several times the drop, and
/// criterion's budget counts it, so large worlds get few, flat samples to
/// keep the whole run to minutes on two cores.
fn sampling(group: &mut BenchmarkGroup<'_, WallTime>, calls: usize) {
    match calls {
        0..=200 => group
            .sampling_mode(SamplingMode::Auto)
            .sample_size(50)
            .measurement_time(Duration::from_secs(3)),
        201..=2_000 => group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(30)
            .measurement_time(Duration::from_secs(5)),
        _ => group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .measurement_time(Duration::from_secs(15)),
    };
}

/// Times the drop of worlds of `shape` at `size`, each built before the
/// clock starts and cleared after it stops.
fn drop_of(group: &mut BenchmarkGroup<'_, WallTime>, id: BenchmarkId, shape: Shape, size: usize) {
    let mut worlds = Worlds::new(shape, size);
    group.bench_function(id, |b| {
        b.iter_batched(
            || worlds.next_world(),
            |cascade| {
                black_box(cascade.run());
                // Returned, so clearing the world is not timed either.
                cascade
            },
            BatchSize::PerIteration,
        );
    });
}

/// SPEC C1: dropping the parent of a conference of N on pbx-sim, loaded
/// through the plugin boundary and linked in, side by side per N; and the
/// same number of calls on `Bare`, which has no world to update.
fn c1_cascade(c: &mut Criterion) {
    let mut group = c.benchmark_group("c1_cascade");
    for parties in SIZES {
        let calls = Shape::Conference(Linkage::Dynamic).calls(parties);
        sampling(&mut group, calls);
        group.throughput(Throughput::Elements(calls as u64));
        for (name, linkage) in [("dynamic", Linkage::Dynamic), ("linked", Linkage::Linked)] {
            let shape = Shape::Conference(linkage);
            drop_of(&mut group, BenchmarkId::new(name, parties), shape, parties);
        }
        // The host and the boundary alone: N + 1 calls of a provider with
        // no world, reported Idle by one drop (N = 1 here is 2 calls).
        group.throughput(Throughput::Elements(parties as u64 + 1));
        drop_of(
            &mut group,
            BenchmarkId::new("bare", parties),
            Shape::Bare,
            parties,
        );
    }
    group.finish();
}

/// The floor: per affected call, one state updated and one event queued
/// for one app, then read by it; no host, provider, lock or boundary.
fn floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for parties in SIZES {
        let calls = Shape::Conference(Linkage::Dynamic).calls(parties);
        group.throughput(Throughput::Elements(calls as u64));
        let mut floor = Floor::new(calls);
        group.bench_function(BenchmarkId::from_parameter(parties), |b| {
            b.iter(|| black_box(floor.cascade()));
        });
    }
    group.finish();
}

/// SPEC C5: conferences of conferences, 10 parties each: depth 2 is 111
/// calls, depth 3 is 1 111 (compare with c1_cascade at N = 100, 1 000).
fn c5_nested(c: &mut Criterion) {
    const FANOUT: usize = 10;
    let mut group = c.benchmark_group("c5_nested");
    for depth in [2, 3] {
        let calls = Shape::Nested { fanout: FANOUT }.calls(depth);
        sampling(&mut group, calls);
        group.throughput(Throughput::Elements(calls as u64));
        let shape = Shape::Nested { fanout: FANOUT };
        drop_of(&mut group, BenchmarkId::new("depth", depth), shape, depth);
    }
    group.finish();
}

/// SPEC B2: the last active station of analog-bridge's shared line drops;
/// all M appearances go Idle.
fn b2_bridged(c: &mut Criterion) {
    let mut group = c.benchmark_group("b2_bridged");
    for stations in [2, 4, 8] {
        sampling(&mut group, stations);
        group.throughput(Throughput::Elements(stations as u64));
        let id = BenchmarkId::new("stations", stations);
        drop_of(&mut group, id, Shape::Bridged, stations);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .noise_threshold(0.05);
    targets = floor, c1_cascade, c5_nested, b2_bridged
}
criterion_main!(benches);
