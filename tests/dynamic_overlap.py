"""What the dynamic overlap tests share (tests/test_dynamic_overlap.py and
tests/test_posterior_overlap.py, its variant by posterior): recording a label, reading a
sentence's labels, the refusal's message and two of the doors a race comes through. Their
fixtures, `dynamic` and `crowd`, are in conftest.py."""

from __future__ import annotations

from annotate.models import Annotation, Label
from annotate.queue.loop import label_and_next
from annotate.queue.record import annotation_record, annotation_submit

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
