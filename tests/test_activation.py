"""Activation by evidence: a retrain replaces the active version only if it scores at least
as well; admins activate or roll back any ready version from the models page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from annotate import activation, classifier, training
from annotate.activation import MIN_SLICE_TO_DECIDE, Comparison
from annotate.models import Annotation, ModelVersion, Sentence, Suggestion, Target
from annotate.queue.record import annotation_change
from annotate.retrain_policy import retrain_enqueue
from annotate.score_intervals import intervals
from annotate.suggestions import in_control_set
from tests.factories import ModelVersionFactory, SentenceFactory, labelled_corpus, train_once
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


def share(target: Target, value: float) -> None:
    Target.objects.filter(pk=target.pk).update(control_share=value)
    target.refresh_from_db()


def active_id(target: Target) -> int | None:
    return Target.objects.values_list("active_version_id", flat=True).get(pk=target.pk)


def suggested_versions(target: Target) -> set[int]:
    return set(Suggestion.objects.filter(target=target).values_list("model_version_id", flat=True))


def flip(sentences: list[Sentence], target: Target, *, to: str, count: int, skip_slice: bool = True) -> None:
    """Give `count` training sentences (outside the slice) a wrong gold label."""
    flipped = 0
    for sentence in sentences:
        if flipped == count:
            return
        annotations = list(Annotation.objects.filter(sentence=sentence, target=target))
        in_slice = in_control_set(target=target, sentence_id=sentence.pk)
        if (skip_slice and in_slice) or any(a.label == to for a in annotations):
            continue
        for annotation in annotations:
            annotation_change(annotator=annotation.annotator, annotation_id=annotation.pk, label=to)
        flipped += 1


# The first version, and cross-validation while the slice is small


def test_the_first_version_is_activated_because_none_was_active(huawei):
    share(huawei, 0)
    labelled_corpus(target=huawei)

    result = training.retrain(target=huawei)

    version = ModelVersion.objects.get()
    assert active_id(huawei) == version.pk
    assert version.decision == "activated"
    assert version.comparison["reason"] == "activated: no version was active"
    assert version.decided_at is not None
    assert result.comparison is not None and result.comparison.activate


def test_a_version_that_scores_better_cross_validated_is_activated_with_both_figures(huawei):
    share(huawei, 0)
    labelled_corpus(target=huawei)
    weak = ModelVersionFactory(target=huawei, metrics={"f_avg": 0.4, "cv": {"n": 30}}, train_size=30)
    Target.objects.filter(pk=huawei.pk).update(active_version=weak)
    huawei.refresh_from_db()

    result = training.retrain(target=huawei)

    version = result.version
    assert active_id(huawei) == version.pk
    recorded = version.comparison
    assert (recorded["basis"], recorded["activate"], recorded["against"]) == ("cv", True, weak.pk)
    assert recorded["active"] == 0.4
    assert recorded["new"] == version.metrics["f_avg"] > 0.4
    assert (recorded["new_n"], recorded["active_n"]) == (42, 30)
    assert (
        "not the evaluation slice: the evaluation slice is too small to score: 0 gold labels"
        in (recorded["reason"])
    )
    assert suggested_versions(huawei) == {version.pk}  # the weak version's suggestions went


def test_a_worse_version_is_kept_ready_with_its_reason_and_writes_no_suggestion(huawei):
    share(huawei, 0)
    flip(labelled_corpus(target=huawei), huawei, to="pro", count=4)
    strong = ModelVersionFactory(target=huawei, metrics={"f_avg": 1.0, "cv": {"n": 42}}, train_size=42)
    Target.objects.filter(pk=huawei.pk).update(active_version=strong)
    huawei.refresh_from_db()
    kept_suggestion = Suggestion.objects.create(
        model_version=strong, sentence=Sentence.objects.first(), target=huawei, label="pro", confidence=0.9
    )

    result = training.retrain(target=huawei)

    version = result.version
    version.refresh_from_db()
    assert active_id(huawei) == strong.pk
    assert (version.status, version.decision, version.sentences_predicted) == ("ready", "kept", 0)
    assert version.comparison["reason"].startswith(
        f"kept inactive: F_avg {version.metrics['f_avg']:.3f} < v{strong.pk}'s 1.000"
    )
    assert version.activated_at is None
    assert result.sentences_predicted == 0  # never written, not written and then deleted
    assert list(Suggestion.objects.filter(target=huawei)) == [kept_suggestion]


def test_a_tie_activates_the_newer_version(huawei):
    share(huawei, 0)
    labelled_corpus(target=huawei)
    first = training.retrain(target=huawei).version

    second = training.retrain(target=huawei).version

    assert active_id(huawei) == second.pk
    assert second.comparison["new"] == second.comparison["active"] == first.metrics["f_avg"]


def test_a_slice_below_the_minimum_is_not_used_and_cross_validation_decides(huawei):
    share(huawei, 0.3)
    labelled_corpus(target=huawei)  # 42 gold labels: about a dozen fall in the slice
    first = training.retrain(target=huawei).version
    assert 10 <= first.metrics["evaluation_slice"]["n"] < MIN_SLICE_TO_DECIDE

    second = training.retrain(target=huawei).version

    recorded = second.comparison
    assert recorded["basis"] == "cv"
    assert f"fewer than the {MIN_SLICE_TO_DECIDE} needed to decide" in recorded["reason"]


# The evaluation slice decides once it is large enough


@pytest.fixture
def sliced(huawei) -> list[Sentence]:
    """Half the corpus in the slice: 120 gold labels, about 60 of them in the slice."""
    share(huawei, 0.5)
    sentences = labelled_corpus(target=huawei, per_class=40)
    version = training.retrain(target=huawei).version
    assert version.metrics["evaluation_slice"]["n"] >= MIN_SLICE_TO_DECIDE
    return sentences


def test_with_a_large_slice_both_versions_are_scored_on_the_same_slice(huawei, sliced):
    first = ModelVersion.objects.get()

    second = training.retrain(target=huawei).version

    recorded = second.comparison
    n = second.metrics["evaluation_slice"]["n"]
    assert recorded["basis"] == "slice"
    assert (recorded["new_n"], recorded["active_n"]) == (n, n)
    assert recorded["against"] == first.pk
    assert recorded["new"] == second.metrics["evaluation_slice"]["f_avg"]
    assert f"on the evaluation slice, both on the same {n} gold labels" in recorded["reason"]


def test_a_version_trained_on_wrong_labels_loses_on_the_slice_and_is_kept(huawei, sliced):
    first = ModelVersion.objects.get()
    flip(sliced, huawei, to="pro", count=15)

    result = training.retrain(target=huawei)

    recorded = result.version.comparison
    assert recorded["basis"] == "slice"
    assert recorded["new"] < recorded["active"]
    assert active_id(huawei) == first.pk
    assert suggested_versions(huawei) == {first.pk}
    assert result.sentences_predicted == 0


def test_a_slice_grown_since_the_active_version_falls_back_to_cross_validation(huawei, sliced):
    share(huawei, 0.6)  # the active version may have trained on the newly included sentences

    recorded = training.retrain(target=huawei).version.comparison

    assert recorded["basis"] == "cv"
    assert "the evaluation slice grew since" in recorded["reason"]


def test_an_unreadable_model_file_falls_back_to_cross_validation(huawei, sliced, model_dir):
    first = ModelVersion.objects.get()
    (model_dir / first.file_name).write_bytes(b"not the model")

    recorded = training.retrain(target=huawei).version.comparison

    assert recorded["basis"] == "cv"
    assert "model file is not the one it wrote" in recorded["reason"]


# Concurrency: the switch checks what is active under the target's lock


def test_a_retrain_compared_with_a_version_no_longer_active_is_kept(huawei):
    compared_with = ModelVersionFactory(target=huawei)
    chosen = ModelVersionFactory(target=huawei)
    Target.objects.filter(pk=huawei.pk).update(active_version=chosen)  # an admin's choice meanwhile
    training_version = ModelVersionFactory(target=huawei, status="training")
    comparison = Comparison(True, "cv", "…", 0.9, 0.5, 40, 40, compared_with.pk, "activated: F_avg 0.9")

    final = activation.retrain_finish(version=training_version, comparison=comparison, predicted=0, started=0)

    training_version.refresh_from_db()
    assert not final.activate
    assert f"v{chosen.pk} was made active meanwhile" in final.reason
    assert (training_version.status, training_version.decision) == ("ready", "kept")
    assert active_id(huawei) == chosen.pk


# Admins activate and roll back from the models page


def activate_url(target: Target) -> str:
    return reverse("model-activate", args=[target.id])


@pytest.fixture
def two_versions(huawei) -> tuple[ModelVersion, ModelVersion]:
    """Two trained versions with model files; the second is active."""
    share(huawei, 0)
    sentences = labelled_corpus(target=huawei)
    first = training.retrain(target=huawei).version
    flip(sentences, huawei, to="contra", count=1)
    ModelVersion.objects.filter(pk=first.pk).update(metrics={**first.metrics, "f_avg": 0.0})
    huawei.refresh_from_db()
    second = training.retrain(target=huawei).version
    assert active_id(huawei) == second.pk
    return first, second


def test_an_admin_rolls_back_to_an_older_version_in_the_background(
    admin_client_, admin_user, huawei, two_versions
):
    first, second = two_versions
    html = admin_client_.get(reverse("models", args=[huawei.id])).content.decode()
    assert f"Roll back to v{first.id}</button>" in html

    response = admin_client_.post(activate_url(huawei), {"version": first.pk})

    assert response.status_code == 302
    assert active_id(huawei) == second.pk  # nothing switched in the request
    task = run_queued_task()
    assert task.status == "SUCCESSFUL", task.traceback
    first.refresh_from_db()
    assert active_id(huawei) == first.pk
    assert (first.activated_by, first.sentences_predicted) == (admin_user, Sentence.objects.count())
    assert Suggestion.objects.filter(model_version=first).count() == Sentence.objects.count()
    assert suggested_versions(huawei) == {first.pk}
    html = admin_client_.get(reverse("models", args=[huawei.id])).content.decode()
    assert f"v{first.id} made active in place of v{second.id}" in html
    assert f"Activate v{second.id}</button>" in html


def test_an_admin_activates_a_kept_version_with_suggestions_for_new_sentences_too(
    admin_client_, huawei, two_versions
):
    first, second = two_versions
    admin_client_.post(activate_url(huawei), {"version": first.pk})
    run_queued_task()
    fresh = SentenceFactory()

    admin_client_.post(activate_url(huawei), {"version": second.pk})
    run_queued_task()

    assert active_id(huawei) == second.pk
    assert Suggestion.objects.filter(model_version=second, sentence=fresh).exists()
    assert suggested_versions(huawei) == {second.pk}


def test_a_version_whose_file_changed_is_not_activated(admin_client_, huawei, two_versions, model_dir):
    first, second = two_versions
    (model_dir / first.file_name).write_bytes(b"someone else's pickle")

    admin_client_.post(activate_url(huawei), {"version": first.pk})
    task = run_queued_task()

    assert task.status == "FAILED"
    assert "hash differs" in task.traceback
    assert active_id(huawei) == second.pk


def test_activation_is_refused_while_a_retrain_is_queued(admin_client_, huawei, two_versions):
    first, _second = two_versions
    retrain_enqueue(target_id=huawei.pk)

    response = admin_client_.post(activate_url(huawei), {"version": first.pk}, follow=True)

    assert "was not activated: a retrain or an activation of this target is already queued" in (
        response.content.decode()
    )
    assert DBTaskResult.objects.count() == 1


def test_another_targets_version_or_a_failed_one_cannot_be_activated(admin_client_, huawei):
    other = ModelVersionFactory()
    failed = ModelVersionFactory(target=huawei, status="failed")

    assert admin_client_.post(activate_url(huawei), {"version": other.pk}).status_code == 404
    admin_client_.post(activate_url(huawei), {"version": failed.pk})
    assert admin_client_.post(activate_url(huawei), {"version": "x"}).status_code == 400
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize("persona", ["curator_client", "annotator_client"])
def test_curators_and_annotators_may_not_activate(request, huawei, persona):
    version = ModelVersionFactory(target=huawei)
    client = request.getfixturevalue(persona)

    assert client.post(activate_url(huawei), {"version": version.pk}).status_code == 403
    assert not DBTaskResult.objects.exists()


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_curators_see_the_recorded_comparison_but_no_activate_button(curator_client, huawei, two_versions):
    _first, second = two_versions

    html = curator_client.get(reverse("models", args=[huawei.id])).content.decode()

    assert escape(second.comparison["reason"][1:]) in html
    assert "Roll back to" not in html
    assert "model-activate" not in html and "/activate/" not in html


def test_activation_without_a_csrf_token_is_refused(admin_user, huawei):
    version = ModelVersionFactory(target=huawei)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(activate_url(huawei), {"version": version.pk}).status_code == 403
    assert not DBTaskResult.objects.exists()


def test_activation_answers_get_with_405_and_anonymous_with_401(client, admin_client_, huawei):
    version = ModelVersionFactory(target=huawei)

    assert admin_client_.get(activate_url(huawei)).status_code == 405
    assert client.post(activate_url(huawei), {"version": version.pk}).status_code == 401
    assert not DBTaskResult.objects.exists()


def test_the_page_shows_each_versions_scores_with_their_intervals(admin_client_, huawei, two_versions):
    html = admin_client_.get(reverse("models", args=[huawei.id])).content.decode()

    assert '<small class="ci">' in html
    assert "95 % intervals: F_avg" in html
    assert "Wilson for accuracy" in html


def test_a_retrained_version_stores_the_intervals_the_page_shows(admin_client_, huawei):
    share(huawei, 0)
    labelled_corpus(target=huawei)
    version = training.retrain(target=huawei).version
    version.refresh_from_db()
    stored = version.metrics["intervals"]
    assert stored == intervals(version.metrics["confusion"]).as_dict()
    # The page reads what is stored, not a bootstrap per request.
    ModelVersion.objects.filter(pk=version.pk).update(
        metrics={**version.metrics, "intervals": {**stored, "f_avg": [0.123, 0.456]}}
    )

    html = admin_client_.get(reverse("models", args=[huawei.id])).content.decode()

    assert '<small class="ci">0.12–0.46</small>' in html
