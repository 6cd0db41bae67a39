from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import (
    Annotation,
    AnnotationEvent,
    Article,
    Assignment,
    LabellingSettings,
    QueueOrder,
    Sentence,
    Target,
)
from annotate.queue.record import MAX_SPENT_MS, annotation_record
from annotate.queue.reservations import next_sentence, reserve_again_locked
from annotate.views.labelling import sentence_preview
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, TargetFactory
from tests.records import history, snapshot

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def label_url(target):
    return reverse("label", args=[target.id])


def submit_url(target):
    return reverse("label-submit", args=[target.id])


def undo_url(target):
    return reverse("label-undo", args=[target.id])


def relabel_url(annotation):
    return reverse("annotation-relabel", args=[annotation.id])


def current_id(html):
    """The id of the sentence the card offers for labelling."""
    marker = 'data-sentence-id="'
    start = html.index(marker) + len(marker)
    return int(html[start : html.index('"', start)])


def pressed(html):
    """The labels whose buttons are shown as pressed (the current label of a history row)."""
    return re.findall(r'<button[^>]*value="(\w+)"[^>]*aria-pressed="true"', html)


def row_class(html, sentence):
    """The class of a sentence's row on the article page, "" when it has none."""
    row = re.search(rf'<li id="s{sentence.id}"[^>]*>', html).group(0)
    found = re.search(r'class="([^"]*)"', row)
    return found.group(1) if found else ""


def history_panel(html):
    start = html.index('id="history-panel"')
    return html[start : html.index("</section>", start)]


# The label page


def test_home_leads_to_the_label_page_of_the_first_target(annotator_client, huawei):
    TargetFactory(name="Another target")
    response = annotator_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == label_url(huawei)


def test_the_label_page_renders_the_whole_page(annotator_client, huawei, sentences):
    response = annotator_client.get(label_url(huawei))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert 'id="sentence-card"' in html
    assert 'id="history-panel"' in html
    assert current_id(html) == sentences[0].id


