//! Setup for the cleardown benchmarks: worlds built through the host, ready
//! for the one drop a benchmark times.
//!
//! The criterion benchmarks (`benches/cascade.rs`), the churn run
//! (`src/bin/churn.rs`), the profiling loop (`src/bin/profile.rs`) and the
//! instruction-count benchmark all build their worlds here, so they measure
//! the same thing. Building is never part of a measurement: a [`Cascade`]
//! is built, then only [`Cascade::run`] is timed, and its teardown (when it
//! is dropped) is not timed either.
//!
//! What a cascade drops, its [`Shape`]:
//!
//! * [`Shape::Conference`]: a conference of N parties on pbx-sim's
//!   `ext-100` (address 0, `conf_drop` on), the provider loaded from its
//!   library file or linked into this process; dropping the parent is the
//!   drop cascade of SPEC C1, N + 1 affected calls.
//! * [`Shape::Nested`]: conferences of conferences (SPEC C5).
//! * [`Shape::Bridged`]: one call on analog-bridge's shared line with M
//!   stations; dropping the last active station clears all M appearances
//!   (SPEC B2).
//! * [`Shape::Bare`]: N + 1 calls of [`Bare`], a provider with no world,
//!   all reported Idle by one drop: the host's and the boundary's share.
//!
//! [`Cascade::dynamic`] and its siblings build one world on a fresh host.
//! [`Worlds`] builds one after another on the same host, as the benchmarks
//! do: loading a plugin reads and parses its whole file, which leaves the
//! caches cold for the drop that follows, and that is not what a drop
//! costs. [`Floor`] is the least work an affected call needs, without a
//! host or a provider, to compare against.

use std::{
    collections::{HashMap, VecDeque},
    hint::black_box,
    path::PathBuf,
    sync::OnceLock,
    time::Duration,
};

use cleardown_host::{
    AddressCaps, AddressId, App, CallFeatures, CallHandle, CallId, CallInfo, CallStatus,
    Capabilities, DisconnectCode, Event, Host, LineError, LineResult, Privilege, ProviderId,
    ProviderInfo, RemoteParty, RequestId, Sharing, locate,
};
use cleardown_sdk::{Provider, Reporter, abi::ProviderModule_Ref};

/// pbx-sim's `ext-100`: the address whose `conf_drop` is on by default, so
/// dropping a conference parent there drops every party (SPEC C1).
pub const CONF_ADDRESS: AddressId = AddressId(0);

/// How long [`Cascade::run`] waits for an event before it gives up. Every
/// provider here reports synchronously, so waiting at all means something
/// broke.
const PATIENCE: Duration = Duration::from_secs(30);

/// After how many calls built [`Worlds`] starts on a fresh host: pbx-sim
/// and analog-bridge keep a record per remote party name they have seen
/// (the far-end view), and every world uses new names.
const RENEW_AFTER: usize = 100_000;

/// The library file of plugin crate `name` (`pbx-sim`, `analog-bridge`),
/// as the host finds it: `CLEARDOWN_PLUGIN_DIR`, else built by the cargo
/// running the benchmark (in the profile the benchmark was built in), else
/// beside the executable.
///
/// # Panics
///
/// If the plugin can be neither found nor built.
pub fn plugin(name: &str) -> PathBuf {
    match locate::find(name) {
        Ok(path) => path,
        Err(error) => panic!("cannot build or find plugin {name}: {error}"),
    }
}

/// A provider's root module, linked into this process. Made once per
/// provider: the SDK leaks a small allocation every time it builds one.
fn pbx_sim_module() -> ProviderModule_Ref {
    static MODULE: OnceLock<ProviderModule_Ref> = OnceLock::new();
    *MODULE.get_or_init(cleardown_sdk::root_module::<pbx_sim::PbxSim>)
}

fn bare_module() -> ProviderModule_Ref {
    static MODULE: OnceLock<ProviderModule_Ref> = OnceLock::new();
    *MODULE.get_or_init(cleardown_sdk::root_module::<Bare>)
}

/// How pbx-sim is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linkage {
    /// Loaded from its library file through the plugin boundary (SPEC L1),
    /// as every real host does.
    Dynamic,
    /// Linked into this process (`Host::link`): the same provider and the
    /// same abi_stable vtables, but no library loader. What the plugin
    /// boundary costs is the difference.
    Linked,
}

