"""An annotator's own settings for the labelling page (the label loop is annotate/queue/)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from annotate.models import LabellingSettings, Shortcuts


def shortcuts_for(*, user: User) -> str:
    """How the user's labelling keys work: their saved choice, else single keys."""
    saved = LabellingSettings.objects.filter(user=user).values_list("shortcuts", flat=True).first()
    return saved or Shortcuts.KEYS


def shortcuts_set(*, user: User, shortcuts: str) -> LabellingSettings:
    if shortcuts not in Shortcuts.values:
        raise ValidationError(
            f"Unknown shortcut setting {shortcuts!r}; expected one of {', '.join(Shortcuts.values)}.",
            code="unknown_shortcuts",
        )
    saved, _ = LabellingSettings.objects.update_or_create(user=user, defaults={"shortcuts": shortcuts})
    return saved
