"""Alpha's bootstrap interval, alpha per label and with each annotator left out: against
Krippendorff's worked example, the vote-by-vote computation, and a plain vote-level bootstrap."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotate import agreement
from annotate.agreement import alpha_interval, figures, reliability
from annotate.agreement_data import agreement_by_article, agreement_set
from annotate.agreement_figures import Vote, interval_text
from annotate.models import STANCE_LABELS, Annotation
from tests import reference_agreement as reference
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory
from tests.test_agreement import krippendorff_votes


def random_votes(seed: int, *, sentences: int, annotators: int = 4) -> list[Vote]:
    """Sentences leaning to one label, labelled by two to four of the annotators."""
    rng = random.Random(seed)
    votes = []
    for sentence in range(sentences):
        lean = rng.choice(STANCE_LABELS)
        for person in rng.sample(range(annotators), rng.randint(1, min(4, annotators))):
            votes.append(Vote(sentence, person, rng.choice([lean, lean, lean, *STANCE_LABELS])))
    return votes


def test_alpha_per_label_on_krippendorffs_example_is_the_recoded_alpha():
    votes = krippendorff_votes()
    found, categories = reliability(votes)
    assert categories == ["1", "2", "3", "4"]
    for row in found.per_label:
        assert row.alpha == pytest.approx(reference.label_alpha(votes, row.label), abs=1e-12)
        assert row.sentences == 12
    # The pairable values of each, as Krippendorff (2011) counts them: 7, 4, 10, 5 of 26.
    assert [row.labels for row in found.per_label] == [7, 4, 10, 5]
    # Value "1" against the rest, by hand: only unit 8 (1 and 3) disagrees, so the observed
    # coincidences off the diagonal sum to 2; expected (26^2 - 7^2 - 19^2) / 25 = 266 / 25.
    assert found.per_label[0].alpha == pytest.approx(1 - 2 * 25 / 266, abs=1e-12)


def test_alpha_with_each_observer_left_out_of_krippendorffs_example():
    votes = krippendorff_votes()
    found, _ = reliability(votes)
    assert [row.annotator for row in found.left_out] == [0, 1, 2]
    for row in found.left_out:
        alpha, sentences = reference.left_out_alpha(votes, row.annotator)
        assert row.alpha == pytest.approx(alpha, abs=1e-12)
        assert row.sentences == sentences
    # Without observer C, units 6, 7 and 8 keep two values (3/3, 4/4, 1/3): by hand, observed
    # 2 (unit 8), expected (6^2 - 3^2 - 2^2 - 1^2) / 5 = 22 / 5, alpha 1 - 10/22.
    assert found.left_out[2].alpha == pytest.approx(1 - 10 / 22, abs=1e-12)
    assert (found.left_out[2].sentences, found.left_out[2].labels) == (3, 6)
    # Labels taken out: those on sentences with two or more (B's lone value on unit 1 is not).
    assert [row.own_labels for row in found.left_out] == [9, 6, 11]


def test_left_out_covers_only_the_annotators_with_the_most_labels_up_to_the_limit():
    votes = random_votes(5, sentences=80, annotators=6)
    found, _ = reliability(votes, limit=2)
    most = sorted({v.annotator_id for v in votes}, key=lambda a: -sum(v.annotator_id == a for v in votes))
    assert [row.annotator for row in found.left_out] == sorted(most[:2])
    assert found.annotators == 6 and found.left_out_limit == 2


@pytest.mark.parametrize("seed", [1, 2])
def test_per_label_and_left_out_alphas_equal_the_vote_by_vote_ones_on_random_votes(seed):
    votes = random_votes(seed, sentences=120, annotators=5)
    found, _ = reliability(votes)
    for row in found.per_label:
        assert row.alpha == pytest.approx(reference.label_alpha(votes, row.label), abs=1e-12)
    assert len(found.left_out) == 5
    for row in found.left_out:
        assert row.alpha == pytest.approx(reference.left_out_alpha(votes, row.annotator)[0], abs=1e-12)


def counts(votes: list[Vote]) -> np.ndarray:
    table, _ = agreement._table(votes)
    return table


def test_the_interval_is_the_same_with_the_same_seed_and_differs_with_another():
    table = counts(random_votes(3, sentences=200))
    first = alpha_interval(table)
    assert first == alpha_interval(table)
    assert first == alpha_interval(table[::-1])  # whatever order the GROUP BY returned
    assert first != alpha_interval(table, seed=agreement.BOOTSTRAP_SEED + 1)
    assert first[2] == agreement.REPLICATES == 1000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_interval_contains_the_point_estimate(seed):
    votes = random_votes(seed, sentences=150)
    low, high, _ = alpha_interval(counts(votes))
    alpha, _ = reference.krippendorff_alpha(votes)
    assert low < alpha < high


def test_the_interval_shrinks_with_more_sentences():
    small = counts(random_votes(4, sentences=100))
    large = np.concatenate([small] * 9)  # the same agreement on nine times the sentences
    low, high, _ = alpha_interval(small)
    wide_low, wide_high = low, high
    low, high, _ = alpha_interval(large)
    assert high - low < (wide_high - wide_low) / 2  # about 1/3: the width goes as 1/sqrt(n)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_pattern_bootstrap_matches_a_vote_level_bootstrap_within_monte_carlo_error(seed):
    votes = random_votes(seed, sentences=120)
    low, high, _ = alpha_interval(counts(votes), replicates=2000)
    plain_low, plain_high = reference.bootstrap_interval(votes, replicates=2000, seed=seed + 100)
    # Two independent bootstraps of 2000 resamples: their 2.5th and 97.5th percentiles
    # differ by about 0.01 here; a bootstrap of the wrong thing (votes, not sentences, or
    # without replacement) is off by more than 0.03.
    assert low == pytest.approx(plain_low, abs=0.02)
    assert high == pytest.approx(plain_high, abs=0.02)


def test_each_figure_says_how_many_sentences_and_resamples_it_rests_on():
    votes = krippendorff_votes()
    found = figures(votes, overlap=3)
    assert (found.alpha_sentences, found.labels, found.alpha_replicates) == (12, 27, 1000)
    assert found.alpha_low is not None and found.alpha_high is not None
    assert interval_text(found) == f"95 % CI {found.alpha_low:.3f}–{found.alpha_high:.3f}"
    assert interval_text(figures([], overlap=2)) == ""
    details, _ = reliability(votes)
    assert (details.replicates, details.seed, details.level) == (1000, agreement.BOOTSTRAP_SEED, 0.95)
    assert "1000 resamples" in details.method and "sentences" in details.method


@pytest.mark.django_db
def test_the_target_figures_from_the_database_equal_the_vote_by_vote_ones():
    rng = random.Random(7)
    target = TargetFactory(overlap=3)
    articles = [ArticleFactory(source=rng.choice(["Reuters", "TASS"])) for _ in range(4)]
    sentences = [SentenceFactory(article=articles[i % 4], position=i) for i in range(60)]
    people = UserFactory.create_batch(5)
    rows = []
    for sentence in sentences:
        lean = rng.choice(STANCE_LABELS)
        for person in rng.sample(people, rng.randint(0, 4)):
            label = rng.choice([lean, lean, *STANCE_LABELS, "skip"])
            rows.append(Annotation(annotator=person, sentence=sentence, target=target, label=label))
    Annotation.objects.bulk_create(rows)

    found = agreement_set(target=target)
    votes = reference.votes_for(target)
    expected, _ = reliability(votes)
    assert found.reliability.per_label == expected.per_label
    assert [r.annotator for r in found.reliability.left_out] == [r.annotator for r in expected.left_out]
    for mine, theirs in zip(found.reliability.left_out, expected.left_out, strict=True):
        assert mine.alpha == pytest.approx(theirs.alpha, abs=1e-12)
        assert (mine.sentences, mine.labels, mine.own_labels) == (
            theirs.sentences,
            theirs.labels,
            theirs.own_labels,
        )
    for person in people:
        alpha, _ = reference.left_out_alpha(votes, person.pk)
        row = next(r for r in found.reliability.left_out if r.annotator == person.pk)
        assert row.alpha == pytest.approx(alpha, abs=1e-12)
    plain = figures(votes, overlap=3)
    assert (found.overall.alpha_low, found.overall.alpha_high) == (plain.alpha_low, plain.alpha_high)
    assert found.overall.alpha_replicates == 1000
    assert all(f.alpha_replicates == 1000 for f in found.by_source.values())
    # Per article: no interval (a page of articles would be a page of bootstraps).
    assert all(
        f.alpha_replicates == 0 and f.alpha_low is None
        for f in agreement_by_article(target=target, articles=[a.pk for a in articles]).values()
    )