/// What a [`Cascade`] drops, for a size: parties, depth or stations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SPEC C1: a conference of `size` parties on pbx-sim; `size + 1`
    /// affected calls. Size 1 is a plain call (see [`Rig::conference`]).
    Conference(Linkage),
    /// SPEC C5: conferences `size` deep, `fanout` parties each, on loaded
    /// pbx-sim; every call of the tree is affected.
    Nested { fanout: usize },
    /// SPEC B2: analog-bridge (loaded) with `size` stations sharing the
    /// line (`sharing=shared;stations=size`); `size` affected calls.
    Bridged,
    /// [`Bare`] linked in, `size + 1` calls dropped together.
    Bare,
}

impl Shape {
    /// How many calls a drop of this shape at `size` affects.
    pub fn calls(self, size: usize) -> usize {
        match self {
            Shape::Conference(_) if size == 1 => 1,
            Shape::Conference(_) | Shape::Bare => size + 1,
            Shape::Nested { fanout } => (0..=size as u32).map(|d| fanout.pow(d)).sum(),
            Shape::Bridged => size,
        }
    }
}

/// New remote party names, `party-1`, `party-2`, …: pbx-sim and
/// analog-bridge keep what each name received, so a name reused for every
/// world would grow one party's record without bound.
#[derive(Debug, Default)]
pub struct Names {
    next: u64,
}

impl Names {
    /// The next name.
    pub fn next_name(&mut self) -> String {
        self.next += 1;
        format!("party-{}", self.next)
    }
}

/// A host with one provider and one app owning the lines a world needs:
/// what worlds are built on. Cheap to clone (clones share the host).
#[derive(Debug, Clone)]
pub struct Rig {
    pub host: Host,
    pub app: App,
    pub provider: ProviderId,
}

impl Rig {
    /// pbx-sim with its default configuration (`conf_drop`, `reject_by_drop`
    /// and `close_drop` on, 128 bytes of UUI), reached as `linkage` says,
    /// the app owning `ext-100`.
    ///
    /// # Panics
    ///
    /// If pbx-sim cannot be found, built, loaded or opened.
    pub fn new(linkage: Linkage) -> Rig {
        let host = Host::new();
        let provider = match linkage {
            Linkage::Dynamic => host.load(&plugin("pbx-sim"), ""),
            Linkage::Linked => host.link(pbx_sim_module(), "pbx-sim (linked)", ""),
        }
        .expect("pbx-sim opens");
        Rig::with_lines(host, provider, 1)
    }

    /// [`Bare`] linked in, the app owning its one line.
    ///
    /// # Panics
    ///
    /// If it cannot be opened.
    pub fn bare() -> Rig {
        let host = Host::new();
        let provider = host.link(bare_module(), "bare", "").expect("bare opens");
        Rig::with_lines(host, provider, 1)
    }

    /// analog-bridge loaded with `stations` stations sharing one loop, the
    /// app owning every station.
    ///
    /// # Panics
    ///
    /// If `stations` is not 1 to 8, or analog-bridge cannot be found,
    /// built, loaded or opened.
    pub fn bridged(stations: usize) -> Rig {
        let host = Host::new();
        let provider = host
            .load(
                &plugin("analog-bridge"),
                &format!("sharing=shared;stations={stations}"),
            )
            .expect("analog-bridge opens");
        Rig::with_lines(host, provider, stations)
    }

    /// The rig a world of `shape` at `size` is built on.
    ///
    /// # Panics
    ///
    /// If the provider cannot be opened.
    pub fn for_shape(shape: Shape, size: usize) -> Rig {
        match shape {
            Shape::Conference(linkage) => Rig::new(linkage),
            Shape::Nested { .. } => Rig::new(Linkage::Dynamic),
            Shape::Bridged => Rig::bridged(size),
            Shape::Bare => Rig::bare(),
        }
    }

    fn with_lines(host: Host, provider: ProviderId, lines: usize) -> Rig {
        let app = host.app("bench");
        for line in 0..lines as u32 {
            app.open_line(provider, AddressId(line), Privilege::Owner)
                .expect("open the line");
        }
        Rig {
            host,
            app,
            provider,
        }
    }

