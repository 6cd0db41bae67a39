from __future__ import annotations

import pytest

from annotate.agreement import cohen_pairs, fleiss, krippendorff_alpha, percent_agreement
from annotate.agreement_data import agreement_by_article, agreement_set
from annotate.agreement_figures import Vote, sentence_agreement
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", reliability data with
# missing values: three observers, fifteen units; nominal alpha = 0.691.
KRIPPENDORFF_EXAMPLE = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]

# Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
FLEISS_EXAMPLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def krippendorff_votes() -> list[Vote]:
    return [
        Vote(unit, coder, str(value))
        for coder, row in enumerate(KRIPPENDORFF_EXAMPLE)
        for unit, value in enumerate(row)
        if value is not None
    ]


def fleiss_votes() -> list[Vote]:
    votes = []
    for subject, row in enumerate(FLEISS_EXAMPLE):
        rater = 0
        for category, count in enumerate(row):
            for _ in range(count):
                votes.append(Vote(subject, rater, f"c{category}"))
                rater += 1
    return votes


def test_alpha_matches_krippendorffs_worked_example():
    alpha, sentences = krippendorff_alpha(krippendorff_votes())
    assert alpha == pytest.approx(0.691, abs=0.001)
    assert sentences == 12  # units with two or more values


def test_alpha_matches_krippendorffs_binary_example_for_two_coders():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section A: alpha = 0.095.
    coder_a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    coder_b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    votes = [Vote(u, 1, str(v)) for u, v in enumerate(coder_a)] + [
        Vote(u, 2, str(v)) for u, v in enumerate(coder_b)
    ]
    alpha, sentences = krippendorff_alpha(votes)
    assert alpha == pytest.approx(0.095, abs=0.001)
    assert sentences == 10


def test_alpha_is_undefined_without_two_values_on_one_sentence():
    assert krippendorff_alpha([Vote(1, 1, "pro"), Vote(2, 1, "contra")]) == (None, 0)


def test_fleiss_kappa_matches_the_worked_example():
    kappa, sentences = fleiss(fleiss_votes(), raters=14)
    assert kappa == pytest.approx(0.210, abs=0.001)
    assert sentences == 10


def test_fleiss_kappa_uses_only_sentences_with_the_full_overlap():
    votes = [Vote(1, 1, "pro"), Vote(1, 2, "pro"), Vote(2, 1, "pro"), Vote(2, 2, "contra"), Vote(3, 1, "pro")]
    assert fleiss(votes, raters=2)[1] == 2


def test_cohen_kappa_per_pair_of_annotators_on_shared_sentences():
    votes = [Vote(s, 1, label) for s, label in enumerate(["pro", "pro", "contra", "neutral"])]
    votes += [Vote(s, 2, label) for s, label in enumerate(["pro", "contra", "contra", "neutral"])]
    votes += [Vote(9, 3, "pro")]  # shares nothing with anyone
    [pair] = cohen_pairs(votes)
    assert (pair.annotator_a, pair.annotator_b, pair.sentences) == (1, 2, 4)
    # po = 3/4; pe = (2/4*1/4) + (1/4*2/4) + (1/4*1/4) = 5/16
    assert pair.kappa == pytest.approx((0.75 - 5 / 16) / (1 - 5 / 16))


def test_percent_agreement_is_the_share_of_agreeing_pairs():
    votes = [Vote(1, 1, "pro"), Vote(1, 2, "pro"), Vote(2, 1, "pro"), Vote(2, 2, "contra"), Vote(3, 1, "pro")]
    assert percent_agreement(votes) == (0.5, 2)
    assert sentence_agreement({"pro": 2, "contra": 1}) == pytest.approx(1 / 3)
    assert sentence_agreement({"pro": 1}) is None


def test_perfect_agreement_on_one_label_is_one_not_undefined():
    votes = [Vote(1, 1, "pro"), Vote(1, 2, "pro"), Vote(2, 1, "pro"), Vote(2, 2, "pro")]
    assert krippendorff_alpha(votes) == (1.0, 2)


def test_no_overlap_means_no_figures():
    assert krippendorff_alpha([Vote(1, 1, "pro"), Vote(2, 2, "contra")]) == (None, 0)
    assert fleiss([Vote(1, 1, "pro")], raters=2) == (None, 0)


@pytest.mark.django_db
def test_target_agreement_leaves_out_skips_and_splits_by_source_and_suggestion(huawei):
    ann, bob = UserFactory(username="a1", role="annotator"), UserFactory(username="b1", role="annotator")
    reuters, tass = ArticleFactory(source="Reuters"), ArticleFactory(source="TASS")
    plan = [
        (reuters, "pro", "pro", True),
        (reuters, "contra", "contra", True),
        (tass, "pro", "contra", False),
        (tass, "neutral", "skip", False),
    ]
    for position, (article, first, second, shown) in enumerate(plan):
        sentence = SentenceFactory(article=article, position=position)
        annotation_record(
            annotator=ann, sentence=sentence, target=huawei, label=first, suggestion_shown=shown
        )
        annotation_record(
            annotator=bob, sentence=sentence, target=huawei, label=second, suggestion_shown=shown
        )
    figures = agreement_set(target=huawei)
    overall = figures.overall
    assert (overall.labels, overall.alpha_sentences, overall.fleiss_sentences) == (7, 3, 3)
    assert overall.percent == pytest.approx(2 / 3)
    by_source = figures.by_source
    assert by_source["Reuters"].percent == 1.0
    assert by_source["TASS"].percent == 0.0
    split = figures.by_suggestion
    assert split["with suggestion"].percent == 1.0
    assert split["without suggestion"].alpha_sentences == 1
    by_article = agreement_by_article(target=huawei, articles=[reuters.pk, tass.pk])
    assert by_article[reuters.pk].percent == 1.0
    assert by_article[tass.pk].labels == 3
    assert agreement_by_article(target=huawei, articles=[tass.pk]).keys() == {tass.pk}
