"""Reprinted sentences in the database (annotate/duplicate_groups.py) and the splits built on
them: on a generated corpus where outlets reprint each other's sentences, word for word,
with case, quote and whitespace changes, or with a word changed, no duplicate group and
no pair of articles sharing one is ever in two splits."""

from __future__ import annotations

import io
import random
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from annotate import summary
from annotate.corpus import ParsedArticle, articles_import
from annotate.dataset_card import card_counts, dataset_card
from annotate.duplicate_groups import backfill_exact, duplicates_refresh
from annotate.duplicates import sentence_groups
from annotate.export import ExportSpec, export_rows
from annotate.models import Article, Sentence
from annotate.queue.record import annotation_record
from annotate.summary import fresh_summary
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

WORDS = (
    "government company network minister officials security China Britain Huawei equipment "
    "telecom decision ambassador country risk pressure cooperation investment market technology "
    "infrastructure operators mobile suppliers contracts warned allies review parliament"
).split()


def _sentence(rng: random.Random) -> str:
    return "The " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(9, 16))) + " said."


def _reprint(text: str, rng: random.Random) -> str:
    """A reprint: exact, or with case, quotes and spacing changed, or one word changed."""
    kind = rng.randrange(4)
    if kind == 0:
        return text
    if kind == 1:
        return "\u201c" + text.upper().replace(" ", "  ") + "\u201d"
    if kind == 2:
        return text.replace(" said.", ", he said!").replace("The ", "the\t", 1)
    words = text.split()
    words[rng.randrange(1, len(words) - 1)] = "replacement"
    return " ".join(words)


def _corpus(seed: int = 5, articles: int = 36) -> list[list[str]]:
    rng = random.Random(seed)
    bodies = [[_sentence(rng) for _ in range(rng.randint(4, 9))] for _ in range(articles)]
    for _ in range(articles // 2):  # one article in two reprints one of another's
        source, target = rng.sample(range(articles), 2)
        bodies[target].insert(
            rng.randrange(len(bodies[target]) + 1), _reprint(rng.choice(bodies[source]), rng)
        )
    return bodies


@pytest.fixture
def reprinted(huawei, annotator):
    bodies = _corpus()
    articles_import(
        articles=[ParsedArticle(title=f"Article {i}", body="\n".join(body)) for i, body in enumerate(bodies)]
    )
    rng = random.Random(1)
    for sentence in Sentence.objects.order_by("id"):
        label = rng.choices(["pro", "contra", "neutral"], weights=[6, 3, 1])[0]
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label=label)
    duplicates_refresh()
    return bodies


def _groups_of_export() -> dict[int, int]:
    """Duplicate groups recomputed from the texts, independently of the stored ones."""
    return sentence_groups(Sentence.objects.values_list("id", "text")).group


def test_the_import_groups_exact_reprints_in_its_batches(huawei):
    text = "The minister said the network would stay open to every supplier this year."
    variants = [text, text.upper(), "\u201c" + text.replace(" ", " \t ") + "\u201d", text.replace(".", "!")]
    articles_import(
        articles=[ParsedArticle(title=f"A{i}", body=v) for i, v in enumerate(variants)], batch_size=2
    )
    groups = list(Sentence.objects.order_by("id").values_list("id", "duplicate_group"))
    assert {group for _, group in groups} == {groups[0][0]}


def test_a_near_identical_reprint_is_grouped_by_the_scan(huawei):
    text = "The minister said the network would stay open to every supplier this year."
    articles_import(
        articles=[
            ParsedArticle(title="A", body=text),
            ParsedArticle(title="B", body=text.replace("supplier", "vendor")),
        ]
    )
    first, second = Sentence.objects.order_by("id")
    assert second.duplicate_group == second.id  # exact keys differ
    result = duplicates_refresh()
    assert result is not None and result.near_links == 1
    assert Sentence.objects.get(pk=second.pk).duplicate_group == first.id
    assert duplicates_refresh() is None  # unchanged corpus: no second scan


def test_a_scan_that_joins_sentences_makes_every_stored_summary_stale(huawei, annotator):
    text = "The minister said the network would stay open to every supplier this year."
    articles_import(
        articles=[
            ParsedArticle(title="A", body=text),
            ParsedArticle(title="B", body=text.replace("supplier", "vendor")),
        ]
    )
    for sentence in Sentence.objects.all():
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    stored = summary.compute(target=huawei)
    assert summary.is_current(stored, changes_now=summary.changes_now(target=huawei))

    duplicates_refresh()  # joins the two articles into one unit of the split

    assert not summary.is_current(stored, changes_now=summary.changes_now(target=huawei))
    computed = summary.compute(target=huawei)
    assert duplicates_refresh(force=True) is not None  # nothing moves: still current
    assert summary.is_current(computed, changes_now=summary.changes_now(target=huawei))


