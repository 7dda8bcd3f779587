//! Finance: one agent per user, two turns a day, holding 1 to 3 accounts (one stream
//! each).
//!
//! * an account not opened yet emits `finance.account_opened` (opening balance 0 to
//!   5 000.00);
//! * otherwise, per turn: 0.3 % closing the newest account when there are two or more (a
//!   new one is opened on a later turn), 5.7 % a transfer from the first account to
//!   another open one, 4 % an income on the first account, 60 % an expense on a random
//!   account (15 % of them with schema version 1: `amount` instead of `amount_cents`),
//!   else nothing. Amounts are whole cents.

use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::{SplitMix64, Stream, Turn};
use crate::finance::{AccountClosed, AccountOpened, ExpenseRecorded, IncomeRecorded, TransferMade};

const ACCOUNT_NAMES: &[&str] = &["Checking", "Savings", "Credit card", "Travel", "Joint"];
const CATEGORIES: &[&str] = &[
    "groceries",
    "rent",
    "transport",
    "restaurants",
    "utilities",
    "health",
    "entertainment",
    "clothing",
    "travel",
    "gifts",
];
const MERCHANTS: &[&str] = &[
    "Market",
    "Cafe Nord",
    "City Transit",
    "Bookshop",
    "Pharmacy",
];
const INCOME: &[&str] = &["salary", "refund", "interest", "freelance"];
/// Per mille: chance an expense is written with payload schema version 1.
const V1_PER_MILLE: u64 = 150;

#[derive(Debug, Clone)]
struct Account {
    stream: Stream,
    opened: bool,
}

/// One user's money.
#[derive(Debug, Clone)]
pub(super) struct Finance {
    pub(super) user_id: Uuid,
    /// Open (or about to be opened) accounts, oldest first.
    accounts: Vec<Account>,
    /// How many accounts the user keeps.
    target: usize,
}

impl Finance {
    pub(super) fn new(user_id: Uuid, rng: &mut SplitMix64) -> Self {
        Self {
            user_id,
            accounts: Vec::new(),
            target: 1 + rng.index(3),
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        if self.accounts.len() < self.target {
            let id = turn.mint();
            self.accounts.push(Account {
                stream: Stream::new(id),
                opened: false,
            });
        }
        if let Some(account) = self.accounts.iter_mut().find(|a| !a.opened) {
            account.opened = true;
            let payload = AccountOpened {
                account_id: account.stream.id,
                name: (*turn.rng.pick(ACCOUNT_NAMES)).to_owned(),
                currency: "EUR".to_owned(),
                opening_balance_cents: turn.rng.between(0, 500_000),
            };
            return Some(account.stream.emit(turn, &payload));
        }
        let roll = turn.rng.below(1000);
        let count = self.accounts.len();
        if roll < 3 && count >= 2 {
            let mut closed = self.accounts.pop()?;
            let account_id = closed.stream.id;
            return Some(closed.stream.emit(turn, &AccountClosed { account_id }));
        }
        if roll < 60 && count >= 2 {
            let to = 1 + turn.rng.index(count - 1);
            let payload = TransferMade {
                transfer_id: turn.mint(),
                from_account_id: self.accounts[0].stream.id,
                to_account_id: self.accounts[to].stream.id,
                amount_cents: turn.rng.between(1_000, 100_000),
            };
            return Some(self.accounts[0].stream.emit(turn, &payload));
        }
        if roll < 100 {
            let payload = IncomeRecorded {
                transaction_id: turn.mint(),
                account_id: self.accounts[0].stream.id,
                category: (*turn.rng.pick(INCOME)).to_owned(),
                amount_cents: turn.rng.between(5_000, 400_000),
            };
            return Some(self.accounts[0].stream.emit(turn, &payload));
        }
        if roll >= 700 {
            return None;
        }
        let transaction_id = turn.mint();
        let index = turn.rng.index(count);
        let account = &mut self.accounts[index];
        let category = *turn.rng.pick(CATEGORIES);
        let amount_cents = turn.rng.between(100, 20_000);
        if turn.rng.chance(V1_PER_MILLE) {
            let payload = json!({
                "transaction_id": transaction_id,
                "account_id": account.stream.id,
                "category": category,
                "amount": amount_cents,
            });
            return Some(
                account
                    .stream
                    .emit_raw(turn, ExpenseRecorded::EVENT_TYPE, 1, payload),
            );
        }
        let merchant = turn
            .rng
            .chance(600)
            .then(|| (*turn.rng.pick(MERCHANTS)).to_owned());
        let payload = ExpenseRecorded {
            transaction_id,
            account_id: account.stream.id,
            category: category.to_owned(),
            amount_cents,
            merchant,
        };
        Some(account.stream.emit(turn, &payload))
    }
}
