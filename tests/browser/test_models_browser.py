"""Rolling back and activating model versions on the models page, in a real browser: the
admin presses a version's button, the status line (a polite live region) says the switch is
queued and then, by itself, that it is done, and the buttons follow the active version;
axe on each step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate import classifier, training
from annotate.models import ModelVersion, Sentence, Suggestion, Target
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import UserFactory, labelled_corpus, train_once
from tests.tasks import run_queued_task
from tests.test_activation import flip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

STATUS = "#retrain-status"


def active_id(target: Target) -> int | None:
    return Target.objects.values_list("active_version_id", flat=True).get(pk=target.pk)


@pytest.fixture
def two_versions(huawei, monkeypatch) -> tuple[ModelVersion, ModelVersion]:
    """Two trained versions with model files; the second is active."""
    monkeypatch.setattr(classifier, "train", train_once)
    Target.objects.filter(pk=huawei.pk).update(control_share=0)
    huawei.refresh_from_db()
    sentences = labelled_corpus(target=huawei)
    first = training.retrain(target=huawei).version
    assert first is not None
    flip(sentences, huawei, to="contra", count=1)  # a new gold label: a retrain is due
    ModelVersion.objects.filter(pk=first.pk).update(metrics={**first.metrics, "f_avg": 0.0})
    huawei.refresh_from_db()
    second = training.retrain(target=huawei).version
    assert second is not None and active_id(huawei) == second.pk
    return first, second


def test_an_admin_rolls_back_to_an_older_version_and_activates_the_newer_one_again(
    page: Page, live_server, huawei, two_versions
):
    first, second = two_versions
    UserFactory(username="boss", role="admin", is_staff=True)
    sign_in(page, live_server, "boss", lands="/dashboard/**")
    page.goto(f"{live_server.url}/models/{huawei.pk}/")
    expect(page.get_by_role("button", name=f"Activate v{second.pk}")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("button", name=f"Roll back to v{first.pk}").click()
    expect(page.locator(STATUS)).to_contain_text("queued, waiting for the worker")
    assert active_id(huawei) == second.pk  # nothing switched in the request
    assert_accessible(page)
    task = run_queued_task()
    assert task.status == "SUCCESSFUL", task.traceback
    # The status line polls while the switch runs, and says by itself that it is done.
    expect(page.locator(STATUS)).to_contain_text(f"Version v{first.pk} was made active")
    assert active_id(huawei) == first.pk
    assert Suggestion.objects.filter(model_version=first).count() == Sentence.objects.count()

    page.reload()
    expect(page.get_by_role("button", name=f"Roll back to v{first.pk}")).to_have_count(0)
    page.get_by_role("button", name=f"Activate v{second.pk}").click()
    expect(page.locator(STATUS)).to_contain_text("queued, waiting for the worker")
    assert run_queued_task().status == "SUCCESSFUL"
    expect(page.locator(STATUS)).to_contain_text(f"Version v{second.pk} was made active")
    assert active_id(huawei) == second.pk
    assert_accessible(page)
