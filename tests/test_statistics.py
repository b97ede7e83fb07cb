"""The report's statistics against scipy.stats and by hand."""
import statistics as stdlib_statistics

import pytest
from scipy import stats

from mmproseco.pipeline.statistics import (mean_interval, paired_comparison, paired_differences,
                                           summarize, t_quantile)

METHOD = {0: 0.271, 1: 0.254, 2: 0.290, 3: 0.262, 4: 0.281}
REFERENCE = {0: 0.240, 1: 0.251, 2: 0.262, 3: 0.250, 4: 0.259}


def test_summary_is_mean_sample_std_and_count():
    values = [0.03, 0.04, 0.08]
    summary = summarize(values)
    assert summary['n'] == 3
    assert summary['mean'] == pytest.approx(0.05, abs=1e-15)
    assert summary['std'] == pytest.approx(stdlib_statistics.stdev(values), abs=1e-15)


def test_single_value_has_no_std():
    assert summarize([0.3]) == dict(mean=0.3, std=None, n=1)


def test_t_quantile_at_three_seeds_is_4_303():
    assert t_quantile(3) == pytest.approx(4.303, abs=5e-4)  # table value, 2 dof, 97.5 %
    assert t_quantile(5) == pytest.approx(2.776, abs=5e-4)


def test_paired_comparison_matches_scipy_ttest_rel():
    comparison = paired_comparison(METHOD, REFERENCE)
    seeds = sorted(METHOD)
    result = stats.ttest_rel([METHOD[s] for s in seeds], [REFERENCE[s] for s in seeds])
    interval = result.confidence_interval(0.95)
    assert comparison['n'] == 5
    assert comparison['seeds'] == seeds
    assert comparison['differences'] == pytest.approx([METHOD[s] - REFERENCE[s] for s in seeds])
    assert comparison['diff_mean'] == pytest.approx(0.0192, abs=1e-12)
    assert comparison['ci_low'] == pytest.approx(interval.low, rel=1e-12)
    assert comparison['ci_high'] == pytest.approx(interval.high, rel=1e-12)
    assert comparison['t'] == pytest.approx(stats.t.ppf(0.975, 4), rel=1e-12)


def test_paired_interval_at_n3_by_hand():
    # differences 0.01, 0.02, 0.06: mean 0.03, std sqrt(7) / 100, half width
    # 4.303 * 0.026458 / sqrt(3) = 0.06573
    comparison = paired_comparison({0: 0.21, 1: 0.22, 2: 0.26}, {0: 0.2, 1: 0.2, 2: 0.2})
    assert comparison['t'] == pytest.approx(4.303, abs=5e-4)
    assert comparison['diff_mean'] == pytest.approx(0.03)
    assert comparison['ci_low'] == pytest.approx(0.03 - 0.06573, abs=1e-4)
    assert comparison['ci_high'] == pytest.approx(0.03 + 0.06573, abs=1e-4)


def test_only_shared_seeds_are_paired():
    seeds, differences = paired_differences({0: 0.5, 1: 0.6, 3: 0.9}, {1: 0.1, 3: 0.2, 4: 0.0})
    assert seeds == [1, 3]
    assert differences == pytest.approx([0.5, 0.7])


def test_mean_interval_matches_scipy_t_interval():
    values = list(METHOD.values())
    interval = mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=stdlib_statistics.mean(values),
                                 scale=stats.sem(values))
    assert (interval['ci_low'], interval['ci_high']) == pytest.approx((low, high), rel=1e-12)


def test_fewer_than_two_shared_seeds_is_refused():
    with pytest.raises(ValueError, match='at least 2 shared seeds, got n = 1'):
        paired_comparison({0: 0.3, 1: 0.4}, {1: 0.2, 2: 0.1})
    with pytest.raises(ValueError, match='at least 2 values'):
        mean_interval([0.3])
