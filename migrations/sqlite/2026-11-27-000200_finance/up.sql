-- Read models of the finance domain (projections::finance), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- finance.balances (snapshot), key (model_version, account_id).
CREATE TABLE readmodels.finance_balances (
    model_version INTEGER NOT NULL,
    account_id    TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    currency      TEXT    NOT NULL,
    balance_cents INTEGER NOT NULL,
    transactions  INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.finance_balances_key
    ON finance_balances (model_version, account_id);
CREATE INDEX readmodels.finance_balances_user ON finance_balances (user_id, model_version);

-- finance.monthly_spend (aggregate), key (model_version, user_id, month, category).
CREATE TABLE readmodels.finance_monthly_spend (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    spent_cents   INTEGER NOT NULL,
    expenses      INTEGER NOT NULL
);
CREATE UNIQUE INDEX readmodels.finance_monthly_spend_key
    ON finance_monthly_spend (model_version, user_id, month, category);

-- finance.transactions (timeline), key (model_version, event_id).
CREATE TABLE readmodels.finance_transactions (
    model_version           INTEGER NOT NULL,
    event_id                INTEGER NOT NULL,
    user_id                 TEXT    NOT NULL,
    account_id              TEXT    NOT NULL,
    transaction_id          TEXT    NOT NULL,
    kind                    TEXT    NOT NULL,
    category                TEXT,
    amount_cents            INTEGER NOT NULL,
    counterparty_account_id TEXT,
    occurred_at             TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.finance_transactions_key
    ON finance_transactions (model_version, event_id);
CREATE INDEX readmodels.finance_transactions_user
    ON finance_transactions (user_id, model_version);
