//! The library against the bundled pbx-sim, loaded as a file: what `run`
//! reports to its progress callback and returns. No timing is asserted.

use cleardown_bench::{Bench, BenchError, Options, Progress, run};

fn options(sizes: &[usize], samples: usize) -> Options {
    Options {
        sizes: sizes.to_vec(),
        samples,
        ..Options::new("pbx-sim")
    }
}

#[test]
fn c1_run_reports_every_sample_then_each_size() {
    let mut seen = Vec::new();
    let result = run(&options(&[3, 2, 3], 2), &mut |p| seen.push(p)).expect("pbx-sim runs");
    let rendered: Vec<String> = seen
        .iter()
        .map(|p| match p {
            Progress::Sample {
                n,
                sample,
                of,
                warmup,
            } => format!(
                "{n} {} {sample}/{of}",
                if *warmup { "warm-up" } else { "sample" }
            ),
            Progress::Done { n, .. } => format!("{n} done"),
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "2 warm-up 1/1",
            "2 sample 1/2",
            "2 sample 2/2",
            "2 done",
            "3 warm-up 1/1",
            "3 sample 1/2",
            "3 sample 2/2",
            "3 done",
        ]
    );
    assert_eq!(result.provider.name, "pbx-sim");
    assert_eq!(result.provider.address, "ext-100");
    let sizes: Vec<(usize, usize, usize)> = result
        .sizes
        .iter()
        .map(|s| (s.n, s.calls, s.samples_ns.len()))
        .collect();
    assert_eq!(sizes, [(2, 3, 2), (3, 4, 2)]);
    for size in &result.sizes {
        assert_eq!(size.per_call_ns, size.summary.median_ns / size.calls as u64);
        assert!(size.summary.min_ns <= size.summary.median_ns);
        assert!(size.summary.median_ns <= size.summary.p90_ns);
    }
}

#[test]
fn options_are_checked_before_anything_loads() {
    for (bad, words) in [
        (options(&[], 1), "no sizes"),
        (options(&[0], 1), "size 0 is not in 1..=100000"),
        (options(&[100_001], 1), "size 100001"),
        (options(&[1], 0), "at least one sample"),
    ] {
        let error = Bench::new(&Options {
            provider: "/nonexistent/libx.so".to_owned(),
            ..bad
        })
        .expect_err("refused");
        assert!(matches!(error, BenchError::Options(_)), "{error}");
        assert!(error.to_string().contains(words), "{error}");
    }
}

#[test]
fn c1_a_provider_without_conf_drop_is_refused_by_name() {
    let error = Bench::new(&Options {
        config: "conf_drop=off".to_owned(),
        ..options(&[1], 1)
    })
    .expect_err("no conf_drop");
    assert!(matches!(error, BenchError::NoConfDrop { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "pbx-sim: declares conf_drop on none of its addresses (ext-100, ext-200); the cascade benchmark needs an address where dropping a conference drops its parties (SPEC C1)"
    );
}