    /// The provider's call behind one of the app's handles.
    ///
    /// # Panics
    ///
    /// If the handle is not live.
    pub fn call(&self, handle: CallHandle) -> CallId {
        self.host.call_of(handle).expect("handle is live").1
    }

    /// pbx-sim: a call from `ext-100` to `to`, answered (Connected). Its
    /// events stay queued: drain them with `self.app.events()`.
    ///
    /// # Panics
    ///
    /// If pbx-sim refuses.
    pub fn connected(&self, to: &str) -> CallHandle {
        let (_, handle) = self
            .app
            .make_call(self.provider, CONF_ADDRESS, to)
            .expect("make call");
        self.host
            .remote_answer(self.provider, self.call(handle))
            .expect("far end answers");
        handle
    }

    /// pbx-sim: a conference of `parties` answered calls; returns the
    /// parent's handle and the number of calls its drop affects. Built
    /// directly, `lineAddToConference` of two connected calls and then of
    /// each further one, which pbx-sim allows so large conferences need no
    /// consultation call per party. Events stay queued.
    ///
    /// One party is the exception. pbx-sim never keeps a conference of one
    /// (SPEC C4 collapses it into a plain call), so `parties == 1` is a
    /// plain connected call: the drop with one affected call, the fixed
    /// cost every cascade starts from.
    ///
    /// # Panics
    ///
    /// If `parties == 0` or pbx-sim refuses.
    pub fn conference(&self, parties: usize, names: &mut Names) -> (CallHandle, usize) {
        assert!(parties >= 1, "a conference has at least one party");
        let first = self.connected(&names.next_name());
        if parties == 1 {
            return (first, 1);
        }
        let second = self.connected(&names.next_name());
        let (_, parent) = self
            .app
            .add_to_conference(first, second)
            .expect("conference of two");
        for _ in 2..parties {
            self.join(parent, self.connected(&names.next_name()));
        }
        (parent, parties + 1)
    }

    fn join(&self, parent: CallHandle, call: CallHandle) {
        let (_, joined) = self
            .app
            .add_to_conference(parent, call)
            .expect("add to conference");
        debug_assert_eq!(joined, parent, "joins the existing conference");
    }

    /// pbx-sim: a tree of conferences `depth` deep (SPEC C5), every
    /// conference with `fanout` parties, the innermost ones plain calls.
    /// Returns the root and the number of calls in the tree. Depth 0 is one
    /// plain call. Events stay queued.
    ///
    /// pbx-sim makes a new conference from a plain call and another call,
    /// so an outer conference starts from a placeholder call that is then
    /// dropped and deallocated (C3), leaving `fanout` inner conferences.
    ///
    /// # Panics
    ///
    /// If `fanout < 2` (below depth 0) or pbx-sim refuses.
    pub fn tree(&self, depth: u32, fanout: usize, names: &mut Names) -> (CallHandle, usize) {
        if depth == 0 {
            return (self.connected(&names.next_name()), 1);
        }
        assert!(fanout >= 2, "a conference has at least two parties");
        if depth == 1 {
            return self.conference(fanout, names);
        }
        let placeholder = self.connected(&names.next_name());
        let (first, mut calls) = self.tree(depth - 1, fanout, names);
        let (_, root) = self
            .app
            .add_to_conference(placeholder, first)
            .expect("outer conference");
        for _ in 1..fanout {
            let (inner, size) = self.tree(depth - 1, fanout, names);
            self.join(root, inner);
            calls += size;
        }
        self.app.drop(placeholder, &[]).expect("placeholder leaves");
        self.app.events();
        self.app
            .deallocate(placeholder)
            .expect("deallocate placeholder");
        (root, calls + 1)
    }

    /// analog-bridge, shared line: a call from `from` rang at every station
    /// and station 1 picked it up, so station 1 is the one active station
    /// and every other shows the call Connected/Inactive. Returns station
    /// 1's appearance. Events stay queued.
    ///
    /// # Panics
    ///
    /// If the line is busy or analog-bridge refuses.
    pub fn shared_call(&self, from: &str) -> CallHandle {
        let call = self
            .host
            .remote_offer(self.provider, AddressId(0), from, &[])
            .expect("offer");
        self.host
            .station_hook(self.provider, AddressId(0), true)
            .expect("station 1 picks up");
        self.app
            .handle_of(self.provider, call)
            .expect("the app holds station 1")
    }

