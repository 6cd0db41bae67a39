"""95 % intervals for a model's scores, from its confusion matrix alone: numpy, no Django.

Accuracy gets a Wilson score interval (correct predictions out of n). F_avg and macro-F1
get a percentile bootstrap: resampling the n scored sentences with replacement is drawing
n (gold, predicted) pairs from the confusion matrix's cells in proportion to their counts,
so each replicate is one multinomial draw of the nine cells, and the interval is the 2.5th
to 97.5th percentile of the replicates' scores (REPLICATES draws, a fixed SEED, so a page
shows the same interval every time).

Because the inputs are the stored confusion matrices, every version has intervals, however
old. Both resample sentences one by one: for cross-validated scores, whose folds are
grouped by article, the interval is then somewhat too narrow (sentences of one article are
not independent); the page says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

REPLICATES = 2000
SEED = 0
LEVEL = 0.95
Z = 1.959963984540054  # the normal quantile of 97.5 %

#: Said beside the intervals, on the page and in the README.
HOW = (
    f"{LEVEL:.0%} intervals: Wilson for accuracy; for F_avg and macro-F1 a percentile bootstrap "
    f"over the scored sentences ({REPLICATES} resamples, seed {SEED})"
)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Intervals:
    n: int
    accuracy: Interval
    f_avg: Interval
    macro_f1: Interval

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            **{name: [part.low, part.high] for name, part in self._parts().items()},
        }

    def _parts(self) -> dict[str, Interval]:
        return {"accuracy": self.accuracy, "f_avg": self.f_avg, "macro_f1": self.macro_f1}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Intervals:
        def part(name: str) -> Interval:
            low, high = stored[name]
            return Interval(float(low), float(high))

        return cls(int(stored["n"]), part("accuracy"), part("f_avg"), part("macro_f1"))


def wilson(correct: int, n: int, z: float = Z) -> Interval:
    """The Wilson score interval of a proportion: sound at small n and near 0 or 1."""
    if n <= 0:
        return Interval(0.0, 1.0)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def _f1s(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate: F_avg (mean F1 of the first two classes, pro and contra) and the
    macro-F1 over the classes present in that replicate's gold labels."""
    import numpy as np

    matrices = np.asarray(cells, dtype=float).reshape(-1, k, k)
    true_positive = np.einsum("rii->ri", matrices)
    gold = matrices.sum(axis=2)  # rows: gold label
    predicted = matrices.sum(axis=1)
    denominator = gold + predicted
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    f_avg = f1[:, :2].mean(axis=1)
    present = gold > 0
    macro = (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    return f_avg, macro


def intervals(confusion: Sequence[Sequence[int]]) -> Intervals | None:
    """Intervals of a score with this confusion matrix (rows gold, columns predicted, in
    the classifier's class order: pro, contra, neutral); None without a matrix."""
    import numpy as np

    matrix = np.asarray(confusion, dtype=np.int64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2 or matrix.sum() <= 0:
        return None
    k, n = matrix.shape[0], int(matrix.sum())
    rng = np.random.default_rng(SEED)
    draws = rng.multinomial(n, matrix.ravel() / n, size=REPLICATES)
    f_avg, macro = _f1s(draws, k)
    tail = (1 - LEVEL) / 2 * 100

    def percentile(values: np.ndarray) -> Interval:
        low, high = np.percentile(values, [tail, 100 - tail])
        return Interval(float(low), float(high))

    return Intervals(
        n=n,
        accuracy=wilson(int(np.trace(matrix)), n),
        f_avg=percentile(f_avg),
        macro_f1=percentile(macro),
    )


def with_intervals(metrics: dict[str, Any]) -> dict[str, Any]:
    """A version's stored metrics with the intervals of both its scores beside them, worked
    out once when it is trained so that the models page only reads them."""
    figures = dict(metrics)
    cv = intervals(figures.get("confusion") or [])
    if cv is not None:
        figures["intervals"] = cv.as_dict()
    held = figures.get("evaluation_slice")
    if isinstance(held, dict):
        sliced = intervals(held.get("confusion") or [])
        if sliced is not None:
            figures["evaluation_slice"] = {**held, "intervals": sliced.as_dict()}
    return figures


def stored_or_computed(metrics: dict[str, Any]) -> Intervals | None:
    """The intervals stored with these metrics, or (a version trained before they were
    stored) computed from its confusion matrix now."""
    stored = metrics.get("intervals")
    if isinstance(stored, dict):
        return Intervals.from_dict(stored)
    confusion = metrics.get("confusion")
    return intervals(confusion) if isinstance(confusion, list) and confusion else None
