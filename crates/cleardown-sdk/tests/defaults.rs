//! The defaults of `Provider`, as the host meets them: a provider that
//! implements only the required methods, opened through its root module and
//! driven through the SDK's panic guard exactly as a loaded plugin is,
//! answers every defaulted method the way the trait documents it (SPEC L2:
//! an operation a provider leaves out is `OperationUnavail`, never a silent
//! success).

use abi_stable::std_types::{RResult, RSlice};
use cleardown_sdk::{
    abi::{ProviderBox, ProviderError},
    testing::Recording,
    *,
};

/// Only what the trait requires, every answer a refusal: whatever a test
/// sees from another method is the SDK's default.
#[derive(Debug)]
struct RequiredOnly;

impl Provider for RequiredOnly {
    fn open(config: &str, _: Reporter) -> Result<Self, String> {
        match config {
            "" => Ok(RequiredOnly),
            other => Err(format!("no configuration, not {other:?}")),
        }
    }
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "required-only".into(),
            version: "0.0.0".into(),
            capabilities: Capabilities {
                uui_drop_size: 0,
                reject_by_drop: false,
                close_drop: false,
                addresses: vec![AddressCaps {
                    name: "line".into(),
                    conf_drop: false,
                    sharing: Sharing::Private,
                    features: CallFeatures::ANSWER | CallFeatures::DROP,
                }],
                far_causes: false,
                uui_received_size: 0,
                hang_up_delay_ms: 0,
            },
        }
    }
    fn make_call(&mut self, _: RequestId, _: AddressId, _: &str) -> LineResult<CallId> {
        Err(LineError::InvalPointer)
    }
    fn answer(&mut self, _: RequestId, _: CallId) -> LineResult<()> {
        Err(LineError::InvalPointer)
    }
    fn drop_call(
        &mut self,
        _: RequestId,
        _: CallId,
        _: DisconnectCode,
        _: &[u8],
    ) -> LineResult<()> {
        Err(LineError::InvalPointer)
    }
    fn close_call(&mut self, _: CallId) -> LineResult<()> {
        Err(LineError::InvalPointer)
    }
    fn call_info(&self, _: CallId) -> LineResult<CallInfo<CallId>> {
        Err(LineError::InvalPointer)
    }
}

/// `RequiredOnly` as the host holds it: opened through its root module,
/// every entry point inside the SDK's panic guard.
fn opened() -> ProviderBox {
    let open = root_module::<RequiredOnly>().open();
    match open("".into(), CONTRACT_VERSION, Recording::new().sink()) {
        RResult::ROk(provider) => provider,
        RResult::RErr(reason) => panic!("refused: {reason}"),
    }
}

/// What one entry point answered, as the host decodes it.
fn answer<T>(result: RResult<T, ProviderError>) -> LineResult<()> {
    match result.into_result() {
        Ok(_) => Ok(()),
        Err(ProviderError { code, panic }) => {
            assert!(panic.is_none(), "a default never panics: {panic:?}");
            Err(LineError::from_code(code).expect("a LINEERR code"))
        }
    }
}

const REQUEST: RequestId = RequestId(1);
const CALL: CallId = CallId(1);
const OTHER: CallId = CallId(2);
const LINE: AddressId = AddressId(0);

/// SPEC L2: the call operations a provider leaves out answer
/// `OperationUnavail`, so a scenario that needs one fails loudly where the
/// provider declares the feature by mistake.
#[test]
fn l2_call_operations_left_out_answer_operation_unavail() {
    let mut p = opened();
    let unavail = Err(LineError::OperationUnavail);
    assert_eq!(answer(p.accept(REQUEST, CALL)), unavail, "accept");
    assert_eq!(answer(p.hold(REQUEST, CALL)), unavail, "hold");
    assert_eq!(answer(p.unhold(REQUEST, CALL)), unavail, "unhold");
    assert_eq!(
        answer(p.setup_conference(REQUEST, CALL, "bob".into())),
        unavail,
        "setup_conference"
    );
    assert_eq!(
        answer(p.add_to_conference(REQUEST, CALL, OTHER)),
        unavail,
        "add_to_conference"
    );
    assert_eq!(
        answer(p.setup_transfer(REQUEST, CALL, "bob".into())),
        unavail,
        "setup_transfer"
    );
    assert_eq!(
        answer(p.complete_transfer(REQUEST, CALL, OTHER)),
        unavail,
        "complete_transfer"
    );
}

/// SPEC L2, §6: stimuli of a world the provider does not have (an alerting
/// signal, bridged stations) answer `OperationUnavail`.
#[test]
fn l2_stimuli_left_out_answer_operation_unavail() {
    let mut p = opened();
    let unavail = Err(LineError::OperationUnavail);
    assert_eq!(answer(p.remote_alert(CALL)), unavail, "remote_alert");
    assert_eq!(answer(p.station_hook(LINE, true)), unavail, "station_hook");
    assert_eq!(answer(p.station_hook(LINE, false)), unavail, "station_hook");
}

/// SPEC §10, L2: a provider that simulates no far end (one on a real
/// network, judged through a far-end driver on its wire) leaves out the
/// far-end view and every stimulus of the far end: each answers
/// `OperationUnavail`, which the suite takes as "serve these steps with a
/// far-end driver", never as a broken rule.
#[test]
fn l2_a_provider_without_a_simulated_far_end_answers_operation_unavail() {
    let mut p = opened();
    let unavail = Err(LineError::OperationUnavail);
    assert_eq!(answer(p.far_end()), unavail, "far_end");
    let uui = RSlice::from_slice(&[]);
    assert_eq!(
        answer(p.remote_offer(LINE, "alice".into(), uui)),
        unavail,
        "remote_offer"
    );
    assert_eq!(answer(p.remote_answer(CALL)), unavail, "remote_answer");
    assert_eq!(
        answer(p.remote_hang_up(CALL, 16, RSlice::from_slice(&[]))),
        unavail,
        "remote_hang_up"
    );
}

/// SPEC B5, L2: a provider with nothing to set up per line can still have
/// every declared address opened and closed by the host.
#[test]
fn b5_lines_open_and_close_without_an_override() {
    let mut p = opened();
    assert_eq!(answer(p.open_line(LINE)), Ok(()), "open_line");
    assert_eq!(answer(p.close_line(LINE)), Ok(()), "close_line");
    assert_eq!(answer(p.open_line(LINE)), Ok(()), "open_line again");
}

/// Simulated time passing for a provider with nothing scheduled changes
/// nothing and is no error, so a scenario that lets time pass gives the
/// same transcript from every provider (SPEC L2: one snapshot per profile).
#[test]
fn l2_time_passing_without_timers_changes_nothing() {
    let mut p = opened();
    for millis in [0, 1, 4_000, u64::MAX] {
        assert_eq!(answer(p.advance_time(millis)), Ok(()), "{millis} ms");
    }
}

/// SPEC L2: what the SDK answers for the provider from its declaration: the
/// call features of each address, `InvalPointer` beyond them; and the
/// required methods reach the provider's own answers through the guard.
#[test]
fn l2_call_features_come_from_the_declaration() {
    let mut p = opened();
    let features = p.call_features(LINE).into_result().map_err(|e| e.code);
    assert_eq!(features, Ok((CallFeatures::ANSWER | CallFeatures::DROP).0));
    assert_eq!(
        answer(p.call_features(AddressId(1))),
        Err(LineError::InvalPointer)
    );
    let uui = RSlice::from_slice(&[]);
    assert_eq!(
        answer(p.drop_call(REQUEST, CALL, DisconnectCode::Normal.code(), uui)),
        Err(LineError::InvalPointer)
    );
}
