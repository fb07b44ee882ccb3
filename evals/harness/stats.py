"""The one percentile every eval report uses, so p95s of different reports compare."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """Return the q-th percentile (0-100) by linear interpolation; None when there are no values.

    The definition of numpy's default and `statistics.quantiles(method="inclusive")`:
    the median of an even count is the mean of the middle two, p0 the minimum and p100
    the maximum. Missing values (None) are left out.

    Raises:
        ValueError: for q outside 0-100.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values: Iterable[float | None]) -> float | None:
    """Return the 50th percentile (see `percentile`)."""
    return percentile(values, 50)
