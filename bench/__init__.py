"""Benchmarks that print figures: `make bench` (python -m bench.run). Never timed assertions."""
