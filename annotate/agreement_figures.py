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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


#: Per pair of annotators (ids, smaller first), how often each pair of their labels occurred.
Contingency = dict[tuple[int, int], Counter[tuple[str, str]]]


def sentence_agreement(counts: dict[str, int]) -> float | None:
    """Share of agreeing pairs among one sentence's labels (None below two labels)."""
    n = sum(counts.values())
    if n < 2:
        return None
    return sum(k * (k - 1) for k in counts.values()) / (n * (n - 1))
