"""The one percentile every eval report uses."""

import statistics

import pytest

from evals.harness.stats import median, percentile


def test_linear_interpolation_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10 and percentile(values, 100) == 40
    assert percentile(values, 50) == 25  # the mean of the middle two
    assert percentile(values, 95) == pytest.approx(38.5)
    assert median([3.0, 1.0, 2.0]) == 2


def test_agrees_with_the_standard_library() -> None:
    values = [float(v) for v in (7, 1, 9, 4, 4, 12, 3, 8, 5, 6, 2, 11)]
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    assert percentile(values, 95) == pytest.approx(cuts[-1])
    assert percentile(values, 5) == pytest.approx(cuts[0])


def test_missing_values_are_left_out_and_nothing_gives_none() -> None:
    assert percentile([None, 5.0, None], 50) == 5
    assert percentile([], 50) is None and percentile([None], 95) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_every_report_uses_it() -> None:
    import evals.benchmarks.overhead
    import evals.harness.tables
    import evals.workloads.load

    assert evals.workloads.load.percentile is percentile
    assert evals.benchmarks.overhead.percentile is percentile
    assert evals.harness.tables.percentile is percentile
