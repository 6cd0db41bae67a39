"""Inter-annotator agreement over non-skipped labels, computed from label counts.

Every figure is computed from aggregated counts, the shape a GROUP BY returns: a table of
per-sentence label counts (each distinct row with the number of sentences that have it)
and, per pair of annotators, a contingency table of their labels on shared sentences. So
a million labels cost a few dozen rows here (annotate/agreement_data.py reads them).

Krippendorff's alpha (nominal, from the coincidence of label counts; the `krippendorff`
package is GPL and Stance is Apache-2.0), Fleiss' kappa and Cohen's kappa, in numpy. Tests
check each against published worked examples and against statsmodels and scikit-learn on
random data. Each figure comes with the number of sentences it rests on.

numpy is imported at the top: only code that computes figures imports this module (the
background summary, the agreement command, the API's per-article figures). What a page
shows, it reads through annotate.agreement_figures, which needs no numpy.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations

import numpy as np

from annotate.agreement_figures import (
    AnnotatorLeftOut,
    Contingency,
    Figures,
    LabelAlpha,
    PairKappa,
    Reliability,
    Vote,
)
from annotate.models import STANCE_LABELS

#: Bootstrap resamples of the sentences behind each alpha interval, and their fixed seed:
#: the same labels always give the same interval.
REPLICATES = 1000
BOOTSTRAP_SEED = 14
BOOTSTRAP_METHOD = (
    "percentile bootstrap over sentences: {replicates} resamples (seed {seed}) of the sentences "
    "with two or more labels, each sentence keeping all its labels; 2.5th and 97.5th percentiles"
)
#: Alpha with each annotator left out is computed for at most this many annotators (those
#: with the most labels): each costs a pass over a few dozen count patterns, not the labels.
LEFT_OUT_LIMIT = 200


def _categories(labels: Iterable[str]) -> list[str]:
    """The stance labels in their usual order, or any other categories sorted (for tests
    against published examples)."""
    present = set(labels)
    return [label for label in STANCE_LABELS if label in present] + sorted(present - set(STANCE_LABELS))


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _weighted(table: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    table = np.asarray(table, dtype=float)
    if table.ndim != 2:
        table = table.reshape(len(table), -1) if table.size else np.zeros((len(table), 1))
    weights = np.ones(len(table)) if weights is None else np.asarray(weights, dtype=float)
    return table, weights


def alpha_from_counts(table: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """Nominal Krippendorff's alpha from a units x categories table of label counts, each
    row standing for `weights` units (one each by default).

    Krippendorff (2011), "Computing Krippendorff's alpha-reliability": a unit with m
    values adds n_c * n_k / (m - 1) to the coincidence of c and k, so the observed
    disagreement is the sum over units of (m^2 - sum_c n_c^2) / (m - 1), the expected one
    (n^2 - sum_c n_c^2) / (n - 1) over the pairable values, and alpha = 1 - observed /
    expected. Units with fewer than two values are not pairable and count for nothing.
    None when alpha is undefined (fewer than two pairable values).
    """
    table, weights = _weighted(table, weights)
    values = table.sum(axis=1)
    pairable = values >= 2
    table, values, weights = table[pairable], values[pairable], weights[pairable]
    total = (weights * values).sum()
    if total < 2:
        return None
    observed = (weights * (values**2 - (table**2).sum(axis=1)) / (values - 1)).sum()
    totals = (weights[:, None] * table).sum(axis=0)
    expected = (total**2 - (totals**2).sum()) / (total - 1)
    if expected == 0:
        return 1.0  # every value the same: perfect, though alpha's formula is 0/0
    return float(1 - observed / expected)


def _pairable(table: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct count rows of units with two or more values, sorted, with how many
    units have each: a seeded resample then depends only on the counts, not on the order
    a GROUP BY returned them in nor on whether equal rows came merged."""
    keep = (table.sum(axis=1) >= 2) & (weights > 0)
    table, weights = table[keep], weights[keep]
    if not len(table):
        return table, weights
    rows, inverse = np.unique(table, axis=0, return_inverse=True)
    return rows, np.bincount(inverse.ravel(), weights=weights, minlength=len(rows))


