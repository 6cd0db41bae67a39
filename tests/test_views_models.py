from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotate import classifier
from annotate.models import Annotation, AnnotationEvent, ModelVersion, Sentence, Target
from annotate.tasks import retrain_target
from tests.factories import (
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
    labelled_corpus,
    stance_text,
    target_settings,
    train_once,
)
from tests.tasks import run_queued_task

# Every gold label trains: the evaluation slice has its own tests (test_training.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice")]

HTMX = {"HTTP_HX_REQUEST": "true"}
TASK_PATH = "annotate.tasks.retrain_target"
METRICS = {
    "accuracy": 0.8124,
    "macro_f1": 0.7456,
    "f_avg": 0.6789,
    "per_class": {},
    "confusion": [[5, 1, 0], [2, 6, 1], [0, 3, 9]],
    "folds": 5,
    "classes": ["pro", "contra", "neutral"],
}
# The queue settings form's fields, changed from their defaults where a test can see it.
QUEUE_SETTINGS = {
    name: value
    for name, value in target_settings(
        overlap=3,
        dynamic_overlap=True,
        max_overlap=4,
        posterior_threshold=0.85,
        queue_order="uncertainty",
        uncertainty_measure="entropy",
        random_share=0.3,
        control_share=0.05,
        suggestion_mode="after",
    ).items()
    if name not in ("gold_method", "retrain_every", "retrain_floor_minutes")
}


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def models_url(target: Target) -> str:
    return reverse("models", args=[target.id])


def retrain_url(target: Target) -> str:
    return reverse("model-retrain", args=[target.id])


def settings_url(target: Target) -> str:
    return reverse("queue-settings", args=[target.id])


def queue_settings(target: Target) -> dict[str, object]:
    return dict(Target.objects.filter(pk=target.pk).values(*QUEUE_SETTINGS).get())


def confusion_cells(html: str) -> list[int]:
    table = html[html.index('<table class="confusion">') :]
    table = table[: table.index("</table>")]
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table)]


def current_id(html: str) -> int:
    return int(re.search(r'data-sentence-id="(\d+)"', html).group(1))


# The models page


def test_an_admin_sees_the_versions_with_their_metrics(admin_client_, huawei):
    failed = ModelVersionFactory(target=huawei, status="failed", error="Interrupted before it was activated.")
    active = ModelVersionFactory(target=huawei, metrics=METRICS, label_distribution={"contra": 9, "pro": 6})
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    response = admin_client_.get(models_url(huawei))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"v{active.id} <strong>(active)</strong>" in html
    assert f"v{failed.id} <strong>" not in html
    assert "Failed — Interrupted before it was activated." in html
    assert '<td class="version-active">Active</td>' in html
    for shown in ("0.812", "0.746", "0.679", "contra 9", "pro 6"):
        assert shown in html


GROUPED = {
    **METRICS,
    "cv": {
        "grouped": True,
        "folds": 5,
        "groups": 7,
        "n": 54,
        "seed": 0,
        "how": "5-fold cross-validation grouped by article (7 groups): no article in both a training fold "
        "and its validation fold; stratified by label, shuffled, seed 0",
    },
    "evaluation_slice": {
        "n": 12,
        "scored": True,
        "reason": "",
        "share": 0.1,
        "left_out": 0,
        "distribution": {"contra": 4, "neutral": 5, "pro": 3},
        "accuracy": 0.5833,
        "macro_f1": 0.5512,
        "f_avg": 0.5234,
        "per_class": {},
        "confusion": [],
        "classes": ["pro", "contra", "neutral"],
    },
}


def test_the_page_shows_both_scores_of_a_version_each_with_its_n_and_how(admin_client_, huawei):
    active = ModelVersionFactory(target=huawei, metrics=GROUPED, train_size=54)
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="cv-method">grouped, n 54</td>' in html
    assert '<td class="num slice-f-avg">0.523</td>' in html
    assert '<td class="slice-state">n 12</td>' in html
    assert (
        "F_avg 0.679, macro-F1 0.746, accuracy 0.812 on 54 gold labels: 5-fold cross-validation grouped "
        "by article (7 groups)"
    ) in html
    assert "F_avg 0.523, macro-F1 0.551, accuracy 0.583 on 12 gold labels: the evaluation slice" in html
    assert "never trained on and which annotators label without a suggestion on screen" in html


