"""What the labelling card shows, read in one statement.

The card is read after every label: the sentence, the sentences around it in its article,
the article's title and source, the active model's suggestion, and the annotator's
progress counts. As ORM queries that was four round trips and ~2 ms of query building a
label; as one statement it is one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from annotate import progress, sql
from annotate.models import Article, Sentence, Target

_CARD_SQL = (
    """
SELECT "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
       "a"."title", "a"."source", "sg"."label", "sg"."confidence",
"""
    + progress.PROGRESS_COUNTS_SQL
    + """
FROM {sentence} "x"
JOIN {sentence} "s" ON "s"."article_id" = "x"."article_id"
     AND "s"."position" BETWEEN "x"."position" - %(around)s AND "x"."position" + %(around)s
JOIN {article} "a" ON "a"."id" = "x"."article_id"
LEFT JOIN {suggestion} "sg" ON "sg"."sentence_id" = "s"."id" AND "sg"."model_version_id" = %(version)s
WHERE "x"."id" = %(sentence)s
ORDER BY "s"."position"
"""
)

SENTENCE_FIELDS = ["id", "article_id", "position", "text", "start", "end"]


@dataclass
class Card:
    sentence: Sentence | None
    progress: progress.Progress
    before: list[Sentence] = field(default_factory=list)
    after: list[Sentence] = field(default_factory=list)


def read_card(
    *, annotator: AbstractBaseUser, target: Target, sentence_id: int | None, around: int = 2
) -> Card:
    """The card for a sentence (None: the queue is empty), with `around` neighbours each side.

    The sentence carries its article (title and source; other fields load on access) and
    the active model's suggestion as `suggested_label` and `suggested_confidence`, which
    `suggestions.suggestion_to_show` reads.
    """
    rows = []
    if sentence_id is not None:
        params = {
            **progress.progress_params(annotator=annotator, target=target),
            "sentence": sentence_id,
            "around": around,
            "version": target.active_version_id,
        }
        rows = sql.fetch(sql.statement(_CARD_SQL), params)
    if not rows:  # nothing to show, or the sentence was deleted meanwhile
        return Card(sentence=None, progress=progress.progress_for(annotator=annotator, target=target))
    article = sql.instance(Article, ["id", "title", "source"], [rows[0][1], rows[0][6], rows[0][7]])
    card = Card(
        sentence=None, progress=progress.progress_from(target=target, done=rows[0][10], today=rows[0][11])
    )
    for row in rows:
        sentence = sql.instance(Sentence, SENTENCE_FIELDS, row[:6])
        if sentence.pk == sentence_id:
            sentence.article = article
            # Read by suggestions.suggestion_to_show; typed results replace them (issue 13).
            sentence.suggested_label, sentence.suggested_confidence = row[8], row[9]  # type: ignore[attr-defined]
            card.sentence = sentence
        elif card.sentence is None:
            card.before.append(sentence)
        else:
            card.after.append(sentence)
    return card
