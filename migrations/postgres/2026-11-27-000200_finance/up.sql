-- Read models of the finance domain (projections::finance). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- finance.balances (snapshot), key (model_version, account_id).
CREATE TABLE readmodels.finance_balances (
    model_version INTEGER     NOT NULL,
    account_id    UUID        NOT NULL,
    user_id       UUID        NOT NULL,
    name          TEXT        NOT NULL,
    currency      TEXT        NOT NULL,
    balance_cents BIGINT      NOT NULL,
    transactions  BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX finance_balances_key
    ON readmodels.finance_balances (model_version, account_id);
CREATE INDEX finance_balances_user ON readmodels.finance_balances (user_id, model_version);

-- finance.monthly_spend (aggregate), key (model_version, user_id, month, category).
CREATE TABLE readmodels.finance_monthly_spend (
    model_version INTEGER NOT NULL,
    user_id       UUID    NOT NULL,
    month         DATE    NOT NULL,
    category      TEXT    NOT NULL,
    spent_cents   BIGINT  NOT NULL,
    expenses      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX finance_monthly_spend_key
    ON readmodels.finance_monthly_spend (model_version, user_id, month, category);

-- finance.transactions (timeline), key (model_version, event_id).
CREATE TABLE readmodels.finance_transactions (
    model_version           INTEGER     NOT NULL,
    event_id                BIGINT      NOT NULL,
    user_id                 UUID        NOT NULL,
    account_id              UUID        NOT NULL,
    transaction_id          UUID        NOT NULL,
    kind                    TEXT        NOT NULL,
    category                TEXT,
    amount_cents            BIGINT      NOT NULL,
    counterparty_account_id UUID,
    occurred_at             TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX finance_transactions_key
    ON readmodels.finance_transactions (model_version, event_id);
CREATE INDEX finance_transactions_user
    ON readmodels.finance_transactions (user_id, model_version);