def test_an_htmx_request_for_the_label_page_gets_only_the_card(annotator_client, huawei, sentences):
    response = annotator_client.get(label_url(huawei), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="sentence-card"')
    assert 'id="history-panel"' not in html
    assert current_id(html) == sentences[0].id


def test_the_label_page_varies_on_the_htmx_header(annotator_client, huawei, sentences):
    response = annotator_client.get(label_url(huawei))
    assert "HX-Request" in response["Vary"]


def test_the_card_shows_the_sentence_its_article_and_two_sentences_either_side(annotator, huawei):
    article = ArticleFactory(title="Envoy urges Britain", source="Daily Example")
    sentences = [SentenceFactory(article=article, position=i, text=f"Text at {i}.") for i in range(7)]
    reserve_again_locked(annotator=annotator, target=huawei, sentence_id=sentences[3].pk)
    client = Client()
    client.force_login(annotator)
    html = client.get(label_url(huawei), **HTMX).content.decode()
    assert current_id(html) == sentences[3].id
    assert "Envoy urges Britain" in html
    assert "Daily Example" in html
    assert reverse("article-detail", args=[article.id]) in html
    assert html.index("Text at 1.") < html.index("Text at 2.") < html.index("Text at 3.")
    assert html.index("Text at 3.") < html.index("Text at 4.") < html.index("Text at 5.")
    assert "Text at 0." not in html
    assert "Text at 6." not in html


def test_the_card_shows_fewer_context_sentences_at_the_start_of_an_article(annotator_client, huawei):
    article = ArticleFactory()
    for i in range(4):
        SentenceFactory(article=article, position=i, text=f"Text at {i}.")
    SentenceFactory(article=ArticleFactory(), position=0, text="Another article.")
    html = annotator_client.get(label_url(huawei), **HTMX).content.decode()
    assert html.count('class="context-sentence"') == 2
    assert "Text at 3." not in html
    assert "Another article." not in html


def test_article_text_in_the_card_is_escaped(annotator_client, huawei):
    article = ArticleFactory(title="<b>bold</b>", source="<i>src</i>")
    SentenceFactory(article=article, position=0, text="<script>alert(1)</script>")
    SentenceFactory(article=article, position=1, text="<img src=x onerror=alert(2)>")
    html = annotator_client.get(label_url(huawei)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;i&gt;src&lt;/i&gt;" in html


def test_the_card_says_so_when_nothing_is_left_to_label(annotator_client, huawei):
    html = annotator_client.get(label_url(huawei)).content.decode()
    assert "Nothing left to label for Huawei" in html
    assert 'id="label-form"' not in html


def test_the_card_shows_the_suggestion_and_its_confidence(annotator_client, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="contra", confidence=0.87)
    html = annotator_client.get(label_url(huawei), **HTMX).content.decode()
    assert 'Model suggests <strong class="label-contra">contra</strong>' in html
    assert "87% confidence" in html
    assert 'value="accept"' in html


def test_the_card_offers_no_suggestion_when_there_is_none(annotator_client, huawei, sentences):
    SuggestionFactory(sentence=sentences[1], target=huawei)
    SuggestionFactory(sentence=sentences[0], target=TargetFactory())
    html = annotator_client.get(label_url(huawei), **HTMX).content.decode()
    assert "Model suggests" not in html
    assert 'value="accept"' not in html


def test_the_label_page_of_an_unknown_target_is_a_404(annotator_client):
    assert annotator_client.get(reverse("label", args=[999999])).status_code == 404


def test_the_label_page_redirects_anonymous_users_to_login(huawei):
    response = Client().get(label_url(huawei))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_anonymous_htmx_request_for_the_label_page_gets_a_401_with_hx_redirect(huawei):
    response = Client().get(label_url(huawei), **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


# Submitting a label


def test_an_htmx_label_is_recorded_and_answered_with_the_next_card_and_history(
    annotator, annotator_client, huawei, sentences
):
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "contra", "spent_ms": 1500}, **HTMX
    )
    assert response.status_code == 200
    annotation = Annotation.objects.get()
    assert (annotation.annotator, annotation.sentence, annotation.target) == (annotator, sentences[0], huawei)
    assert (annotation.label, annotation.spent_ms, annotation.accepted_suggestion) == ("contra", 1500, False)
    assert history(annotator) == [("create", "", "contra")]
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="sentence-card"')
    assert current_id(html) == sentences[1].id
    # The history gets the new row on top, out of band; nothing else of it is re-sent.
    prepended = re.search(r'<ol hx-swap-oob="afterbegin:#history-list">(.*?)</ol>', html, re.S)
    assert prepended and f'id="history-{annotation.id}"' in prepended.group(1)
    assert sentences[0].text in prepended.group(1)
    assert 'id="history-panel"' not in html and 'hx-swap-oob="delete' not in html
    assert "Labelled contra" in html


def test_relabelling_the_shown_sentence_moves_its_history_row_to_the_top(annotator_client, huawei, sentences):
    annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **HTMX)
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "contra"}, **HTMX
    )
    annotation = Annotation.objects.get()
    html = response.content.decode()
    # The old row is deleted before the new one is put on top (htmx swaps in document order).
    delete = html.index(f'hx-swap-oob="delete:#history-{annotation.id}"')
    assert delete < html.index('hx-swap-oob="afterbegin:#history-list"')
    assert annotation.label == "contra"


def test_a_label_without_htmx_is_recorded_and_redirects_to_the_label_page(
    annotator_client, huawei, sentences
):
    response = annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"})
    assert response.status_code == 302
    assert response["Location"] == label_url(huawei)
    assert Annotation.objects.get().label == "pro"
    html = annotator_client.get(response["Location"]).content.decode()
    assert current_id(html) == sentences[1].id


def test_a_skip_is_recorded_as_a_skip(annotator, annotator_client, huawei, sentences):
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "skip"}, **HTMX
    )
    assert response.status_code == 200
    assert Annotation.objects.get().label == "skip"
    assert history(annotator) == [("skip", "", "skip")]
    assert "Skipped" in response.content.decode()


def test_a_double_submitted_label_is_stored_once_with_a_repeat_in_the_history(
    annotator, annotator_client, huawei, sentences
):
    data = {"sentence": sentences[0].id, "label": "neutral", "spent_ms": 800}
    first = annotator_client.post(submit_url(huawei), data, **HTMX)
    second = annotator_client.post(submit_url(huawei), data, **HTMX)
    assert (first.status_code, second.status_code) == (200, 200)
    assert list(Annotation.objects.values_list("sentence_id", "label")) == [(sentences[0].id, "neutral")]
    assert history(annotator) == [("create", "", "neutral"), ("repeat", "neutral", "neutral")]
    assert current_id(second.content.decode()) == sentences[1].id


