"""Which articles the split holds (annotate.export.export_splits): those with
a stance label or an adjudication. An article whose only gold comes from a curator is
exported and has a split; an article with nothing but skips is not exported and does not
move the other articles between splits."""

from __future__ import annotations

import pytest

from annotate.adjudication import adjudication_record
from annotate.dataset_card import summary_from_counts
from annotate.export import ExportSpec, export_rows, export_splits, export_summary
from annotate.queue.record import annotation_record
from annotate.splits import SPLITS, article_splits
from annotate.summary import article_counts, article_label_counts, fresh_summary
from tests.factories import ArticleFactory, SentenceFactory

pytestmark = pytest.mark.django_db

SEED = 42


@pytest.fixture
def corpus(huawei, annotator, other_annotator, curator):
    """Ten labelled articles, one settled by a curator without labels, one settled after
    its labels were all skips, and one with skips only."""
    labelled = []
    for i in range(10):
        sentence = SentenceFactory(article=ArticleFactory(title=f"Labelled {i}"))
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
        labelled.append(sentence.article_id)
    settled = SentenceFactory(article=ArticleFactory(title="Settled only"))
    adjudication_record(curator=curator, sentence=settled, target=huawei, label="contra")
    settled_skips = SentenceFactory(article=ArticleFactory(title="Skipped, then settled"))
    skipped = SentenceFactory(article=ArticleFactory(title="Skips only"))
    for sentence in (settled_skips, skipped):
        for who in (annotator, other_annotator):
            annotation_record(annotator=who, sentence=sentence, target=huawei, label="skip")
    adjudication_record(curator=curator, sentence=settled_skips, target=huawei, label="neutral")
    return {
        "labelled": labelled,
        "settled": settled,
        "settled_skips": settled_skips,
        "skipped": skipped,
    }


def test_the_ranking_holds_settled_articles_and_leaves_out_skip_only_ones(huawei, corpus):
    ranked = set(export_splits(target=huawei, seed=SEED))
    assert corpus["settled"].article_id in ranked
    assert corpus["settled_skips"].article_id in ranked
    assert corpus["skipped"].article_id not in ranked
    assert ranked == {*corpus["labelled"], corpus["settled"].article_id, corpus["settled_skips"].article_id}


def test_an_article_settled_without_stance_labels_is_exported_with_a_split(huawei, corpus):
    rows = {
        row["sentence_id"]: row
        for row in export_rows(ExportSpec(target=huawei, level="gold", split=True, seed=SEED))
    }
    for key, label in (("settled", "contra"), ("settled_skips", "neutral")):
        row = rows[corpus[key].id]
        assert (row["label"], row["method"], row["votes"]) == (label, "adjudicated", 0)
        assert row["split"] in {name for name, _ in SPLITS}


def test_an_article_with_only_skips_is_not_exported_and_moves_no_other_article(huawei, corpus):
    skipped = corpus["skipped"].article_id
    articles = article_counts(target=huawei)
    others = articles["ids"]

    def split_of(ids: list[int], seed: int) -> dict[int, str]:
        strata = [articles["gold"][others.index(a)] if a in others else [0, 0, 0] for a in ids]
        return article_splits(ids=ids, strata=strata, seed=seed)

    for seed in (1, 7, 42):
        expected = split_of(others, seed)
        for level in ("gold", "annotations"):
            rows = list(export_rows(ExportSpec(target=huawei, level=level, split=True, seed=seed)))
            assert rows
            assert skipped not in {row["article_id"] for row in rows}
            assert all(row["split"] == expected[row["article_id"]] for row in rows)


def test_the_dataset_card_ranks_the_same_articles_as_the_export(huawei, corpus):
    """The card counts labels per split from the summary's per-article counts
    (annotate.summary.article_counts): the same articles, so the same splits."""
    assert article_counts(target=huawei)["ids"] == sorted(export_splits(target=huawei, seed=SEED))
    fresh_summary(target=huawei)
    for level in ("gold", "annotations"):
        spec = ExportSpec(target=huawei, level=level, split=True, seed=SEED)
        fast = summary_from_counts(spec=spec, articles=article_label_counts(target=huawei))
        slow = export_summary(spec=spec)
        assert fast.rows == slow.rows
        assert {k: +v for k, v in fast.labels.items()} == {k: +v for k, v in slow.labels.items()}
