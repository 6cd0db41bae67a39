"""What the labelling card shows, read in one statement after the label's commit.

The card is read after every label: the sentence, the sentences around it in its article,
the article's title and source, the suggestion shown (the active model's, unless the
sentence is in the control set or an evaluation item), and the annotator's progress counts. As ORM queries that
was four round trips and ~2 ms of query building a label; as one statement it is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User

from annotate import progress
from annotate.models import Article, Sentence, SuggestionMode, Target
from annotate.queue import sql, statements
from annotate.suggestions import in_control_set


@dataclass(frozen=True)
class Suggested:
    """The active model's suggestion for a sentence."""

    label: str
    confidence: float


def suggestion_to_show(
    *, target: Target, sentence_id: int, suggested: Suggested | None, evaluation: bool = False
) -> Suggested | None:
    """The suggestion the annotator is shown: the active model's, unless the sentence is in
    the control set (shown without one, to measure anchoring), an evaluation item (the
    annotator is measured, not the model), or the target hides them. In the "after" mode it
    is what the card reveals after the first label."""
    if target.suggestion_mode == SuggestionMode.HIDDEN:
        return None
    if suggested is None or evaluation or in_control_set(target=target, sentence_id=sentence_id):
        return None
    return suggested


def held_back(*, target: Target, revealed: bool) -> bool:
    """Whether the suggestion stays off screen: in the "after" mode, until the first label."""
    return target.suggestion_mode == SuggestionMode.AFTER and not revealed


@dataclass(frozen=True)
class Returned:
    """The annotator's label on the card's sentence, returned by a curator with a comment."""

    id: int
    label: str
    comment: str


@dataclass
class Card:
    """The card: no sentence when nothing is open (the progress is still shown)."""

    sentence: Sentence | None
    progress: progress.Progress
    suggestion: Suggested | None = None  # what the card shows: None in the control set
    #: The annotator's label, given before the suggestion now revealed ("after" mode).
    first_label: str | None = None
    returned: Returned | None = None
    before: list[Sentence] = field(default_factory=list)
    after: list[Sentence] = field(default_factory=list)


def read_card(
    *,
    annotator: User,
    target: Target,
    sentence_id: int | None,
    around: int = 2,
    first_label: str | None = None,
) -> Card:
    """The card for a sentence (None: nothing is open), with `around` neighbours each side.

    The sentence carries its article (title and source; other fields load on access). In
    the "after" suggestion mode the suggestion is shown only with `first_label`, the label
    the annotator just gave without it.
    """
    rows = []
    if sentence_id is not None:
        params = {
            **progress.progress_params(annotator=annotator, target=target),
            "sentence": sentence_id,
            "around": around,
            "version": target.active_version_id,
        }
        rows = sql.fetch(statements.CARD, params)
    if not rows:  # nothing to show, or the sentence was deleted meanwhile
        return Card(sentence=None, progress=progress.progress_for(annotator=annotator, target=target))
    article = sql.instance(Article, ["id", "title", "source"], [rows[0][1], rows[0][6], rows[0][7]])
    card = Card(
        sentence=None, progress=progress.progress_from(target=target, done=rows[0][10], today=rows[0][11])
    )
    for row in rows:
        sentence = sql.instance(Sentence, statements.SENTENCE_FIELDS, row[:6])
        if sentence.pk == sentence_id:
            sentence.article = article
            suggested = None if row[8] is None else Suggested(label=row[8], confidence=row[9])
            shown = suggestion_to_show(
                target=target, sentence_id=sentence.pk, suggested=suggested, evaluation=bool(row[12])
            )
            if not held_back(target=target, revealed=first_label is not None):
                card.suggestion = shown
                card.first_label = first_label if shown is not None else None
            card.sentence = sentence
            if row[13] is not None:
                card.returned = Returned(id=row[13], label=row[14], comment=row[15])
        elif card.sentence is None:
            card.before.append(sentence)
        else:
            card.after.append(sentence)
    return card
