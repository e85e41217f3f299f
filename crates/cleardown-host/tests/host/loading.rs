//! Loading providers (SPEC §9) and isolating faulty ones (X2).

use std::path::{Path, PathBuf};

use cleardown_host::{
    AddressId, App, CONTRACT_VERSION, CallFeatures, CallHandle, CallStatus, Host, LineError,
    LoadError, Privilege, ProviderId, Sharing,
};

use crate::support::{EXT_100, World, check, plugin};

/// A scratch copy of `library` named `name`, with `patch` applied to its bytes.
fn patched_copy(library: &Path, name: &str, patch: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cleardown-host-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let mut bytes = std::fs::read(library).expect("read plugin");
    patch(&mut bytes);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write copy");
    path
}

/// Rewrites the version in every contract stamp of a plugin image, as if it
/// had been built against `major.minor`.
fn restamp(bytes: &mut [u8], major: u32, minor: u32) {
    let magic = cleardown_contract_magic();
    let mut stamps = 0;
    for at in 0..bytes.len().saturating_sub(magic.len() + 8) {
        if bytes[at..at + magic.len()] == magic {
            let version = at + magic.len();
            bytes[version..version + 4].copy_from_slice(&major.to_ne_bytes());
            bytes[version + 4..version + 8].copy_from_slice(&minor.to_ne_bytes());
            stamps += 1;
        }
    }
    assert!(stamps > 0, "the plugin holds a contract stamp");
}

fn cleardown_contract_magic() -> [u8; 16] {
    *b"cleardown-stamp\0"
}

fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut hits = 0;
    for at in 0..bytes.len().saturating_sub(from.len()) {
        if &bytes[at..at + from.len()] == from {
            bytes[at..at + from.len()].copy_from_slice(to);
            hits += 1;
        }
    }
    assert!(hits > 0, "pattern found");
}

/// Loads the test provider with `config` into `host`, registers an owner app
/// on its line and offers one call: returns the provider, the app and its
/// handle, with the app's events drained.
fn offered_on_test_provider(host: &Host, config: &str, app: &str) -> (ProviderId, App, CallHandle) {
    let provider = host
        .load(&plugin("faulty-provider"), config)
        .expect("test provider loads");
    let app = host.app(app);
    app.open_line(provider, AddressId(0), Privilege::Owner)
        .expect("open");
    let call = host
        .remote_offer(provider, AddressId(0), "x", &[])
        .expect("offer");
    let handle = app.handle_of(provider, call).expect("handle");
    app.events();
    (provider, app, handle)
}

fn load_error(path: &Path) -> LoadError {
    match Host::new().load(path, "") {
        Ok(_) => panic!("{} should not load", path.display()),
        Err(error) => error,
    }
}

#[test]
fn l1_l2_pbx_sim_loads_dynamically_and_declares_its_capabilities() {
    let host = Host::new();
    let path = plugin("pbx-sim");
    let id = host.load(&path, "").expect("loads");
    let d = host.describe(id).expect("describe");
    assert_eq!(d.name, "pbx-sim");
    assert_eq!(d.path.as_deref(), Some(path.as_path()));
    assert_eq!(d.contract, CONTRACT_VERSION);
    assert_eq!(d.negotiated, CONTRACT_VERSION);
    let caps = &d.capabilities;
    assert_eq!(
        (caps.uui_drop_size, caps.reject_by_drop, caps.close_drop),
        (128, true, true)
    );
    let addresses: Vec<_> = caps
        .addresses
        .iter()
        .map(|a| (a.name.as_str(), a.conf_drop, a.sharing))
        .collect();
    assert_eq!(
        addresses,
        [
            ("ext-100", true, Sharing::Private),
            ("ext-200", false, Sharing::Private)
        ]
    );
}

