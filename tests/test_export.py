from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotate import dataset_card as dataset_card_module
from annotate.dataset_card import card_counts, dataset_card, summary_from_counts
from annotate.export import (
    FIELDS,
    ExportError,
    ExportSpec,
    ExportSummary,
    annotator_pseudonym,
    export_rows,
    export_stream,
    export_summary,
)
from annotate.models import Adjudication, Annotation, Suggestion
from annotate.queue.record import annotation_record
from annotate.summary import CHANGES_COUNTED, article_label_counts, fresh_summary, summary_for
from tests.factories import (
    AnnotationFactory,
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(huawei, annotator, other_annotator, curator):
    """Two articles, five sentences, labels by two annotators and one adjudication.

    s0 pro/pro (majority), s1 pro/contra (tie: no gold), s2 neutral/skip (single),
    s3 contra/contra (majority), s4 pro/contra adjudicated neutral.
    """
    first = ArticleFactory(title="Envoy urges Britain", source="Reuters")
    second = ArticleFactory(title="UK decides on 5G", source="BBC")
    sentences = [
        SentenceFactory(article=first, position=i, text=f"First article, sentence {i}.") for i in range(3)
    ]
    sentences += [
        SentenceFactory(article=second, position=i, text=f"Second article, sentence {i}.") for i in range(2)
    ]
    votes = [("pro", "pro"), ("pro", "contra"), ("neutral", "skip"), ("contra", "contra"), ("pro", "contra")]
    for sentence, (mine, theirs) in zip(sentences, votes, strict=True):
        AnnotationFactory(
            annotator=annotator,
            sentence=sentence,
            target=huawei,
            label=mine,
            spent_ms=1500,
            suggestion_shown=True,
            accepted_suggestion=mine == "pro",
        )
        AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei, label=theirs)
    Adjudication.objects.create(sentence=sentences[4], target=huawei, label="neutral", curator=curator)
    return sentences


def rows(target, level, **options):
    return list(export_rows(ExportSpec(target=target, level=level, **options)))


def text_of(target, level, **options):
    return "".join(export_stream(ExportSpec(target=target, level=level, **options)))


def by_sentence(exported):
    return {row["sentence_id"]: row for row in exported}


# Rows


def test_annotation_rows_are_every_current_label_with_its_sentence_and_article(huawei, corpus, annotator):
    exported = rows(huawei, "annotations")
    assert len(exported) == 9  # ten labels, one a skip
    first = next(r for r in exported if r["sentence_id"] == corpus[0].id and r["accepted_suggestion"])
    assert list(first) == FIELDS["annotations"]
    assert first["text"] == "First article, sentence 0."
    assert (first["article_id"], first["title"], first["source"], first["position"]) == (
        corpus[0].article_id,
        "Envoy urges Britain",
        "Reuters",
        0,
    )
    assert (first["label"], first["spent_ms"], first["suggestion_shown"]) == ("pro", 1500, True)
    annotation = Annotation.objects.get(annotator=annotator, sentence=corpus[0])
    assert first["created_at"] == annotation.created_at.isoformat()
    assert first["updated_at"] == annotation.updated_at.isoformat()


def test_annotation_rows_leave_out_skips(huawei, corpus):
    assert "skip" not in {row["label"] for row in rows(huawei, "annotations")}
    assert [row["label"] for row in rows(huawei, "annotations") if row["sentence_id"] == corpus[2].id] == [
        "neutral"
    ]


def test_gold_rows_are_one_per_resolved_sentence_with_how_it_was_decided(huawei, corpus):
    exported = by_sentence(rows(huawei, "gold"))
    assert set(exported) == {corpus[0].id, corpus[2].id, corpus[3].id, corpus[4].id}  # the tie is left out
    assert list(exported[corpus[0].id]) == FIELDS["gold"]
    decided = {s: (r["label"], r["method"], r["votes"], r["agreement"]) for s, r in exported.items()}
    assert decided == {
        corpus[0].id: ("pro", "majority", 2, 1.0),
        corpus[2].id: ("neutral", "single", 1, None),
        corpus[3].id: ("contra", "majority", 2, 1.0),
        corpus[4].id: ("neutral", "adjudicated", 2, 0.0),
    }
    assert exported[corpus[4].id]["label_counts"] == {"pro": 1, "contra": 1, "neutral": 0}