    /// [`Bare`]: `calls` offered calls; returns the first. Events stay
    /// queued.
    ///
    /// # Panics
    ///
    /// If `calls == 0` or the provider refuses.
    pub fn offered(&self, calls: usize) -> CallHandle {
        let mut first = None;
        for _ in 0..calls {
            let call = self
                .host
                .remote_offer(self.provider, AddressId(0), "far", &[])
                .expect("offer");
            first = first.or_else(|| self.app.handle_of(self.provider, call));
        }
        first.expect("the app holds the first call")
    }

    /// Builds a world of `shape` at `size` on this rig (which must be
    /// [`Rig::for_shape`]'s kind) and drains every event, ready to run.
    ///
    /// # Panics
    ///
    /// If the world cannot be built.
    pub fn cascade(&self, shape: Shape, size: usize, names: &mut Names) -> Cascade {
        let (parent, calls) = match shape {
            Shape::Conference(_) => self.conference(size, names),
            Shape::Nested { fanout } => {
                let depth = u32::try_from(size).expect("a depth");
                assert!(depth >= 1, "a cascade needs a conference");
                self.tree(depth, fanout, names)
            }
            Shape::Bridged => (self.shared_call(&names.next_name()), size),
            Shape::Bare => (self.offered(size + 1), size + 1),
        };
        debug_assert_eq!(calls, shape.calls(size));
        self.app.events();
        Cascade {
            host: self.host.clone(),
            app: self.app.clone(),
            provider: self.provider,
            parent,
            calls,
        }
    }
}

/// A world ready for one drop whose cascade a benchmark times: the host, the
/// app that owns every affected call (so each gets exactly one event), the
/// call to drop and how many calls it affects. Every queued event has been
/// drained, so [`Cascade::run`] reads only what the drop caused.
///
/// Dropping a `Cascade` clears its world from the host (see
/// [`Cascade::clear`]), so the next one can be built on the same host.
#[derive(Debug)]
pub struct Cascade {
    pub host: Host,
    pub app: App,
    pub provider: ProviderId,
    /// The call dropped: a conference's parent (a plain call for one
    /// party), or on a bridged line the appearance of the last active
    /// station.
    pub parent: CallHandle,
    /// Every call the drop affects, the dropped one included: N + 1 for a
    /// conference of N parties, M for a shared line with M stations.
    pub calls: usize,
}

impl Cascade {
    /// A conference of `parties` on dynamically loaded pbx-sim, on a fresh
    /// host ([`Shape::Conference`]).
    ///
    /// # Panics
    ///
    /// If `parties == 0` or the world cannot be built.
    pub fn dynamic(parties: usize) -> Cascade {
        Cascade::fresh(Shape::Conference(Linkage::Dynamic), parties)
    }

    /// A conference of `parties` on pbx-sim linked into this process, on a
    /// fresh host.
    ///
    /// # Panics
    ///
    /// If `parties == 0` or the world cannot be built.
    pub fn linked(parties: usize) -> Cascade {
        Cascade::fresh(Shape::Conference(Linkage::Linked), parties)
    }

    /// Conferences `depth` deep, `fanout` parties each, on dynamically
    /// loaded pbx-sim, on a fresh host: `fanout^depth` plain calls and
    /// every conference above them.
    ///
    /// # Panics
    ///
    /// If `depth == 0`, `fanout < 2` or the world cannot be built.
    pub fn nested(depth: u32, fanout: usize) -> Cascade {
        Cascade::fresh(Shape::Nested { fanout }, depth as usize)
    }

    /// analog-bridge's shared line with `stations` stations, station 1
    /// the last active one, on a fresh host ([`Shape::Bridged`]).
    ///
    /// # Panics
    ///
    /// If `stations` is not 1 to 8 or the world cannot be built.
    pub fn bridged(stations: usize) -> Cascade {
        Cascade::fresh(Shape::Bridged, stations)
    }

    /// `parties + 1` calls of [`Bare`], on a fresh host.
    ///
    /// # Panics
    ///
    /// If the world cannot be built.
    pub fn bare(parties: usize) -> Cascade {
        Cascade::fresh(Shape::Bare, parties)
    }

    /// A world of `shape` at `size` on a fresh host.
    ///
    /// # Panics
    ///
    /// If the world cannot be built.
    pub fn fresh(shape: Shape, size: usize) -> Cascade {
        Rig::for_shape(shape, size).cascade(shape, size, &mut Names::default())
    }

