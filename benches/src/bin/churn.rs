//! The churn run: a million calls dropped and deallocated in a row through
//! the host, with throughput and resident memory before and after, then the
//! memory one live (Idle, not deallocated) call handle holds.
//!
//! ```text
//! cargo run --release -p cleardown-benches --bin churn                # both flows, pbx-sim loaded
//! cargo run --release -p cleardown-benches --bin churn -- --linked    # pbx-sim linked in
//! cargo run --release -p cleardown-benches --bin churn -- --calls 200000 --flow hangup
//! ```
//!
//! Two flows, because what pbx-sim remembers differs:
//!
//! * `release`: a connected call is dropped; the far end receives a release
//!   (SPEC §10), which pbx-sim appends to that party's far-end record,
//!   kept for the far-end view for as long as the provider lives.
//! * `hangup`: the far end hangs up first and the drop takes the
//!   Disconnected call to Idle (SPEC D6): nothing is sent, so nothing is
//!   recorded, and any growth left is the host's.
//!
//! Calls are built in batches of 1 000 outside the clock (make, answer, and
//! for `hangup` the far end's hang-up, events drained); the clock runs over
//! each batch's drops, the reading of their events up to each Reply, and
//! the deallocations. Memory is read from `/proc/self/status` (VmRSS) and
//! from a counting global allocator, which sees this executable's heap
//! only: with pbx-sim loaded that is the host's, with `--linked` the host's
//! and pbx-sim's together.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    process::ExitCode,
    sync::atomic::{AtomicIsize, Ordering},
    time::{Duration, Instant},
};

use cleardown_benches::{Linkage, Rig, resident_bytes};
use cleardown_host::{CallHandle, Event};

/// The system allocator, counting the bytes live in it.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` unchanged and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BATCH: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Release,
    Hangup,
}

impl Flow {
    fn name(self) -> &'static str {
        match self {
            Flow::Release => "release",
            Flow::Hangup => "hangup",
        }
    }
}

struct Options {
    linkage: Linkage,
    calls: usize,
    live: usize,
    flows: Vec<Flow>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        linkage: Linkage::Dynamic,
        calls: 1_000_000,
        live: 100_000,
        flows: vec![Flow::Release, Flow::Hangup],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--linked" => options.linkage = Linkage::Linked,
            "--calls" => options.calls = number("--calls")?,
            "--live" => options.live = number("--live")?,
            "--flow" => {
                options.flows = match args.next().as_deref() {
                    Some("release") => vec![Flow::Release],
                    Some("hangup") => vec![Flow::Hangup],
                    Some("both") => vec![Flow::Release, Flow::Hangup],
                    _ => return Err("--flow needs release, hangup or both".to_owned()),
                };
            }
            // What `cargo bench` passes to every target.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument {other:?}; expected --linked, --calls N, --live N, --flow release|hangup|both"
                ));
            }
        }
    }
    Ok(options)
}

/// Names of remote parties, reused batch after batch: pbx-sim keeps a
/// record per name it has seen, so new names would grow it by design.
fn names() -> Vec<String> {
    (0..BATCH).map(|i| format!("far-{i}")).collect()
}

/// One batch of calls ready to drop, their set-up events drained.
fn build(rig: &Rig, flow: Flow, names: &[String], into: &mut Vec<CallHandle>) {
    into.clear();
    for name in names {
        let handle = rig.connected(name);
        if flow == Flow::Hangup {
            rig.host
                .remote_hang_up(rig.provider, rig.call(handle), 16, &[])
                .expect("far end hangs up");
        }
        into.push(handle);
    }
    rig.app.events();
}

/// Drops each call, reads the app's events up to the drop's Reply, and
/// deallocates it: the timed part.
fn drop_all(rig: &Rig, handles: &[CallHandle]) {
    for &handle in handles {
        let request = rig.app.drop(handle, &[]).expect("drop");
        let replied = rig
            .app
            .events()
            .iter()
            .any(|e| matches!(e, Event::Reply { request: r, result: Ok(()) } if *r == request));
        assert!(replied, "the drop's Reply arrives inside the drop");
        rig.app.deallocate(handle).expect("deallocate");
    }
}

