"""The figures counted in the database equal the straightforward computation, vote by vote."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from annotate.agreement_data import agreement_by_article, agreement_set
from annotate.agreement_figures import Figures
from annotate.gold import gold_labels
from annotate.models import STANCE_LABELS, Adjudication, Annotation, Sentence
from annotate.summary import NO_SOURCE, distributions
from tests import reference_agreement as reference
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def same(fast: Figures, slow: Figures) -> None:
    assert fast.labels == slow.labels
    assert fast.annotators == slow.annotators
    assert (fast.alpha_sentences, fast.fleiss_sentences) == (slow.alpha_sentences, slow.fleiss_sentences)
    for name in ("alpha", "fleiss", "percent"):
        expected = getattr(slow, name)
        assert getattr(fast, name) == (None if expected is None else pytest.approx(expected, abs=1e-12)), name
    assert [(p.annotator_a, p.annotator_b, p.sentences) for p in fast.pairs] == [
        (p.annotator_a, p.annotator_b, p.sentences) for p in slow.pairs
    ]
    for mine, theirs in zip(fast.pairs, slow.pairs, strict=True):
        assert mine.kappa == (None if theirs.kappa is None else pytest.approx(theirs.kappa, abs=1e-12))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counted_figures_equal_the_vote_by_vote_computation_on_random_labels(seed):
    """Missing labels (not everyone labels everything), ties, skips, one-label sentences,
    sentences with only skips, suggestions shown or not, adjudications."""
    rng = random.Random(seed)
    target = TargetFactory(overlap=3)
    articles = [ArticleFactory(source=rng.choice(["Reuters", "TASS", ""])) for _ in range(6)]
    sentences = [SentenceFactory(article=articles[i % 6], position=i) for i in range(60)]
    people = UserFactory.create_batch(5)
    rows = []
    for sentence in sentences:
        lean = rng.choice(STANCE_LABELS)
        for person in rng.sample(people, rng.randint(0, 4)):
            label = rng.choice([lean, lean, *STANCE_LABELS, "skip"])
            rows.append(
                Annotation(
                    annotator=person,
                    sentence=sentence,
                    target=target,
                    label=label,
                    suggestion_shown=rng.random() < 0.6,
                )
            )
    Annotation.objects.bulk_create(rows)
    curator = UserFactory()
    for sentence in rng.sample(sentences, 8):
        Adjudication.objects.create(
            sentence=sentence, target=target, curator=curator, label=rng.choice(STANCE_LABELS)
        )

    fast = agreement_set(target=target)
    same(fast.overall, reference.target_agreement(target))
    slow_by_source = reference.agreement_by(target, "sentence__article__source")
    assert fast.by_source.keys() == {str(k) for k in slow_by_source}
    for source, figures in slow_by_source.items():
        same(fast.by_source[str(source)], figures)
    for scope, figures in reference.agreement_by_suggestion(target).items():
        same(fast.by_suggestion[scope], figures)
    by_article = agreement_by_article(target=target, articles=[a.pk for a in articles])
    for article, figures in reference.agreement_by(target, "sentence__article_id").items():
        same(by_article[article], figures)

    overall, by_source = distributions(target=target)
    sources = dict(Sentence.objects.values_list("id", "article__source"))
    expected_overall, expected_by_source = Counter(), Counter()
    for gold in gold_labels(target=target):
        key = gold.label or "unresolved"
        expected_overall[key] += 1
        expected_by_source[sources[gold.sentence_id] or NO_SOURCE, key] += 1
    assert {**overall.counts, "unresolved": overall.unresolved} == {
        label: expected_overall[label] for label in [*STANCE_LABELS, "unresolved"]
    }
    for source, distribution in by_source.items():
        for label in STANCE_LABELS:
            assert distribution.counts[label] == expected_by_source[source, label]
        assert distribution.unresolved == expected_by_source[source, "unresolved"]