def alpha_interval(
    table: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    replicates: int = REPLICATES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> tuple[float | None, float | None, int]:
    """A percentile bootstrap interval of nominal alpha, resampling units (sentences).

    A resample draws as many units as there are pairable ones, with replacement, each
    keeping all its values: the unit bootstrap Zapf et al. (2016, BMC Medical Research
    Methodology 16:93) recommend for alpha. Units with the same counts are
    interchangeable, so one resample is a multinomial draw of how many units of each count
    pattern it holds (a few dozen patterns at a million labels), and alpha of every
    resample is computed at once from those weights. Returns (low, high, resamples), or
    (None, None, 0) when alpha is undefined.
    """
    table, weights = _weighted(table, weights)
    table, weights = _pairable(table, weights)
    units = round(float(weights.sum()))
    if units < 1 or replicates < 1 or alpha_from_counts(table, weights) is None:
        return None, None, 0
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(units, weights / weights.sum(), size=replicates).astype(float)
    values = table.sum(axis=1)
    disagreeing = (values**2 - (table**2).sum(axis=1)) / (values - 1)
    observed = drawn @ disagreeing
    totals = drawn @ table
    total = drawn @ values
    expected = (total**2 - (totals**2).sum(axis=1)) / (total - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alphas = np.where(expected == 0, 1.0, 1 - observed / expected)
    tail = (1 - level) / 2
    low, high = np.quantile(alphas, [tail, 1 - tail])
    return float(low), float(high), replicates


def label_alphas(table: np.ndarray, weights: np.ndarray, *, categories: list[str]) -> list[LabelAlpha]:
    """Alpha of each category against the rest (the table collapsed to two columns): how
    reliably annotators tell that one label apart. None for a label nobody gave."""
    table, weights = _weighted(table, weights)
    table, weights = _pairable(table, weights)
    values = table.sum(axis=1)
    found = []
    for column, label in enumerate(categories):
        own = table[:, column] if len(table) else np.zeros(0)
        given = int((weights * own).sum())
        alpha = alpha_from_counts(np.stack([own, values - own], axis=1), weights) if given else None
        found.append(LabelAlpha(label, alpha, int(weights.sum()), given))
    return found


#: Per annotator: (a sentence's label counts, the column of this annotator's label) -> how
#: many sentences. Enough to take the annotator's labels out of the count table.
TakenOut = dict[int, Counter[tuple[tuple[int, ...], int]]]


def left_out_alphas(
    units: Mapping[tuple[int, ...], int], taken_out: TakenOut, *, limit: int = LEFT_OUT_LIMIT
) -> list[AnnotatorLeftOut]:
    """Alpha with each annotator's labels taken out, from the sentences' count patterns
    (`units`: counts -> sentences) and each annotator's labels by pattern: a sentence with
    counts c where the annotator gave label l has counts c - e_l without them. For the
    `limit` annotators with the most labels, in annotator order."""
    most = sorted(taken_out, key=lambda a: (-sum(taken_out[a].values()), a))[:limit]
    found = []
    for annotator in sorted(most):
        patterns = Counter(units)
        for (counts, column), n in taken_out[annotator].items():
            patterns[counts] -= n
            less = list(counts)
            less[column] -= 1
            patterns[tuple(less)] += n
        rows = [(c, n) for c, n in patterns.items() if n > 0 and sum(c) >= 2]
        width = len(next(iter(units), ()))
        table = np.array([c for c, _ in rows], dtype=float).reshape(len(rows), width)
        weights = np.array([n for _, n in rows], dtype=float)
        alpha = alpha_from_counts(table, weights) if rows else None
        found.append(
            AnnotatorLeftOut(
                annotator=annotator,
                alpha=alpha,
                sentences=int(weights.sum()),
                labels=int((weights * table.sum(axis=1)).sum()) if rows else 0,
                own_labels=sum(taken_out[annotator].values()),
            )
        )
    return found


def reliability_from_counts(
    units: Mapping[tuple[int, ...], int],
    taken_out: TakenOut,
    *,
    categories: list[str],
    limit: int = LEFT_OUT_LIMIT,
) -> Reliability:
    """Alpha per label and with each annotator left out, with how the intervals are drawn."""
    rows = [(c, n) for c, n in units.items() if n > 0]
    table = np.array([c for c, _ in rows], dtype=float).reshape(len(rows), len(categories))
    weights = np.array([n for _, n in rows], dtype=float)
    return Reliability(
        per_label=label_alphas(table, weights, categories=categories),
        left_out=left_out_alphas(units, taken_out, limit=limit),
        annotators=len(taken_out),
        left_out_limit=limit,
        replicates=REPLICATES,
        seed=BOOTSTRAP_SEED,
        level=0.95,
        method=BOOTSTRAP_METHOD.format(replicates=REPLICATES, seed=BOOTSTRAP_SEED),
    )


def fleiss_from_counts(
    table: np.ndarray, weights: np.ndarray | None = None, *, raters: int
) -> tuple[float | None, int]:
    """Fleiss' kappa (Fleiss 1971) over the units with exactly `raters` labels, and how
    many units that is. The formula statsmodels' fleiss_kappa(method="fleiss") uses."""
    table, weights = _weighted(table, weights)
    full = table.sum(axis=1) == raters
    table, weights = table[full], weights[full]
    units = int(weights.sum())
    if units < 2 or raters < 2:
        return None, units
    shares = (weights[:, None] * table).sum(axis=0) / (weights.sum() * raters)
    per_unit = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1.0))
    observed = (weights * per_unit).sum() / weights.sum()
    chance = (shares**2).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return _clean(np.float64(observed - chance) / np.float64(1 - chance)), units


