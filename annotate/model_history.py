"""A target's model versions over time, for the dashboard's learning curve, and the active
version's confusion matrix: one query over the ready versions' stored metrics."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from annotate.models import STANCE_LABELS, ModelVersion, Target


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