/// `calls` calls through `rig`; returns the time spent dropping and
/// deallocating. Prints memory every tenth of the way when `report`.
fn churn(rig: &Rig, flow: Flow, calls: usize, report: bool) -> Duration {
    let names = names();
    let mut handles = Vec::with_capacity(BATCH);
    let mut timed = Duration::ZERO;
    let mut done = 0;
    let step = (calls / 10).max(BATCH);
    while done < calls {
        let batch = BATCH.min(calls - done);
        build(rig, flow, &names[..batch], &mut handles);
        let start = Instant::now();
        drop_all(rig, &handles);
        timed += start.elapsed();
        done += batch;
        if report && done % step == 0 {
            println!(
                "  {done:>9} calls: RSS {:>8.1} MiB, heap {:>8.1} MiB",
                mib(rss()),
                mib(heap())
            );
        }
    }
    timed
}

fn rss() -> i64 {
    resident_bytes().map_or(0, |b| b as i64)
}

fn heap() -> i64 {
    LIVE.load(Ordering::Relaxed) as i64
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn run_flow(options: &Options, flow: Flow) -> bool {
    let rig = Rig::new(options.linkage);
    println!(
        "flow {}: {} calls, pbx-sim {:?}",
        flow.name(),
        options.calls,
        options.linkage
    );
    // Warm-up: the host's maps, queues and the allocator reach their
    // working size, so "before" is the steady state, not an empty process.
    churn(&rig, flow, 100_000.min(options.calls), false);
    let (rss0, heap0) = (rss(), heap());
    let timed = churn(&rig, flow, options.calls, true);
    let (rss1, heap1) = (rss(), heap());
    let tracked = rig.host.tracked_calls(rig.provider);
    let leaks = rig.host.leaks();
    let rate = options.calls as f64 / timed.as_secs_f64();
    println!(
        "  drop + read events + deallocate: {:.3} s for {} calls = {:.0} calls/s ({:.0} ns/call)",
        timed.as_secs_f64(),
        options.calls,
        rate,
        timed.as_nanos() as f64 / options.calls as f64
    );
    println!(
        "  RSS before {:.1} MiB, after {:.1} MiB: {:+.1} MiB ({:+.1} bytes/call)",
        mib(rss0),
        mib(rss1),
        mib(rss1 - rss0),
        (rss1 - rss0) as f64 / options.calls as f64
    );
    println!(
        "  heap of this executable before {:.2} MiB, after {:.2} MiB: {:+} bytes",
        mib(heap0),
        mib(heap1),
        heap1 - heap0
    );
    println!(
        "  host tracks {tracked} calls afterwards, {} leaked handles",
        leaks.len()
    );
    tracked == 0 && leaks.is_empty()
}

/// RSS and heap per Idle handle held but not deallocated.
fn live_handles(options: &Options) {
    let rig = Rig::new(options.linkage);
    let names = names();
    let mut handles = Vec::with_capacity(BATCH);
    // Warm the allocator and the host with the same number of calls made and
    // released, so what is measured is what holding them costs.
    churn(&rig, Flow::Hangup, options.live, false);
    let mut held = Vec::with_capacity(options.live);
    let (rss0, heap0) = (rss(), heap());
    while held.len() < options.live {
        let batch = BATCH.min(options.live - held.len());
        build(&rig, Flow::Hangup, &names[..batch], &mut handles);
        for &handle in &handles {
            rig.app.drop(handle, &[]).expect("drop");
        }
        rig.app.events();
        held.extend_from_slice(&handles);
    }
    let (rss1, heap1) = (rss(), heap());
    // The benchmark's own Vec of handles is not the host's.
    let own = (held.capacity() * size_of::<CallHandle>()) as i64;
    let n = options.live as f64;
    println!(
        "live handles: {} Idle handles held (pbx-sim {:?})",
        options.live, options.linkage
    );
    println!(
        "  RSS {:+.1} MiB = {:.0} bytes per live handle (host and provider)",
        mib(rss1 - rss0),
        (rss1 - rss0) as f64 / n
    );
    println!(
        "  heap of this executable {:+.1} MiB = {:.0} bytes per live handle ({})",
        mib(heap1 - heap0 - own),
        (heap1 - heap0 - own) as f64 / n,
        match options.linkage {
            Linkage::Dynamic => "the host's part: pbx-sim allocates in its own library",
            Linkage::Linked => "host and pbx-sim together",
        }
    );
    assert_eq!(
        rig.app.leaks().len(),
        options.live,
        "every handle held is Idle"
    );
    for handle in held {
        rig.app.deallocate(handle).expect("deallocate");
    }
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("churn: {error}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("churn: built without optimisations; run it with --release for figures");
    }
    let mut clean = true;
    for &flow in &options.flows {
        clean &= run_flow(&options, flow);
    }
    if options.live > 0 {
        live_handles(&options);
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        eprintln!("churn: the host still tracks calls or reports leaks");
        ExitCode::FAILURE
    }
}
