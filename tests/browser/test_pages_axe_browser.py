"""axe-core on the article, adjudication, annotator, dashboard and models pages, light and
dark; the adjudication page's `e` key."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from annotate.models import Adjudication, EvaluationItem, Label, Target
from annotate.queue.record import annotation_record
from annotate.tasks import retrain_target
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]
METRICS = {
    "accuracy": 0.75,
    "macro_f1": 0.7,
    "f_avg": 0.65,
    "confusion": [[3, 1, 0], [0, 2, 1], [1, 0, 4]],
    "classes": ["pro", "contra", "neutral"],
}


@pytest.fixture
def world(huawei, annotator, other_annotator) -> SimpleNamespace:
    """Labels (agreeing, disagreeing, a skip), an adjudication, an active model with
    suggestions and an older version, and a queued retrain."""
    curator = UserFactory(username="cur", role="curator")
    admin = UserFactory(username="boss", role="admin", is_staff=True)
    article = ArticleFactory(title="Huawei and 5G", source="Example News", url="https://example.org/5g")
    sentences = [
        SentenceFactory(article=article, position=i, text=f"Sentence {i} of the Huawei article.")
        for i in range(6)
    ]
    bare = ArticleFactory(title="No source or date", source="", url="")
    SentenceFactory(article=bare, position=0, text="A sentence of an article without a source.")
    ModelVersionFactory(
        target=huawei, train_size=10, metrics={"accuracy": 0.5, "macro_f1": 0.4, "f_avg": 0.3}
    )
    active = ModelVersionFactory(target=huawei, train_size=20, metrics=METRICS, label_distribution={"pro": 8})
    Target.objects.filter(pk=huawei.pk).update(active_version=active, control_share=0)
    huawei.refresh_from_db()
    for sentence, label in zip(sentences[3:], [Label.PRO, Label.CONTRA, Label.NEUTRAL], strict=True):
        SuggestionFactory(target=huawei, sentence=sentence, model_version=active, label=label)
    votes = [
        (sentences[0], "pro", "pro"),
        (sentences[1], "pro", "contra"),  # a disagreement to settle
        (sentences[2], "contra", "neutral"),  # settled below
        (sentences[3], "skip", None),
        (sentences[4], "neutral", "contra"),  # a second one, for the upcoming list
    ]
    for sentence, first, second in votes:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label=first, spent_ms=1200)
        if second:
            annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label=second)
    settled = Adjudication.objects.create(
        sentence=sentences[2], target=huawei, label="contra", curator=curator
    )
    # An evaluation item, answered once after it was marked (the pressed chip, the tables).
    EvaluationItem.objects.create(
        adjudication=settled, target=huawei, sentence=sentences[2], marked_by=curator
    )
    answerer = UserFactory(username="eve", role="annotator")
    annotation_record(annotator=answerer, sentence=sentences[2], target=huawei, label="pro", spent_ms=900)
    retrain_target.enqueue(huawei.pk)
    return SimpleNamespace(target=huawei, article=article, bare=bare, curator=curator, admin=admin)


@pytest.fixture
def log_in_as(live_server) -> Callable[[Page, str], None]:
    """Log in through the login form; curators and admins land on the dashboard."""

    def do(page: Page, username: str) -> None:
        sign_in(page, live_server, username, lands="/dashboard/**")

    return do


def visit(page: Page, url: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_article_pages_pass_axe(page, live_server, world, log_in_as, scheme):
    log_in_as(page, "cur")
    for article in (world.article, world.bare):
        visit(page, f"{live_server.url}/articles/{article.pk}/", scheme)
        assert_accessible(page)
    visit(page, f"{live_server.url}/articles/", scheme)
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_adjudication_page_passes_axe(page, live_server, world, log_in_as, scheme):
    log_in_as(page, "cur")
    visit(page, f"{live_server.url}/adjudicate/{world.target.pk}/", scheme)
    expect(page.locator("#current-sentence")).to_be_visible()
    expect(page.locator("details.upcoming")).to_be_attached()
    for summary in page.locator("details > summary").all():
        summary.click()
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_annotator_page_passes_axe(page, live_server, world, log_in_as, scheme):
    log_in_as(page, "cur")
    eve = User.objects.get(username="eve")
    visit(page, f"{live_server.url}/dashboard/{world.target.pk}/annotators/{eve.pk}/", scheme)
    expect(page.locator("#confusion-heading")).to_be_visible()
    assert_accessible(page)


def test_the_e_key_unmarks_and_marks_the_newest_settled_sentence(page, live_server, world, log_in_as):
    log_in_as(page, "cur")
    visit(page, f"{live_server.url}/adjudicate/{world.target.pk}/", "light")
    chip = page.locator("#evaluation-form button")
    expect(chip).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("e")
    expect(page.locator("#status")).to_contain_text("No longer an evaluation item")
    expect(page.locator("#evaluation-form button")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("e")
    expect(page.locator("#status")).to_contain_text("Evaluation item: ")
    expect(page.locator("#evaluation-form button")).to_have_attribute("aria-pressed", "true")
    assert EvaluationItem.objects.filter(target=world.target).count() == 1


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_dashboard_passes_axe_with_its_details_open(page, live_server, world, log_in_as, scheme):
    # With dynamic overlap on, the progress section counts the sentences that asked for an
    # extra annotator (the world's two unsettled disagreements).
    Target.objects.filter(pk=world.target.pk).update(dynamic_overlap=True)
    log_in_as(page, "boss")
    visit(page, f"{live_server.url}/dashboard/{world.target.pk}/", scheme)
    expect(page.locator("#extra-annotators")).to_contain_text("2 sentences asked for an extra annotator")
    for summary in page.locator("details > summary").all():
        summary.click()
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_models_page_passes_axe(page, live_server, world, log_in_as, scheme):
    log_in_as(page, "boss")
    visit(page, f"{live_server.url}/models/{world.target.pk}/", scheme)
    expect(page.locator("#retrain-status")).to_contain_text("Queued")
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_error_pages_pass_axe(page, live_server, world, log_in_as, scheme):
    log_in_as(page, "cur")
    page.emulate_media(color_scheme=scheme)
    assert page.goto(f"{live_server.url}/export/{world.target.pk}/").status == 403
    assert_accessible(page)
    assert page.goto(f"{live_server.url}/no/such/page/").status == 404
    assert_accessible(page)