    /// Drops [`Cascade::parent`] and reads the app's events until the drop's
    /// Reply: what the benchmarks time. Returns how many calls went Idle.
    ///
    /// # Panics
    ///
    /// If the drop is refused or fails, no Reply comes, or the number of
    /// Idle events is not [`Cascade::calls`] (one per affected call, D4).
    pub fn run(&self) -> usize {
        let request = self.app.drop(self.parent, &[]).expect("drop");
        let mut idle = 0;
        loop {
            let mut events = self.app.events();
            if events.is_empty() {
                // Every provider here reports inside the drop; this is the
                // path of one that would report from a thread of its own.
                events.extend(self.app.next_event(PATIENCE));
                assert!(!events.is_empty(), "no Reply within {PATIENCE:?}");
            }
            for event in events {
                match event {
                    Event::CallState {
                        status: CallStatus::Idle,
                        ..
                    } => idle += 1,
                    Event::CallState { .. } => {}
                    Event::Reply {
                        request: replied,
                        result,
                    } if replied == request => {
                        assert_eq!(result, Ok(()), "the drop succeeds");
                        assert_eq!(idle, self.calls, "one Idle per affected call");
                        return idle;
                    }
                    Event::Reply { .. } => {}
                }
            }
        }
    }

    /// Takes the world off the host: drops the parent if [`Cascade::run`]
    /// did not, then deallocates every handle the app holds to an Idle call
    /// (all of them, after the cascade), so the provider forgets the calls
    /// too (T3) and the host is as it was before the world was built.
    pub fn clear(&self) {
        // Refused with InvalCallState when it already ran: nothing to do.
        let _ = self.app.drop(self.parent, &[]);
        for handle in self.app.leaks() {
            let _ = self.app.deallocate(handle);
        }
        self.app.events();
    }
}

impl Drop for Cascade {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Worlds of one shape and size, built one after another on the same host,
/// which is replaced by a fresh one now and then: what the benchmarks use,
/// so that no drop runs right after a plugin was loaded (loading reads and
/// parses the whole library file, leaving the caches cold).
#[derive(Debug)]
pub struct Worlds {
    shape: Shape,
    size: usize,
    rig: Option<Rig>,
    built: usize,
    names: Names,
}

impl Worlds {
    /// Worlds of `shape` at `size`; the host is made by the first
    /// [`Worlds::next_world`].
    pub fn new(shape: Shape, size: usize) -> Worlds {
        Worlds {
            shape,
            size,
            rig: None,
            built: 0,
            names: Names::default(),
        }
    }