@pytest.mark.parametrize(
    ("posted", "stored"), [("1500", 1500), ("-5", 0), (str(10**9), MAX_SPENT_MS), ("", None)]
)
def test_the_time_spent_is_stored_within_a_sane_range(annotator_client, huawei, sentences, posted, stored):
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "pro", "spent_ms": posted}, **HTMX
    )
    assert response.status_code == 200
    assert Annotation.objects.get().spent_ms == stored
    assert AnnotationEvent.objects.get().spent_ms == stored


def test_accepting_a_suggestion_stores_its_label_as_accepted(annotator, annotator_client, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="contra", confidence=0.9)
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "accept", "spent_ms": 700}, **HTMX
    )
    assert response.status_code == 200
    annotation = Annotation.objects.get()
    assert (annotation.label, annotation.accepted_suggestion, annotation.spent_ms) == ("contra", True, 700)
    event = AnnotationEvent.objects.get()
    assert (event.action, event.new_label, event.accepted_suggestion) == ("create", "contra", True)


def test_choosing_a_label_other_than_the_suggestion_is_not_an_acceptance(annotator_client, huawei, sentences):
    SuggestionFactory(sentence=sentences[0], target=huawei, label="contra")
    annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **HTMX)
    annotation = Annotation.objects.get()
    assert (annotation.label, annotation.accepted_suggestion) == ("pro", False)


# Refused submissions change nothing


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"label": "maybe"}, id="unknown label"),
        pytest.param({"label": ""}, id="empty label"),
        pytest.param({}, id="missing label"),
        pytest.param({"label": "pro", "sentence": ""}, id="missing sentence"),
        pytest.param({"label": "pro", "sentence": "abc"}, id="sentence not a number"),
        pytest.param({"label": "pro", "spent_ms": "soon"}, id="spent_ms not a number"),
    ],
)
def test_an_invalid_submission_is_a_400_and_changes_nothing(annotator_client, huawei, sentences, data):
    before = snapshot()
    response = annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, **data}, **HTMX)
    assert response.status_code == 400
    assert snapshot() == before


def test_an_unknown_label_is_named_in_the_400(annotator_client, huawei, sentences):
    response = annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "maybe"})
    assert response.status_code == 400
    assert "label" in response.content.decode()
    assert snapshot() == ([], [])


def test_a_sentence_that_does_not_exist_is_a_404_and_changes_nothing(annotator_client, huawei, sentences):
    missing = Sentence.objects.order_by("-id").first().id + 1000
    response = annotator_client.post(submit_url(huawei), {"sentence": missing, "label": "pro"}, **HTMX)
    assert response.status_code == 404
    assert snapshot() == ([], [])


def test_a_target_that_does_not_exist_is_a_404_and_changes_nothing(annotator_client, sentences):
    response = annotator_client.post(
        reverse("label-submit", args=[999999]), {"sentence": sentences[0].id, "label": "pro"}, **HTMX
    )
    assert response.status_code == 404
    assert snapshot() == ([], [])


def test_accepting_when_there_is_no_suggestion_is_a_400_and_changes_nothing(
    annotator_client, huawei, sentences
):
    SuggestionFactory(sentence=sentences[0], target=TargetFactory(), label="contra")
    response = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "accept"}, **HTMX
    )
    assert response.status_code == 400
    assert snapshot() == ([], [])


def test_a_label_without_csrf_token_is_refused_and_changes_nothing(annotator, huawei, sentences):
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    response = client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **HTMX)
    assert response.status_code == 403
    assert snapshot() == ([], [])


def test_a_label_with_the_csrf_token_of_the_page_is_accepted(annotator, huawei, sentences):
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    client.get(label_url(huawei))
    token = client.cookies["csrftoken"].value
    response = client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, HTTP_X_CSRFTOKEN=token, **HTMX
    )
    assert response.status_code == 200
    assert Annotation.objects.count() == 1


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_an_anonymous_label_is_a_401_pointing_to_login_and_changes_nothing(huawei, sentences, htmx):
    response = Client().post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **(HTMX if htmx else {})
    )
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))
    assert snapshot() == ([], [])


@pytest.mark.parametrize("name", ["label-submit", "label-undo"])
def test_the_label_write_endpoints_reject_get(annotator_client, huawei, name):
    response = annotator_client.get(reverse(name, args=[huawei.id]))
    assert response.status_code == 405
    assert snapshot() == ([], [])