#[test]
fn l1_several_plugins_and_configurations_load_side_by_side() {
    let host = Host::new();
    let strict = host
        .load(&plugin("pbx-sim"), "reject_by_drop=off;close_drop=off")
        .expect("pbx-sim #1");
    let loose = host.load(&plugin("pbx-sim"), "").expect("pbx-sim #2");
    let faulty = host.load(&plugin("faulty-provider"), "").expect("faulty");
    assert!(
        !host
            .describe(strict)
            .expect("d")
            .capabilities
            .reject_by_drop,
        "L3"
    );
    assert!(
        host.describe(loose).expect("d").capabilities.reject_by_drop,
        "L3"
    );
    assert_eq!(host.describe(faulty).expect("d").name, "faulty-provider");
}

#[test]
fn l1_other_major_is_refused_naming_both_versions() {
    let copy = patched_copy(&plugin("pbx-sim"), "libmajor2.so", |b| restamp(b, 2, 0));
    let error = load_error(&copy);
    assert!(matches!(error, LoadError::Version { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("built against contract 2.0"), "{message}");
    assert!(
        message.contains("this host speaks contract 1.x"),
        "{message}"
    );
}

#[test]
fn l1_newer_minor_loads_at_the_negotiated_version() {
    let copy = patched_copy(&plugin("pbx-sim"), "libminor7.so", |b| restamp(b, 1, 7));
    let host = Host::new();
    let id = host
        .load(&copy, "")
        .expect("a newer minor of the same major loads");
    let d = host.describe(id).expect("describe");
    assert_eq!((d.contract.major, d.contract.minor), (1, 7));
    assert_eq!(d.negotiated, CONTRACT_VERSION);
}

/// A plugin of an older minor loads at its version, and the host calls
/// nothing that minor lacks: a 1.0 plugin is not asked for its call
/// features (contract 1.1) and is taken to support them all.
#[test]
fn l1_older_minor_loads_and_is_not_asked_what_it_lacks() {
    let host = Host::new();
    let current = host.load(&plugin("faulty-provider"), "").expect("loads");
    let current = host.describe(current).expect("describe");
    assert_eq!(current.negotiated, CONTRACT_VERSION);
    assert_eq!(
        current.capabilities.addresses[0].features,
        CallFeatures::ANSWER | CallFeatures::DROP,
        "1.1: asked, and it answered from its declaration"
    );
    let copy = patched_copy(&plugin("faulty-provider"), "libminor0.so", |b| {
        restamp(b, 1, 0)
    });
    let old = host.load(&copy, "").expect("an older minor loads");
    let old = host.describe(old).expect("describe");
    assert_eq!((old.contract.major, old.contract.minor), (1, 0));
    assert_eq!((old.negotiated.major, old.negotiated.minor), (1, 0));
    assert_eq!(
        old.capabilities.addresses[0].features,
        CallFeatures::ALL,
        "1.0 cannot say, so it is not asked"
    );
}

/// SPEC L2, contract 1.2: what a provider hears of the far end is asked of
/// a 1.2 plugin and answered from its declaration; a 1.1 plugin is not
/// asked, and keeps the behaviour the suite gave it before: causes heard
/// where UUI is carried on drop, far UUI kept up to the drop size, hang-ups
/// signalled at once.
#[test]
fn l2_far_end_capabilities_are_asked_from_1_2_and_stood_in_for_before() {
    let far = |d: &cleardown_host::ProviderDescription| {
        let c = &d.capabilities;
        (c.far_causes, c.uui_received_size, c.hang_up_delay_ms)
    };
    let host = Host::new();
    let cases = [
        // (plugin, config, as 1.2 declares, as 1.1 is taken to)
        ("pbx-sim", "uui=16", (true, 128, 0), (true, 16, 0)),
        ("pbx-sim", "uui=0", (true, 128, 0), (false, 0, 0)),
        (
            "analog-bridge",
            "supervision=off;tone_ms=1500",
            (false, 0, 1500),
            (false, 0, 0),
        ),
    ];
    for (case, (name, config, declared, stood_in)) in cases.into_iter().enumerate() {
        let current = host.load(&plugin(name), config).expect("loads");
        let current = host.describe(current).expect("describe");
        assert_eq!(current.negotiated, CONTRACT_VERSION);
        assert_eq!(far(&current), declared, "{name} {config} at 1.2");
        // A file of its own per case: rewriting a library still mapped
        // would crash the process.
        let copy = patched_copy(&plugin(name), &format!("libminor1-{case}.so"), |b| {
            restamp(b, 1, 1)
        });
        let old = host.load(&copy, config).expect("a 1.1 plugin loads");
        let old = host.describe(old).expect("describe");
        assert_eq!((old.negotiated.major, old.negotiated.minor), (1, 1));
        assert_eq!(far(&old), stood_in, "{name} {config} at 1.1");
    }
}

#[test]
fn l1_files_that_are_not_providers_are_refused_clearly() {
    let missing = load_error(Path::new("/nonexistent/libnothing.so"));
    assert!(matches!(missing, LoadError::NotFound { .. }), "{missing}");

    let text = patched_copy(&plugin("pbx-sim"), "libtext.so", |b| {
        *b = b"just some text\n".to_vec()
    });
    let error = load_error(&text);
    assert!(matches!(error, LoadError::Malformed { .. }), "{error}");
    assert!(
        error.to_string().contains("not a loadable dynamic library"),
        "{error}"
    );

    // Cut inside the loadable segments (the tail of the file is debug info,
    // which the loader never reads).
    for keep in [64, 4096] {
        let truncated = patched_copy(&plugin("pbx-sim"), &format!("libtruncated{keep}.so"), |b| {
            b.truncate(keep)
        });
        let error = load_error(&truncated);
        assert!(
            matches!(error, LoadError::Malformed { .. }),
            "{keep} bytes: {error}"
        );
        assert!(
            error.to_string().contains("not a loadable dynamic library"),
            "{error}"
        );
    }

    let unstamped = patched_copy(&plugin("pbx-sim"), "libunstamped.so", |b| {
        replace_all(b, b"CLEARDOWN_CONTRACT_STAMP", b"XLEARDOWN_CONTRACT_STAMP")
    });
    let error = load_error(&unstamped);
    assert!(matches!(error, LoadError::NoStamp { .. }), "{error}");
    assert!(
        error.to_string().contains("not a cleardown provider"),
        "{error}"
    );

    // Stamped, but abi_stable's root-module loader is gone.
    let rootless = patched_copy(&plugin("pbx-sim"), "librootless.so", |b| {
        replace_all(
            b,
            b"_1as_0lib_1header_0root_bmodule_bloader",
            b"_1as_0lib_1header_0root_bmodule_bXoader",
        )
    });
    let error = load_error(&rootless);
    assert!(matches!(error, LoadError::Abi { .. }), "{error}");
    assert!(
        error.to_string().contains("root module is missing"),
        "{error}"
    );

    let foreign = patched_copy(&plugin("pbx-sim"), "libforeign.so", |b| {
        replace_all(b, &cleardown_contract_magic(), b"somebody-else\0\0\0")
    });
    assert!(matches!(load_error(&foreign), LoadError::BadStamp { .. }));
}

#[test]
fn l3_a_bad_configuration_is_refused_with_the_reason() {
    let error = Host::new()
        .load(&plugin("pbx-sim"), "reject_by_drop=maybe")
        .expect_err("refused");
    let message = error.to_string();
    assert!(matches!(error, LoadError::Config { .. }), "{message}");
    assert!(
        message.contains("maybe"),
        "the reason names the bad value: {message}"
    );
}

#[test]
fn x2_a_panicking_provider_is_isolated_and_the_host_keeps_serving() {
    let w = World::new("");
    let (faulty, app, handle) = offered_on_test_provider(&w.host, "panic=drop", "victim");
    assert_eq!(
        app.drop(handle, &[]),
        Err(LineError::OperationFailed),
        "X2: the panic becomes OperationFailed"
    );
    let fault = w
        .host
        .fault(faulty)
        .expect("X2: the provider is marked faulted");
    assert!(fault.contains("deliberate panic in drop_call"), "{fault}");
    assert_eq!(
        app.drop(handle, &[]),
        Err(LineError::OperationFailed),
        "a faulted provider is not called"
    );
    assert!(app.events().is_empty(), "a refused request gets no reply");
    // The other provider in the same host still serves.
    let call = w.connected(EXT_100, "alice");
    w.app.drop(call, &[]).expect("pbx-sim still serves");
    check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
    assert!(w.host.fault(w.pbx).is_none());
}

#[test]
fn x2_panics_while_opening_or_describing_fail_the_load() {
    for (config, words) in [
        ("panic=open", "panicked while opening"),
        ("panic=info", "panicked in info"),
    ] {
        let error = Host::new()
            .load(&plugin("faulty-provider"), config)
            .expect_err("refused");
        assert!(error.to_string().contains(words), "{config}: {error}");
    }
}

#[test]
fn x2_d3_double_or_stray_completions_fault_the_provider() {
    for config in ["complete=twice", "complete=stray"] {
        let host = Host::new();
        let (faulty, app, handle) = offered_on_test_provider(&host, config, "app");
        let request = app.drop(handle, &[]).expect("drop accepted");
        let replies = crate::support::replies(&app.events());
        assert_eq!(
            replies,
            [request],
            "{config}: D3 exactly one reply reaches the app"
        );
        let fault = host.fault(faulty).unwrap_or_default();
        assert!(
            fault.contains("completed"),
            "{config}: faulted for the bad completion: {fault:?}"
        );
    }
}

#[test]
fn d9_a_request_failing_after_its_id_reports_in_the_reply_and_changes_nothing() {
    let host = Host::new();
    let (faulty, app, handle) = offered_on_test_provider(&host, "complete=error", "app");
    let request = app.drop(handle, &[]).expect("accepted");
    assert_eq!(
        app.events(),
        [cleardown_host::Event::Reply {
            request,
            result: Err(LineError::OperationFailed)
        }]
    );
    assert_eq!(
        app.call_info(handle).expect("info").status,
        CallStatus::Offering,
        "S2"
    );
    assert!(
        host.fault(faulty).is_none(),
        "a failed request is not a fault"
    );
}

#[test]
fn d3_d10_reports_from_a_provider_thread_reach_the_app_in_order() {
    let host = Host::new();
    let (_, app, handle) = offered_on_test_provider(&host, "report=thread", "app");
    let request = app.drop(handle, &[]).expect("accepted");
    // Bounded waits: the provider reports within milliseconds; 10 s is only
    // a guard against hanging forever.
    let wait = std::time::Duration::from_secs(10);
    assert_eq!(
        app.next_event(wait),
        Some(cleardown_host::Event::CallState {
            handle,
            status: CallStatus::Idle,
            privilege: Privilege::Owner
        })
    );
    assert_eq!(
        app.next_event(wait),
        Some(cleardown_host::Event::Reply {
            request,
            result: Ok(())
        })
    );
    assert_eq!(app.next_event(std::time::Duration::from_millis(10)), None);
}

#[test]
fn d10_reports_from_two_threads_inside_one_host_call_keep_the_providers_order() {
    // The host takes reports made on its own thread during a call into the
    // provider without a lock, and others through its queue; the app must
    // still see them in the order the provider made them.
    let host = Host::new();
    let (_, app, handle) = offered_on_test_provider(&host, "report=interleaved", "app");
    let request = app.drop(handle, &[]).expect("accepted");
    let state = |status| cleardown_host::Event::CallState {
        handle,
        status,
        privilege: Privilege::Owner,
    };
    assert_eq!(
        app.events(),
        vec![
            state(CallStatus::Accepted),
            state(CallStatus::connected()),
            state(CallStatus::Idle),
            cleardown_host::Event::Reply {
                request,
                result: Ok(())
            },
        ]
    );
}

#[test]
fn d3_a_request_refused_after_its_completion_gets_no_reply() {
    // The provider completes the drop, then refuses it: the app got an
    // error and no request id, so no Reply may follow; the state the
    // provider reported before it completed still reaches the app (D10).
    let host = Host::new();
    let (faulty, app, handle) = offered_on_test_provider(&host, "complete=then-refuse", "app");
    assert_eq!(app.drop(handle, &[]), Err(LineError::OperationFailed));
    assert_eq!(
        app.events(),
        vec![cleardown_host::Event::CallState {
            handle,
            status: CallStatus::Idle,
            privilege: Privilege::Owner,
        }]
    );
    let fault = host.fault(faulty).unwrap_or_default();
    assert!(fault.contains("which it was not given"), "{fault:?}");
}

#[test]
fn x2_a_provider_reporting_an_undeclared_address_is_faulted() {
    let host = Host::new();
    let bad = host
        .load(&plugin("faulty-provider"), "report=bad-address")
        .expect("loads");
    let app = host.app("app");
    app.open_line(bad, AddressId(0), Privilege::Owner)
        .expect("open");
    let call = host
        .remote_offer(bad, AddressId(0), "x", &[])
        .expect("the offer itself returns");
    assert_eq!(
        app.handle_of(bad, call),
        None,
        "no handle to a garbage call"
    );
    assert!(app.events().is_empty());
    let fault = host.fault(bad).unwrap_or_default();
    assert!(fault.contains("unknown address 7"), "{fault:?}");
}

#[test]
fn x2_a_provider_panicking_while_dropped_does_not_take_the_host_down() {
    // If the panic escaped the SDK's guard it would abort this whole test
    // process, failing every test in it.
    let host = Host::new();
    host.load(&plugin("faulty-provider"), "panic=destroy")
        .expect("loads");
    drop(host);
    let still_here = World::new("");
    assert_eq!(still_here.host.providers().len(), 1);
}

#[test]
fn d10_a_waiting_app_gets_events_another_thread_routed_for_it() {
    let host = Host::new();
    let (_, app, handle) = offered_on_test_provider(&host, "report=thread", "waiter");
    let busy = host.app("busy");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Another app pumps the host as fast as it can, so the provider thread's
    // reports are routed by it, not by the waiting app.
    let pumping = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                busy.events();
            }
        })
    };
    let request = app.drop(handle, &[]).expect("accepted");
    let wait = std::time::Duration::from_secs(10);
    let first = app.next_event(wait);
    let second = app.next_event(wait);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    pumping.join().expect("pumper");
    assert_eq!(
        first,
        Some(cleardown_host::Event::CallState {
            handle,
            status: CallStatus::Idle,
            privilege: Privilege::Owner
        })
    );
    assert_eq!(
        second,
        Some(cleardown_host::Event::Reply {
            request,
            result: Ok(())
        })
    );
}

#[test]
fn x2_reports_from_a_provider_that_failed_to_open_reach_nobody() {
    let host = Host::new();
    let refused = host
        .load(&plugin("faulty-provider"), "open=report-then-fail")
        .expect_err("open fails");
    assert!(matches!(refused, LoadError::Config { .. }), "{refused}");
    // pbx-sim now takes the number the failed provider would have had.
    let pbx = host.load(&plugin("pbx-sim"), "").expect("pbx-sim loads");
    let app = host.app("app");
    app.open_line(pbx, EXT_100, Privilege::Owner).expect("open");
    assert!(app.events().is_empty(), "no stray call reached the app");
    assert_eq!(
        host.fault(pbx),
        None,
        "pbx-sim is not blamed for the stray reports"
    );
    let (request, _) = app
        .make_call(pbx, EXT_100, "alice")
        .expect("pbx-sim serves");
    assert_eq!(crate::support::replies(&app.events()), [request]);
}
