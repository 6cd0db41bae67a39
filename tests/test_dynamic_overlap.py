"""Dynamic overlap: a sentence whose overlap of labels disagree asks for one more annotator
at a time, up to the target's most (max_overlap, else overlap + 1); agreed sentences stop at
the overlap. The limit holds on every door (card, history panel, API, import), under races."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from annotate.adjudication import adjudication_record, adjudication_undo
from annotate.corpus import CorpusError
from annotate.extra_annotators import EXTRA_ANNOTATORS, dashboard_figure, extra_annotators
from annotate.label_import import labels_import, read_label_rows
from annotate.models import Annotation, EvaluationItem, Label, Target
from annotate.queue.loop import label_and_next
from annotate.queue.record import SentenceFull, annotation_change
from annotate.queue.reservations import next_sentence
from annotate.queue.rule import overlap_params
from annotate.summary import summary_for
from annotate.targets import target_update
from tests.dynamic_overlap import FULL, by_api, by_card, label, stance_labels
from tests.factories import (
    ArticleFactory,
    SentenceFactory,
    TargetFactory,
    UserFactory,
    api_client,
    target_settings,
)
from tests.records import snapshot
from tests.test_queue_statements import full_scans, plan_of
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


# The rule


def test_a_disagreeing_pair_gets_a_third_annotator(dynamic, sentences, crowd):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "contra")
    assert next_sentence(annotator=c, target=dynamic) == sentences[0]
    label(c, sentences[0], dynamic, "pro")
    assert stance_labels(dynamic, sentences[0]) == ["contra", "pro", "pro"]


def test_an_agreeing_pair_gets_no_third_annotator(dynamic, sentences, crowd):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "pro")
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    before = snapshot()
    with pytest.raises(SentenceFull, match=re.escape(FULL)):
        label(c, sentences[0], dynamic, "contra")
    assert snapshot() == before


def test_a_disagreed_sentence_is_complete_once_its_third_label_arrives(dynamic, sentences, crowd):
    a, b, c, d = crowd[:4]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "contra")
    label(c, sentences[0], dynamic, "neutral")
    assert next_sentence(annotator=d, target=dynamic) == sentences[1]
    with pytest.raises(SentenceFull):
        label(d, sentences[0], dynamic, "pro")
    assert len(stance_labels(dynamic, sentences[0])) == 3


def test_the_maximum_is_respected(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"max_overlap": 4})
    for annotator, value in zip(crowd[:4], ["pro", "contra", "pro", "pro"], strict=True):
        label(annotator, sentences[0], dynamic, value)
    with pytest.raises(SentenceFull, match=re.escape("or up to 4 while they disagree")):
        label(crowd[4], sentences[0], dynamic, "pro")
    assert len(stance_labels(dynamic, sentences[0])) == 4


def test_a_maximum_equal_to_the_overlap_asks_for_no_one_more(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"max_overlap": 2})
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "contra")
    with pytest.raises(SentenceFull, match=re.escape("This sentence already has its 2 labels.")):
        label(crowd[2], sentences[0], dynamic, "pro")


def test_without_dynamic_overlap_a_disagreeing_pair_is_full(huawei, sentences, crowd):
    label(crowd[0], sentences[0], huawei, "pro")
    label(crowd[1], sentences[0], huawei, "contra")
    with pytest.raises(SentenceFull, match=re.escape("This sentence already has its 2 labels.")):
        label(crowd[2], sentences[0], huawei, "pro")


def test_skips_are_not_labels_that_disagree(dynamic, sentences, crowd):
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "skip")
    label(crowd[2], sentences[0], dynamic, "pro")
    with pytest.raises(SentenceFull):
        label(crowd[3], sentences[0], dynamic, "contra")


def test_a_reservation_of_the_extra_slot_holds_it(dynamic, sentences, crowd):
    a, b, c, d = crowd[:4]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "contra")
    assert next_sentence(annotator=c, target=dynamic) == sentences[0]
    assert next_sentence(annotator=d, target=dynamic) == sentences[1]
    with pytest.raises(SentenceFull):
        label(d, sentences[0], dynamic, "pro")


def test_a_settled_disagreement_asks_for_no_one_more_until_its_gold_label_is_undone(
    dynamic, sentences, crowd, curator
):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "contra")
    adjudication_record(curator=curator, sentence=sentences[0], target=dynamic, label="pro")
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    shown = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[1].pk, label="pro")
    assert shown.next_sentence_id == sentences[2].pk
    adjudication_undo(curator=curator, sentence=sentences[0], target=dynamic)
    # c's search had passed sentences[0]: the undo moved it back.
    after = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[2].pk, label="pro")
    assert after.next_sentence_id == sentences[0].pk


def test_a_relabel_that_breaks_agreement_hands_the_sentence_to_a_search_that_passed_it(
    dynamic, sentences, crowd
):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic, "pro")
    label(b, sentences[0], dynamic, "pro")
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    shown = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[1].pk, label="neutral")
    assert shown.next_sentence_id == sentences[2].pk
    mine = Annotation.objects.get(annotator=b, sentence=sentences[0])
    annotation_change(annotator=b, annotation_id=mine.pk, label="contra")
    after = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[2].pk, label="pro")
    assert after.next_sentence_id == sentences[0].pk


# Settings


def test_the_queue_settings_save_dynamic_overlap_and_its_maximum(admin_client_, huawei):
    url = reverse("queue-settings", args=[huawei.pk])
    response = admin_client_.post(url, target_settings(dynamic_overlap=True, max_overlap=4))
    assert response.status_code == 302
    saved = Target.objects.get(pk=huawei.pk)
    assert (saved.dynamic_overlap, saved.max_overlap, saved.most_labels) == (True, 4, 4)


@pytest.mark.parametrize(
    ("max_overlap", "error"),
    [(1, "The maximum must be from the overlap (2) to 50."), (51, "less than or equal to 50")],
)
def test_a_maximum_below_the_overlap_or_above_the_cap_is_refused_and_nothing_saved(
    admin_client_, huawei, max_overlap, error
):
    before = Target.objects.filter(pk=huawei.pk).values().get()
    response = admin_client_.post(
        reverse("queue-settings", args=[huawei.pk]),
        target_settings(dynamic_overlap=True, max_overlap=max_overlap),
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Target.objects.filter(pk=huawei.pk).values().get() == before


def test_the_target_form_shows_and_saves_the_dynamic_overlap_settings(admin_client_, huawei):
    url = reverse("target-edit", args=[huawei.pk])
    html = admin_client_.get(url).content.decode()
    assert 'name="dynamic_overlap"' in html and 'name="max_overlap"' in html
    data = {
        "name": "Huawei",
        **target_settings(dynamic_overlap=True, max_overlap=3),
        "examples-TOTAL_FORMS": 0,
        "examples-INITIAL_FORMS": 0,
        "examples-MIN_NUM_FORMS": 0,
        "examples-MAX_NUM_FORMS": 60,
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.filter(pk=huawei.pk, dynamic_overlap=True, max_overlap=3).exists()


def test_the_maximum_defaults_to_one_more_than_the_overlap(huawei):
    huawei.dynamic_overlap = True
    assert huawei.most_labels == huawei.overlap + 1
    huawei.dynamic_overlap = False
    huawei.max_overlap = 5
    assert huawei.most_labels == huawei.overlap


def test_turning_dynamic_overlap_on_drops_the_search_cursors(annotator, huawei, sentences):
    from annotate.models import QueueCursor

    next_sentence(annotator=annotator, target=huawei)
    assert QueueCursor.objects.filter(target=huawei).exists()
    target_update(target_id=huawei.pk, values={"dynamic_overlap": True})
    assert not QueueCursor.objects.filter(target=huawei).exists()


# The API and the import


def test_the_api_takes_a_third_label_on_a_disagreement_and_refuses_a_fourth_with_the_reason(
    dynamic, sentences, crowd
):
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "contra")
    post = {"sentence": sentences[0].pk, "label": "neutral"}
    assert api_client(crowd[2]).post("/api/annotations/", post, format="json").status_code == 201
    before = snapshot()
    response = api_client(crowd[3]).post("/api/annotations/", post, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": FULL}
    assert snapshot() == before


def test_the_api_refuses_a_third_label_on_an_agreement(dynamic, sentences, crowd):
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "pro")
    response = api_client(crowd[2]).post(
        "/api/annotations/", {"sentence": sentences[0].pk, "label": "contra"}, format="json"
    )
    assert (response.status_code, response.json()) == (409, {"detail": FULL})


def test_the_api_tells_a_script_how_many_labels_a_sentence_may_get(dynamic, crowd):
    target_update(target_id=dynamic.pk, values={"max_overlap": 4})
    row = api_client(crowd[0]).get("/api/targets/").json()["results"][0]
    assert (row["overlap"], row["dynamic_overlap"], row["most_labels"]) == (2, True, 4)


def write(folder: Path, text: str) -> Path:
    path = folder / "stance.csv"
    path.write_text(f"text,label\nNew text.,pro\n{text},pro\n", encoding="utf-8")
    return path


def import_labels(path: Path) -> str:
    out = StringIO()
    call_command("import_labels", str(path), "--target", "Huawei", "--annotator", "semeval", stdout=out)
    return out.getvalue()


def test_an_import_labels_a_disagreement_below_the_maximum(dynamic, crowd, tmp_path):
    sentence = SentenceFactory(text="Huawei kit is a risk.")
    label(crowd[0], sentence, dynamic, "pro")
    label(crowd[1], sentence, dynamic, "contra")
    import_labels(write(tmp_path, sentence.text))
    assert stance_labels(dynamic, sentence) == ["contra", "pro", "pro"]


def test_an_import_refuses_a_disagreement_at_the_maximum_with_the_commands_message(dynamic, crowd, tmp_path):
    sentence = SentenceFactory(text="Huawei kit is a risk.")
    for annotator, value in zip(crowd[:3], ["pro", "contra", "neutral"], strict=True):
        label(annotator, sentence, dynamic, value)
    path = write(tmp_path, sentence.text)
    before = snapshot()
    message = "the sentence is full: 3 other annotators labelled it (overlap 2, up to 3 while they disagree)"
    with pytest.raises(CommandError, match=f"^{re.escape(str(path))}:3: {re.escape(message)}$"):
        import_labels(path)
    assert snapshot() == before


def test_an_import_refuses_a_third_label_on_an_agreement(dynamic, crowd, tmp_path):
    sentence = SentenceFactory(text="Huawei kit is a risk.")
    label(crowd[0], sentence, dynamic, "contra")
    label(crowd[1], sentence, dynamic, "contra")
    with pytest.raises(CommandError, match="the sentence is full: 2 other annotators"):
        import_labels(write(tmp_path, sentence.text))


def test_an_import_run_again_repeats_its_own_labels_on_a_full_disagreement(dynamic, crowd, tmp_path):
    sentence = SentenceFactory(text="Huawei kit is a risk.")
    label(crowd[0], sentence, dynamic, "pro")
    label(crowd[1], sentence, dynamic, "contra")
    path = write(tmp_path, sentence.text)
    import_labels(path)
    import_labels(path)  # its own label is no fourth
    assert stance_labels(dynamic, sentence) == ["contra", "pro", "pro"]


# The dashboard


def build(target, sentences_count: int) -> None:
    """Labels of every kind: agreed pairs, disagreements waiting, given one, settled."""
    article = ArticleFactory()
    crowd = UserFactory.create_batch(4)
    patterns = [
        ["pro", "pro"],  # agreed: asks for no one
        ["pro", "contra"],  # waiting for a third
        ["pro", "contra", "pro"],  # given one (most 3: done)
        ["pro"],  # short of the overlap
        ["neutral", "neutral", "skip"],  # agreed, a skip beside
    ]
    for number in range(sentences_count):
        sentence = SentenceFactory(article=article, position=number)
        for annotator, value in zip(crowd, patterns[number % len(patterns)], strict=False):
            Annotation.objects.create(annotator=annotator, sentence=sentence, target=target, label=value)


def expected_extras(target) -> tuple[int, int]:
    """(given one or more, waiting now) counted from the labels themselves."""
    by_sentence: dict[int, list[str]] = defaultdict(list)
    for sentence_id, value in Annotation.objects.filter(target=target).values_list("sentence_id", "label"):
        if value != Label.SKIP:
            by_sentence[sentence_id].append(value)
    given = sum(len(values) > target.overlap for values in by_sentence.values())
    waiting = sum(
        target.overlap <= len(values) < target.most_labels and len(set(values)) > 1
        for values in by_sentence.values()
    )
    return given, waiting


@pytest.mark.parametrize("size", [5, 40])
def test_the_dashboard_counts_the_sentences_that_asked_for_an_extra_annotator(
    curator_client, dynamic, size, django_assert_max_num_queries
):
    build(dynamic, size)
    given, waiting = expected_extras(dynamic)
    extras = extra_annotators(target=dynamic)
    assert (extras.given, extras.waiting, extras.asked) == (given, waiting, given + waiting)
    assert given == size // 5 and waiting == size // 5
    url = reverse("dashboard", args=[dynamic.pk])
    curator_client.get(url)
    with django_assert_max_num_queries(21):  # tests/test_curator_query_bounds.py's: the summary has it
        html = curator_client.get(url).content.decode()
    assert (
        f"<strong>{given + waiting}</strong> sentences asked for an extra annotator; "
        f"{given} got one or more, {waiting} ask{'s' if waiting == 1 else ''} for one (counted with the summary, "
        in html
    )


def test_the_dashboard_counts_the_extra_annotators_now_when_the_summary_had_other_settings(
    curator_client, dynamic
):
    build(dynamic, 10)
    summary = summary_for(target=dynamic)
    stored = dashboard_figure(target=dynamic, summary=summary)
    assert stored.counted_at == summary.computed_at
    assert (stored.given, stored.waiting) == expected_extras(dynamic)

    dynamic.max_overlap = dynamic.overlap + 2  # one more annotator allowed: more may ask
    dynamic.save()
    live = dashboard_figure(target=dynamic, summary=summary)
    assert live.counted_at is None
    assert (live.given, live.waiting) == expected_extras(dynamic)
    assert "for one now." in curator_client.get(reverse("dashboard", args=[dynamic.pk])).content.decode()


def test_a_settled_disagreement_is_not_waiting(dynamic, sentences, crowd, curator):
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "contra")
    assert extra_annotators(target=dynamic).waiting == 1
    adjudication_record(curator=curator, sentence=sentences[0], target=dynamic, label="pro")
    assert extra_annotators(target=dynamic).waiting == 0


def test_an_evaluation_item_labelled_past_the_overlap_got_no_extra_annotator(
    dynamic, sentences, crowd, curator
):
    settled = adjudication_record(curator=curator, sentence=sentences[0], target=dynamic, label="pro")
    EvaluationItem.objects.create(
        adjudication=settled.adjudication, target=dynamic, sentence=sentences[0], marked_by=curator
    )
    for annotator in crowd[:4]:  # the evaluation mix hands an item to anyone
        label(annotator, sentences[0], dynamic, "pro")
    label(crowd[0], sentences[1], dynamic, "pro")
    label(crowd[1], sentences[1], dynamic, "contra")
    label(crowd[2], sentences[1], dynamic, "neutral")
    extras = extra_annotators(target=dynamic)
    assert (extras.given, extras.waiting) == (1, 0)


def test_the_dashboard_says_nothing_of_it_without_dynamic_overlap(curator_client, huawei):
    assert extra_annotators(target=huawei) is None
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert 'id="extra-annotators"' not in html


# Concurrency: real threads, real transactions, on SQLite and PostgreSQL


def disagreed(count: int, *, max_overlap: int | None = None):
    """A fresh dynamic target (overlap 2) whose first sentence has two disagreeing labels."""
    target = TargetFactory(overlap=2, dynamic_overlap=True, max_overlap=max_overlap)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
    first, second, *annotators = UserFactory.create_batch(count + 2)
    label(first, sentences[0], target, "pro")
    label(second, sentences[0], target, "contra")
    return target, sentences, annotators


def by_history(annotator, target, sentence):
    mine = Annotation.objects.get(annotator=annotator, target=target, sentence=sentence)
    return annotation_change(annotator=annotator, annotation_id=mine.pk, label="pro")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [by_card, by_api, by_history], ids=["card", "api", "history"])
def test_annotators_racing_for_the_extra_slot_leave_exactly_the_maximum(path):
    count = 6
    target, sentences, annotators = disagreed(count)
    x = sentences[0]
    if path is by_history:
        for annotator in annotators:
            label(annotator, x, target, "skip")

    outcome = run_in_threads(
        [lambda i=i: path(annotators[i], target, x) for i in range(count)], expected=SentenceFull
    )

    assert not outcome.errors, outcome.errors
    assert len(stance_labels(target, x)) == 3
    assert outcome.refused == count - 1


@pytest.mark.django_db(transaction=True)
def test_label_imports_racing_for_the_extra_slot_record_one_and_report_the_others(tmp_path):
    count = 4
    target, sentences, _ = disagreed(0)
    x = sentences[0]
    path = tmp_path / "one.csv"
    path.write_text(f"text,label\n{x.text},neutral\n", encoding="utf-8")
    rows = read_label_rows(path)

    def run(i):
        return labels_import(path=path, rows=rows, target=target, annotator_name=f"import{i}")

    outcome = run_in_threads([lambda i=i: run(i) for i in range(count)], expected=CorpusError)

    assert not outcome.errors, outcome.errors
    # Each of the others is refused by the check before it writes (the first committed
    # before it looked) or in its batch, under the lock (it looked first).
    finished = [result for result in outcome.results if result is not None]
    assert sum(result.rows for result in finished) == 1
    reasons = [reason for result in finished for _, reason in result.not_recorded]
    assert reasons == [FULL] * len(reasons)
    assert outcome.refused + len(reasons) == count - 1
    assert len(stance_labels(target, x)) == 3


@pytest.mark.django_db(transaction=True)
def test_annotators_labelling_at_random_never_pass_the_maximum_nor_the_overlap_of_an_agreement():
    count, rounds = 6, 12
    target = TargetFactory(overlap=2, dynamic_overlap=True, max_overlap=4)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(5)]
    annotators = UserFactory.create_batch(count)

    def work(i):
        rng = random.Random(i)
        recorded = 0
        for _ in range(rounds):
            shown = next_sentence(annotator=annotators[i], target=target)
            if shown is None:
                break
            value = rng.choice(["pro", "pro", "contra"])
            try:
                label_and_next(
                    annotator=annotators[i], target_id=target.pk, sentence_id=shown.pk, label=value
                )
                recorded += 1
            except SentenceFull:
                pass
        return recorded

    outcome = run_in_threads([lambda i=i: work(i) for i in range(count)])

    assert not outcome.errors, outcome.errors
    by_sentence = {sentence.pk: stance_labels(target, sentence) for sentence in sentences}
    # None lost: every label acknowledged is there.
    assert sum(outcome.results) == sum(len(values) for values in by_sentence.values())
    assert max(len(values) for values in by_sentence.values()) <= 4
    # Labels are only added: a sentence past the overlap got there because it disagreed.
    for values in by_sentence.values():
        assert len(values) <= 2 or len(set(values)) > 1, values
    assert Counter(len(values) for values in by_sentence.values())[0] == 0


def test_the_dashboards_figure_reads_ranges_of_indexes_not_every_tally(dynamic, crowd, sentences):
    label(crowd[0], sentences[0], dynamic, "pro")
    label(crowd[1], sentences[0], dynamic, "contra")
    plan = plan_of(EXTRA_ANNOTATORS, overlap_params(dynamic))
    assert plan and not full_scans("EXTRA_ANNOTATORS", plan), "\n".join(plan)
    # Given: a range of tally_votes; waiting: the open disagreements only, never the range
    # of tally_votes from the overlap (nearly every sentence once labelled).
    # (Which index holds that range is the planner's choice: tally_votes, or on PostgreSQL
    # with few rows tally_search, whose leading columns are the same.)
    votes_range = [
        line
        for line in plan
        if ("Index Cond" in line or "SEARCH" in line) and "votes >" in line.replace("votes>", "votes >")
    ]
    assert len(votes_range) == 1, "\n".join(plan)
    if connection.vendor == "sqlite":
        # PostgreSQL's planner costs these few rows by statistics that earlier tests in a
        # random order leave behind, and may read the small range through another index of
        # the same leading columns; SQLite's choice follows the statement alone. Read once
        # for both of its counts (waiting, and waiting for a first extra annotator).
        assert sum("tally_open_disagreements" in line for line in plan) == 1, "\n".join(plan)