def test_a_label_submitted_with_get_parameters_is_rejected(annotator_client, huawei, sentences):
    response = annotator_client.get(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"})
    assert response.status_code == 405
    assert snapshot() == ([], [])


# Undo


def test_undo_removes_the_last_label_keeps_its_history_and_shows_its_sentence_again(
    annotator, annotator_client, huawei, sentences
):
    annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **HTMX)
    labelled = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[1].id, "label": "contra"}, **HTMX
    )
    assert current_id(labelled.content.decode()) == sentences[2].id

    response = annotator_client.post(undo_url(huawei), **HTMX)

    assert response.status_code == 200
    assert list(Annotation.objects.values_list("sentence_id", "label")) == [(sentences[0].id, "pro")]
    assert history(annotator) == [("create", "", "pro"), ("create", "", "contra"), ("undo", "contra", "")]
    html = response.content.decode()
    assert current_id(html) == sentences[1].id
    assert "Undid contra" in html
    assert sentences[1].text not in history_panel(html)
    assert sentences[0].text in history_panel(html)


def test_the_undone_sentence_stays_on_the_page_after_a_reload(annotator_client, huawei, sentences):
    annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"}, **HTMX)
    annotator_client.post(submit_url(huawei), {"sentence": sentences[1].id, "label": "pro"}, **HTMX)
    annotator_client.post(undo_url(huawei), **HTMX)
    html = annotator_client.get(label_url(huawei)).content.decode()
    assert current_id(html) == sentences[1].id


def test_undo_without_htmx_redirects_to_the_label_page(annotator_client, huawei, sentences):
    annotator_client.post(submit_url(huawei), {"sentence": sentences[0].id, "label": "pro"})
    response = annotator_client.post(undo_url(huawei))
    assert response.status_code == 302
    assert response["Location"] == label_url(huawei)
    assert not Annotation.objects.exists()
    assert current_id(annotator_client.get(label_url(huawei)).content.decode()) == sentences[0].id


def test_undo_with_nothing_to_undo_says_so_and_changes_nothing(annotator_client, huawei, sentences):
    response = annotator_client.post(undo_url(huawei), **HTMX)
    assert response.status_code == 200
    assert "Nothing to undo." in response.content.decode()
    assert snapshot() == ([], [])


