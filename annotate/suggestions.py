"""Which suggestion an annotator is shown: the active model's, unless the sentence is in
the control set (shown without one, to measure anchoring). annotate/training.py writes them.
"""

from __future__ import annotations

import zlib

from annotate.models import Sentence, Suggestion, SuggestionMode, Target


def in_control_set(*, target: Target, sentence_id: int) -> bool:
    """Whether this sentence is shown without a suggestion, to measure anchoring.

    Fixed per sentence and target (a hash, not a coin flip), so every annotator sees the
    same sentences without suggestions and the comparison is between like and like.
    """
    if target.control_share <= 0:
        return False
    bucket = zlib.crc32(f"{target.pk}:{sentence_id}".encode()) % 10_000
    return bucket < target.control_share * 10_000


def suggestion_to_show(*, target: Target, sentence: Sentence) -> Suggestion | None:
    """The active model's suggestion for the sentence, unless it is in the control set or
    the target hides suggestions (its suggestion mode)."""
    if target.suggestion_mode == SuggestionMode.HIDDEN:
        return None
    if target.active_version_id is None or in_control_set(target=target, sentence_id=sentence.pk):
        return None
    return Suggestion.objects.filter(model_version_id=target.active_version_id, sentence=sentence).first()
