//! The provider far end drives the provider's simulated far parties through
//! the contract's stimuli and reports them in the neutral form (SPEC §10),
//! through the dynamically loaded plugin.

use cleardown_far_end::{FarEnd, ProviderFarEnd};
use cleardown_host::{AddressId, Host, LineError, Privilege, RemoteState, SignalKind, locate};

#[test]
fn s3_the_provider_far_end_offers_hangs_up_and_reports_its_parties() {
    let host = Host::new();
    let pbx = host
        .load(&locate::find("pbx-sim").expect("pbx-sim builds"), "")
        .expect("loads");
    let app = host.app("app");
    app.open_line(pbx, AddressId(0), Privilege::Owner)
        .expect("open");
    let mut far = ProviderFarEnd::new(&host, pbx);
    let call = far
        .offer(AddressId(0), "alice", &[0x04, 0x68])
        .expect("offered");
    // An offered call cannot be answered by its caller, nor alerted.
    assert_eq!(far.answer(call), Err(LineError::InvalCallState));
    far.hang_up(call, 16, &[]).expect("alice gives up");
    assert_eq!(far.hang_up(call, 16, &[]), Err(LineError::InvalCallState));
    let parties = far.parties().expect("the far end answers");
    assert_eq!(parties.len(), 1, "{parties:?}");
    assert_eq!(parties[0].name, "alice");
    assert_eq!(parties[0].state, RemoteState::Released);
    // She gave up herself: nothing was sent to her.
    assert!(
        parties[0]
            .received
            .iter()
            .all(|s| s.kind != SignalKind::Release),
        "{parties:?}"
    );
}
