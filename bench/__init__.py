"""Benchmarks: scripts that time the code and print figures and ratios (never asserts on time)."""
