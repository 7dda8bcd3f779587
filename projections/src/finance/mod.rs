//! # Finance
//!
//! Accounts, what is spent and earned on them, and transfers between them. Each account is
//! one event stream (`stream_id` = `account_id`) of these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `finance.account_opened` | [`AccountOpened`] |
//! | `finance.expense_recorded` (schema version 2; 1 is upcast) | [`ExpenseRecorded`] |
//! | `finance.income_recorded` | [`IncomeRecorded`] |
//! | `finance.transfer_made` | [`TransferMade`] |
//! | `finance.account_closed` | [`AccountClosed`] |
//!
//! Money is always `i64` cents. Three read models:
//!
//! * [`Transaction`] — timeline `finance.transactions` (`readmodels.finance_transactions`):
//!   one row per expense, income or transfer, signed from the account's point of view.
//! * [`Balance`] — snapshot `finance.balances` (`readmodels.finance_balances`): one row
//!   per open account; a transfer changes two rows, closing an account deletes its row.
//! * [`MonthlySpend`] — aggregate `finance.monthly_spend`
//!   (`readmodels.finance_monthly_spend`): expenses per user, month and category.

use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

use crate::days::first_of_month;

pub mod events;

pub use events::{AccountClosed, AccountOpened, ExpenseRecorded, IncomeRecorded, TransferMade};

/// The `kind` of a [`Transaction`] row for an expense.
pub const KIND_EXPENSE: &str = "expense";
/// The `kind` of a [`Transaction`] row for an income.
pub const KIND_INCOME: &str = "income";
/// The `kind` of a [`Transaction`] row for a transfer.
pub const KIND_TRANSFER: &str = "transfer";