def test_annotators_are_stable_pseudonyms_without_their_names(huawei, corpus, annotator, other_annotator):
    exported = rows(huawei, "annotations")
    names = {row["annotator"] for row in exported}
    assert names == {annotator_pseudonym(annotator.pk), annotator_pseudonym(other_annotator.pk)}
    assert all(name.startswith("annotator-") and len(name) == len("annotator-") + 10 for name in names)
    assert names == {row["annotator"] for row in rows(huawei, "annotations")}
    assert "ann" not in text_of(huawei, "annotations").replace("annotator", "").replace("annotations", "")


def test_names_replace_pseudonyms_when_asked(huawei, corpus):
    assert {row["annotator"] for row in rows(huawei, "annotations", names=True)} == {"ann", "bob"}


def test_suggestions_come_from_the_active_model_version_only(huawei, corpus):
    SuggestionFactory(sentence=corpus[0], target=huawei, label="pro", confidence=0.9)
    old = ModelVersionFactory(target=huawei)
    Suggestion.objects.create(
        model_version=old, sentence=corpus[3], target=huawei, label="pro", confidence=0.99
    )
    for level in ("annotations", "gold"):
        exported = by_sentence(rows(huawei, level))
        assert (exported[corpus[0].id]["suggestion"], exported[corpus[0].id]["suggestion_probability"]) == (
            "pro",
            0.9,
        )
        assert (exported[corpus[3].id]["suggestion"], exported[corpus[3].id]["suggestion_probability"]) == (
            None,
            None,
        )


def test_rows_of_other_targets_are_left_out(huawei, corpus):
    AnnotationFactory(sentence=corpus[0], label="contra")  # another target
    assert len(rows(huawei, "annotations")) == 9


# Splits


def test_no_article_is_in_two_splits(huawei, annotator):
    for _ in range(12):
        article = ArticleFactory()
        for position in range(3):
            AnnotationFactory(
                annotator=annotator,
                target=huawei,
                sentence=SentenceFactory(article=article, position=position),
            )
    exported = rows(huawei, "annotations", split=True)
    splits_of: dict[int, set[str]] = {}
    for row in exported:
        splits_of.setdefault(row["article_id"], set()).add(row["split"])
    assert all(len(splits) == 1 for splits in splits_of.values())
    assert {split for splits in splits_of.values() for split in splits} == {"train", "dev", "test"}
    assert exported == rows(huawei, "annotations", split=True)


def test_the_gold_and_annotation_exports_put_each_article_in_the_same_split(huawei, corpus):
    gold = {row["article_id"]: row["split"] for row in rows(huawei, "gold", split=True, seed=3)}
    labels = {row["article_id"]: row["split"] for row in rows(huawei, "annotations", split=True, seed=3)}
    assert gold == labels


def test_rows_have_no_split_field_unless_asked(huawei, corpus):
    assert "split" not in rows(huawei, "gold")[0]
    assert list(rows(huawei, "gold", split=True)[0])[-1] == "split"


# Files


def test_the_jsonl_loads_with_pandas_as_the_same_rows(huawei, corpus):
    SuggestionFactory(sentence=corpus[0], target=huawei, label="pro", confidence=0.9)
    for level in ("annotations", "gold"):
        exported = rows(huawei, level, split=True)
        frame = pd.read_json(io.StringIO(text_of(huawei, level, split=True)), lines=True)
        assert list(frame.columns) == FIELDS[level] + ["split"]
        assert len(frame) == len(exported)
        for column in ("text", "label", "sentence_id", "article_id", "title", "source", "position", "split"):
            assert frame[column].tolist() == [row[column] for row in exported]
    assert frame["label_counts"].tolist() == [row["label_counts"] for row in exported]