def test_undo_never_touches_another_annotators_label(annotator_client, other_annotator, huawei, sentences):
    annotation_record(annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro")
    before = snapshot()
    response = annotator_client.post(undo_url(huawei), **HTMX)
    assert "Nothing to undo." in response.content.decode()
    assert snapshot() == before


def test_an_anonymous_undo_is_a_401_and_changes_nothing(annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    before = snapshot()
    response = Client().post(undo_url(huawei), **HTMX)
    assert response.status_code == 401
    assert snapshot() == before


def test_an_undo_without_csrf_token_is_refused(annotator, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    before = snapshot()
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    assert client.post(undo_url(huawei), **HTMX).status_code == 403
    assert snapshot() == before


def test_an_undo_for_an_unknown_target_is_a_404(annotator, annotator_client, huawei, sentences):
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    before = snapshot()
    assert annotator_client.post(reverse("label-undo", args=[999999]), **HTMX).status_code == 404
    assert snapshot() == before


# The history panel and relabelling


def test_the_history_panel_lists_only_the_annotators_own_labels(
    annotator, annotator_client, other_annotator, huawei
):
    mine = SentenceFactory(text="A sentence I labelled.")
    theirs = SentenceFactory(text="A sentence only Bob labelled.")
    annotation_record(annotator=annotator, sentence=mine, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=theirs, target=huawei, label="contra")
    annotation_record(annotator=other_annotator, sentence=mine, target=huawei, label="neutral")
    response = annotator_client.get(label_url(huawei))
    panel = history_panel(response.content.decode())
    assert "A sentence I labelled." in panel
    assert "A sentence only Bob labelled." not in panel
    assert [entry.annotator for entry in response.context["history"]] == [annotator]
    assert pressed(panel) == ["pro"]


def test_the_history_panel_shows_the_last_ten_labels_newest_first(annotator, annotator_client, huawei):
    sentences = [SentenceFactory(text=f"Labelled {i:02}.") for i in range(12)]
    for sentence in sentences:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    panel = history_panel(annotator_client.get(label_url(huawei)).content.decode())
    assert panel.count('class="history-row"') == 10
    assert panel.index("Labelled 11.") < panel.index("Labelled 10.") < panel.index("Labelled 02.")
    assert "Labelled 01." not in panel


def test_the_history_panel_of_one_target_leaves_out_other_targets(annotator, annotator_client, huawei):
    annotation_record(
        annotator=annotator,
        sentence=SentenceFactory(text="Other target."),
        target=TargetFactory(),
        label="pro",
    )
    panel = history_panel(annotator_client.get(label_url(huawei)).content.decode())
    assert "Other target." not in panel
    assert "No labels yet." in panel


def test_relabelling_from_the_history_changes_the_annotation_in_place(
    annotator, annotator_client, huawei, sentences
):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    response = annotator_client.post(relabel_url(annotation), {"label": "neutral"}, **HTMX)
    assert response.status_code == 200
    assert list(Annotation.objects.values_list("id", "label")) == [(annotation.id, "neutral")]
    assert history(annotator) == [("create", "", "pro"), ("relabel", "pro", "neutral")]
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="history-{annotation.id}" class="history-row">')
    assert "<html" not in html
    assert 'id="sentence-card"' not in html
    assert pressed(html) == ["neutral"]


def test_relabelling_without_htmx_redirects_to_the_label_page(annotator, annotator_client, huawei, sentences):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    response = annotator_client.post(relabel_url(annotation), {"label": "skip"})
    assert response.status_code == 302
    assert response["Location"] == label_url(huawei)
    assert Annotation.objects.get().label == "skip"


def test_relabelling_another_annotators_label_is_refused_and_changes_nothing(
    annotator_client, other_annotator, huawei, sentences
):
    theirs = annotation_record(
        annotator=other_annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    response = annotator_client.post(relabel_url(theirs), {"label": "contra"}, **HTMX)
    assert response.status_code in (403, 404)
    assert snapshot() == before


def test_relabelling_an_annotation_that_does_not_exist_is_refused(annotator_client, huawei):
    response = annotator_client.post(reverse("annotation-relabel", args=[999999]), {"label": "pro"}, **HTMX)
    assert response.status_code in (403, 404)
    assert snapshot() == ([], [])


@pytest.mark.parametrize("data", [{"label": "maybe"}, {"label": "accept"}, {}])
def test_relabelling_to_an_invalid_label_is_a_400_and_changes_nothing(
    annotator, annotator_client, huawei, sentences, data
):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    response = annotator_client.post(relabel_url(annotation), data, **HTMX)
    assert response.status_code == 400
    assert snapshot() == before


def test_relabelling_rejects_get(annotator, annotator_client, huawei, sentences):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    assert annotator_client.get(relabel_url(annotation), {"label": "contra"}).status_code == 405
    assert snapshot() == before


def test_an_anonymous_relabel_is_a_401_and_changes_nothing(annotator, huawei, sentences):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    response = Client().post(relabel_url(annotation), {"label": "contra"}, **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))
    assert snapshot() == before


def test_a_relabel_without_csrf_token_is_refused(annotator, huawei, sentences):
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    before = snapshot()
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    assert client.post(relabel_url(annotation), {"label": "contra"}, **HTMX).status_code == 403
    assert snapshot() == before


# The article page shows the reader's own labels


def test_the_article_page_marks_the_readers_own_labels_only(
    annotator, annotator_client, other_annotator, huawei
):
    article = ArticleFactory()
    both, mine_only, theirs_only, nobody = (
        SentenceFactory(article=article, position=i, text=f"Sentence {i}.") for i in range(4)
    )
    annotation_record(annotator=annotator, sentence=both, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=both, target=huawei, label="contra")
    annotation_record(annotator=annotator, sentence=mine_only, target=huawei, label="skip")
    annotation_record(annotator=other_annotator, sentence=theirs_only, target=huawei, label="neutral")
    response = annotator_client.get(reverse("article-detail", args=[article.id]))
    html = response.content.decode()
    assert [row_class(html, s) for s in (both, mine_only, theirs_only, nobody)] == [
        "labelled-pro",
        "labelled-skip",
        "",
        "",
    ]
    assert "labelled-contra" not in html
    assert "labelled-neutral" not in html
    assert "your label: contra" not in html
    assert response.context["labelled"] == 2


def test_the_article_page_shows_the_labels_of_the_chosen_target(annotator, annotator_client, huawei):
    other_target = TargetFactory(name="5G rollout")
    sentence = SentenceFactory()
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentence, target=other_target, label="contra")
    url = reverse("article-detail", args=[sentence.article_id])
    assert "labelled-pro" in annotator_client.get(url).content.decode()
    chosen = annotator_client.get(url, {"target": other_target.id}).content.decode()
    assert "labelled-contra" in chosen
    assert "labelled-pro" not in chosen


# The status line: outside the card, filled out of band with what happened and what is next


def status_line(html):
    """The out-of-band status line of an answer, as text (what screen readers hear)."""
    found = re.search(
        r'<p id="status" class="status" role="status" hx-swap-oob="innerHTML">(.*?)</p>', html, re.S
    )
    assert found, html[:500]
    return re.sub(r"<[^>]+>", "", found.group(1))


LONG = "Huawei said on Tuesday that its equipment meets every security requirement of the operators."


@pytest.mark.parametrize(
    ("text", "preview"),
    [
        ("Huawei is fine.", "“Huawei is fine.”"),
        (LONG, "“Huawei said on Tuesday that its equipment meets every…”"),
        (
            "“We never shared data,” the company said in a statement on Monday.",
            "“We never shared data,” the company said in a statement on…",
        ),
        ('"Quoted," he said.', '"Quoted," he said.'),
        ("x" * 70, f"“{'x' * 60}…”"),
        ("  Spaces\n and   breaks  ", "“Spaces and breaks”"),
    ],
)
def test_a_sentence_preview_is_cut_at_a_word_with_an_ellipsis_and_never_doubles_a_quote(text, preview):
    assert sentence_preview(text) == preview


def test_the_status_line_says_what_was_labelled_cut_at_a_word_and_the_sentence_now_shown(
    annotator_client, huawei, article
):
    first = SentenceFactory(article=article, position=0, text=f"“{LONG}”")
    second = SentenceFactory(article=article, position=1)
    html = annotator_client.post(submit_url(huawei), {"sentence": first.id, "label": "pro"}, **HTMX).content
    status = status_line(html.decode())
    assert (
        status == f"Labelled pro: “Huawei said on Tuesday that its equipment meets every… Next: {second.text}"
    )
    assert "““" not in status


def test_the_status_line_is_outside_the_card_and_every_answer_fills_it(
    annotator, annotator_client, huawei, sentences
):
    page = annotator_client.get(label_url(huawei)).content.decode()
    card = page[page.index('id="sentence-card"') : page.index('id="undo-form"')]
    assert 'id="status"' in page and 'id="status"' not in card
    assert 'role="status"' not in card

    labelled = annotator_client.post(
        submit_url(huawei), {"sentence": sentences[0].id, "label": "skip"}, **HTMX
    )
    assert (
        status_line(labelled.content.decode()) == f"Skipped: “{sentences[0].text}” Next: {sentences[1].text}"
    )
    undone = annotator_client.post(undo_url(huawei), **HTMX)
    assert (
        status_line(undone.content.decode()) == f"Undid skip; the sentence is back. Next: {sentences[0].text}"
    )
    annotation = annotation_record(
        annotator=annotator, sentence=sentences[0], target=huawei, label="pro"
    ).annotation
    relabelled = annotator_client.post(relabel_url(annotation), {"label": "neutral"}, **HTMX)
    html = relabelled.content.decode()
    assert html.lstrip().startswith(f'<li id="history-{annotation.id}"')
    assert status_line(html) == f"Changed to neutral: “{sentences[0].text}”"


def test_the_status_line_says_so_when_nothing_is_left(annotator_client, huawei, article):
    only = SentenceFactory(article=article, position=0)
    html = annotator_client.post(submit_url(huawei), {"sentence": only.id, "label": "pro"}, **HTMX).content
    assert status_line(html.decode()) == f"Labelled pro: “{only.text}” Nothing left to label."


def test_the_sentence_to_label_has_a_heading_of_its_own(annotator_client, huawei, sentences):
    html = annotator_client.get(label_url(huawei), **HTMX).content.decode()
    assert re.search(
        r'<h2 class="visually-hidden">Sentence to label</h2>\s*<p class="current" id="current-sentence"', html
    )


def test_each_history_button_names_the_sentence_it_changes(annotator, annotator_client, huawei, article):
    texts = ["Huawei builds the network in the north of the country.", "Huawei was banned from the core."]
    for position, text in enumerate(texts):
        sentence = SentenceFactory(article=article, position=position, text=text)
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    panel = history_panel(annotator_client.get(label_url(huawei)).content.decode())
    names = re.findall(r'aria-label="(Change to [^"]*)"', panel)
    assert len(names) == 8 and len(set(names)) == 8
    assert "Change to Contra: Huawei builds the network in the north of …" in names
    assert "Change to Skip: Huawei was banned from the core." in names


# The keyboard setting (WCAG 2.1.4): single keys, only with Alt, or off; kept per user


def shortcuts_url():
    return reverse("shortcuts-save")


def test_the_label_page_carries_the_keyboard_setting_single_keys_by_default(
    annotator, annotator_client, other_annotator, huawei, sentences
):
    assert 'data-shortcuts="keys"' in annotator_client.get(label_url(huawei)).content.decode()
    LabellingSettings.objects.create(user=other_annotator, shortcuts="off")  # someone else's
    assert 'data-shortcuts="keys"' in annotator_client.get(label_url(huawei)).content.decode()


@pytest.mark.parametrize("choice", ["off", "alt", "keys"])
def test_the_keyboard_setting_is_saved_for_the_user_and_shown_on_the_page(
    annotator, annotator_client, huawei, sentences, choice
):
    back = label_url(huawei)
    response = annotator_client.post(shortcuts_url(), {"shortcuts": choice, "next": back})
    assert (response.status_code, response["Location"]) == (302, back)
    assert LabellingSettings.objects.get(user=annotator).shortcuts == choice
    html = annotator_client.get(back).content.decode()
    assert f'data-shortcuts="{choice}"' in html
    assert re.search(rf'value="{choice}" checked', html)


def test_the_keyboard_setting_outlasts_the_session(annotator, annotator_client, huawei, sentences):
    annotator_client.post(shortcuts_url(), {"shortcuts": "off", "next": label_url(huawei)})
    annotator_client.logout()
    again = Client()
    again.force_login(annotator)
    assert 'data-shortcuts="off"' in again.get(label_url(huawei)).content.decode()


def test_saving_the_keyboard_setting_twice_keeps_one_row(annotator, annotator_client):
    annotator_client.post(shortcuts_url(), {"shortcuts": "off"})
    annotator_client.post(shortcuts_url(), {"shortcuts": "alt"})
    assert list(LabellingSettings.objects.values_list("user", "shortcuts")) == [(annotator.id, "alt")]


@pytest.mark.parametrize("data", [{}, {"shortcuts": "sometimes"}])
def test_an_unknown_keyboard_setting_is_a_400_and_saves_nothing(annotator_client, data):
    response = annotator_client.post(shortcuts_url(), data)
    assert response.status_code == 400
    assert b"shortcuts" in response.content
    assert not LabellingSettings.objects.exists()


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", ""])
def test_the_keyboard_setting_goes_back_only_to_this_site(annotator_client, back):
    response = annotator_client.post(shortcuts_url(), {"shortcuts": "alt", "next": back})
    assert (response.status_code, response["Location"]) == (302, reverse("home"))


def test_the_keyboard_setting_refuses_get_and_anonymous_users(annotator_client):
    assert annotator_client.get(shortcuts_url()).status_code == 405
    response = Client().post(shortcuts_url(), {"shortcuts": "off"})
    assert response.status_code in (302, 401)
    assert not LabellingSettings.objects.exists()


# Query counts


#: Every query of each labelling request, the same on SQLite and PostgreSQL, for 10 and
#: 10,000 sentences, pinned exactly so that one more fails. Each begins with the session and
#: the user; a label, a skip or an undo then asks whether the user is an annotator (their
#: groups: only annotators label and take reservations). A label or a skip: the transaction (a savepoint in a test), the target (locked)
#: and the sentence, the label (with its room test), its event, the cursor move,
#: find-and-reserve (which replaces the used reservation), the commit, and the card in one
#: read. A change in the history panel: the annotation, the target (locked), the room test
#: (an INSERT that does nothing for a label already there), the annotation again (locked),
#: its UPDATE, its event, its sentence's reservation let go, and its open return (if any)
#: resolved (one UPDATE, annotate/returns.py); no card. An undo: the
#: transaction, the target (locked), the last label, its event, its DELETE, the cursor moved
#: back (its place and its three ranked scores), the sentence reserved again, the cursor
#: move, the commit, the card, and the history panel, which loses a row. After the commit of a
#: label, skip or undo, background retraining reads its gold counter (one primary-key read,
#: annotate/retrain_policy.py; a target with its policy off or a retrain queued within the
#: floor's minutes does not).
LABEL_QUERIES = {"label": 12, "skip": 12, "relabel": 10, "undo": 17}
#: With dynamic overlap the same, but a change between stance labels may leave labels that
#: disagree and so ask for one more annotator: it moves the search cursors back to the
#: sentence (record.py; one update of the in-order cursors, one per uncertainty measure).
DYNAMIC_LABEL_QUERIES = {**LABEL_QUERIES, "relabel": LABEL_QUERIES["relabel"] + 4}
#: The label's count, for tests of other label paths.
LABEL_ACTION_MAX_QUERIES = LABEL_QUERIES["label"]


def make_corpus(articles, per_article):
    created = Article.objects.bulk_create(
        Article(title=f"Article {a}", body=f"Body {a}", content_hash=f"{a:064x}") for a in range(articles)
    )
    Sentence.objects.bulk_create(
        (
            Sentence(article=article, position=p, text=f"Sentence {p} of {article.title}.", start=0, end=10)
            for article in created
            for p in range(per_article)
        ),
        batch_size=2000,
    )
    return Sentence.objects.order_by("article_id", "position")


#: Each queue order's walk through the sentences, for the test to know which comes next.
WALKS = {
    QueueOrder.IN_ORDER: ("article_id", "position"),
    QueueOrder.RANDOM: ("shuffle_key", "id"),
}


@pytest.mark.parametrize("path", list(LABEL_QUERIES))
@pytest.mark.parametrize(("articles", "per_article"), [(1, 10), (100, 100)], ids=["10", "10000"])
@pytest.mark.parametrize("dynamic", [False, True], ids=["overlap", "dynamic-overlap"])
@pytest.mark.parametrize("order", list(WALKS), ids=["in-order", "random"])
def test_each_labelling_request_runs_the_same_pinned_queries_whatever_the_corpus_size(
    annotator,
    annotator_client,
    other_annotator,
    huawei,
    django_assert_num_queries,
    articles,
    per_article,
    path,
    dynamic,
    order,
):
    # The evaluation mix makes a hashed place of the stream an item's (annotate/queue/
    # evaluation.py); a place finding no item left costs one query more, and which place
    # is one depends on the ids, which PostgreSQL's sequences do not reset between tests.
    # That query is pinned by tests/test_queue_evaluation.py; these pin the rest. The random
    # order moves the shuffle cursor in the in-order cursor's statement, reserves from it in
    # one, and an undo moves both back in one UPDATE: the same count.
    Target.objects.filter(pk=huawei.pk).update(evaluation_rate=0, dynamic_overlap=dynamic, queue_order=order)
    huawei.refresh_from_db()
    corpus = make_corpus(articles, per_article)
    assert corpus.count() == articles * per_article
    first, second, third = Sentence.objects.order_by(*WALKS[order])[:3]
    annotation_record(annotator=other_annotator, sentence=first, target=huawei, label="pro")
    mine = annotation_record(annotator=annotator, sentence=first, target=huawei, label="pro").annotation
    SuggestionFactory(sentence=third, target=huawei)
    assert current_id(annotator_client.get(label_url(huawei)).content.decode()) == second.id
    label = {"label": "contra", "skip": "skip"}.get(path)

    with django_assert_num_queries((DYNAMIC_LABEL_QUERIES if dynamic else LABEL_QUERIES)[path]):
        if label is not None:
            response = annotator_client.post(
                submit_url(huawei), {"sentence": second.id, "label": label, "spent_ms": 900}, **HTMX
            )
        elif path == "relabel":
            response = annotator_client.post(relabel_url(mine), {"label": "neutral"}, **HTMX)
        else:
            response = annotator_client.post(undo_url(huawei), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    # Each did its work: the next sentence, the changed row, the undone sentence back.
    if label is not None:
        assert current_id(html) == third.id
        assert Annotation.objects.get(annotator=annotator, sentence=second).label == label
    elif path == "relabel":
        assert Annotation.objects.get(pk=mine.pk).label == "neutral"
    else:
        assert current_id(html) == first.id
        assert not Annotation.objects.filter(pk=mine.pk).exists()


def test_after_a_label_the_one_reservation_holds_the_next_sentence_and_none_is_left_at_the_end(
    annotator, annotator_client, other_annotator, huawei, sentences
):
    huawei.overlap = 1
    huawei.save()
    current = current_id(annotator_client.get(label_url(huawei)).content.decode())
    for _ in range(len(sentences)):
        html = annotator_client.post(submit_url(huawei), {"sentence": current, "label": "pro"}, **HTMX)
        html = html.content.decode()
        following = current_id(html) if "data-sentence-id" in html else None
        # The used reservation was replaced in the same transaction, not kept beside the label.
        held = list(Assignment.objects.filter(annotator=annotator).values_list("sentence_id", flat=True))
        assert held == ([following] if following else [])
        current = following
    assert current is None
    # With overlap 1 nothing is left for a second annotator: no stale reservation counted twice.
    assert next_sentence(annotator=other_annotator, target=huawei) is None
