//! The finance models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::{DomainEvent, StoredEvent};
use serde_json::json;

use super::Balance;
use super::MonthlySpend;
use super::Transaction;
use super::*;
use crate::test_support::{at, day, id, raw};

const USER: Uuid = id(1);
const CHECKING: Uuid = id(10);
const SAVINGS: Uuid = id(11);

/// Opens two accounts, spends (once with a v1 payload), earns, transfers, closes.
fn log() -> Vec<StoredEvent> {
    vec![
        stored(
            1,
            USER,
            CHECKING,
            1,
            at(3, 1, 9),
            &AccountOpened {
                account_id: CHECKING,
                name: "Checking".to_owned(),
                currency: "EUR".to_owned(),
                opening_balance_cents: 100_000,
            },
        ),
        stored(
            2,
            USER,
            SAVINGS,
            1,
            at(3, 1, 10),
            &AccountOpened {
                account_id: SAVINGS,
                name: "Savings".to_owned(),
                currency: "EUR".to_owned(),
                opening_balance_cents: 0,
            },
        ),
        stored(
            3,
            USER,
            CHECKING,
            2,
            at(3, 2, 12),
            &ExpenseRecorded {
                transaction_id: id(20),
                account_id: CHECKING,
                category: "groceries".to_owned(),
                amount_cents: 4_250,
                merchant: Some("Market".to_owned()),
            },
        ),
        raw(
            4,
            USER,
            CHECKING,
            at(3, 30, 18),
            ExpenseRecorded::EVENT_TYPE,
            1,
            json!({
                "transaction_id": id(21), "account_id": CHECKING,
                "category": "groceries", "amount": 1_000
            }),
        ),
        stored(
            5,
            USER,
            CHECKING,
            4,
            at(4, 1, 8),
            &IncomeRecorded {
                transaction_id: id(22),
                account_id: CHECKING,
                category: "salary".to_owned(),
                amount_cents: 300_000,
            },
        ),
        stored(
            6,
            USER,
            CHECKING,
            5,
            at(4, 1, 9),
            &TransferMade {
                transfer_id: id(23),
                from_account_id: CHECKING,
                to_account_id: SAVINGS,
                amount_cents: 50_000,
            },
        ),
        stored(
            7,
            USER,
            CHECKING,
            6,
            at(4, 2, 9),
            &ExpenseRecorded {
                transaction_id: id(24),
                account_id: CHECKING,
                category: "rent".to_owned(),
                amount_cents: 120_000,
                merchant: None,
            },
        ),
    ]
}

#[test]
fn transactions_are_signed_from_the_accounts_side() {
    let mut model = InMemory::<Transaction>::new();
    model.apply_all(&log()).expect("applies");
    let row =
        |event_id, kind: &str, category: Option<&str>, tx, amount_cents, other, at| Transaction {
            model_version: 1,
            event_id,
            user_id: USER,
            account_id: CHECKING,
            transaction_id: id(tx),
            kind: kind.to_owned(),
            category: category.map(str::to_owned),
            amount_cents,
            counterparty_account_id: other,
            occurred_at: at,
        };
    assert_eq!(
        model.rows(),
        vec![
            row(
                3,
                KIND_EXPENSE,
                Some("groceries"),
                20,
                -4_250,
                None,
                at(3, 2, 12)
            ),
            row(
                4,
                KIND_EXPENSE,
                Some("groceries"),
                21,
                -1_000,
                None,
                at(3, 30, 18)
            ),
            row(
                5,
                KIND_INCOME,
                Some("salary"),
                22,
                300_000,
                None,
                at(4, 1, 8)
            ),
            row(
                6,
                KIND_TRANSFER,
                None,
                23,
                -50_000,
                Some(SAVINGS),
                at(4, 1, 9)
            ),
            row(
                7,
                KIND_EXPENSE,
                Some("rent"),
                24,
                -120_000,
                None,
                at(4, 2, 9)
            ),
        ]
    );
}

#[test]
fn a_transfer_changes_two_balances_and_closing_deletes_the_row() {
    let mut model = InMemory::<Balance>::new();
    model.apply_all(&log()).expect("applies");
    assert_eq!(
        model.rows(),
        vec![
            Balance {
                model_version: 1,
                account_id: CHECKING,
                user_id: USER,
                name: "Checking".to_owned(),
                currency: "EUR".to_owned(),
                balance_cents: 100_000 - 4_250 - 1_000 + 300_000 - 50_000 - 120_000,
                transactions: 5,
                updated_at: at(4, 2, 9),
            },
            Balance {
                model_version: 1,
                account_id: SAVINGS,
                user_id: USER,
                name: "Savings".to_owned(),
                currency: "EUR".to_owned(),
                balance_cents: 50_000,
                transactions: 1,
                updated_at: at(4, 1, 9),
            },
        ]
    );
    model
        .apply(&stored(
            8,
            USER,
            SAVINGS,
            2,
            at(4, 3, 9),
            &AccountClosed {
                account_id: SAVINGS,
            },
        ))
        .expect("applies");
    assert_eq!(model.rows().len(), 1);
    assert_eq!(model.rows()[0].account_id, CHECKING);
}

#[test]
fn monthly_spend_sums_expenses_per_month_and_category() {
    let mut model = InMemory::<MonthlySpend>::new();
    model.apply_all(&log()).expect("applies");
    let row = |month, category: &str, spent_cents, expenses| MonthlySpend {
        model_version: 1,
        user_id: USER,
        month,
        category: category.to_owned(),
        spent_cents,
        expenses,
    };
    assert_eq!(
        model.rows(),
        vec![
            row(day(3, 1), "groceries", 5_250, 2),
            row(day(4, 1), "rent", 120_000, 1),
        ]
    );
}
