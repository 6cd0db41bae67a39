"""The gold rule a target chooses (annotate.aggregation): Dawid-Skene's loader, its gold
labels, and the export, command, download and dataset card that use them."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.aggregation import CLASS, dawid_skene_gold, label_arrays, target_gold
from annotate.dataset_card import card_counts, dataset_card
from annotate.export import ExportSpec, export_rows, export_stream, export_summary
from annotate.gold import Method, gold_labels
from annotate.models import STANCE_LABELS, Adjudication, Annotation, GoldMethod, Label, Target
from annotate.summary import fresh_summary, summary_for
from tests.factories import ArticleFactory, SentenceFactory, UserFactory, target_settings

pytestmark = pytest.mark.django_db

#: One careful annotator; two who say neutral six times in ten whatever the sentence.
CAREFUL = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])
LAZY = np.array([[0.4, 0.0, 0.6], [0.0, 0.4, 0.6], [0.0, 0.0, 1.0]])


def labelled(target: Target, *, sentences: int = 90, articles: int = 9, seed: int = 4):
    """Sentences labelled by the careful annotator and the two lazy ones, drawn with a
    seeded generator from their matrices; returns the sentences and the true stances."""
    rng = np.random.default_rng(seed)
    users = [UserFactory(username=name, role="annotator") for name in ("careful", "lazy1", "lazy2")]
    matrices = [CAREFUL, LAZY, LAZY]
    per_article = sentences // articles
    made = [
        SentenceFactory(article=article, position=i)
        for article in (ArticleFactory(source=f"Outlet {a % 3}") for a in range(articles))
        for i in range(per_article)
    ]
    truth = rng.choice(3, size=len(made), p=[0.3, 0.25, 0.45])
    Annotation.objects.bulk_create(
        Annotation(
            annotator=user,
            sentence=sentence,
            target=target,
            label=STANCE_LABELS[rng.choice(3, p=matrix[true])],
        )
        for sentence, true in zip(made, truth, strict=True)
        for user, matrix in zip(users, matrices, strict=True)
    )
    return made, truth


def dawid_skene(target: Target) -> Target:
    target.gold_method = GoldMethod.DAWID_SKENE
    target.save(update_fields=["gold_method"])
    return target


# The loader ------------------------------------------------------------------------------


def test_the_loader_reads_every_stance_label_in_one_query_and_no_skip(
    huawei, sentences, annotator, other_annotator, django_assert_num_queries
):
    Annotation.objects.create(annotator=annotator, sentence=sentences[0], target=huawei, label=Label.CONTRA)
    Annotation.objects.create(
        annotator=other_annotator, sentence=sentences[0], target=huawei, label=Label.SKIP
    )
    Annotation.objects.create(
        annotator=other_annotator, sentence=sentences[1], target=huawei, label=Label.NEUTRAL
    )

    with django_assert_num_queries(1):
        arrays = label_arrays(target=huawei)

    rows = sorted(
        zip(arrays.sentences.tolist(), arrays.annotators.tolist(), arrays.classes.tolist(), strict=True)
    )
    assert rows == [
        (sentences[0].pk, annotator.pk, CLASS["contra"]),
        (sentences[1].pk, other_annotator.pk, CLASS["neutral"]),
    ]


def test_a_fit_reads_the_labels_and_the_adjudications_in_two_queries(huawei, django_assert_num_queries):
    labelled(huawei, sentences=30, articles=3)

    with django_assert_num_queries(2):
        model = dawid_skene_gold(target=huawei)

    assert model.fit.item_ids.size == 30 and model.fit.converged


def test_an_adjudicated_sentence_keeps_its_gold_whatever_the_labels_say(huawei, curator):
    made, _ = labelled(huawei, sentences=30, articles=3)
    Annotation.objects.filter(target=huawei, sentence=made[0]).update(label=Label.PRO)
    Adjudication.objects.create(sentence=made[0], target=huawei, label="contra", curator=curator)
    lone = SentenceFactory()  # adjudicated with no label at all
    Adjudication.objects.create(sentence=lone, target=huawei, label="neutral", curator=curator)

    golds = {gold.sentence_id: gold for gold in dawid_skene_gold(target=huawei).golds()}

    assert (golds[made[0].pk].label, golds[made[0].pk].method) == ("contra", Method.ADJUDICATED)
    assert golds[made[0].pk].posterior == {"pro": 0.0, "contra": 1.0, "neutral": 0.0}
    assert golds[made[0].pk].counts == {"pro": 3}
    assert (golds[lone.pk].label, golds[lone.pk].votes) == ("neutral", 0)
    assert {gold.method for pk, gold in golds.items() if pk not in (made[0].pk, lone.pk)} <= {
        Method.DAWID_SKENE,
        Method.UNRESOLVED,
    }


def test_more_clamped_sentences_are_held_and_an_adjudication_wins_over_them(huawei, curator):
    made, _ = labelled(huawei, sentences=30, articles=3)
    Adjudication.objects.create(sentence=made[1], target=huawei, label="pro", curator=curator)

    golds = {
        gold.sentence_id: gold
        for gold in dawid_skene_gold(
            target=huawei, clamped={made[0].pk: "contra", made[1].pk: "neutral"}
        ).golds()
    }

    assert (golds[made[0].pk].label, golds[made[0].pk].method) == ("contra", Method.CLAMPED)
    assert (golds[made[1].pk].label, golds[made[1].pk].method) == ("pro", Method.ADJUDICATED)


def test_a_clamped_label_that_is_not_a_stance_is_refused(huawei):
    with pytest.raises(ValueError, match="A clamped label must be one of pro, contra, neutral, not 'skip'"):
        dawid_skene_gold(target=huawei, clamped={1: "skip"})


def test_a_sentence_that_was_only_skipped_has_no_gold_under_either_rule(huawei, sentences, annotator):
    Annotation.objects.create(annotator=annotator, sentence=sentences[0], target=huawei, label=Label.SKIP)
    Annotation.objects.create(annotator=annotator, sentence=sentences[1], target=huawei, label=Label.PRO)

    assert [gold.sentence_id for gold in dawid_skene_gold(target=huawei).golds()] == [sentences[1].pk]
    assert [gold.sentence_id for gold in gold_labels(target=huawei)] == [sentences[1].pk]


def test_a_target_without_labels_has_no_gold_and_an_empty_export(huawei):
    dawid_skene(huawei)

    assert list(target_gold(target=huawei)) == []
    assert list(export_rows(ExportSpec(target=huawei, level="gold"))) == []


def test_every_annotator_gets_a_confusion_matrix_by_stance(huawei):
    labelled(huawei, sentences=300, articles=10)

    matrices = {m.annotator_id: m for m in dawid_skene_gold(target=huawei).annotators()}

    careful = Annotation.objects.filter(annotator__username="careful").values_list("annotator_id", flat=True)[
        0
    ]
    lazy = Annotation.objects.filter(annotator__username="lazy1").values_list("annotator_id", flat=True)[0]
    assert len(matrices) == 3
    assert set(matrices[careful].confusion) == set(STANCE_LABELS)
    assert sum(matrices[careful].confusion["pro"].values()) == pytest.approx(1)
    assert matrices[lazy].confusion["pro"]["neutral"] == pytest.approx(0.6, abs=0.15)
    assert matrices[careful].accuracy > 0.8 > matrices[lazy].accuracy


def test_target_gold_follows_the_targets_rule(huawei):
    labelled(huawei, sentences=90)

    majority = {g.sentence_id: g.label for g in target_gold(target=huawei) if g.resolved}
    dawid_skene(huawei)
    modelled = {g.sentence_id: g.label for g in target_gold(target=huawei) if g.resolved}

    assert majority == {g.sentence_id: g.label for g in gold_labels(target=huawei) if g.resolved}
    assert modelled == {g.sentence_id: g.label for g in dawid_skene_gold(target=huawei).golds() if g.resolved}
    assert modelled != majority  # the lazy pair's neutrals no longer win


# The export ------------------------------------------------------------------------------


def model_rows(target: Target) -> dict[int, tuple]:
    """What the model says of each resolved sentence: label, method, posterior, counts."""
    return {
        gold.sentence_id: (gold.label, gold.method, gold.posterior, gold.votes)
        for gold in dawid_skene_gold(target=target).golds()
        if gold.resolved
    }


def test_gold_rows_under_dawid_skene_carry_the_models_label_posterior_and_method(huawei, curator):
    made, truth = labelled(huawei)
    Adjudication.objects.create(sentence=made[0], target=huawei, label="contra", curator=curator)
    dawid_skene(huawei)
    fit = dawid_skene_gold(target=huawei).fit

    rows = list(export_rows(ExportSpec(target=huawei, level="gold")))

    expected = model_rows(huawei)
    assert {r["sentence_id"]: (r["label"], r["method"], r["posterior"], r["votes"]) for r in rows} == expected
    assert {r["gold_method"] for r in rows} == {"dawid_skene"}
    assert list(rows[0]) == [*ExportSpec(target=huawei, level="gold").fields]
    assert "posterior" in rows[0] and rows[0]["posterior"].keys() == set(STANCE_LABELS)
    at = {pk: i for i, pk in enumerate(fit.item_ids.tolist())}
    for row in rows:
        assert [row["posterior"][label] for label in STANCE_LABELS] == pytest.approx(
            fit.posterior[at[row["sentence_id"]]].tolist(), abs=1e-6
        )
    # And it is the better gold here: the careful annotator is followed.
    by_sentence = {r["sentence_id"]: r["label"] for r in rows}
    majority = {g.sentence_id: g.label for g in gold_labels(target=huawei)}
    right = [STANCE_LABELS[t] for t in truth]
    assert sum(by_sentence.get(s.pk) == r for s, r in zip(made, right, strict=True)) > sum(
        majority.get(s.pk) == r for s, r in zip(made, right, strict=True)
    )


def test_the_jsonl_and_csv_rows_under_dawid_skene_are_the_models_output(huawei):
    labelled(huawei, sentences=30, articles=3)
    dawid_skene(huawei)
    expected = model_rows(huawei)

    jsonl = [
        json.loads(line)
        for line in "".join(export_stream(ExportSpec(target=huawei, level="gold"))).splitlines()
    ]
    table = list(
        csv.DictReader(
            io.StringIO("".join(export_stream(ExportSpec(target=huawei, level="gold", format="csv"))))
        )
    )

    assert {
        r["sentence_id"]: (r["label"], r["method"], r["posterior"], r["votes"]) for r in jsonl
    } == expected
    assert {
        int(r["sentence_id"]): (r["label"], r["method"], json.loads(r["posterior"]), int(r["votes"]))
        for r in table
    } == expected
    assert {r["gold_method"] for r in table} == {"dawid_skene"}


def test_majority_gold_rows_name_their_rule_and_have_no_posterior(huawei):
    labelled(huawei, sentences=30, articles=3)

    rows = list(export_rows(ExportSpec(target=huawei, level="gold")))

    assert rows and {r["gold_method"] for r in rows} == {"majority"}
    assert "posterior" not in rows[0]
    assert {r["sentence_id"]: r["label"] for r in rows} == {
        g.sentence_id: g.label for g in gold_labels(target=huawei) if g.resolved
    }


def test_the_command_and_the_download_export_the_targets_rule(huawei, admin_client_, tmp_path):
    labelled(huawei, sentences=30, articles=3)
    dawid_skene(huawei)
    expected = model_rows(huawei)
    output = tmp_path / "gold.jsonl"

    call_command(
        "export_dataset",
        target="Huawei",
        format="jsonl",
        level="gold",
        output=output,
        card=True,
        stdout=io.StringIO(),
    )
    downloaded = admin_client_.get(reverse("export", args=[huawei.pk]), {"format": "jsonl", "level": "gold"})

    for text in (output.read_text(), b"".join(downloaded.streaming_content).decode()):
        rows = [json.loads(line) for line in text.splitlines()]
        assert {
            r["sentence_id"]: (r["label"], r["method"], r["posterior"], r["votes"]) for r in rows
        } == expected
    card = (tmp_path / "gold.card.md").read_text()
    assert "Rule: `dawid_skene`" in card


@pytest.mark.parametrize("count", [6, 60])
def test_export_queries_under_dawid_skene_do_not_grow_with_the_rows(
    huawei, count, django_assert_max_num_queries
):
    labelled(huawei, sentences=count, articles=3)
    dawid_skene(huawei)

    # Target summary not involved: labels, adjudications, one chunk's sentences and suggestions.
    with django_assert_max_num_queries(4):
        rows = list(export_rows(ExportSpec(target=huawei, level="gold")))
    assert rows


# The dataset card ------------------------------------------------------------------------


def test_the_card_names_the_rule_and_counts_the_models_labels(huawei):
    labelled(huawei)
    dawid_skene(huawei)

    for spec in (
        ExportSpec(target=huawei, level="gold"),
        ExportSpec(target=huawei, level="gold", split=True),
    ):
        figures = fresh_summary(target=huawei)
        counts = card_counts(spec=spec, figures=figures)
        exported = export_summary(spec=spec)
        assert (counts.rows, dict(counts.labels)) == (exported.rows, dict(exported.labels))
        card = dataset_card(spec=spec, summary=counts, figures=figures)
        assert "Rule: `dawid_skene` (Dawid-Skene" in card
        assert (
            "- **Rule** that made the gold labels: `dawid_skene`; the counts below are the majority rule's"
            in card
        )
        assert "the most probable label under a Dawid-Skene model" in card
        assert "| `posterior` |" in card
    other_seed = ExportSpec(target=huawei, level="gold", split=True, seed=99)
    assert dict(card_counts(spec=other_seed, figures=figures).labels) == dict(
        export_summary(spec=other_seed).labels
    )


def test_the_card_under_majority_says_so(huawei):
    labelled(huawei, sentences=30, articles=3)
    spec = ExportSpec(target=huawei, level="gold")
    figures = fresh_summary(target=huawei)

    card = dataset_card(spec=spec, summary=card_counts(spec=spec, figures=figures), figures=figures)

    assert "Rule: `majority`" in card and "- **Rule** that made the gold labels: `majority`." in card
    assert "Dawid-Skene model" not in card and "`posterior`" not in card


def test_changing_the_rule_sets_the_stored_summary_aside(huawei):
    labelled(huawei)
    spec = ExportSpec(target=huawei, level="gold")
    before = card_counts(spec=spec, figures=fresh_summary(target=huawei))

    dawid_skene(huawei)
    figures = summary_for(target=huawei)

    assert figures is not None
    after = card_counts(spec=spec, figures=figures)
    assert dict(after.labels) == dict(export_summary(spec=spec).labels) != dict(before.labels)


# The setting -----------------------------------------------------------------------------


def test_an_admin_chooses_the_gold_rule_in_the_django_admin(admin_client_, huawei):
    url = reverse("admin:annotate_target_change", args=[huawei.pk])
    assert 'name="gold_method"' in admin_client_.get(url).content.decode()
    form = {
        "name": huawei.name,
        "description": "",
        "guidelines": "",
        **target_settings(overlap=2, gold_method="dawid_skene"),
    }

    response = admin_client_.post(url, form)

    assert response.status_code == 302
    huawei.refresh_from_db()
    assert huawei.gold_method == GoldMethod.DAWID_SKENE
    assert admin_client_.post(url, {**form, "gold_method": "vote"}).status_code == 200  # refused
    huawei.refresh_from_db()
    assert huawei.gold_method == GoldMethod.DAWID_SKENE


def test_a_new_target_makes_gold_labels_by_majority(db):
    assert Target.objects.create(name="New").gold_method == GoldMethod.MAJORITY == "majority"