def test_a_scan_that_joins_sentences_makes_the_summary_of_a_target_without_labels_stale_too(huawei):
    """Its change counter row is made with the target, so the scan's bump reaches it."""
    text = "The minister said the network would stay open to every supplier this year."
    articles_import(
        articles=[
            ParsedArticle(title="A", body=text),
            ParsedArticle(title="B", body=text.replace("supplier", "vendor")),
        ]
    )
    unlabelled = TargetFactory(name="Nokia")
    stored = summary.compute(target=unlabelled)

    duplicates_refresh()

    assert summary.changes_now(target=unlabelled) == stored.changes + 1
    assert not summary.is_current(stored, changes_now=summary.changes_now(target=unlabelled))


def test_no_duplicate_group_is_in_two_splits_for_any_seed(huawei, reprinted):
    groups = _groups_of_export()
    assert len(set(groups.values())) < len(groups)  # the corpus holds reprints
    for seed in range(25):
        split_of_group: dict[int, set[str]] = defaultdict(set)
        for row in export_rows(ExportSpec(target=huawei, level="gold", split=True, seed=seed)):
            split_of_group[groups[row["sentence_id"]]].add(row["split"])
        assert all(len(splits) == 1 for splits in split_of_group.values()), seed


def test_articles_sharing_a_group_land_in_one_split(huawei, reprinted):
    groups = _groups_of_export()
    articles_of: dict[int, set[int]] = defaultdict(set)
    for sentence_id, article_id in Sentence.objects.values_list("id", "article_id"):
        articles_of[groups[sentence_id]].add(article_id)
    shared = [articles for articles in articles_of.values() if len(articles) > 1]
    assert shared
    for seed in (0, 13, 99):
        split = {
            row["article_id"]: row["split"]
            for row in export_rows(ExportSpec(target=huawei, level="annotations", split=True, seed=seed))
        }
        for articles in shared:
            assert len({split[a] for a in articles}) == 1


def test_the_card_counts_the_same_splits_as_the_export(huawei, reprinted):
    figures = fresh_summary(target=huawei)
    for seed in (13, 4):
        spec = ExportSpec(target=huawei, level="gold", split=True, seed=seed)
        counted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in export_rows(spec):
            counted[row["split"]][row["label"]] += 1
        card = card_counts(spec=spec, figures=figures)
        assert {k: dict(v) for k, v in counted.items()} == {k: dict(v) for k, v in card.labels.items() if v}


def _lopsided(huawei, annotator) -> None:
    """Ten articles, all pro but one contra sentence: some split lacks contra."""
    rng = random.Random(2)
    for i in range(10):
        body = "\n".join(_sentence(rng) for _ in range(4))
        articles_import(articles=[ParsedArticle(title=f"L{i}", body=body)])
    for n, sentence in enumerate(Sentence.objects.order_by("id")):
        annotation_record(
            annotator=annotator, sentence=sentence, target=huawei, label="contra" if n == 0 else "pro"
        )


def test_a_split_without_a_class_is_warned_about_on_stderr_and_in_the_card(huawei, annotator, tmp_path):
    _lopsided(huawei, annotator)
    err = io.StringIO()
    output = tmp_path / "gold.jsonl"
    call_command(
        "export_dataset", "--target", "Huawei", "--format", "jsonl", "--level", "gold", "--split",
        "--output", str(output), "--card", stderr=err, stdout=io.StringIO(),
    )  # fmt: skip
    assert "Warning: The dev split has no contra row." in err.getvalue() or (
        "Warning: The test split has no contra row." in err.getvalue()
    )
    card = (tmp_path / "gold.card.md").read_text()
    assert "## Warnings" in card
    assert "split has no contra row." in card
    spec = ExportSpec(target=huawei, level="gold", split=True)
    figures = fresh_summary(target=huawei)
    assert "## Warnings" in dataset_card(
        spec=spec, summary=card_counts(spec=spec, figures=figures), figures=figures
    )


def test_an_unsplit_export_warns_of_nothing(huawei, annotator):
    _lopsided(huawei, annotator)
    err = io.StringIO()
    call_command(
        "export_dataset", "--target", "Huawei", "--format", "jsonl", "--level", "gold",
        stderr=err, stdout=io.StringIO(),
    )  # fmt: skip
    assert err.getvalue() == ""


def test_the_migration_backfill_sets_every_exact_group(huawei):
    text = "The minister said the network would stay open to every supplier this year."
    articles_import(
        articles=[ParsedArticle(title=f"A{i}", body=v) for i, v in enumerate([text, text.upper(), "Other."])]
    )
    Sentence.objects.update(text_key=None, duplicate_group=None)
    backfill_exact(connection, batch_size=2)
    a, b, c = Sentence.objects.order_by("id")
    assert (a.duplicate_group, b.duplicate_group, c.duplicate_group) == (a.id, a.id, c.id)
    assert Article.objects.count() == 3


def test_the_dashboard_warns_beside_the_export(huawei, annotator, admin_client_):
    _lopsided(huawei, annotator)
    fresh_summary(target=huawei)
    page = admin_client_.get(reverse("dashboard", args=[huawei.id])).content.decode()
    assert "Export gold labels (JSONL)" in page
    assert "split has no contra row." in page
