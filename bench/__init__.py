"""Speed benchmarks of the engines (pytest-benchmark) and the compute-floor report of a reproduction."""
