DROP TABLE IF EXISTS readmodels.finance_transactions;
DROP TABLE IF EXISTS readmodels.finance_monthly_spend;
DROP TABLE IF EXISTS readmodels.finance_balances;
