"""Benchmarks (not tests), run through scripts/bench, scripts/soak and scripts/bench-confirm."""
