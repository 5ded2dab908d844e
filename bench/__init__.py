"""Benchmarks: scripts that time the code and print figures and ratios (never asserts on time)."""

from __future__ import annotations


def figure(
    name: str,
    ratio: float,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    detail: str = "",
) -> bool:
    """Print one ratio beside its target (a ceiling or a floor); True when the target is met."""
    if (at_most is None) == (at_least is None):
        raise ValueError("give one of at_most and at_least")
    if at_most is not None:
        met, target = ratio <= at_most, f"<= {at_most:g}x"
    else:
        assert at_least is not None
        met, target = ratio >= at_least, f">= {at_least:g}x"
    tail = f"  ({detail})" if detail else ""
    print(f"  {name}: {ratio:.2f}x   target {target}   {'met' if met else 'MISSED'}{tail}")
    return met
