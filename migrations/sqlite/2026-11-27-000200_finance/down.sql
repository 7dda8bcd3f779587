-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.finance_transactions;
DROP TABLE IF EXISTS readmodels.finance_monthly_spend;
DROP TABLE IF EXISTS readmodels.finance_balances;
