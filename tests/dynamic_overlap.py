"""What the dynamic overlap tests share (tests/test_dynamic_overlap.py and
tests/test_posterior_overlap.py, its variant by posterior): recording a label, reading a
sentence's labels, the refusal's message, two of the doors a race comes through, and a
history that tells reliable annotators from unreliable ones. Their fixtures, `dynamic` and
`crowd`, are in conftest.py."""

from __future__ import annotations

from collections.abc import Callable

from annotate.models import Annotation, Label, Sentence
from annotate.queue.loop import label_and_next
from annotate.queue.record import annotation_record, annotation_submit
from tests.factories import ArticleFactory, SentenceFactory

#: Why a label on a full sentence of a target at overlap 2 (most 3) is refused.
FULL = "This sentence already has its labels: 2 that agree, or up to 3 while they disagree."


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def stance_labels(target, sentence) -> list[str]:
    return sorted(
        Annotation.objects.filter(target=target, sentence=sentence)
        .exclude(label=Label.SKIP)
        .values_list("label", flat=True)
    )


def by_card(annotator, target, sentence):
    return label_and_next(annotator=annotator, target_id=target.pk, sentence_id=sentence.pk, label="pro")


def by_api(annotator, target, sentence):
    return annotation_submit(annotator=annotator, sentence=sentence, target=target, label="neutral")


def reliable_and_unreliable(target, good, bad, *, article=None, start: int = 0) -> Callable[[], Sentence]:
    """A history Dawid-Skene learns the two pairs from: `good` agree with each other on nine
    sentences, and wherever one of `good` meets one of `bad` (nine more) they disagree.
    Written in `article` (a new one by default) from position `start`; returns a maker of
    the article's next sentence, for the sentences the test labels on."""
    article = article or ArticleFactory()
    made = iter(range(start, start + 100))

    def sentence() -> Sentence:
        return SentenceFactory(article=article, position=next(made))

    values = ["pro", "contra", "neutral"]
    for i in range(9):
        shared = sentence()
        for annotator in good:
            label(annotator, shared, target, values[i % 3])
    for i in range(9):
        met = sentence()
        label(good[i % 2], met, target, values[i % 3])
        label(bad[i % 2], met, target, values[(i + 1) % 3])
    return sentence