def test_a_version_trained_before_the_evaluation_slice_reads_not_measured(admin_client_, huawei):
    old = ModelVersionFactory(target=huawei, metrics=METRICS, train_size=30)
    Target.objects.filter(pk=huawei.pk).update(active_version=old)

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="cv-method">by sentence, n 30</td>' in html
    assert '<td class="num slice-f-avg">—</td>' in html
    assert '<td class="slice-state">not measured</td>' in html
    assert "not measured: trained before the evaluation slice." in html
    assert "trained before grouped cross-validation" in html


def test_a_slice_too_small_to_score_shows_why_and_no_number(admin_client_, huawei):
    reason = "too small to score: 4 gold labels, at least 10 are needed"
    small = {**GROUPED, "evaluation_slice": {"n": 4, "scored": False, "reason": reason, "share": 0.1}}
    active = ModelVersionFactory(target=huawei, metrics=small)
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="num slice-f-avg">—</td>' in html
    assert '<td class="slice-state">too small, n 4</td>' in html
    assert f"No score on 4 gold labels: {reason}." in html


def test_the_page_says_its_folds_join_duplicates_and_counts_slice_copies_kept_out_of_training(
    admin_client_, huawei
):
    how = (
        "5-fold cross-validation grouped by article and duplicate group (4 groups): no group in both a "
        "training fold and its validation fold; stratified by label, shuffled, seed 0"
    )
    metrics = {
        **GROUPED,
        "cv": {**GROUPED["cv"], "groups": 4, "how": how},
        "evaluation_slice": {**GROUPED["evaluation_slice"], "copies_left_out": 3},
    }
    active = ModelVersionFactory(target=huawei, metrics=metrics, train_size=54)
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert "in folds grouped by article and duplicate group" in html
    assert f"on 54 gold labels: {how}." in html
    assert (
        "; 3 gold labels of their duplicates (the same or a near-identical text elsewhere) kept out" in html
    )


def test_the_page_shows_the_active_versions_confusion_matrix(admin_client_, huawei):
    active = ModelVersionFactory(target=huawei, metrics=METRICS)
    ModelVersionFactory(target=huawei, metrics={**METRICS, "confusion": [[1, 1, 1], [1, 1, 1], [1, 1, 1]]})
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert f"Confusion matrix of v{active.id}" in html
    assert confusion_cells(html) == [5, 1, 0, 2, 6, 1, 0, 3, 9]
    assert re.findall(r'<th scope="row">(\w+)</th>', html) == ["pro", "contra", "neutral"]


def test_the_page_lists_only_the_targets_own_versions(admin_client_, huawei):
    other = ModelVersionFactory(target=TargetFactory())

    html = admin_client_.get(models_url(huawei)).content.decode()

    # As a cell, so that "v1" inside the page's random CSRF token cannot count.
    assert f"<td>v{other.id}" not in html
    assert "No model yet." in html
    assert "Confusion matrix" not in html


def test_the_page_takes_as_many_queries_for_many_versions_and_tasks_as_for_one(admin_client_, huawei):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_.get(models_url(huawei)).status_code == 200
        return len(captured.captured_queries)

    def add_version_and_task() -> None:
        admin_client_.post(retrain_url(huawei))
        version = ModelVersionFactory(target=huawei, metrics=METRICS)
        Target.objects.filter(pk=huawei.pk).update(active_version=version)

    add_version_and_task()
    one = queries()
    for _ in range(5):
        add_version_and_task()

    assert queries() == one


def test_the_models_page_of_an_unknown_target_is_a_404(admin_client_):
    assert admin_client_.get(reverse("models", args=[999999])).status_code == 404
    assert admin_client_.post(reverse("model-retrain", args=[999999])).status_code == 404
    assert admin_client_.post(reverse("queue-settings", args=[999999]), QUEUE_SETTINGS).status_code == 404


# Who may see and change models