def test_the_jsonl_loads_with_the_hugging_face_json_loader(huawei, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets  # heavy; only this test needs it

    SuggestionFactory(sentence=corpus[0], target=huawei, label="pro", confidence=0.9)
    for level in ("annotations", "gold"):
        path = tmp_path / f"{level}.jsonl"
        path.write_text(text_of(huawei, level, split=True))
        loaded = datasets.load_dataset(
            "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "c")
        )
        exported = rows(huawei, level, split=True)
        assert loaded.column_names == FIELDS[level] + ["split"]
        assert loaded["text"] == [row["text"] for row in exported]
        assert loaded["label"] == [row["label"] for row in exported]


def test_every_jsonl_line_is_one_object_with_the_same_keys(huawei, corpus):
    lines = text_of(huawei, "gold", split=True).splitlines()
    keys = {tuple(json.loads(line)) for line in lines}
    assert len(lines) == 4
    assert keys == {(*FIELDS["gold"], "split")}


def test_the_csv_loads_with_pandas(huawei, corpus):
    exported = rows(huawei, "gold", split=True)
    frame = pd.read_csv(io.StringIO(text_of(huawei, "gold", format="csv", split=True)))
    assert list(frame.columns) == FIELDS["gold"] + ["split"]
    assert frame["text"].tolist() == [row["text"] for row in exported]
    assert frame["label"].tolist() == [row["label"] for row in exported]
    assert [json.loads(value) for value in frame["label_counts"]] == [row["label_counts"] for row in exported]
    annotations = pd.read_csv(io.StringIO(text_of(huawei, "annotations", format="csv")))
    assert len(annotations) == 9
    assert annotations["suggestion_shown"].dtype == bool


def test_text_with_quotes_commas_and_newlines_survives_both_formats(huawei, annotator):
    tricky = 'He said: "no, never",\nand left — 5G ☂'
    AnnotationFactory(annotator=annotator, target=huawei, sentence=SentenceFactory(text=tricky))
    assert pd.read_json(io.StringIO(text_of(huawei, "gold")), lines=True)["text"][0] == tricky
    assert pd.read_csv(io.StringIO(text_of(huawei, "gold", format="csv")))["text"][0] == tricky


def test_an_unknown_level_or_format_is_refused(huawei):
    with pytest.raises(ExportError, match="level must be one of annotations, gold"):
        ExportSpec(target=huawei, level="sentences")
    with pytest.raises(ExportError, match="format must be one of jsonl, csv"):
        ExportSpec(target=huawei, level="gold", format="xml")


# Query counts


def bulk_labels(target, count):
    article = ArticleFactory()
    sentences = SentenceFactory.create_batch(count // 2, article=article)
    users = [UserFactory(), UserFactory()]
    Annotation.objects.bulk_create(
        Annotation(annotator=user, sentence=sentence, target=target, label="pro")
        for sentence in sentences
        for user in users
    )
    for sentence in sentences[::2]:
        SuggestionFactory(sentence=sentence, target=target)


@pytest.mark.parametrize("count", [50, 500])
@pytest.mark.parametrize("level", ["annotations", "gold"])
def test_export_queries_do_not_grow_with_the_rows(huawei, level, count, django_assert_max_num_queries):
    bulk_labels(huawei, count)
    huawei.refresh_from_db()
    with django_assert_max_num_queries(6):
        exported = rows(huawei, level, split=True)
    assert len(exported) == (count if level == "annotations" else count // 2)


# Dataset card


def test_the_card_gives_counts_distribution_agreement_gold_rule_model_and_guidelines(huawei, corpus):
    SuggestionFactory(sentence=corpus[0], target=huawei)
    huawei.refresh_from_db()
    spec = ExportSpec(target=huawei, level="gold", split=True, seed=7)
    card = dataset_card(
        spec=spec,
        summary=export_summary(spec=spec),
        figures=fresh_summary(target=huawei),
        generated_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    )
    assert "# Huawei: stance dataset (gold)" in card
    assert "Exported from Stance on 2025-03-01 09:30 UTC." in card
    assert "`huawei-gold.jsonl` (jsonl), 4 rows." in card
    assert "80/10/10, seed 7" in card
    assert "| label | train | dev | test | total |" in card
    assert "| neutral |" in card and "2 (50%)" in card
    assert "| Krippendorff's alpha (nominal) |" in card
    assert "| Fleiss' kappa (2 labels a sentence) |" in card
    assert "| Percent agreement |" in card
    assert "A curator's adjudication wins" in card
    assert f"Active model version: {huawei.active_version_id}" in card
    assert "F_avg 0.550" in card
    assert huawei.guidelines.strip()[:60] in card
    assert "| `agreement` |" in card


def test_the_card_says_when_there_is_no_model_or_split(huawei, corpus):
    spec = ExportSpec(target=huawei, level="annotations")
    card = dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=huawei))
    assert "Active model version: none" in card
    assert "- **Splits**: none." in card
    assert "stable pseudonyms" in card
    assert "| label | all |" in card


def test_the_summary_counts_labels_per_split(huawei, corpus):
    summary = ExportSummary()
    list(summary.observe(rows(huawei, "gold", split=True)))
    assert summary.rows == 4
    assert summary.label_distribution == {"pro": 1, "contra": 1, "neutral": 2}


# Command


def test_an_admin_exports_gold_jsonl_with_splits_and_a_card_that_pandas_loads(huawei, corpus, tmp_path):
    output = tmp_path / "huawei-gold.jsonl"
    out = io.StringIO()
    call_command(
        "export_dataset",
        "--target=Huawei",
        "--format=jsonl",
        "--level=gold",
        "--split",
        f"--output={output}",
        "--card",
        stdout=out,
    )
    frame = pd.read_json(output, lines=True)
    assert len(frame) == 4
    assert set(frame["split"]) <= {"train", "dev", "test"}
    card = (tmp_path / "huawei-gold.card.md").read_text()
    assert "4 rows" in card
    assert "Wrote 4 gold rows of Huawei" in out.getvalue()
    assert not list(tmp_path.glob("*.part"))


def test_the_command_writes_to_stdout_without_output(huawei, corpus):
    out = io.StringIO()
    call_command("export_dataset", "--target=Huawei", "--format=csv", "--level=annotations", stdout=out)
    frame = pd.read_csv(io.StringIO(out.getvalue()))
    assert len(frame) == 9
    assert list(frame.columns) == FIELDS["annotations"]


def test_the_command_gives_names_and_a_seed_when_asked(huawei, corpus):
    out = io.StringIO()
    call_command(
        "export_dataset",
        "--target=Huawei",
        "--format=jsonl",
        "--level=annotations",
        "--names",
        "--split",
        "--seed=99",
        stdout=out,
    )
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {row["annotator"] for row in exported} == {"ann", "bob"}
    assert [row["split"] for row in exported] == [
        row["split"] for row in rows(huawei, "annotations", split=True, seed=99)
    ]


def test_the_command_refuses_a_seed_that_is_not_ascii_digits(huawei):
    with pytest.raises(CommandError, match="seed must be a whole number of at most 18 digits"):
        call_command("export_dataset", "--target=Huawei", "--format=jsonl", "--level=gold", "--seed=٣")


def test_the_command_refuses_an_unknown_target(huawei):
    with pytest.raises(CommandError, match="No target named 'Nokia'"):
        call_command("export_dataset", "--target=Nokia", "--format=jsonl", "--level=gold")


def test_the_command_refuses_a_card_without_an_output_file(huawei):
    with pytest.raises(CommandError, match="--card"):
        call_command("export_dataset", "--target=Huawei", "--format=jsonl", "--level=gold", "--card")


def test_the_command_refuses_an_unknown_format(huawei):
    with pytest.raises(CommandError, match="format must be one of jsonl, csv, not 'xml'"):
        call_command("export_dataset", "--target=Huawei", "--format=xml", "--level=gold")


def test_the_command_reports_an_unwritable_output(huawei, corpus, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command(
            "export_dataset",
            "--target=Huawei",
            "--format=jsonl",
            "--level=gold",
            f"--output={tmp_path / 'missing' / 'out.jsonl'}",
        )


# Views


def test_an_admin_downloads_a_streamed_gold_jsonl_with_splits(admin_client_, huawei, corpus):
    response = admin_client_.get(reverse("export", args=[huawei.id]), {"split": "1"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="huawei-gold.jsonl"'
    frame = pd.read_json(io.BytesIO(b"".join(response.streaming_content)), lines=True)
    assert len(frame) == 4
    assert "split" in frame.columns


def test_an_admin_downloads_annotations_as_csv_with_names(admin_client_, huawei, corpus):
    response = admin_client_.get(
        reverse("export", args=[huawei.id]), {"format": "csv", "level": "annotations", "names": "1"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="huawei-annotations.csv"'
    frame = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)))
    assert set(frame["annotator"]) == {"ann", "bob"}


def test_an_admin_downloads_the_dataset_card(admin_client_, huawei, corpus):
    response = admin_client_.get(reverse("export-card", args=[huawei.id]), {"split": "1", "seed": "5"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="huawei-gold.card.md"'
    assert "seed 5" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "xml"}, "format must be one of jsonl, csv"),
        ({"level": "everything"}, "level must be one of annotations, gold"),
        ({"seed": "abc"}, "seed must be a whole number"),
        ({"split": "maybe"}, "split must be 1 or 0"),
        ({"names": "2"}, "names must be 1 or 0"),
    ],
)
@pytest.mark.parametrize("name", ["export", "export-card"])
def test_bad_parameters_get_a_400_that_says_why(admin_client_, huawei, name, params, message):
    response = admin_client_.get(reverse(name, args=[huawei.id]), params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("name", ["export", "export-card"])
def test_curators_and_annotators_may_not_export(huawei, curator, annotator, name):
    for user in (curator, annotator):
        client = Client()
        client.force_login(user)
        assert client.get(reverse(name, args=[huawei.id])).status_code == 403


@pytest.mark.parametrize("name", ["export", "export-card"])
def test_anonymous_users_are_sent_to_log_in(client, huawei, name):
    response = client.get(reverse(name, args=[huawei.id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse(name, args=[huawei.id]), HTTP_HX_REQUEST="true").status_code == 401


def test_exporting_an_unknown_target_is_a_404(admin_client_, huawei):
    assert admin_client_.get(reverse("export", args=[huawei.id + 1000])).status_code == 404


def test_export_rejects_post(admin_client_, huawei):
    assert admin_client_.post(reverse("export", args=[huawei.id])).status_code == 405


# Django admin action


def test_the_admin_action_redirects_to_the_gold_jsonl_export_of_one_target(admin_client_, huawei):
    response = admin_client_.post(
        reverse("admin:annotate_target_changelist"),
        {"action": "export_gold_jsonl", "_selected_action": [huawei.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('export', args=[huawei.id])}?format=jsonl&level=gold&split=1"


def test_the_admin_action_refuses_several_targets(admin_client_, huawei):
    other = TargetFactory(name="Nokia")
    response = admin_client_.post(
        reverse("admin:annotate_target_changelist"),
        {"action": "export_gold_jsonl", "_selected_action": [huawei.pk, other.pk]},
        follow=True,
    )
    assert "Select exactly one target to export." in response.content.decode()


def test_the_admin_action_is_offered_to_admins_only(huawei):
    staff = UserFactory(username="staffer", role="curator", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_target"))
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("admin:annotate_target_changelist"))
    assert response.status_code == 200
    assert "export_gold_jsonl" not in response.content.decode()


@pytest.mark.parametrize("level", ["gold", "annotations"])
@pytest.mark.parametrize("split", [True, False])
def test_the_cards_counts_from_the_summary_equal_a_count_of_the_export_rows(huawei, corpus, level, split):
    spec = ExportSpec(target=huawei, level=level, split=split, seed=3)
    fresh_summary(target=huawei)
    fast = summary_from_counts(spec=spec, articles=article_label_counts(target=huawei))
    slow = export_summary(spec=spec)
    assert fast.rows == slow.rows
    assert {k: +v for k, v in fast.labels.items()} == {k: +v for k, v in slow.labels.items()}


def test_a_card_from_a_stale_summary_says_so_with_the_changes_it_misses(huawei, corpus, annotator):
    fresh_summary(target=huawei)
    annotation_record(annotator=annotator, sentence=corpus[-1], target=huawei, label="contra")
    stale = summary_for(target=huawei, recompute=False)
    assert stale is not None and stale.changes_since == 1
    spec = ExportSpec(target=huawei, level="gold")
    card = dataset_card(spec=spec, summary=export_summary(spec=spec), figures=stale)
    assert "**Not up to date**" in card
    assert f"1 change since then is not included ({CHANGES_COUNTED}; a recompute is running" in card
    assert "**Not up to date**" not in dataset_card(
        spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=huawei)
    )


@pytest.fixture
def articles_corpus(huawei, annotator, other_annotator, curator):
    """Twelve articles of three sentences, labelled by two annotators who agree on some."""
    choices = ["pro", "contra", "neutral", "skip"]
    for a in range(12):
        article = ArticleFactory()
        for position in range(3):
            sentence = SentenceFactory(article=article, position=position)
            mine = choices[(a + position) % 4]
            theirs = choices[(a * position) % 3]
            AnnotationFactory(annotator=annotator, sentence=sentence, target=huawei, label=mine)
            AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei, label=theirs)
        if a % 5 == 0:
            Adjudication.objects.create(sentence=sentence, target=huawei, label="contra", curator=curator)


@pytest.mark.parametrize("level", ["gold", "annotations"])
@pytest.mark.parametrize("split", [True, False])
def test_the_cards_stored_split_counts_equal_a_count_of_the_export_rows(
    huawei, articles_corpus, level, split
):
    spec = ExportSpec(target=huawei, level=level, split=split)
    figures = fresh_summary(target=huawei)
    assert figures.split_counts is not None

    stored = card_counts(spec=spec, figures=figures)
    direct = export_summary(spec=spec)

    assert stored.rows == direct.rows
    assert {k: +v for k, v in stored.labels.items()} == {k: +v for k, v in direct.labels.items()}


def test_the_card_of_the_default_seed_does_not_read_the_per_article_counts(
    admin_client_, huawei, articles_corpus, monkeypatch
):
    fresh_summary(target=huawei)
    monkeypatch.setattr(dataset_card_module, "article_label_counts", None)  # calling it fails

    response = admin_client_.get(reverse("export-card", args=[huawei.id]), {"split": "1"})

    assert response.status_code == 200
    assert "80/10/10, seed 13" in response.content.decode()


def test_a_card_of_another_seed_or_of_an_older_summary_splits_the_per_article_counts(huawei, articles_corpus):
    figures = fresh_summary(target=huawei)
    for spec, given in [
        (ExportSpec(target=huawei, level="gold", split=True, seed=4), figures),
        (ExportSpec(target=huawei, level="gold", split=True), replace(figures, split_counts=None)),
    ]:
        counts = card_counts(spec=spec, figures=given)
        assert {k: +v for k, v in counts.labels.items()} == {
            k: +v for k, v in export_summary(spec=spec).labels.items()
        }
