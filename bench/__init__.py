"""``cashout-feed bench``: dataset, read, stream and write benchmarks with a written report."""