@pytest.mark.parametrize("persona", ["annotator_client", "curator_client"])
def test_annotators_and_curators_may_not_change_models(request, huawei, persona):
    client = request.getfixturevalue(persona)
    before = queue_settings(huawei)

    assert client.post(retrain_url(huawei)).status_code == 403
    assert client.post(settings_url(huawei), QUEUE_SETTINGS).status_code == 403

    assert not DBTaskResult.objects.exists()
    assert queue_settings(huawei) == before


def test_annotators_may_not_see_the_models_page(annotator_client, huawei):
    assert annotator_client.get(models_url(huawei)).status_code == 403


def test_curators_see_the_models_page_without_its_forms(curator_client, huawei):
    active = ModelVersionFactory(target=huawei, metrics=METRICS)
    ModelVersionFactory(target=huawei, metrics=METRICS)
    Target.objects.filter(pk=huawei.pk).update(active_version=active)

    html = curator_client.get(models_url(huawei)).content.decode()

    assert f"v{active.id} <strong>(active)</strong>" in html
    assert "<form" not in html.split("<main", 1)[-1]
    assert "Retrain now" not in html
    assert "Save queue settings" not in html


def test_an_anonymous_visitor_is_sent_to_log_in(client, huawei):
    response = client.get(models_url(huawei))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_anonymous_post_changes_nothing(client, huawei):
    before = queue_settings(huawei)

    assert client.post(retrain_url(huawei)).status_code == 401
    assert client.post(settings_url(huawei), QUEUE_SETTINGS).status_code == 401

    assert not DBTaskResult.objects.exists()
    assert queue_settings(huawei) == before


def test_the_write_endpoints_reject_get_and_the_page_rejects_post(admin_client_, huawei):
    assert admin_client_.get(retrain_url(huawei)).status_code == 405
    assert admin_client_.get(settings_url(huawei)).status_code == 405
    assert admin_client_.post(models_url(huawei)).status_code == 405


def test_posts_without_a_csrf_token_are_refused(admin_user, huawei):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = queue_settings(huawei)

    assert client.post(retrain_url(huawei)).status_code == 403
    assert client.post(settings_url(huawei), QUEUE_SETTINGS).status_code == 403

    assert not DBTaskResult.objects.exists()
    assert queue_settings(huawei) == before


# Retraining in the background


def test_retrain_enqueues_a_task_and_redirects_to_the_page(admin_client_, huawei):
    response = admin_client_.post(retrain_url(huawei))

    assert response.status_code == 302
    assert response.url == models_url(huawei)
    task = DBTaskResult.objects.get()
    assert task.task_path == TASK_PATH
    assert task.args_kwargs == {"args": [huawei.pk], "kwargs": {}}
    assert task.status == "READY"
    assert not ModelVersion.objects.exists()  # nothing is trained in the request


def test_retrain_says_it_runs_in_the_background(admin_client_, huawei):
    response = admin_client_.post(retrain_url(huawei), follow=True)

    assert "Retraining Huawei in the background" in response.content.decode()


def test_running_the_task_makes_an_active_version(huawei):
    labelled_corpus(target=huawei)

    result = retrain_target.call(huawei.pk)

    version = ModelVersion.objects.get()
    huawei.refresh_from_db()
    assert huawei.active_version == version
    assert result["version"] == version.pk
    assert result["train_size"] == 42
    assert result["f_avg"] == version.metrics["f_avg"]
    assert (result["slice_f_avg"], result["slice_n"]) == (None, 0)  # no control set: nothing to score


def test_the_page_shows_a_waiting_task_and_polls_for_its_state(admin_client_, huawei):
    admin_client_.post(retrain_url(huawei))

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="task-queued">Queued</td>' in html
    assert "queued, waiting for the worker" in html
    assert 'hx-trigger="every 2s"' in html


def test_the_page_shows_a_finished_task_with_its_result_and_stops_polling(admin_client_, huawei):
    labelled_corpus(target=huawei)
    admin_client_.post(retrain_url(huawei))

    task = run_queued_task()

    assert task.status == "SUCCESSFUL"
    version = ModelVersion.objects.get()
    html = admin_client_.get(models_url(huawei)).content.decode()
    assert '<td class="task-trained">Trained</td>' in html
    assert f"version {version.pk}: F_avg" in html
    assert "on 42 labels" in html
    assert 'hx-trigger="every 2s"' not in html
    assert f"v{version.id} <strong>(active)</strong>" in html


