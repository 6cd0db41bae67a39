"""The export form in the browser: options change the card in place, Download gives the
file, bad input stays on the form; axe-core, light and dark."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from annotate.export import ExportSpec, export_stream
from annotate.models import Annotation, Label, Target
from annotate.queue.record import annotation_record
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]


@pytest.fixture
def labelled(huawei, annotator, other_annotator) -> Target:
    UserFactory(username="boss", role="admin", is_staff=True)
    for a in range(4):
        article = ArticleFactory(title=f"Article {a}")
        for i, (first, second) in enumerate([("pro", "pro"), ("contra", "neutral"), ("skip", "pro")]):
            sentence = SentenceFactory(article=article, position=i, text=f"Article {a}, sentence {i}.")
            annotation_record(
                annotator=annotator, sentence=sentence, target=huawei, label=first, spent_ms=800
            )
            annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label=second)
    return huawei


def log_in(page: Page, live_server) -> None:
    sign_in(page, live_server, "boss", lands="/dashboard/**")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_admin_changes_the_options_sees_the_card_follow_and_downloads_the_file(
    page, live_server, labelled, scheme, tmp_path
):
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Export").click()
    page.wait_for_url(f"{live_server.url}/export/{labelled.pk}/form/")
    card = page.locator("#card-preview pre")
    expect(page.locator("#card-status")).to_have_attribute("role", "status")  # read out when it changes
    expect(card).to_contain_text("# Huawei: stance dataset (gold)")
    assert_accessible(page)

    page.get_by_label("Add a train/dev/test split").check()
    expect(page.locator("#card-status")).to_have_text("Card updated")
    expect(card).to_contain_text("seed 13")
    expect(page.locator("#id_split")).to_be_focused()

    page.get_by_role("radio", name="annotations").check()
    expect(card).to_contain_text("# Huawei: stance dataset (annotations)")
    expect(page.get_by_role("radio", name="annotations")).to_be_focused()

    seed = page.get_by_label("Seed")
    seed.fill("5x")  # a preview of bad input: the message beside the field, the card withdrawn
    expect(page.locator("#id_seed_error")).to_contain_text("seed must be a whole number")
    expect(page.locator("#card-status")).to_contain_text("Card not updated: seed must be")
    expect(seed).to_be_focused()
    seed.fill("5")
    expect(card).to_contain_text("seed 5")
    expect(page.locator("#id_seed_error")).to_have_text("")
    expect(page.locator("#card-status")).to_have_text("Card updated")
    expect(seed).to_be_focused()

    page.get_by_role("radio", name="csv").check()
    expect(page.locator("#card-status")).to_have_text("Card updated")
    expect(page.get_by_role("radio", name="csv")).to_be_focused()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "huawei-annotations.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    labels = Annotation.objects.filter(target=labelled).exclude(label=Label.SKIP)
    assert len(rows) == labels.count() == 20
    assert {row["split"] for row in rows} <= {"train", "dev", "test"}
    assert all(re.fullmatch(r"annotator-[0-9a-f]{10}", row["annotator"]) for row in rows)
    spec = ExportSpec(target=labelled, level="annotations", format="csv", split=True, seed=5)
    assert text == "".join(export_stream(spec))
    assert page.url == f"{live_server.url}/export/{labelled.pk}/form/"  # still on the form


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_bad_seed_is_refused_on_the_form_and_nothing_is_downloaded(page, live_server, labelled, scheme):
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/export/{labelled.pk}/form/")
    downloads: list[object] = []
    page.on("download", lambda download: downloads.append(download))
    page.get_by_label("Seed").fill("١٢")  # Arabic-Indic digits: int() takes them, the export does not
    with page.expect_navigation():
        page.get_by_role("button", name="Download", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was downloaded")
    expect(page.locator("#id_seed_error")).to_contain_text("seed must be a whole number of at most 18 digits")
    expect(page.get_by_label("Seed")).to_have_attribute("aria-invalid", "true")
    assert downloads == []
    assert_accessible(page)
