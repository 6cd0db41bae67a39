"""Agreement results as pages read them: the figures' types and one sentence's agreement.

Pure Python, no numpy, so the web processes can import it at start: the maths that produces
these (annotate.agreement, on numpy) is imported only where figures are computed.
tests/test_lazy_imports.py checks it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Vote:
    sentence_id: int
    annotator_id: int
    label: str


@dataclass
class PairKappa:
    annotator_a: int
    annotator_b: int
    kappa: float | None
    sentences: int


@dataclass
class Figures:
    alpha: float | None = None
    alpha_sentences: int = 0  # sentences with two or more labels
    fleiss: float | None = None
    fleiss_sentences: int = 0  # sentences with exactly the target's overlap of labels
    percent: float | None = None  # mean share of agreeing pairs per sentence
    labels: int = 0
    annotators: int = 0
    pairs: list[PairKappa] = field(default_factory=list)
    # The bootstrap 95 % interval of alpha (annotate.agreement.alpha_interval): percentiles
    # of alpha over `alpha_replicates` resamples of the sentences. None, None and 0 where it
    # was not computed (per article, and summaries stored before it existed).
    alpha_low: float | None = None
    alpha_high: float | None = None
    alpha_replicates: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class LabelAlpha:
    """Alpha of one label against the rest: every other label counted as one category."""

    label: str
    alpha: float | None
    sentences: int  # sentences with two or more labels
    labels: int  # of their labels, those with this label


@dataclass
class AnnotatorLeftOut:
    """Alpha over every label but this annotator's."""

    annotator: int
    alpha: float | None
    sentences: int  # sentences left with two or more labels
    labels: int  # labels left on them
    own_labels: int  # this annotator's labels taken out


@dataclass
class Reliability:
    """What a methods section cites beside alpha: alpha per label and with each annotator
    left out (annotate.agreement.reliability_from_counts), and how the interval was drawn."""

    per_label: list[LabelAlpha] = field(default_factory=list)
    left_out: list[AnnotatorLeftOut] = field(default_factory=list)
    annotators: int = 0  # annotators with a label on a shared sentence
    left_out_limit: int = 0  # left_out covers at most this many, those with the most labels
    replicates: int = 0
    seed: int = 0
    level: float = 0.95
    method: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Reliability:
        values = dict(data)
        values["per_label"] = [LabelAlpha(**row) for row in data.get("per_label", [])]  # type: ignore[attr-defined]
        values["left_out"] = [AnnotatorLeftOut(**row) for row in data.get("left_out", [])]  # type: ignore[attr-defined]
        return cls(**values)  # type: ignore[arg-type]


def interval_text(figures: Figures) -> str:
    """'95 % CI 0.612–0.701', or '' where no interval was computed."""
    if figures.alpha_low is None or figures.alpha_high is None:
        return ""
    return f"95 % CI {figures.alpha_low:.3f}–{figures.alpha_high:.3f}"


#: Per pair of annotators (ids, smaller first), how often each pair of their labels occurred.
Contingency = dict[tuple[int, int], Counter[tuple[str, str]]]


def sentence_agreement(counts: dict[str, int]) -> float | None:
    """Share of agreeing pairs among one sentence's labels (None below two labels)."""
    n = sum(counts.values())
    if n < 2:
        return None
    return sum(k * (k - 1) for k in counts.values()) / (n * (n - 1))