def test_the_page_shows_why_a_task_failed(admin_client_, huawei):
    admin_client_.post(retrain_url(huawei))

    task = run_queued_task()

    assert task.status == "FAILED"
    html = admin_client_.get(models_url(huawei)).content.decode()
    assert '<td class="task-failed">Failed</td>' in html
    assert "Retraining failed at " in html
    assert "Only 0 gold labels for Huawei" in html
    assert 'hx-trigger="every 2s"' not in html
    assert "This page updates when it is done." not in html


def test_the_page_lists_only_the_targets_own_tasks(admin_client_, huawei):
    other = TargetFactory()
    admin_client_.post(retrain_url(other))

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert "No retrain started from the browser yet." in html
    assert 'hx-trigger="every 2s"' not in html


def test_an_htmx_request_gets_only_the_retrain_status(admin_client_, huawei):
    admin_client_.post(retrain_url(huawei))

    response = admin_client_.get(models_url(huawei), **HTMX)

    html = response.content.decode().strip()
    assert html.startswith('<div id="retrain-status"')
    assert html.endswith("</div>")
    assert html.count('id="retrain-status"') == 1
    assert "<html" not in html
    assert "<h1>" not in html
    assert "Save queue settings" not in html
    assert 'class="task-queued"' in html
    assert "HX-Request" in response["Vary"]


def test_a_running_task_reads_running_and_keeps_polling(admin_client_, huawei):
    admin_client_.post(retrain_url(huawei))
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="task-running">Running</td>' in html
    assert "Retraining Huawei in the background: running since" in html
    assert 'hx-trigger="every 2s"' in html
    assert "Ready" not in html


def test_a_queued_task_and_a_trained_version_read_differently(admin_client_, huawei):
    trained = ModelVersionFactory(target=huawei)
    admin_client_.post(retrain_url(huawei))

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="task-queued">Queued</td>' in html
    assert '<td class="version-trained">Trained</td>' in html
    assert f"v{trained.id} <strong>" not in html  # trained, not active
    assert "Ready" not in html


def test_a_version_in_training_reads_training(admin_client_, huawei):
    ModelVersionFactory(target=huawei, status="training")

    html = admin_client_.get(models_url(huawei)).content.decode()

    assert '<td class="version-training">Training</td>' in html


def test_the_polled_fragment_stops_polling_and_shows_the_result_once_the_task_is_done(admin_client_, huawei):
    labelled_corpus(target=huawei)
    admin_client_.post(retrain_url(huawei))
    polling = admin_client_.get(models_url(huawei), **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in polling
    assert "This page updates when it is done." in polling

    run_queued_task()
    done = admin_client_.get(models_url(huawei), **HTMX).content.decode()

    version = ModelVersion.objects.get()
    assert 'hx-trigger="every 2s"' not in done
    assert "hx-get" not in done
    assert "This page updates when it is done." not in done
    assert "Retraining finished at " in done
    assert f"version v{version.pk} is trained and active." in done
    assert '<td class="version-active">Active</td>' in done


def test_the_retrain_notice_is_inside_the_polled_fragment_so_it_goes_when_the_task_is_done(
    admin_client_, huawei
):
    """A flash message outside the fragment would stay on screen after the retrain ended."""
    html = admin_client_.post(retrain_url(huawei), follow=True).content.decode()

    fragment = html.index('<div id="retrain-status"')
    assert html.count("This page updates when it is done.") == 1
    assert html.index("This page updates when it is done.") > fragment


# Queue settings


def test_queue_settings_are_saved_and_redirect_to_the_page(admin_client_, huawei):
    response = admin_client_.post(settings_url(huawei), QUEUE_SETTINGS)

    assert response.status_code == 302
    assert response.url == models_url(huawei)
    assert queue_settings(huawei) == QUEUE_SETTINGS


def test_saved_queue_settings_are_confirmed(admin_client_, huawei):
    response = admin_client_.post(settings_url(huawei), QUEUE_SETTINGS, follow=True)

    assert "Queue settings saved" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("random_share", 2),
        ("random_share", -0.1),
        ("control_share", 1.5),
        ("queue_order", "fastest"),
        ("uncertainty_measure", "vibes"),
        ("suggestion_mode", "sometimes"),
        ("overlap", -1),
        ("overlap", "two"),
    ],
)
def test_invalid_queue_settings_are_a_400_and_change_nothing(admin_client_, huawei, field, value):
    before = queue_settings(huawei)

    response = admin_client_.post(settings_url(huawei), {**QUEUE_SETTINGS, field: value})

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert queue_settings(huawei) == before


