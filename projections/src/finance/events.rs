//! The events of the finance domain: the payloads stored in `event_record.payload`.
//!
//! Every account is its own stream (`stream_id` = `account_id`); a transfer is recorded in
//! the stream of the account the money leaves. Amounts are integer minor units (cents) of
//! the account's currency, never floats, and always positive: the event type says which
//! way the money moves.

use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::upcast;

/// `finance.account_opened`: the user added an account (checking, savings, card...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "finance.account_opened")]
pub struct AccountOpened {
    /// The new account (also the stream id).
    pub account_id: Uuid,
    /// What the user calls it.
    pub name: String,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// The balance when the account was added, in cents (may be negative for a card).
    pub opening_balance_cents: i64,
}

/// `finance.expense_recorded`: money left the account for something bought.
///
/// # Schema versions
///
/// * **2** (current): `{"transaction_id", "account_id", "category", "amount_cents",
///   "merchant"}` (`merchant` optional).
/// * **1**: the amount was called `amount` (already in cents) and there was no merchant:
///   `{"transaction_id", "account_id", "category", "amount"}`. Version 1 payloads are
///   upcast by [`upcast_expense_recorded`] (`amount` renamed to `amount_cents`; the
///   missing `merchant` reads as `None`), so handlers only ever see version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "finance.expense_recorded", schema_version = 2, upcast = upcast_expense_recorded)]
pub struct ExpenseRecorded {
    /// The transaction.
    pub transaction_id: Uuid,
    /// The account charged.
    pub account_id: Uuid,
    /// Spending category, e.g. `groceries`.
    pub category: String,
    /// How much, in cents (positive).
    pub amount_cents: i64,
    /// Where, when known.
    #[serde(default)]
    pub merchant: Option<String>,
}

/// Upcasts a `finance.expense_recorded` payload of schema version `from_version` to
/// version 2: version 1 called the amount `amount`.
pub fn upcast_expense_recorded(
    from_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    const TYPE: &str = "finance.expense_recorded";
    match from_version {
        1 => {
            upcast::rename(
                TYPE,
                upcast::object(TYPE, &mut payload)?,
                "amount",
                "amount_cents",
            )?;
            Ok(payload)
        }
        2 => Ok(payload),
        other => Err(upcast::unknown_version(TYPE, other)),
    }
}

/// `finance.income_recorded`: money came into the account (salary, refund...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "finance.income_recorded")]
pub struct IncomeRecorded {
    /// The transaction.
    pub transaction_id: Uuid,
    /// The account credited.
    pub account_id: Uuid,
    /// Income category, e.g. `salary`.
    pub category: String,
    /// How much, in cents (positive).
    pub amount_cents: i64,
}

/// `finance.transfer_made`: money moved between two of the user's accounts. Recorded in
/// the stream of `from_account_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "finance.transfer_made")]
pub struct TransferMade {
    /// The transfer.
    pub transfer_id: Uuid,
    /// The account debited.
    pub from_account_id: Uuid,
    /// The account credited.
    pub to_account_id: Uuid,
    /// How much, in cents (positive).
    pub amount_cents: i64,
}

/// `finance.account_closed`: the user removed the account. No event of its stream
/// follows, and no transfer names it afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "finance.account_closed")]
pub struct AccountClosed {
    /// The account.
    pub account_id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_expense_is_upcast_by_renaming_amount() {
        let v1 = json!({
            "transaction_id": "00000000-0000-4000-8000-000000000001",
            "account_id": "00000000-0000-4000-8000-000000000002",
            "category": "groceries",
            "amount": 1234
        });
        let event = ExpenseRecorded::decode(1, &v1.to_string()).expect("v1 decodes");
        assert_eq!(event.amount_cents, 1234);
        assert_eq!(event.merchant, None);
        assert!(
            ExpenseRecorded::decode(2, &v1.to_string()).is_err(),
            "v2 has no `amount`"
        );
        let both = json!({"amount": 1, "amount_cents": 2});
        assert!(upcast_expense_recorded(1, both).is_err());
        assert!(upcast_expense_recorded(3, json!({})).is_err());
        assert!(upcast_expense_recorded(1, json!(7)).is_err());
        assert_eq!(ExpenseRecorded::SCHEMA_VERSION, 2);
    }
}
