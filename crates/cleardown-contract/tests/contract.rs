//! The contract's own rules: version negotiation (SPEC L1) and TAPI codes
//! (SPEC §1, §8) surviving the boundary encoding.

use cleardown_contract::{
    CallId, CallInfo, CallState, CallStatus, ConnectedMode, ContractVersion, DisconnectMode,
    LineError, Related, Relation, RemoteParty, RemoteSignal, RemoteState, SignalKind,
    abi::{FfiCallInfo, FfiRemoteParty, decode_status, negotiate},
};

fn v(major: u32, minor: u32) -> ContractVersion {
    ContractVersion { major, minor }
}

#[test]
fn l1_negotiation_same_major_lower_minor() {
    // An older-minor plugin loads into a newer host at the plugin's minor.
    assert_eq!(negotiate(v(1, 3), v(1, 0)), Ok(v(1, 0)));
    // A newer-minor plugin loads at the host's minor.
    assert_eq!(negotiate(v(1, 0), v(1, 7)), Ok(v(1, 0)));
    assert_eq!(negotiate(v(1, 2), v(1, 2)), Ok(v(1, 2)));
    let refused = negotiate(v(1, 0), v(2, 0)).expect_err("another major");
    assert_eq!(
        refused.to_string(),
        "the plugin was built against contract 2.0, this host speaks contract 1.x (up to 1.0)"
    );
    assert!(negotiate(v(2, 0), v(1, 9)).is_err());
}

#[test]
fn tapi_values_are_tapis() {
    assert_eq!(CallState::Disconnected.code(), 0x4000);
    assert_eq!(CallState::Conferenced.code(), 0x800);
    assert_eq!(DisconnectMode::Cancelled.code(), 0x80000);
    assert_eq!(LineError::InvalCallHandle.code(), 0x8000_0018);
    assert_eq!(LineError::UserUserInfoTooBig.code(), 0x8000_0051);
    for state in CallState::ALL {
        assert_eq!(CallState::from_code(state.code()), Some(*state));
    }
    for error in LineError::ALL {
        assert_eq!(LineError::from_code(error.code()), Some(*error));
    }
    assert_eq!(
        CallState::from_code(0x3),
        None,
        "a combination of bits is not a state"
    );
    assert_eq!(LineError::from_code(0), None);
}

#[test]
fn q850_causes_map_to_disconnect_modes() {
    assert_eq!(DisconnectMode::from_q850(16), DisconnectMode::Normal);
    assert_eq!(DisconnectMode::from_q850(17), DisconnectMode::Busy);
    assert_eq!(DisconnectMode::from_q850(19), DisconnectMode::NoAnswer);
    assert_eq!(DisconnectMode::from_q850(21), DisconnectMode::Reject);
    assert_eq!(DisconnectMode::from_q850(127), DisconnectMode::Unknown);
}

#[test]
fn x2_status_decoding_refuses_garbage() {
    assert_eq!(
        decode_status(0x100, 0x2, CallId(0)),
        Ok(CallStatus::Connected {
            mode: ConnectedMode::Inactive
        })
    );
    assert_eq!(
        decode_status(0x800, 0, CallId(7)),
        Ok(CallStatus::Conferenced { parent: CallId(7) })
    );
    assert!(
        decode_status(0x100, 0x4, CallId(0)).is_err(),
        "Connected needs a connected mode"
    );
    assert!(
        decode_status(0x4000, 0x3, CallId(0)).is_err(),
        "Disconnected needs one mode"
    );
    assert!(
        decode_status(0x10000, 0, CallId(0)).is_err(),
        "no such state"
    );
}

#[test]
fn call_info_and_far_end_survive_the_boundary() {
    let info = CallInfo {
        address: cleardown_contract::AddressId(1),
        status: CallStatus::Disconnected {
            mode: DisconnectMode::Busy,
        },
        related: vec![Related {
            relation: Relation::Parent,
            call: CallId(9),
        }],
        remote: "alice".into(),
        disconnect_mode: Some(DisconnectMode::Busy),
        uui_received: vec![4, 0, 255],
        uui_sent: Vec::new(),
    };
    assert_eq!(FfiCallInfo::from(&info).decode(), Ok(info));
    let party = RemoteParty {
        name: "bob".into(),
        state: RemoteState::Released,
        connected_to: vec!["carol".into()],
        received: vec![RemoteSignal {
            kind: SignalKind::Reject,
            cause: 21,
            uui: vec![4, 1],
            wire: "x".into(),
        }],
    };
    assert_eq!(FfiRemoteParty::from(&party).decode(), Ok(party));
}
