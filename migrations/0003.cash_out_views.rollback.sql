drop view if exists agent_cash_out_top_customers;
drop view if exists agent_cash_out_summary;
drop view if exists cash_out_summary_periods;
drop view if exists cash_out_activity;
