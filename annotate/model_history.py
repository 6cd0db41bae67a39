"""A target's model versions over time, for the dashboard's learning curve, and the active
version's confusion matrix: one query over the ready versions' stored metrics. And each
version's two scores as the models page shows them, read from its stored metrics, however
old: versions trained before grouped cross-validation or the evaluation slice say so."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from annotate.models import STANCE_LABELS, ModelVersion, Target
from annotate.score_intervals import Intervals, stored_or_computed


@dataclass(frozen=True)
class VersionPoint:
    version_id: int
    created_at: datetime.datetime
    live_since: datetime.datetime  # when it finished training and could become active
    train_size: int
    accuracy: float | None
    macro_f1: float | None
    f_avg: float | None
    active: bool


@dataclass(frozen=True)
class Confusion:
    version_id: int
    classes: list[str]
    matrix: list[list[int]]  # rows: gold label, columns: predicted

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.classes, self.matrix, strict=False))


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return float(value) if isinstance(value, int | float) else None


def model_versions(*, target: Target) -> tuple[list[VersionPoint], Confusion | None]:
    """Ready versions, oldest first, and the active version's confusion matrix."""
    versions = ModelVersion.objects.filter(target=target, status=ModelVersion.Status.READY).order_by(
        "created_at", "id"
    )
    points, confusion = [], None
    for version_id, created_at, finished_at, train_size, metrics in versions.values_list(
        "id", "created_at", "finished_at", "train_size", "metrics"
    ):
        metrics = metrics or {}
        active = version_id == target.active_version_id
        points.append(
            VersionPoint(
                version_id=version_id,
                created_at=created_at,
                live_since=finished_at or created_at,
                train_size=train_size,
                accuracy=_metric(metrics, "accuracy"),
                macro_f1=_metric(metrics, "macro_f1"),
                f_avg=_metric(metrics, "f_avg"),
                active=active,
            )
        )
        if active and metrics.get("confusion"):
            classes = list(metrics.get("classes") or STANCE_LABELS)
            confusion = Confusion(version_id, classes, [list(row) for row in metrics["confusion"]])
    return points, confusion


@dataclass(frozen=True)
class Score:
    """One of a version's scores as shown: the figures with their n and how they were
    computed, or (f_avg None) why there is no figure."""

    f_avg: float | None
    macro_f1: float | None
    accuracy: float | None
    n: int | None
    short: str  # a few words for a table cell
    how: str  # the sentence that says how it was computed, or why it was not
    #: 95 % intervals from the stored confusion matrix (annotate.score_intervals); None
    #: without a figure or a matrix.
    intervals: Intervals | None = None


def cv_score(metrics: dict[str, Any], train_size: int) -> Score:
    """The cross-validated score; grouped since the metrics record how (a "cv" entry)."""
    cv = metrics.get("cv")
    figures = (_metric(metrics, "f_avg"), _metric(metrics, "macro_f1"), _metric(metrics, "accuracy"))
    if isinstance(cv, dict):
        return Score(
            *figures,
            int(cv["n"]),
            "grouped" if cv.get("grouped") else "by sentence",
            str(cv["how"]),
            stored_or_computed(metrics),
        )
    return Score(
        *figures,
        train_size,
        "by sentence",
        "cross-validation by sentence, not grouped (trained before grouped cross-validation): "
        "a near-copy of a sentence may have been in its training fold, so the score may be optimistic",
        stored_or_computed(metrics),
    )


NOT_MEASURED = "not measured: trained before the evaluation slice"


def slice_score(metrics: dict[str, Any]) -> Score:
    """The score on the evaluation slice, or why there is none."""
    held = metrics.get("evaluation_slice")
    if not isinstance(held, dict):
        return Score(None, None, None, None, "not measured", NOT_MEASURED)
    n = int(held["n"])
    if not held.get("scored"):
        return Score(None, None, None, n, "too small", str(held.get("reason") or "too small to score"))
    left_out = int(held.get("left_out") or 0)
    how = (
        f"the evaluation slice: the control set ({float(held.get('share', 0)):.0%} of sentences, a fixed hash "
        f"of the sentence id), whose gold labels are never trained on and which annotators label without a "
        f"suggestion on screen; {n} gold labels"
    )
    if left_out:
        how += f" ({left_out} more left out: labelled while a suggestion was shown)"
    copies = int(held.get("copies_left_out") or 0)
    if copies:
        how += (
            f"; {copies} gold label{'s' if copies != 1 else ''} of their duplicates (the same or a "
            "near-identical text elsewhere) kept out of training too"
        )
    return Score(
        _metric(held, "f_avg"),
        _metric(held, "macro_f1"),
        _metric(held, "accuracy"),
        n,
        f"n {n}",
        how,
        stored_or_computed(held),
    )
