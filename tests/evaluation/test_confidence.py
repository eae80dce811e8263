import numpy as np

from imgclf.evaluation.confidence import accuracy_interval, bootstrap_interval, difference_interval


def test_interval_holds_the_accuracy_and_is_seeded():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    pred = y.copy()
    pred[:40] = 1 - pred[:40]  # accuracy 0.9
    low, high = accuracy_interval(y, pred, level=0.95, resamples=500, seed=3)
    assert low < 0.9 < high
    assert 0.8 < low and high < 0.95
    assert (low, high) == accuracy_interval(y, pred, level=0.95, resamples=500, seed=3)


def test_interval_narrows_with_more_examples():
    small = np.r_[np.ones(90), np.zeros(10)]
    large = np.tile(small, 20)
    w_small = np.subtract(*bootstrap_interval(small, level=0.95, resamples=500, seed=0)[::-1])
    w_large = np.subtract(*bootstrap_interval(large, level=0.95, resamples=500, seed=0)[::-1])
    assert w_large < w_small / 3


def test_constant_values_give_a_point():
    assert bootstrap_interval(np.ones(10), level=0.95, resamples=200, seed=0) == (1.0, 1.0)


def test_paired_difference_holds_zero_for_a_swap_and_not_for_a_clear_gain():
    before = np.r_[np.ones(80), np.zeros(20)]
    swapped = before.copy()
    swapped[[0, 90]] = swapped[[90, 0]]  # one right becomes wrong, one wrong becomes right
    low, high = difference_interval(before, swapped, level=0.95, resamples=500, seed=0)
    assert low < 0 < high
    better = np.ones(100)
    low, high = difference_interval(before, better, level=0.95, resamples=500, seed=0)
    assert low > 0
