"""Flags: an annotator marks the sentence they are shown for a curator (unsure, a bad
sentence split, needs discussion), with an optional comment. A flag labels nothing and
skips nothing: the annotator stays on the sentence and can still label it. Curators see
open flags first in the adjudication page's "flagged" order (annotate/review.py) and
resolve them there.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotate.models import Annotation, Assignment, Flag, FlagReason, Sentence, Target

#: The longest comment a flag or a returned label takes.
COMMENT_MAX = 1000


class NotShown(ValidationError):
    """A flag for a sentence the annotator was never shown (no reservation, no label)."""


def clean_comment(comment: str, *, required: bool = False) -> str:
    """A comment stripped of surrounding space; ValidationError when too long (or empty,
    when required)."""
    comment = comment.strip()
    if required and not comment:
        raise ValidationError("A comment is required.", code="comment_required")
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            f"A comment is at most {COMMENT_MAX} characters, not {len(comment)}.", code="comment_too_long"
        )
    return comment


def flag_create(*, annotator: User, target: Target, sentence_id: int, reason: str, comment: str = "") -> Flag:
    """Flag a sentence the annotator holds or has labelled; flagging it again while the
    first flag is open updates that flag's reason and comment.

    Raises ValidationError for an unknown reason or a comment too long, NotShown for a
    sentence the annotator was never given, TargetArchived for an archived target;
    nothing is written then.
    """
    if reason not in FlagReason.values:
        raise ValidationError(
            f"Unknown reason {reason!r}; expected one of {', '.join(FlagReason.values)}.",
            code="unknown_reason",
        )
    comment = clean_comment(comment)
    target.refuse_if_archived()
    key = {"annotator_id": annotator.pk, "target_id": target.pk, "sentence_id": sentence_id}
    shown = Sentence.objects.filter(pk=sentence_id).filter(
        Exists(Assignment.objects.filter(sentence=OuterRef("pk"), annotator_id=annotator.pk, target=target))
        | Exists(Annotation.objects.filter(sentence=OuterRef("pk"), annotator_id=annotator.pk, target=target))
    )
    if not shown.exists():
        raise NotShown("You can flag only a sentence you were shown.", code="not_shown")
    with transaction.atomic():
        updated = Flag.objects.filter(**key, resolved_at__isnull=True).update(reason=reason, comment=comment)
        if not updated:
            try:
                with transaction.atomic():
                    return Flag.objects.create(**key, reason=reason, comment=comment)
            except IntegrityError:  # a second submission raced the first: update it
                Flag.objects.filter(**key, resolved_at__isnull=True).update(reason=reason, comment=comment)
    return Flag.objects.get(**key, resolved_at__isnull=True)


def flag_resolve(*, curator: User, target: Target, flag_id: int) -> Flag:
    """Mark an open flag of the target resolved by the curator (a resolved one is left as
    it is). Raises Flag.DoesNotExist for a flag of another target or none."""
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(pk=flag_id, target=target)
        if flag.resolved_at is None:
            flag.resolved_at, flag.resolved_by = timezone.now(), curator
            flag.save(update_fields=["resolved_at", "resolved_by"])
    return flag
