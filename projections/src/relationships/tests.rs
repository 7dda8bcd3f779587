//! The relationships models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::StoredEvent;

use super::Interaction;
use super::LastContact;
use super::*;
use crate::test_support::{at, id};

const USER: Uuid = id(1);
const ANA: Uuid = id(10);
const BEN: Uuid = id(11);

fn person(person_id: Uuid, name: &str, circle: &str) -> PersonAdded {
    PersonAdded {
        person_id,
        name: name.to_owned(),
        circle: circle.to_owned(),
    }
}

fn interaction(n: u64, person_id: Uuid, channel: &str) -> InteractionLogged {
    InteractionLogged {
        interaction_id: id(n),
        person_id,
        channel: channel.to_owned(),
    }
}

/// Two people, three interactions, Ben removed.
fn log() -> Vec<StoredEvent> {
    vec![
        stored(1, USER, ANA, 1, at(3, 1, 9), &person(ANA, "Ana", "family")),
        stored(2, USER, BEN, 1, at(3, 1, 10), &person(BEN, "Ben", "work")),
        stored(3, USER, ANA, 2, at(3, 2, 18), &interaction(20, ANA, "call")),
        stored(
            4,
            USER,
            BEN,
            2,
            at(3, 3, 12),
            &interaction(21, BEN, "meeting"),
        ),
        stored(
            5,
            USER,
            ANA,
            3,
            at(3, 5, 20),
            &interaction(22, ANA, "message"),
        ),
        stored(
            6,
            USER,
            BEN,
            3,
            at(3, 6, 9),
            &PersonRemoved { person_id: BEN },
        ),
    ]
}

#[test]
fn last_contact_keeps_the_latest_interaction_and_removal_deletes() {
    let mut model = InMemory::<LastContact>::new();
    model.apply_all(&log()[..5]).expect("applies");
    let ana = LastContact {
        model_version: 1,
        person_id: ANA,
        user_id: USER,
        name: "Ana".to_owned(),
        circle: "family".to_owned(),
        last_contact_at: Some(at(3, 5, 20)),
        last_channel: Some("message".to_owned()),
        interactions: 2,
        updated_at: at(3, 5, 20),
    };
    let ben = LastContact {
        model_version: 1,
        person_id: BEN,
        user_id: USER,
        name: "Ben".to_owned(),
        circle: "work".to_owned(),
        last_contact_at: Some(at(3, 3, 12)),
        last_channel: Some("meeting".to_owned()),
        interactions: 1,
        updated_at: at(3, 3, 12),
    };
    assert_eq!(model.rows(), vec![ana.clone(), ben]);
    model.apply_all(&log()[5..]).expect("applies");
    assert_eq!(model.rows(), vec![ana]);
}

#[test]
fn interactions_timeline_lists_every_contact() {
    let mut model = InMemory::<Interaction>::new();
    model.apply_all(&log()).expect("applies");
    let row = |event_id, person_id, n, channel: &str, occurred_at| Interaction {
        model_version: 1,
        event_id,
        user_id: USER,
        person_id,
        interaction_id: id(n),
        channel: channel.to_owned(),
        occurred_at,
    };
    assert_eq!(
        model.rows(),
        vec![
            row(3, ANA, 20, "call", at(3, 2, 18)),
            row(4, BEN, 21, "meeting", at(3, 3, 12)),
            row(5, ANA, 22, "message", at(3, 5, 20)),
        ]
    );
}
