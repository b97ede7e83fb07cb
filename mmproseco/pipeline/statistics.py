"""The statistics of the study's report: a cell's spread over seeds, and paired comparisons.

Two methods run under the same seed share that seed's backbone, pretraining draw and split
(docs/pipeline.md), so they are compared on the differences of their paired runs: the
interval is a one-sample Student-t interval on those differences, with n - 1 degrees of
freedom (t = 4.303 at n = 3 for 95 %), and :func:`verdict` words it (issue 14): one method
"beats" or "trails" another only when the interval excludes 0. Pure functions on lists of
floats; scipy gives the t quantile.
"""
import math

from scipy import stats

LEVEL = 0.95  # two-sided confidence level of every interval


def summarize(values):
    """Mean, sample std (ddof=1) and count of ``values``.

    Args:
        values (Sequence[float]): one value per seed, e.g. the test mAP of a cell.

    Returns:
        dict: ``mean``, ``std`` and ``n``; ``std`` is None for a single value (no spread
        can be measured) and both are None for none.
    """
    values = [float(v) for v in values]
    n = len(values)
    mean = math.fsum(values) / n if n else None
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return dict(mean=mean, std=std, n=n)


def t_quantile(n, level=LEVEL):
    """The two-sided Student-t quantile of an interval on ``n`` values (n - 1 dof)."""
    if n < 2:
        raise ValueError(f'a Student-t interval needs at least 2 values, got n = {n}')
    return float(stats.t.ppf((1 + level) / 2, n - 1))


def mean_interval(values, level=LEVEL):
    """Student-t interval of the mean of ``values``: ``mean -/+ t * std / sqrt(n)``.

    Returns:
        dict: ``mean``, ``ci_low``, ``ci_high``, ``n`` and ``t``.

    Raises:
        ValueError: with fewer than 2 values, which have no spread to build it from.
    """
    summary = summarize(values)
    n = summary['n']
    t = t_quantile(n, level)
    half_width = t * summary['std'] / math.sqrt(n)
    return dict(mean=summary['mean'], ci_low=summary['mean'] - half_width,
                ci_high=summary['mean'] + half_width, n=n, t=t)


def paired_differences(values, reference):
    """Per-seed differences ``values[s] - reference[s]`` over the seeds both have.

    Args:
        values (Mapping[int, float]): seed -> value of the method.
        reference (Mapping[int, float]): seed -> value of the method it is compared with.

    Returns:
        tuple[list[int], list[float]]: the shared seeds, sorted, and their differences.
    """
    seeds = sorted(set(values) & set(reference))
    return seeds, [float(values[s]) - float(reference[s]) for s in seeds]


def paired_comparison(values, reference, level=LEVEL):
    """Mean paired difference of two methods and its Student-t interval.

    Args:
        values (Mapping[int, float]): seed -> value of the method.
        reference (Mapping[int, float]): seed -> value of the method it is compared with.
        level (float): two-sided confidence level.

    Returns:
        dict: ``seeds`` (shared, sorted), ``differences`` (one per seed), ``diff_mean``,
        ``ci_low``, ``ci_high``, ``n`` and ``t`` (the quantile used).

    Raises:
        ValueError: when the methods share fewer than 2 seeds.
    """
    seeds, differences = paired_differences(values, reference)
    if len(seeds) < 2:
        raise ValueError(f'a paired interval needs at least 2 shared seeds, got n = '
                         f'{len(seeds)} (seeds {sorted(values)} against {sorted(reference)})')
    interval = mean_interval(differences, level)
    return dict(seeds=seeds, differences=differences, diff_mean=interval['mean'],
                ci_low=interval['ci_low'], ci_high=interval['ci_high'], n=interval['n'],
                t=interval['t'])


def verdict(ci_low, ci_high):
    """The wording rule of a paired interval: 'beats' or 'trails' only when it excludes 0,
    else 'no detectable difference'; 'no interval' for none (one shared seed)."""
    if ci_low is None:
        return 'no interval'
    if ci_low > 0:
        return 'beats'
    if ci_high < 0:
        return 'trails'
    return 'no detectable difference'