    /// The next world. The previous one must have been dropped (cleared)
    /// first, so every world starts from the same host state.
    ///
    /// # Panics
    ///
    /// If the world cannot be built.
    pub fn next_world(&mut self) -> Cascade {
        let calls = self.shape.calls(self.size);
        if self.built + calls > RENEW_AFTER {
            self.rig = None;
            self.built = 0;
            self.names = Names::default();
        }
        self.built += calls;
        let rig = self
            .rig
            .get_or_insert_with(|| Rig::for_shape(self.shape, self.size));
        rig.cascade(self.shape, self.size, &mut self.names)
    }
}

/// A provider with no world, linked in: what the host and the boundary
/// cost per affected call once the provider's own work is taken away.
///
/// Calls exist only as numbers. The far end offers them
/// ([`Host::remote_offer`]); dropping the first one reports every live call
/// Idle, the others in order and the first last (the shape of a C1
/// cascade: N parties, then the parent), then completes the request.
/// Dropping any other call takes only that one to Idle.
#[derive(Debug)]
pub struct Bare {
    events: Reporter,
    /// Live calls, in offer order; ids are 1, 2, … and never reused.
    live: Vec<CallId>,
    last: u64,
}

impl Provider for Bare {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        match config {
            "" => Ok(Bare {
                events,
                live: Vec::new(),
                last: 0,
            }),
            other => Err(format!("bare takes no configuration, not {other:?}")),
        }
    }

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "bare".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Capabilities {
                uui_drop_size: 0,
                reject_by_drop: true,
                close_drop: false,
                addresses: vec![AddressCaps {
                    name: "bare".to_owned(),
                    conf_drop: true,
                    sharing: Sharing::Private,
                    features: CallFeatures::DROP,
                }],
                far_causes: false,
                uui_received_size: 0,
                hang_up_delay_ms: 0,
            },
        }
    }

    fn make_call(&mut self, _: RequestId, _: AddressId, _: &str) -> LineResult<CallId> {
        Err(LineError::OperationUnavail)
    }

    fn answer(&mut self, _: RequestId, _: CallId) -> LineResult<()> {
        Err(LineError::OperationUnavail)
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        _: DisconnectCode,
        _: &[u8],
    ) -> LineResult<()> {
        let Some(index) = self.live.iter().position(|c| *c == call) else {
            return Err(LineError::InvalCallState);
        };
        if index == 0 {
            for &other in &self.live[1..] {
                self.events.state(other, CallStatus::Idle);
            }
            self.events.state(call, CallStatus::Idle);
            self.live.clear();
        } else {
            self.events.state(call, CallStatus::Idle);
            self.live.remove(index);
        }
        self.events.complete(request, Ok(()));
        Ok(())
    }

    fn close_call(&mut self, call: CallId) -> LineResult<()> {
        self.live.retain(|c| *c != call);
        Ok(())
    }

    fn call_info(&self, _: CallId) -> LineResult<CallInfo<CallId>> {
        Err(LineError::OperationUnavail)
    }

    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        Ok(Vec::new())
    }

    fn remote_offer(&mut self, address: AddressId, _: &str, _: &[u8]) -> LineResult<CallId> {
        self.last += 1;
        let call = CallId(self.last);
        self.live.push(call);
        self.events.new_call(call, address, None);
        self.events.state(call, CallStatus::Offering);
        Ok(call)
    }

    fn remote_answer(&mut self, _: CallId) -> LineResult<()> {
        Err(LineError::OperationUnavail)
    }

    fn remote_hang_up(&mut self, _: CallId, _: u32, _: &[u8]) -> LineResult<()> {
        Err(LineError::OperationUnavail)
    }
}

/// The least work an affected call needs, the physical limit a cascade is
/// compared against: find the call's record by id, update its state, and
/// queue one event for its one app; then the app takes the events off its
/// queue. `CallId` keys in a std `HashMap` (SipHash, what untuned Rust
/// code uses), `Event`s in a `VecDeque` as the host queues them; no
/// provider, no lock, no boundary. The host's own maps hash ids more
/// cheaply (`IdHasher`), so part of the floor is a cost the host has
/// already shaved; the floor is kept as it was first defined so figures
/// stay comparable across changes.
#[derive(Debug)]
pub struct Floor {
    calls: HashMap<CallId, FloorCall>,
    queue: VecDeque<Event>,
}

#[derive(Debug)]
struct FloorCall {
    status: CallStatus<CallId>,
    handle: CallHandle,
}

impl Floor {
    /// `calls` connected calls, ids 1 to `calls`, each with one app's handle.
    pub fn new(calls: usize) -> Floor {
        let calls: HashMap<CallId, FloorCall> = (1..=calls as u64)
            .map(|id| {
                (
                    CallId(id),
                    FloorCall {
                        status: CallStatus::connected(),
                        handle: CallHandle(id as u32),
                    },
                )
            })
            .collect();
        let queue = VecDeque::with_capacity(calls.len());
        Floor { calls, queue }
    }

    /// How many calls there are.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Every call goes Idle ([`floor_step`] for each), then the app reads
    /// its events. Returns how many it read.
    pub fn cascade(&mut self) -> usize {
        for id in 1..=self.calls.len() as u64 {
            floor_step(self, CallId(id));
        }
        let mut read = 0;
        while let Some(event) = self.queue.pop_front() {
            black_box(event);
            read += 1;
        }
        read
    }
}

/// One affected call at the floor: its state becomes Idle and one event is
/// queued for the app holding it.
pub fn floor_step(floor: &mut Floor, call: CallId) {
    if let Some(record) = floor.calls.get_mut(&black_box(call)) {
        record.status = CallStatus::Idle;
        floor.queue.push_back(Event::CallState {
            handle: record.handle,
            status: CallStatus::Idle,
            privilege: Privilege::Owner,
        });
    }
}

/// The resident set size of this process, in bytes (`VmRSS` of
/// `/proc/self/status`); `None` where there is no such file.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
