"""The cell-key method's perturbation table: the published, fixed noise added to every public count.

The method is the one the Australian Bureau of Statistics uses in TableBuilder and the UK's Office for National
Statistics in its census tables (Fraser & Wooton 2005, "A proposed method for confidentialising tabular output
to protect against differencing"; Thompson, Broadfoot & Elazar 2013; the perturbation-table design of
Giessing 2016, "Computational issues in the design of transition probabilities and disclosure risk estimation
for additive noise", implemented by the statistical offices' ``ptable`` R package):

* every counted unit (a credential, a learner) gets a **record key** drawn at random, uniform in
  ``[0, KEY_RANGE)``, once, when it is first counted, and stored;
* a cell's **cell key** is the sum of the record keys of the units it counts, modulo :data:`KEY_RANGE`: the same
  set of units always has the same key, whichever table, filter or request it is reached by;
* the published value is ``count + perturbation(count, cell key)``, read in the table below: for each count, a
  distribution of perturbations in ``[-MAX_PERTURBATION, MAX_PERTURBATION]`` cut into :data:`KEY_RANGE` slots,
  and the cell key chooses the slot. The same cell therefore always gets the same noise: asking again, or
  averaging a thousand requests, gives nothing new.

Each distribution is the one of largest entropy among those that are unbiased (mean 0), have the variance
:data:`VARIANCE`, stay within the bound and never make a count negative (Giessing's maximum-entropy design: its
probabilities are ``exp(a·v + b·v²)`` normalised, ``a`` and ``b`` solved for the mean and the variance). A true
zero stays zero: a count of nobody reveals nobody. Counts of :data:`MAX_PERTURBATION` or more share one row.

Pure code: no database, no Flask.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Final

KEY_RANGE: Final = 1 << 16
MAX_PERTURBATION: Final = 2
VARIANCE: Final = 1.0


@dataclass(frozen=True)
class Row:
    """The perturbations a count can get, their probabilities, and the cell-key slots they take."""

    count: int
    perturbations: tuple[int, ...]
    probabilities: tuple[float, ...]
    upper_keys: tuple[int, ...]  # cell keys below upper_keys[i] (and not below the previous one) get perturbations[i]


def _moments(values: list[int], a: float, b: float) -> tuple[list[float], float, float, float, float, float]:
    weights = [math.exp(a * v + b * v * v) for v in values]
    total = sum(weights)
    p = [w / total for w in weights]
    m1 = sum(pi * v for pi, v in zip(p, values, strict=True))
    m2 = sum(pi * v * v for pi, v in zip(p, values, strict=True))
    m3 = sum(pi * v ** 3 for pi, v in zip(p, values, strict=True))
    m4 = sum(pi * v ** 4 for pi, v in zip(p, values, strict=True))
    return p, m1, m2, m3, m4, total


def _maximum_entropy(values: list[int], variance: float) -> list[float]:
    """Probabilities over ``values`` of largest entropy with mean 0 and the given variance (Newton's method on
    the two Lagrange multipliers; the Jacobian is the covariance of ``v`` and ``v²``)."""
    if not any(v < 0 for v in values) or not any(v > 0 for v in values):
        return [1.0 if v == 0 else 0.0 for v in values]
    a = b = 0.0
    for _ in range(200):
        p, m1, m2, m3, m4, _ = _moments(values, a, b)
        f1, f2 = m1, m2 - variance
        if abs(f1) < 1e-13 and abs(f2) < 1e-13:
            return p
        j11, j12, j22 = m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2
        determinant = j11 * j22 - j12 * j12
        if abs(determinant) < 1e-15:
            break
        da = (f1 * j22 - f2 * j12) / determinant
        db = (j11 * f2 - j12 * f1) / determinant
        step = 1.0
        while step > 1e-6:  # damped: never let a step blow the exponentials up
            trial = _moments(values, a - step * da, b - step * db)
            if abs(trial[1]) + abs(trial[2] - variance) < abs(f1) + abs(f2):
                break
            step /= 2
        a, b = a - step * da, b - step * db
    raise ArithmeticError(f"no unbiased distribution of variance {variance} on {values}")


@cache
def row(count: int) -> Row:
    """The row of the table for a true ``count`` (counts from :data:`MAX_PERTURBATION` on share one row)."""
    if count < 0:
        raise ValueError("a count is never negative")
    values = [v for v in range(-MAX_PERTURBATION, MAX_PERTURBATION + 1) if count + v >= 0]
    probabilities = _maximum_entropy(values, VARIANCE) if count else [1.0 if v == 0 else 0.0 for v in values]
    uppers, cumulative = [], 0.0
    for probability in probabilities:
        cumulative += probability
        uppers.append(min(KEY_RANGE, round(cumulative * KEY_RANGE)))
    uppers[-1] = KEY_RANGE
    return Row(count, tuple(values), tuple(probabilities), tuple(uppers))


def perturbation(count: int, cell_key: int) -> int:
    """The noise that a cell of ``count`` units and key ``cell_key`` gets (the cell key is taken modulo
    :data:`KEY_RANGE`)."""
    found = row(min(count, MAX_PERTURBATION))
    return found.perturbations[bisect_right(found.upper_keys, cell_key % KEY_RANGE)]


def perturbed(count: int, cell_key: int) -> int:
    """The published value of a cell: its count plus its perturbation, never negative, zero when it is zero."""
    return count + perturbation(count, cell_key)


def table(largest: int = MAX_PERTURBATION) -> list[Row]:
    """The rows of the table for counts 0 … ``largest`` (the published perturbation table)."""
    return [row(count) for count in range(largest + 1)]
