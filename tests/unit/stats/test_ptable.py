"""The perturbation table of the cell-key method: unbiased, of the stated variance, bounded, never negative,
zeros kept, and the cell key choosing the noise in proportion to its probability."""

from __future__ import annotations

from collections import Counter

import pytest

from badgehub.stats import ptable


@pytest.mark.parametrize("count", [1, 2, 3, 7, 250, 10**6])
def test_each_row_is_unbiased_bounded_and_of_the_stated_variance(count):
    row = ptable.row(min(count, ptable.MAX_PERTURBATION))
    assert sum(row.probabilities) == pytest.approx(1)
    assert sum(p * v for p, v in zip(row.probabilities, row.perturbations, strict=True)) == pytest.approx(0, abs=1e-9)
    assert sum(p * v * v for p, v in zip(row.probabilities, row.perturbations, strict=True)) == pytest.approx(
        ptable.VARIANCE)
    assert all(abs(v) <= ptable.MAX_PERTURBATION and count + v >= 0 for v in row.perturbations)


def test_the_cell_key_selects_each_noise_as_often_as_its_probability():
    for count in (1, 5):
        row = ptable.row(min(count, ptable.MAX_PERTURBATION))
        drawn = Counter(ptable.perturbation(count, key) for key in range(ptable.KEY_RANGE))
        for value, probability in zip(row.perturbations, row.probabilities, strict=True):
            assert drawn[value] / ptable.KEY_RANGE == pytest.approx(probability, abs=1 / ptable.KEY_RANGE)


def test_a_zero_stays_zero_and_nothing_becomes_negative():
    assert {ptable.perturbed(0, key) for key in range(0, ptable.KEY_RANGE, 97)} == {0}
    assert min(ptable.perturbed(1, key) for key in range(0, ptable.KEY_RANGE, 13)) == 0
    assert min(ptable.perturbed(2, key) for key in range(0, ptable.KEY_RANGE, 13)) == 0


def test_the_same_cell_key_always_gives_the_same_noise_and_keys_wrap_around():
    assert ptable.perturbed(40, 12345) == ptable.perturbed(40, 12345 + 3 * ptable.KEY_RANGE)
    assert len({ptable.perturbed(40, key) for key in range(0, ptable.KEY_RANGE, 7)}) == 2 * ptable.MAX_PERTURBATION + 1


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        ptable.row(-1)
