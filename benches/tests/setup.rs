//! The setup helpers build what they say, so a benchmark measures what its
//! name claims. Small sizes only: this runs with `cargo test --workspace`.

use cleardown_benches::{Cascade, Floor, Linkage, Names, Rig, Shape, Worlds};

/// Builds `shape` at `size`, checks what the host tracks, runs it.
fn check(cascade: &Cascade, calls: usize) {
    assert_eq!(cascade.calls, calls);
    assert_eq!(
        cascade.host.tracked_calls(cascade.provider),
        calls,
        "the app holds every affected call, and nothing else is left"
    );
    assert!(cascade.app.events().is_empty(), "setup events drained");
    assert_eq!(cascade.run(), calls, "one Idle per affected call");
    assert!(cascade.app.events().is_empty(), "nothing after the Reply");
}

#[test]
fn a_conference_of_n_affects_n_plus_one_calls() {
    for linkage in [Linkage::Dynamic, Linkage::Linked] {
        for parties in [2, 3, 10] {
            check(
                &Cascade::fresh(Shape::Conference(linkage), parties),
                parties + 1,
            );
        }
    }
}

#[test]
fn one_party_is_a_plain_call() {
    check(&Cascade::dynamic(1), 1);
    check(&Cascade::linked(1), 1);
}

#[test]
fn nested_trees_hold_every_level() {
    // depth 2, fanout 3: 9 plain calls, 3 inner conferences, the root; the
    // placeholder each outer conference starts from is gone.
    check(&Cascade::nested(2, 3), 13);
    check(&Cascade::nested(3, 2), 8 + 4 + 2 + 1);
    assert_eq!(Shape::Nested { fanout: 10 }.calls(3), 1_111);
}

#[test]
fn the_last_active_station_clears_every_appearance() {
    for stations in [2, 4] {
        check(&Cascade::bridged(stations), stations);
    }
}

#[test]
fn the_bare_provider_drops_every_call_with_the_first() {
    for parties in [1, 4] {
        check(&Cascade::bare(parties), parties + 1);
    }
}

#[test]
fn worlds_reuse_one_host_and_leave_nothing_behind() {
    let shapes = [
        (Shape::Conference(Linkage::Dynamic), 3),
        (Shape::Conference(Linkage::Linked), 1),
        (Shape::Nested { fanout: 2 }, 2),
        (Shape::Bridged, 3),
        (Shape::Bare, 5),
    ];
    for (shape, size) in shapes {
        let mut worlds = Worlds::new(shape, size);
        let mut hosts = Vec::new();
        for _ in 0..3 {
            let cascade = worlds.next_world();
            check(&cascade, shape.calls(size));
            hosts.push(cascade.host.clone());
            let (host, provider) = (cascade.host.clone(), cascade.provider);
            drop(cascade);
            assert_eq!(host.tracked_calls(provider), 0, "{shape:?} cleared");
            assert!(host.leaks().is_empty(), "{shape:?} leaves no handle");
        }
        assert_eq!(
            format!("{:?}", hosts[0]),
            format!("{:?}", hosts[2]),
            "one host"
        );
    }
}

#[test]
fn a_world_dropped_without_running_is_cleared_too() {
    let mut worlds = Worlds::new(Shape::Conference(Linkage::Linked), 4);
    let cascade = worlds.next_world();
    let (host, provider) = (cascade.host.clone(), cascade.provider);
    drop(cascade);
    assert_eq!(host.tracked_calls(provider), 0);
    check(&worlds.next_world(), 5);
}

#[test]
fn a_rig_builds_trees_of_conferences() {
    let rig = Rig::new(Linkage::Linked);
    let (_, calls) = rig.tree(1, 4, &mut Names::default());
    assert_eq!(calls, 5);
    assert_eq!(rig.host.tracked_calls(rig.provider), 5);
}

#[test]
fn the_floor_queues_one_event_per_call() {
    let mut floor = Floor::new(5);
    assert_eq!(floor.len(), 5);
    assert_eq!(floor.cascade(), 5);
    assert_eq!(floor.cascade(), 5, "repeatable");
}
