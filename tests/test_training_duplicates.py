"""Training on a corpus where outlets reprint each other's sentences (annotate/training.py):
no near-copy of a sentence sits in its own validation fold, and no near-copy of an
evaluation slice sentence is trained on. Copies are found here from the texts
(annotate.duplicates.similarity), independently of the groups the scan stored."""

from __future__ import annotations

import random

import pytest

from annotate import classifier, training
from annotate.corpus import ParsedArticle, articles_import
from annotate.duplicate_groups import duplicates_refresh
from annotate.duplicates import NEAR_THRESHOLD, similarity
from annotate.models import Sentence, Target
from annotate.queue.record import annotation_record
from annotate.suggestions import in_control_set
from tests.factories import UserFactory, train_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice")]

WORDS = (
    "government company network minister officials security China Britain Huawei equipment "
    "telecom decision ambassador country risk pressure cooperation investment market technology "
    "infrastructure operators mobile suppliers contracts warned allies review parliament"
).split()
LABELS = ("pro", "contra", "neutral")


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


def _sentence(rng: random.Random) -> str:
    return "The " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(16, 22))) + " said."


def _reprint(text: str, rng: random.Random, kind: int) -> str:
    """Word for word with case and quotes changed, or with one word changed."""
    if kind == 0:
        return "\u201c" + text.upper() + "\u201d"
    words = text.split()
    words[rng.randrange(1, len(words) - 1)] = "replacement"
    return " ".join(words)


def reprinted_stories(target: Target, *, stories: int, per_story: int = 6, reprinted: int = 3) -> None:
    """Each story is an article, and another outlet's article that reprints `reprinted` of
    its sentences (the same label: it is the same sentence) among sentences of its own.
    Every sentence is labelled by two annotators; then the duplicate scan runs."""
    rng = random.Random(7)
    bodies: list[list[tuple[str, str]]] = []
    for _ in range(stories):
        story = [(_sentence(rng), rng.choice(LABELS)) for _ in range(per_story)]
        copies = [(_reprint(text, rng, k % 2), label) for k, (text, label) in enumerate(story[:reprinted])]
        own = [(_sentence(rng), rng.choice(LABELS)) for _ in range(per_story - reprinted)]
        bodies += [story, copies + own]
    articles_import(
        articles=[
            ParsedArticle(title=f"Story {i}", body="\n".join(text for text, _ in body))
            for i, body in enumerate(bodies)
        ]
    )
    annotators = [UserFactory(password=None) for _ in range(2)]
    by_article = {}
    for sentence in Sentence.objects.order_by("article_id", "position"):
        by_article.setdefault(sentence.article_id, []).append(sentence)
    assert [len(s) for s in by_article.values()] == [len(body) for body in bodies]  # one sentence a line
    for sentences, body in zip(by_article.values(), bodies, strict=True):
        for sentence, (_, label) in zip(sentences, body, strict=True):
            for annotator in annotators:
                annotation_record(annotator=annotator, sentence=sentence, target=target, label=label)
    duplicates_refresh()


def near(a: str, b: str) -> bool:
    return similarity(a, b) >= NEAR_THRESHOLD


def test_cross_validation_puts_no_near_copy_of_a_sentence_in_its_own_validation_fold(huawei):
    reprinted_stories(huawei, stories=8)
    data = training.training_set(target=huawei)
    article_of = dict(zip(data.texts, data.article_ids, strict=True))
    across = [
        (a, b)
        for a in data.texts
        for b in data.texts
        if a < b and near(a, b) and article_of[a] != article_of[b]
    ]
    assert len(across) == 8 * 3  # the corpus reprints across articles, as built

    cross_validation = classifier.cv_splits(data.labels, data.groups(), grouped_by=training.GROUPED_BY)

    assert cross_validation.validation.grouped and cross_validation.validation.folds == 5
    for fitted, validated in cross_validation.splits:
        for v in validated:
            assert not [t for t in fitted if near(data.texts[v], data.texts[t])], data.texts[v]


def test_a_retrain_says_its_folds_are_grouped_by_article_and_duplicate_group(huawei):
    reprinted_stories(huawei, stories=8)

    cv = training.retrain(target=huawei).version.metrics["cv"]

    # A story's article and its reprint are one group: 16 articles, 8 groups.
    assert (cv["grouped"], cv["groups"], cv["n"]) == (True, 8, 8 * 12)
    assert "grouped by article and duplicate group (8 groups): no group in both a training fold" in cv["how"]


def test_a_near_copy_of_an_evaluation_slice_sentence_is_never_trained_on(huawei):
    reprinted_stories(huawei, stories=12)
    huawei.control_share = 0.3
    huawei.save(update_fields=["control_share"])
    sentences = list(Sentence.objects.all())
    held = [s.text for s in sentences if in_control_set(target=huawei, sentence_id=s.pk)]
    copies = [
        s.text
        for s in sentences
        if not in_control_set(target=huawei, sentence_id=s.pk) and any(near(s.text, h) for h in held)
    ]
    assert len(copies) >= 3 and len(held) >= 10  # the hash splits some pairs between slice and rest

    data = training.training_set(target=huawei)
    version = training.retrain(target=huawei).version

    assert sorted(data.slice_texts) == sorted(held)
    assert not [text for text in data.texts if any(near(text, h) for h in held)]
    assert data.slice_copies == len(copies)
    assert version.train_size == len(sentences) - len(held) - len(copies) == len(data.texts)
    assert version.metrics["evaluation_slice"]["copies_left_out"] == len(copies)
    assert version.metrics["evaluation_slice"]["n"] == len(held)
