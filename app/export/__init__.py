"""The CSV export: how many may run (``slots``), how a row is written (``csv_format``),
where the rows come from (``rows``), and the response that sends them (``response``)."""
