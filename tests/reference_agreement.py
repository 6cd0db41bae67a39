"""The straightforward agreement computation Stance used before counting in the database:
every vote read one by one, scikit-learn's Cohen's kappa and statsmodels' Fleiss' kappa.
Kept for tests only, as the known answer the fast path (annotate.agreement_data) must give."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations

import numpy as np
from django.db.models import Q
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from annotate.agreement_figures import Figures, PairKappa, Vote, sentence_agreement
from annotate.models import STANCE_LABELS, Annotation, Label, Target


def _categories(labels: Iterable[str]) -> list[str]:
    """The stance labels in their usual order, or any other categories sorted (for tests
    against published examples)."""
    present = set(labels)
    return [label for label in STANCE_LABELS if label in present] + sorted(present - set(STANCE_LABELS))


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _alpha_from_counts(table: np.ndarray) -> float | None:
    """Nominal Krippendorff's alpha from a units x categories table of label counts.

    Krippendorff (2011), "Computing Krippendorff's alpha-reliability": a unit with m
    values adds n_c * n_k / (m - 1) to the coincidence of c and k, so the observed
    disagreement is the sum over units of (m^2 - sum_c n_c^2) / (m - 1), the expected one
    (n^2 - sum_c n_c^2) / (n - 1) over the pairable values, and alpha = 1 - observed /
    expected. Units with fewer than two values are not pairable and count for nothing.
    None when alpha is undefined (fewer than two pairable values).
    """
    table = np.asarray(table, dtype=float)
    values = table.sum(axis=1)
    table, values = table[values >= 2], values[values >= 2]
    total = values.sum()
    if total < 2:
        return None
    observed = ((values**2 - (table**2).sum(axis=1)) / (values - 1)).sum()
    totals = table.sum(axis=0)
    expected = (total**2 - (totals**2).sum()) / (total - 1)
    if expected == 0:
        return 1.0  # every value the same: perfect, though alpha's formula is 0/0
    return float(1 - observed / expected)


def krippendorff_alpha(votes: Iterable[Vote]) -> tuple[float | None, int]:
    """Nominal alpha with missing values; None when it is undefined."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counts[vote.sentence_id][vote.label] += 1
    units = [c for c in counts.values() if sum(c.values()) >= 2]
    if not units:
        return None, 0
    categories = _categories(label for c in units for label in c)
    table = np.array([[c[label] for label in categories] for c in units])
    return _alpha_from_counts(table), len(units)


def fleiss(votes: Iterable[Vote], raters: int) -> tuple[float | None, int]:
    """Fleiss' kappa over sentences with exactly `raters` labels."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counts[vote.sentence_id][vote.label] += 1
    categories = _categories(label for c in counts.values() for label in c)
    table = [[c[label] for label in categories] for c in counts.values() if sum(c.values()) == raters]
    if len(table) < 2 or raters < 2:
        return None, len(table)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _clean(fleiss_kappa(np.array(table), method="fleiss")), len(table)


def percent_agreement(votes: Iterable[Vote]) -> tuple[float | None, int]:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counts[vote.sentence_id][vote.label] += 1
    shares = [share for c in counts.values() if (share := sentence_agreement(c)) is not None]
    return (sum(shares) / len(shares), len(shares)) if shares else (None, 0)


def cohen_pairs(votes: Iterable[Vote]) -> list[PairKappa]:
    by_annotator: dict[int, dict[int, str]] = defaultdict(dict)
    for vote in votes:
        by_annotator[vote.annotator_id][vote.sentence_id] = vote.label
    pairs = []
    for a, b in combinations(sorted(by_annotator), 2):
        shared = sorted(set(by_annotator[a]) & set(by_annotator[b]))
        if not shared:
            continue
        left = [by_annotator[a][s] for s in shared]
        right = [by_annotator[b][s] for s in shared]
        if left == right:
            kappa: float | None = 1.0
        elif len(shared) < 2:
            kappa = None
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                kappa = _clean(cohen_kappa_score(left, right))
        pairs.append(PairKappa(a, b, kappa, len(shared)))
    return pairs


def figures(votes: list[Vote], *, overlap: int) -> Figures:
    alpha, alpha_n = krippendorff_alpha(votes)
    kappa, fleiss_n = fleiss(votes, overlap)
    percent, _ = percent_agreement(votes)
    return Figures(
        alpha=alpha,
        alpha_sentences=alpha_n,
        fleiss=kappa,
        fleiss_sentences=fleiss_n,
        percent=percent,
        labels=len(votes),
        annotators=len({v.annotator_id for v in votes}),
        pairs=cohen_pairs(votes),
    )


def votes_for(target: Target, *, filters: Q | None = None) -> list[Vote]:
    queryset = Annotation.objects.filter(target=target).exclude(label=Label.SKIP)
    if filters is not None:
        queryset = queryset.filter(filters)
    rows = queryset.values_list("sentence_id", "annotator_id", "label").iterator(chunk_size=10_000)
    return [Vote(*row) for row in rows]


def target_agreement(target: Target) -> Figures:
    return figures(votes_for(target), overlap=target.overlap)


def agreement_by(target: Target, field_name: str) -> dict[object, Figures]:
    """Figures per article ("sentence__article_id") or per source ("sentence__article__source")."""
    grouped: dict[object, list[Vote]] = defaultdict(list)
    queryset = Annotation.objects.filter(target=target).exclude(label=Label.SKIP)
    for key, sentence_id, annotator_id, label in queryset.values_list(
        field_name, "sentence_id", "annotator_id", "label"
    ).iterator(chunk_size=10_000):
        grouped[key].append(Vote(sentence_id, annotator_id, label))
    return {key: figures(votes, overlap=target.overlap) for key, votes in sorted(grouped.items())}


def agreement_by_suggestion(target: Target) -> dict[str, Figures]:
    """Agreement on sentences labelled with a suggestion on screen versus without (control set)."""
    return {
        "with suggestion": figures(
            votes_for(target, filters=Q(suggestion_shown=True)), overlap=target.overlap
        ),
        "without suggestion": figures(
            votes_for(target, filters=Q(suggestion_shown=False)), overlap=target.overlap
        ),
    }


def label_alpha(votes: list[Vote], label: str) -> float | None:
    """Alpha of one label against the rest: every other label recoded as "rest"."""
    recoded = [Vote(v.sentence_id, v.annotator_id, "this" if v.label == label else "rest") for v in votes]
    return krippendorff_alpha(recoded)[0]


def left_out_alpha(votes: list[Vote], annotator: int) -> tuple[float | None, int]:
    """Alpha with one annotator's votes removed."""
    return krippendorff_alpha([v for v in votes if v.annotator_id != annotator])


def bootstrap_interval(
    votes: list[Vote], *, replicates: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """The unit bootstrap done straightforwardly: draw the pairable sentences with
    replacement, each with all its votes, and take the percentiles of alpha."""
    by_sentence: dict[int, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_sentence[vote.sentence_id].append(vote)
    pairable = [s for s, found in by_sentence.items() if len(found) >= 2]
    rng = np.random.default_rng(seed)
    alphas = []
    for _ in range(replicates):
        drawn = rng.choice(len(pairable), size=len(pairable), replace=True)
        resample = [
            Vote(copy, v.annotator_id, v.label)
            for copy, i in enumerate(drawn)
            for v in by_sentence[pairable[i]]
        ]
        alpha, _ = krippendorff_alpha(resample)
        alphas.append(alpha)
    tail = (1 - level) / 2
    low, high = np.quantile(np.array(alphas, dtype=float), [tail, 1 - tail])
    return float(low), float(high)