# Suggestions on the labelling card


@pytest.fixture
def suggested(huawei, sentences) -> Sentence:
    """The first sentence, with a contra suggestion of the active version, outside the control set."""
    SuggestionFactory(target=huawei, sentence=sentences[0], label="contra", confidence=0.9)
    return sentences[0]


def submit(client: Client, target: Target, sentence: Sentence, label: str):
    return client.post(
        reverse("label-submit", args=[target.id]),
        {"sentence": sentence.id, "label": label, "spent_ms": 900},
        **HTMX,
    )


def test_the_card_shows_the_active_versions_suggestion(annotator_client, huawei, suggested):
    html = annotator_client.get(reverse("label", args=[huawei.id])).content.decode()

    assert current_id(html) == suggested.id
    assert 'Model suggests <strong class="label-contra">contra</strong>' in html
    assert 'value="accept"' in html


def test_accepting_the_suggestion_records_it_as_shown_and_accepted(annotator_client, huawei, suggested):
    annotator_client.get(reverse("label", args=[huawei.id]))

    response = submit(annotator_client, huawei, suggested, "accept")

    assert response.status_code == 200
    annotation = Annotation.objects.get(sentence=suggested)
    assert (annotation.label, annotation.accepted_suggestion, annotation.suggestion_shown) == (
        "contra",
        True,
        True,
    )
    assert AnnotationEvent.objects.get().accepted_suggestion


def test_another_label_with_a_suggestion_shown_is_recorded_as_shown_not_accepted(
    annotator_client, huawei, suggested
):
    submit(annotator_client, huawei, suggested, "pro")

    annotation = Annotation.objects.get(sentence=suggested)
    assert (annotation.label, annotation.accepted_suggestion, annotation.suggestion_shown) == (
        "pro",
        False,
        True,
    )


@pytest.fixture
def controlled(huawei, suggested) -> Sentence:
    """The suggested sentence, now in the control set: every sentence is, at a share of 1."""
    Target.objects.filter(pk=huawei.pk).update(control_share=1)
    return suggested


def test_a_control_set_sentence_is_shown_without_its_suggestion(annotator_client, huawei, controlled):
    html = annotator_client.get(reverse("label", args=[huawei.id])).content.decode()

    assert current_id(html) == controlled.id
    assert "Model suggests" not in html
    assert 'value="accept"' not in html


def test_accepting_in_the_control_set_is_a_400_and_stores_nothing(annotator_client, huawei, controlled):
    response = submit(annotator_client, huawei, controlled, "accept")

    assert response.status_code == 400
    assert not Annotation.objects.exists()
    assert not AnnotationEvent.objects.exists()


def test_a_label_in_the_control_set_is_recorded_as_shown_without_a_suggestion(
    annotator_client, huawei, controlled
):
    submit(annotator_client, huawei, controlled, "contra")

    annotation = Annotation.objects.get(sentence=controlled)
    assert (annotation.label, annotation.accepted_suggestion, annotation.suggestion_shown) == (
        "contra",
        False,
        False,
    )


def test_after_a_retrain_from_the_page_annotators_see_the_new_models_suggestions(admin_client_, huawei):
    labelled_corpus(target=huawei)
    fresh = SentenceFactory(text=stance_text("contra", 500))
    Target.objects.filter(pk=huawei.pk).update(control_share=0)
    admin_client_.post(retrain_url(huawei))
    run_queued_task()
    client = Client()
    client.force_login(UserFactory(password=None, role="annotator"))

    html = client.get(reverse("label", args=[huawei.id])).content.decode()

    assert current_id(html) == fresh.id
    assert 'Model suggests <strong class="label-contra">contra</strong>' in html
