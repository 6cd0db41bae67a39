"""The evaluation mix: settled sentences handed out silently among the others.

Each hand-out first asks whether this place in the annotator's stream is an evaluation
item: their first `Target.evaluation_onboarding` places are (the onboarding block), and
after that a place is one with probability `Target.evaluation_rate`. The answer is a hash
of the target, the annotator and the place (their labels and skips so far), not a coin
flip, so an annotator's stream is the same every time it is replayed, different from
everyone else's, and testable; the place costs no query (the cursor's move returns it).

An evaluation place hands out the first evaluation item the annotator has no label on
(statements.RESERVE_EVALUATION, in their own order); when none is left the place is an
ordinary one. The ordinary orders never hand out an evaluation item (rule.py).
"""

from __future__ import annotations

import hashlib

from annotate.models import Target
from annotate.queue import sql, statements

#: The shuffle's modulus in RESERVE_EVALUATION (a prime).
_SHUFFLE_MODULUS = 65521


def _unit(key: str) -> float:
    """A number in [0, 1) that only `key` decides (8 bytes of BLAKE2b)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def is_evaluation_place(*, target: Target, annotator_id: int, place: int) -> bool:
    """Whether the annotator's `place`-th sentence (from 0) is to be an evaluation item."""
    if place < target.evaluation_onboarding:
        return True
    rate = target.evaluation_rate
    return rate > 0 and _unit(f"evaluation:{target.pk}:{annotator_id}:{place}") < rate


def shuffle_for(*, target_id: int, annotator_id: int) -> int:
    """The annotator's multiplier for the order of the evaluation items (1 to 65520)."""
    return 1 + int(_unit(f"shuffle:{target_id}:{annotator_id}") * (_SHUFFLE_MODULUS - 1))


def reserve_evaluation_locked(params: dict[str, object], *, target_id: int, annotator_id: int) -> int | None:
    """Reserve the annotator's next evaluation item (under the target's lock); its id, or
    None when they have labelled every one."""
    shuffle = shuffle_for(target_id=target_id, annotator_id=annotator_id)
    found = sql.fetch(statements.RESERVE_EVALUATION, {**params, "shuffle": shuffle})
    return found[0][0] if found else None