/// Timeline: every money movement, in log order.
///
/// One money movement.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "finance.transactions",
    domain = "finance",
    version = 1,
    kind = "timeline",
    events = [ExpenseRecorded, IncomeRecorded, TransferMade],
    key = (model_version, event_id),
    table = readmodels::finance_transactions,
)]
pub struct Transaction {
    /// Model version.
    pub model_version: i32,
    /// The event's global position.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The account the row is about (for a transfer: the one debited).
    pub account_id: Uuid,
    /// The transaction or transfer id.
    pub transaction_id: Uuid,
    /// [`KIND_EXPENSE`], [`KIND_INCOME`] or [`KIND_TRANSFER`].
    pub kind: String,
    /// Expense or income category; `None` for a transfer.
    pub category: Option<String>,
    /// Cents, signed from `account_id`'s side: negative when money leaves it.
    pub amount_cents: i64,
    /// The other account of a transfer.
    pub counterparty_account_id: Option<Uuid>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl Transaction {
    /// An expense: a negative amount.
    fn expense(event: &Event<ExpenseRecorded>) -> Vec<Transaction> {
        vec![Transaction {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            account_id: event.account_id,
            transaction_id: event.transaction_id,
            kind: KIND_EXPENSE.to_owned(),
            category: Some(event.category.clone()),
            amount_cents: -event.amount_cents,
            counterparty_account_id: None,
            occurred_at: event.occurred_at,
        }]
    }

    /// An income: a positive amount.
    fn income(event: &Event<IncomeRecorded>) -> Vec<Transaction> {
        vec![Transaction {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            account_id: event.account_id,
            transaction_id: event.transaction_id,
            kind: KIND_INCOME.to_owned(),
            category: Some(event.category.clone()),
            amount_cents: event.amount_cents,
            counterparty_account_id: None,
            occurred_at: event.occurred_at,
        }]
    }

    /// A transfer: one row on the debited account, naming the credited one.
    fn transfer(event: &Event<TransferMade>) -> Vec<Transaction> {
        vec![Transaction {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            account_id: event.from_account_id,
            transaction_id: event.transfer_id,
            kind: KIND_TRANSFER.to_owned(),
            category: None,
            amount_cents: -event.amount_cents,
            counterparty_account_id: Some(event.to_account_id),
            occurred_at: event.occurred_at,
        }]
    }
}

/// Snapshot: the balance of every open account.
///
/// An event about an account without a row (e.g. a replay by range that starts after the
/// opening) creates the row with an empty name and currency and a zero opening balance.
///
/// One open account.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "finance.balances",
    domain = "finance",
    version = 1,
    kind = "snapshot",
    events = [AccountOpened, ExpenseRecorded, IncomeRecorded, TransferMade, AccountClosed],
    key = (model_version, account_id),
    table = readmodels::finance_balances,
)]
pub struct Balance {
    /// Model version.
    pub model_version: i32,
    /// The account.
    pub account_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// What the user calls it.
    pub name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Current balance in cents.
    pub balance_cents: i64,
    /// Expenses, incomes and transfers (both sides) applied to the account.
    pub transactions: i64,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl Balance {
    /// Creates the row (or names a row that transactions created first).
    fn opened(event: &Event<AccountOpened>, rows: &mut Rows<'_, Balance>) {
        rows.modify(
            event.account_id,
            || empty_balance(event.account_id, event.user_id, event.occurred_at),
            |row| {
                row.name.clone_from(&event.name);
                row.currency.clone_from(&event.currency);
                row.balance_cents += event.opening_balance_cents;
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// Debits the account.
    fn expense(event: &Event<ExpenseRecorded>, rows: &mut Rows<'_, Balance>) {
        book(
            rows,
            event.account_id,
            event.user_id,
            -event.amount_cents,
            event.occurred_at,
        );
    }

    /// Credits the account.
    fn income(event: &Event<IncomeRecorded>, rows: &mut Rows<'_, Balance>) {
        book(
            rows,
            event.account_id,
            event.user_id,
            event.amount_cents,
            event.occurred_at,
        );
    }

    /// Debits one account and credits the other: two rows change.
    fn transfer(event: &Event<TransferMade>, rows: &mut Rows<'_, Balance>) {
        book(
            rows,
            event.from_account_id,
            event.user_id,
            -event.amount_cents,
            event.occurred_at,
        );
        book(
            rows,
            event.to_account_id,
            event.user_id,
            event.amount_cents,
            event.occurred_at,
        );
    }

    /// Closing deletes the account's row.
    fn closed(event: &Event<AccountClosed>, rows: &mut Rows<'_, Balance>) {
        rows.delete(&event.account_id);
    }
}

/// Adds `cents` (signed) to an account's balance and counts the transaction.
fn book(
    rows: &mut Rows<'_, Balance>,
    account_id: Uuid,
    user_id: Uuid,
    cents: i64,
    at: DateTime<Utc>,
) {
    rows.modify(
        account_id,
        || empty_balance(account_id, user_id, at),
        |row| {
            row.balance_cents += cents;
            row.transactions += 1;
            row.updated_at = at;
        },
    );
}

/// The row of an account no event has touched yet.
fn empty_balance(account_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Balance {
    Balance {
        model_version: Balance::MODEL_VERSION,
        account_id,
        user_id,
        name: String::new(),
        currency: String::new(),
        balance_cents: 0,
        transactions: 0,
        updated_at: at,
    }
}

/// Aggregate: what a user spent per month (of `occurred_at`, UTC) and category.
///
/// One category's month.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "finance.monthly_spend",
    domain = "finance",
    version = 1,
    kind = "aggregate",
    events = [ExpenseRecorded],
    key = (model_version, user_id, month, category),
    table = readmodels::finance_monthly_spend,
)]
pub struct MonthlySpend {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// First day of the month.
    pub month: chrono::NaiveDate,
    /// Spending category.
    pub category: String,
    /// Sum of the expenses, in cents.
    pub spent_cents: i64,
    /// Number of expenses.
    pub expenses: i64,
}

#[handlers]
impl MonthlySpend {
    /// Adds the expense to its month and category.
    fn expense(event: &Event<ExpenseRecorded>, rows: &mut Rows<'_, MonthlySpend>) {
        let month = first_of_month(event.occurred_at.date_naive());
        rows.modify(
            (event.user_id, month, event.category.clone()),
            || MonthlySpend {
                model_version: Self::MODEL_VERSION,
                user_id: event.user_id,
                month,
                category: event.category.clone(),
                spent_cents: 0,
                expenses: 0,
            },
            |row| {
                row.spent_cents += event.amount_cents;
                row.expenses += 1;
            },
        );
    }
}

#[cfg(test)]
mod tests;
