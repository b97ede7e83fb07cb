import pytest

from mmproseco.pipeline.convergence import plateau_reached


def test_flat_tail_within_the_floor_converges():
    # best 0.30, mean of the last three (0.295 + 0.29 + 0.30) / 3 = 0.295: 0.005 below.
    assert plateau_reached([0.1, 0.2, 0.3, 0.295, 0.29, 0.30])


def test_rising_curve_has_not_converged():
    # best 0.40 is the last; the last three average 0.35, 0.05 below it.
    assert not plateau_reached([0.1, 0.2, 0.3, 0.35, 0.40])


def test_seed_std_widens_the_tolerance():
    values = [0.1, 0.3, 0.26, 0.27, 0.28]  # tail mean 0.27, 0.03 below the best
    assert not plateau_reached(values)
    assert not plateau_reached(values, seed_std=0.029)
    assert plateau_reached(values, seed_std=0.031)


@pytest.mark.parametrize('values', [[], [0.3], [0.3, 0.3]])
def test_too_few_validations_never_converge(values):
    assert not plateau_reached(values)
