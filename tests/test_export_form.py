"""The export form (/export/<target>/form/): the command's options, its download and card."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.export import FORMATS, LEVELS
from annotate.models import Adjudication
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(huawei, annotator, other_annotator, curator):
    """Twelve articles, one with a sentence copied from another; labels by two annotators."""
    articles = [ArticleFactory(title=f"Article {i}", source="Reuters") for i in range(12)]
    texts = ["Huawei is a risk.", '=HYPERLINK("x") a formula, a comma', 'He said "no", twice.']
    sentences = [
        SentenceFactory(article=article, position=i, text=f"{article.title}: {text}")
        for article in articles
        for i, text in enumerate(texts)
    ]
    sentences.append(SentenceFactory(article=articles[2], position=3, text=sentences[0].text))
    votes = ["pro", "contra", "neutral", "skip"]
    for n, sentence in enumerate(sentences):
        AnnotationFactory(
            annotator=annotator, sentence=sentence, target=huawei, label=votes[n % 3], spent_ms=900
        )
        AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei, label=votes[n % 4])
    Adjudication.objects.create(sentence=sentences[1], target=huawei, label="neutral", curator=curator)
    return sentences


def form_url(target) -> str:
    return reverse("export-form", args=[target.pk])


def command_output(target, *arguments: str) -> bytes:
    out = io.StringIO()
    call_command("export_dataset", f"--target={target.name}", *arguments, stdout=out)
    return out.getvalue().encode()


def downloaded(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    return b"".join(response.streaming_content)


# The same command line and form submission: a ticked checkbox sends "on".
OPTION_SETS = [
    pytest.param(
        ["--format=jsonl", "--level=gold", "--split", "--seed=7"],
        {"format": "jsonl", "level": "gold", "split": "on", "seed": "7"},
        id="gold-jsonl-split-seed-7",
    ),
    pytest.param(
        ["--format=csv", "--level=annotations", "--names"],
        {"format": "csv", "level": "annotations", "seed": "13", "names": "on"},
        id="annotations-csv-names",
    ),
    pytest.param(
        ["--format=csv", "--level=gold", "--split"],
        {"format": "csv", "level": "gold", "split": "on", "seed": "13"},
        id="gold-csv-split",
    ),
    pytest.param(
        ["--format=jsonl", "--level=annotations", "--split", "--seed=-4"],
        {"format": "jsonl", "level": "annotations", "split": "on", "seed": "-4"},
        id="annotations-jsonl-pseudonyms-seed-minus-4",
    ),
]


@pytest.mark.parametrize(("arguments", "options"), OPTION_SETS)
def test_the_forms_download_is_the_commands_output_byte_for_byte(
    admin_client_, huawei, corpus, arguments, options
):
    # The command scans for duplicates before it splits; the web never scans in a request
    # (annotate.duplicate_groups), so the command runs first, as the summary task would.
    expected = command_output(huawei, *arguments)
    response = admin_client_.get(form_url(huawei), {**options, "download": "data"})
    assert downloaded(response) == expected
    assert expected.count(b"\n") > 5
    stem = f"huawei-{options['level']}.{options['format']}"
    assert response["Content-Disposition"] == f'attachment; filename="{stem}"'


def test_an_archived_target_exports_from_the_form_as_from_the_command(admin_client_, corpus, huawei):
    huawei.archived_at = timezone.now()
    huawei.save(update_fields=["archived_at"])
    expected = command_output(huawei, "--format=jsonl", "--level=gold")
    response = admin_client_.get(form_url(huawei), {"format": "jsonl", "level": "gold", "download": "data"})
    assert downloaded(response) == expected
    page = admin_client_.get(form_url(huawei)).content.decode()
    assert '<span class="badge">archived</span>' in page


def test_the_card_button_downloads_the_card_the_card_url_gives(admin_client_, huawei, corpus, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    query = {"format": "csv", "level": "annotations", "split": "on", "seed": "5", "names": "on"}
    response = admin_client_.get(form_url(huawei), {**query, "download": "card"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="huawei-annotations.card.md"'
    card_url = admin_client_.get(
        reverse("export-card", args=[huawei.pk]), {**query, "split": "1", "names": "1"}
    )
    assert response.content == card_url.content
    assert "seed 5" in response.content.decode()


def test_the_page_shows_the_card_of_its_options(admin_client_, huawei, corpus):
    html = admin_client_.get(
        form_url(huawei), {"level": "annotations", "split": "on", "seed": "21"}
    ).content.decode()
    assert "seed 21" in html
    assert 'id="card-preview"' in html
    # The options as asked, and the download's defaults for the rest.
    assert re.search(r'<input type="radio" name="level" value="annotations"[^>]* checked', html)
    assert re.search(r'<input type="radio" name="format" value="jsonl"[^>]* checked', html)
    assert re.search(r'<input type="checkbox" name="split"[^>]* checked', html)
    assert not re.search(r'<input type="checkbox" name="names"[^>]* checked', html)


def test_the_forms_choices_are_the_exports_own(admin_client_, huawei):
    html = admin_client_.get(form_url(huawei)).content.decode()
    assert re.findall(r'name="format" value="([^"]+)"', html) == list(FORMATS)
    assert re.findall(r'name="level" value="([^"]+)"', html) == list(LEVELS)
    assert re.search(r'name="seed" value="13"', html)


def test_an_htmx_request_gets_the_card_alone_with_its_announcement(admin_client_, huawei, corpus):
    response = admin_client_.get(
        form_url(huawei),
        {"format": "jsonl", "level": "gold", "split": "on", "seed": "8"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert html.lstrip().startswith('<section id="card-preview"')
    assert "seed 8" in html
    assert '<span id="card-status" hx-swap-oob="innerHTML">Card updated</span>' in html
    assert "HX-Request" in response["Vary"]


# Bad input: the command's message on the form, and nothing downloaded.

BAD = [
    pytest.param({"format": "xml"}, "format", "format must be one of jsonl, csv, not 'xml'.", id="format"),
    pytest.param({"format": ""}, "format", "format must be one of jsonl, csv, not ''.", id="format-empty"),
    pytest.param({"level": "everything"}, "level", "level must be one of annotations, gold", id="level"),
    pytest.param({"seed": "abc"}, "seed", "seed must be a whole number of at most 18 digits", id="seed"),
    pytest.param({"seed": "٣"}, "seed", "seed must be a whole number of at most 18 digits", id="seed-arabic"),
    pytest.param(
        {"seed": "1" * 19}, "seed", "seed must be a whole number of at most 18 digits", id="seed-long"
    ),
    pytest.param({"split": "maybe"}, "split", "split must be 1 or 0, not 'maybe'.", id="split"),
    pytest.param({"names": "2"}, "names", "names must be 1 or 0, not '2'.", id="names"),
]


@pytest.mark.parametrize(("query", "option", "message"), BAD)
@pytest.mark.parametrize("download", ["data", "card"])
def test_bad_input_is_refused_on_the_form_with_nothing_downloaded(
    admin_client_, huawei, corpus, query, option, message, download
):
    response = admin_client_.get(form_url(huawei), {**query, "download": download})
    assert response.status_code == 400
    assert not response.streaming
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    slot = re.search(rf'<p class="field-error" id="id_{option}_error">([^<]*)</p>', html)
    assert slot is not None and message.replace("'", "&#x27;") in slot.group(1)
    assert "Nothing was downloaded" in html
    assert "No card for these options" in html


@pytest.mark.parametrize(
    ("argument", "query"),
    [
        ("--format=xml", {"format": "xml"}),
        ("--level=everything", {"level": "everything"}),
        ("--seed=abc", {"seed": "abc"}),
    ],
)
def test_the_form_says_what_the_command_says(admin_client_, huawei, argument, query):
    given = {"--format": "--format=jsonl", "--level": "--level=gold", argument.split("=")[0]: argument}
    with pytest.raises(CommandError) as refused:
        call_command("export_dataset", "--target=Huawei", *given.values())
    said = re.fullmatch(r"Error: argument --\w+: (.*)", str(refused.value))
    assert said is not None, str(refused.value)
    said = said.group(1)
    html = admin_client_.get(form_url(huawei), query).content.decode()
    assert said.replace("'", "&#x27;") in html


def test_several_bad_options_are_each_refused_beside_their_field(admin_client_, huawei):
    response = admin_client_.get(form_url(huawei), {"format": "xml", "seed": "x", "download": "data"})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_format_error">format must be one of', html)
    assert re.search(r'id="id_seed_error">seed must be', html)
    assert re.search(r'id="id_level_error"></p>', html)


def test_an_htmx_preview_of_bad_input_puts_the_message_beside_the_field(admin_client_, huawei):
    response = admin_client_.get(form_url(huawei), {"seed": "12a"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps it; the download is what is refused
    assert re.search(r'<p class="field-error" id="id_seed_error" hx-swap-oob="true">seed must be', html)
    assert '<p class="field-error" id="id_format_error" hx-swap-oob="true"></p>' in html
    assert "Card not updated: " in html
    assert "No card for these options" in html


# Who may use it


def test_curators_and_annotators_get_a_403_on_the_form(huawei, curator, annotator):
    for user in (curator, annotator):
        client = Client()
        client.force_login(user)
        assert client.get(form_url(huawei)).status_code == 403
        assert client.get(form_url(huawei), {"download": "data"}).status_code == 403
        assert client.get(form_url(huawei), HTTP_HX_REQUEST="true").status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, huawei):
    response = client.get(form_url(huawei), {"download": "data"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_form_of_an_unknown_target_is_a_404_and_it_takes_no_post(admin_client_, huawei):
    assert admin_client_.get(reverse("export-form", args=[huawei.pk + 1000])).status_code == 404
    assert admin_client_.post(form_url(huawei), {"download": "data"}).status_code == 405


EXPORT_LINK = re.compile(r'href="/export/\d+/')


def test_a_curator_is_shown_no_export_link_anywhere(curator, huawei):
    client = Client()
    client.force_login(curator)
    for name, args in [
        ("dashboard", [huawei.pk]),
        ("models", [huawei.pk]),
        ("target-list", []),
        ("article-list", []),
        ("adjudicate", [huawei.pk]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert not EXPORT_LINK.search(html), name
        assert ">Export" not in html, name


def test_an_admin_is_shown_the_export_form_in_the_navigation_dashboard_and_targets(admin_client_, huawei):
    link = f'href="{form_url(huawei)}'
    for name, args in [("dashboard", [huawei.pk]), ("target-list", []), ("article-list", [])]:
        assert link in admin_client_.get(reverse(name, args=args)).content.decode(), name


def test_the_target_picker_moves_the_form_to_another_target(admin_client_, huawei):
    zte = TargetFactory(name="ZTE")
    html = admin_client_.get(form_url(huawei)).content.decode()
    assert f'href="{form_url(zte)}"' in html