def percent_from_counts(table: np.ndarray, weights: np.ndarray | None = None) -> tuple[float | None, int]:
    """Mean share of agreeing pairs per unit with two or more labels, and how many units."""
    table, weights = _weighted(table, weights)
    values = table.sum(axis=1)
    pairable = values >= 2
    table, values, weights = table[pairable], values[pairable], weights[pairable]
    units = weights.sum()
    if units == 0:
        return None, 0
    shares = (table * (table - 1)).sum(axis=1) / (values * (values - 1))
    return float((weights * shares).sum() / units), int(units)


def kappa_from_contingency(counts: Mapping[tuple[str, str], int]) -> float | None:
    """Cohen's kappa of two annotators from how often each pair of their labels occurred
    on the sentences both labelled: 1 - observed / expected disagreement, as scikit-learn's
    cohen_kappa_score computes it. 1.0 when they always agree; None on one shared sentence
    or when it is undefined."""
    shared = sum(counts.values())
    if all(left == right for (left, right), n in counts.items() if n):
        return 1.0
    if shared < 2:
        return None
    labels = sorted({label for pair in counts for label in pair})
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)))
    for (left, right), n in counts.items():
        matrix[index[left], index[right]] += n
    expected = np.outer(matrix.sum(axis=1), matrix.sum(axis=0)) / shared
    off = 1 - np.eye(len(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _clean(1 - (off * matrix).sum() / (off * expected).sum())


def pairs_from_contingency(contingency: Contingency) -> list[PairKappa]:
    """Cohen's kappa of every pair of annotators with a shared sentence, in annotator order."""
    return [
        PairKappa(a, b, kappa_from_contingency(counts), sum(counts.values()))
        for (a, b), counts in sorted(contingency.items())
        if sum(counts.values())
    ]


def figures_from_counts(
    table: np.ndarray,
    weights: np.ndarray,
    *,
    contingency: Contingency,
    annotators: int,
    overlap: int,
    replicates: int = REPLICATES,
) -> Figures:
    """Every figure from one count table (columns pro, contra, neutral, rows weighted by
    how many sentences have those counts) and the pairs' contingency tables; alpha's
    interval from `replicates` resamples (0: none)."""
    table, weights = _weighted(table, weights)
    alpha = alpha_from_counts(table, weights)
    low, high, drawn = (
        alpha_interval(table, weights, replicates=replicates) if replicates else (None, None, 0)
    )
    alpha_sentences = int(weights[table.sum(axis=1) >= 2].sum()) if len(table) else 0
    kappa, fleiss_sentences = fleiss_from_counts(table, weights, raters=overlap)
    percent, _ = percent_from_counts(table, weights)
    return Figures(
        alpha=alpha if alpha_sentences else None,
        alpha_sentences=alpha_sentences,
        fleiss=kappa,
        fleiss_sentences=fleiss_sentences,
        percent=percent,
        labels=int((weights * table.sum(axis=1)).sum()) if len(table) else 0,
        annotators=annotators,
        pairs=pairs_from_contingency(contingency),
        alpha_low=low if alpha_sentences else None,
        alpha_high=high if alpha_sentences else None,
        alpha_replicates=drawn if alpha_sentences else 0,
    )


# Votes one by one: for small data and tests against published examples. They build the
# same count tables the database returns and go through the same maths.


def _table(votes: Iterable[Vote]) -> tuple[np.ndarray, list[str]]:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counts[vote.sentence_id][vote.label] += 1
    categories = _categories(label for c in counts.values() for label in c)
    return np.array([[c[label] for label in categories] for c in counts.values()]).reshape(
        len(counts), len(categories)
    ), categories


def krippendorff_alpha(votes: Iterable[Vote]) -> tuple[float | None, int]:
    """Nominal alpha with missing values; None when it is undefined."""
    table, _ = _table(votes)
    units = int((table.sum(axis=1) >= 2).sum()) if len(table) else 0
    return (alpha_from_counts(table) if units else None), units


def fleiss(votes: Iterable[Vote], raters: int) -> tuple[float | None, int]:
    """Fleiss' kappa over sentences with exactly `raters` labels."""
    table, _ = _table(votes)
    if not len(table):
        return None, 0
    return fleiss_from_counts(table, raters=raters)


def percent_agreement(votes: Iterable[Vote]) -> tuple[float | None, int]:
    table, _ = _table(votes)
    return percent_from_counts(table) if len(table) else (None, 0)


def contingency_of(votes: Iterable[Vote]) -> Contingency:
    by_annotator: dict[int, dict[int, str]] = defaultdict(dict)
    for vote in votes:
        by_annotator[vote.annotator_id][vote.sentence_id] = vote.label
    contingency: Contingency = {}
    for a, b in combinations(sorted(by_annotator), 2):
        shared = set(by_annotator[a]) & set(by_annotator[b])
        if shared:
            contingency[a, b] = Counter((by_annotator[a][s], by_annotator[b][s]) for s in shared)
    return contingency


def cohen_pairs(votes: Iterable[Vote]) -> list[PairKappa]:
    return pairs_from_contingency(contingency_of(votes))


def figures(votes: list[Vote], *, overlap: int) -> Figures:
    table, _ = _table(votes)
    return figures_from_counts(
        table,
        np.ones(len(table)),
        contingency=contingency_of(votes),
        annotators=len({v.annotator_id for v in votes}),
        overlap=overlap,
    )


def reliability(votes: list[Vote], *, limit: int = LEFT_OUT_LIMIT) -> tuple[Reliability, list[str]]:
    """Alpha per label and with each annotator left out, from votes (the categories too)."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counts[vote.sentence_id][vote.label] += 1
    categories = _categories(vote.label for vote in votes)
    pattern = {s: tuple(c[label] for label in categories) for s, c in counts.items()}
    taken_out: TakenOut = defaultdict(Counter)
    for vote in votes:
        if sum(pattern[vote.sentence_id]) >= 2:  # as the database's pairs see them
            taken_out[vote.annotator_id][pattern[vote.sentence_id], categories.index(vote.label)] += 1
    units = Counter(pattern.values())
    return reliability_from_counts(units, dict(taken_out), categories=categories, limit=limit), categories
