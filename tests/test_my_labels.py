"""My labels (/label/<t>/mine/): an annotator's own labels, filtered, paged by cursor and
changed in place through the history panel's service; and the article page's changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from annotate.models import Annotation, Assignment, Label, Target
from annotate.my_labels import Cursor, Filters, my_labels_page
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory
from tests.records import history, snapshot
from tests.test_tallies import annotator_recount, annotator_stored, recount, stored

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page_url(target, **query):
    url = reverse("my-labels", args=[target.id])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def change_url(annotation, target=None):
    return reverse("my-label-change", args=[target.id if target else annotation.target_id, annotation.id])


def label_all(annotator, target, labels, *, texts=None, when=None):
    """One sentence each, labelled in order; `when` sets every updated_at (equal times)."""
    article = ArticleFactory()
    made = []
    for i, label in enumerate(labels):
        text = texts[i] if texts else f"Sentence {i} of {article.title}."
        sentence = SentenceFactory(article=article, position=i, text=text)
        made.append(
            annotation_record(annotator=annotator, sentence=sentence, target=target, label=label).annotation
        )
    if when is not None:
        Annotation.objects.filter(pk__in=[a.pk for a in made]).update(updated_at=when)
    return made


def listed(html):
    """The annotation ids of the page's rows, in order."""
    return [int(found) for found in re.findall(r'<li id="mine-(\d+)"', html)]


def link(html, rel):
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return None if found is None else found.group(1).replace("&amp;", "&")


# The list


def test_the_page_lists_only_my_labels_for_this_target_newest_first(
    annotator, other_annotator, annotator_client, huawei
):
    mine = label_all(annotator, huawei, ["pro", "contra", "skip"])
    label_all(other_annotator, huawei, ["pro"])
    label_all(annotator, TargetFactory(), ["neutral"])

    response = annotator_client.get(page_url(huawei))

    assert response.status_code == 200
    assert listed(response.content.decode()) == [a.pk for a in reversed(mine)]


def test_a_curator_who_reaches_the_page_sees_their_own_labels_only(curator, annotator, huawei):
    huawei.overlap = 3
    huawei.save()
    own = label_all(curator, huawei, ["pro"])
    label_all(annotator, huawei, ["contra", "neutral"])
    client = Client()
    client.force_login(curator)

    assert listed(client.get(page_url(huawei)).content.decode()) == [own[0].pk]


def test_the_search_finds_a_case_insensitive_part_of_the_sentence(annotator, annotator_client, huawei):
    texts = ["Huawei builds the masts.", "The ambassador spoke.", "Masts, said the MP, are safe."]
    made = label_all(annotator, huawei, ["pro", "contra", "neutral"], texts=texts)

    html = annotator_client.get(page_url(huawei, q="MASTS")).content.decode()

    assert listed(html) == [made[2].pk, made[0].pk]


@pytest.mark.parametrize(("label", "expected"), [("contra", [3, 1]), ("skip", [2]), ("", [3, 2, 1, 0])])
def test_the_label_filter_keeps_that_label_and_skip_keeps_the_skipped(
    annotator, annotator_client, huawei, label, expected
):
    made = label_all(annotator, huawei, ["pro", "contra", "skip", "contra"])

    html = annotator_client.get(page_url(huawei, label=label)).content.decode()

    assert listed(html) == [made[i].pk for i in expected]


def test_the_date_filter_keeps_the_days_from_and_to_both_included(annotator, annotator_client, huawei):
    made = label_all(annotator, huawei, ["pro", "pro", "pro", "pro"])
    days = [datetime(2026, 3, d, 23, 59, tzinfo=UTC) for d in (1, 2, 3, 4)]
    for annotation, day in zip(made, days, strict=True):
        Annotation.objects.filter(pk=annotation.pk).update(updated_at=day)

    html = annotator_client.get(page_url(huawei, since="2026-03-02", until="2026-03-03")).content.decode()

    assert listed(html) == [made[2].pk, made[1].pk]


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-03-05", "until": "2026-03-01"},
        {"since": "yesterday"},
        {"label": "maybe"},
        {"older": "12-x"},
        {"older": "999999999999999999-1"},
        {"older": "1-1", "newer": "1-1"},
    ],
    ids=[
        "reversed dates",
        "not a date",
        "unknown label",
        "bad cursor",
        "cursor out of range",
        "both cursors",
    ],
)
def test_bad_filters_or_cursors_are_a_400_that_says_why_and_lists_nothing(
    annotator, annotator_client, huawei, query
):
    label_all(annotator, huawei, ["pro"])

    response = annotator_client.get(page_url(huawei, **query))

    assert response.status_code == 400
    html = response.content.decode()
    assert listed(html) == []
    assert 'class="error"' in html


def test_a_page_for_a_target_that_does_not_exist_is_a_404(annotator_client, huawei):
    assert annotator_client.get(reverse("my-labels", args=[huawei.id + 100])).status_code == 404


# Paging by cursor


def walk(annotator, target, *, size, filters=None):
    """Every page from the first by Older, then back by Newer: the ids of each page."""
    filters = filters or Filters()
    pages = [my_labels_page(annotator=annotator, target=target, filters=filters, size=size)]
    while pages[-1].older is not None:
        pages.append(
            my_labels_page(
                annotator=annotator, target=target, filters=filters, older_than=pages[-1].older, size=size
            )
        )
    back = [pages[-1]]
    while back[-1].newer is not None:
        back.append(
            my_labels_page(
                annotator=annotator, target=target, filters=filters, newer_than=back[-1].newer, size=size
            )
        )
    return [[a.pk for a in p.rows] for p in pages], [[a.pk for a in p.rows] for p in back]


def test_older_pages_repeat_and_skip_no_row_when_many_labels_share_a_timestamp(annotator, huawei):
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    same = label_all(annotator, huawei, ["pro"] * 7, when=when)
    later = label_all(annotator, huawei, ["contra"] * 3, when=when + timedelta(seconds=1))
    newest_first = [a.pk for a in sorted(same + later, key=lambda a: (a.pk in {x.pk for x in later}, a.pk))][
        ::-1
    ]

    forward, backward = walk(annotator, huawei, size=3)

    assert [pk for page in forward for pk in page] == newest_first
    assert [len(page) for page in forward] == [3, 3, 3, 1]
    # Back by Newer: each page as it was, and the first page whole.
    assert backward == [forward[3], forward[2], forward[1], forward[0]]


def test_paging_keeps_the_filters(annotator, huawei):
    made = label_all(annotator, huawei, ["pro", "contra"] * 5, when=datetime(2026, 3, 1, tzinfo=UTC))

    forward, _ = walk(annotator, huawei, size=2, filters=Filters(label="contra"))

    assert [pk for page in forward for pk in page] == [a.pk for a in made if a.label == "contra"][::-1]


def test_the_newer_and_older_links_carry_the_filters_and_walk_every_matching_row(
    annotator, annotator_client, huawei, monkeypatch
):
    monkeypatch.setattr("annotate.my_labels.PAGE_SIZE", 2)
    texts = [f"{'Masts' if i % 2 else 'Ambassador'} sentence {i}." for i in range(9)]
    made = label_all(annotator, huawei, ["pro"] * 9, texts=texts, when=datetime(2026, 3, 1, tzinfo=UTC))
    url, seen = page_url(huawei, q="masts", label="pro"), []
    while url:
        html = annotator_client.get(url).content.decode()
        seen += listed(html)
        older = link(html, "next")
        assert older is None or ("q=masts" in older and "label=pro" in older)
        url = None if older is None else reverse("my-labels", args=[huawei.id]) + older

    assert seen == [a.pk for a in made if "Masts" in a.sentence.text][::-1]
    newer = link(html, "prev")
    assert newer is not None and "q=masts" in newer and "label=pro" in newer


def test_a_cursor_is_its_rows_time_to_the_microsecond_and_its_id():
    cursor = Cursor(updated_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), id=42)
    assert Cursor.parse(cursor.token()) == cursor


@pytest.mark.parametrize("size", [30, 300])
def test_the_page_takes_a_bounded_number_of_queries_at_any_size(
    annotator, annotator_client, huawei, size, django_assert_max_num_queries
):
    made = label_all(
        annotator, huawei, ["pro", "contra", "neutral", "skip"] * (size // 4) + ["pro"] * (size % 4)
    )
    cursor = Cursor.of(Annotation.objects.get(pk=made[size // 2].pk)).token()

    # The session, the user, the target, the keyboard setting, the rows, and the header's
    # roles, first target and picker.
    for query in ({}, {"q": "sentence", "label": "contra", "since": "2020-01-01"}, {"older": cursor}):
        with django_assert_max_num_queries(9):
            response = annotator_client.get(page_url(huawei, **query))
        assert response.status_code == 200
        assert len(listed(response.content.decode())) > 0


# Changing a label in place


def test_a_change_swaps_the_row_writes_history_keeps_the_tallies_and_announces_it(
    annotator, other_annotator, annotator_client, huawei
):
    mine = label_all(annotator, huawei, ["pro", "neutral"])
    annotation_record(annotator=other_annotator, sentence=mine[0].sentence, target=huawei, label="pro")

    response = annotator_client.post(change_url(mine[0]), {"label": "contra"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="mine-{mine[0].pk}"')
    assert re.findall(r'value="(\w+)"[^>]*aria-pressed="true"', html) == ["contra"]
    assert 'id="status"' in html and 'hx-swap-oob="innerHTML"' in html and "Changed to contra" in html
    assert Annotation.objects.get(pk=mine[0].pk).label == "contra"
    assert history(annotator)[-1] == ("relabel", "pro", "contra")
    assert stored(huawei) == recount(huawei)
    assert annotator_stored(huawei) == annotator_recount(huawei)


def test_a_change_to_skip_and_back_is_two_relabels(annotator, annotator_client, huawei):
    (mine,) = label_all(annotator, huawei, ["pro"])

    annotator_client.post(change_url(mine), {"label": "skip"}, **HTMX)
    annotator_client.post(change_url(mine), {"label": "neutral"}, **HTMX)

    assert history(annotator)[-2:] == [("relabel", "pro", "skip"), ("relabel", "skip", "neutral")]
    assert stored(huawei) == recount(huawei)


def test_another_users_label_is_a_404_and_nothing_is_written(annotator_client, other_annotator, huawei):
    (theirs,) = label_all(other_annotator, huawei, ["pro"])
    before = snapshot()

    response = annotator_client.post(change_url(theirs), {"label": "contra"}, **HTMX)

    assert response.status_code == 404
    assert snapshot() == before


def test_a_label_of_mine_under_another_targets_address_is_a_404_and_nothing_is_written(
    annotator, annotator_client, huawei
):
    (mine,) = label_all(annotator, huawei, ["pro"])
    before = snapshot()

    response = annotator_client.post(change_url(mine, target=TargetFactory()), {"label": "contra"}, **HTMX)

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("data", [{"label": "maybe"}, {"label": "accept"}, {}])
def test_a_bad_label_is_a_400_and_nothing_is_written(annotator, annotator_client, huawei, data):
    (mine,) = label_all(annotator, huawei, ["pro"])
    before = snapshot()

    response = annotator_client.post(change_url(mine), data, **HTMX)

    assert response.status_code == 400
    assert response.content.decode().startswith("label: ")
    assert snapshot() == before


def test_a_change_without_a_csrf_token_is_refused_and_nothing_is_written(annotator, huawei):
    (mine,) = label_all(annotator, huawei, ["pro"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    before = snapshot()

    response = client.post(change_url(mine), {"label": "contra"}, **HTMX)

    assert response.status_code == 403
    assert snapshot() == before


def test_a_change_by_get_is_refused(annotator, annotator_client, huawei):
    (mine,) = label_all(annotator, huawei, ["pro"])
    assert annotator_client.get(change_url(mine)).status_code == 405


def test_an_archived_target_is_listed_read_only_and_refuses_a_change(annotator, annotator_client, huawei):
    (mine,) = label_all(annotator, huawei, ["pro"])
    Target.objects.filter(pk=huawei.pk).update(archived_at=datetime(2026, 3, 1, tzinfo=UTC))
    before = snapshot()

    html = annotator_client.get(page_url(huawei)).content.decode()
    response = annotator_client.post(change_url(mine), {"label": "contra"}, **HTMX)

    assert listed(html) == [mine.pk]
    assert 'class="label-change"' not in html and "is archived" in html
    assert response.status_code == 409
    assert snapshot() == before


def test_a_skip_changed_to_a_stance_on_a_sentence_others_filled_is_refused_as_in_the_history_panel(
    annotator, other_annotator, annotator_client, huawei
):
    huawei.overlap = 1
    huawei.save()
    (mine,) = label_all(annotator, huawei, ["skip"])
    annotation_record(annotator=other_annotator, sentence=mine.sentence, target=huawei, label="pro")
    before = snapshot()

    response = annotator_client.post(change_url(mine), {"label": "contra"}, **HTMX)

    assert response.status_code == 409
    assert response.content.decode() == "This sentence already has its 1 labels."
    assert snapshot() == before


def test_a_change_without_javascript_goes_back_to_the_filtered_page_and_never_off_the_site(
    annotator, annotator_client, huawei
):
    (mine,) = label_all(annotator, huawei, ["pro"])
    back = page_url(huawei, label="pro")

    kept = annotator_client.post(change_url(mine), {"label": "contra", "next": back})
    offsite = annotator_client.post(change_url(mine), {"label": "neutral", "next": "https://evil.example/"})

    assert kept.status_code == 302 and kept["Location"] == back
    assert offsite.status_code == 302 and offsite["Location"] == page_url(huawei)
    assert Annotation.objects.get(pk=mine.pk).label == "neutral"


def test_a_change_takes_the_history_panels_queries_and_one_for_the_article_title(
    annotator, annotator_client, huawei, django_assert_num_queries
):
    (mine,) = label_all(annotator, huawei, ["pro"])

    # The history panel's change, which resolves an open return with one UPDATE.
    with django_assert_num_queries(11):
        response = annotator_client.post(change_url(mine), {"label": "contra"}, **HTMX)

    assert response.status_code == 200


# The article page


def article_row(html, sentence):
    found = re.search(rf'<li id="s{sentence.id}"[^>]*>.*?</li>', html, re.S)
    assert found is not None
    return found.group(0)


def test_the_article_page_offers_a_change_for_my_labelled_sentences_only(annotator, annotator_client, huawei):
    article = ArticleFactory()
    labelled, unlabelled = (SentenceFactory(article=article, position=i) for i in range(2))
    annotation_record(annotator=annotator, sentence=labelled, target=huawei, label="pro")

    html = annotator_client.get(reverse("article-detail", args=[article.id])).content.decode()

    assert 'class="label-change"' in article_row(html, labelled)
    assert "<form" not in article_row(html, unlabelled)


def test_a_change_from_the_article_page_swaps_its_sentence_row_through_the_same_service(
    annotator, annotator_client, huawei
):
    (mine,) = label_all(annotator, huawei, ["neutral"])

    response = annotator_client.post(change_url(mine), {"label": "pro", "row": "article"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="s{mine.sentence_id}"')
    assert 'class="labelled-pro"' in html and "Changed to pro" in html
    assert history(annotator)[-1] == ("relabel", "neutral", "pro")
    assert stored(huawei) == recount(huawei)


def test_the_article_page_reserves_nothing_and_labels_nothing_new(annotator, annotator_client, huawei):
    article = ArticleFactory()
    SentenceFactory(article=article)

    annotator_client.get(reverse("article-detail", args=[article.id]))

    assert not Assignment.objects.exists() and not Annotation.objects.exists()


# Links


def test_the_labelling_page_and_the_header_link_to_my_labels(annotator_client, huawei):
    html = annotator_client.get(reverse("label", args=[huawei.id])).content.decode()
    assert html.count(f'href="{page_url(huawei)}"') == 2  # the header and the history panel


def test_the_target_picker_on_my_labels_links_to_my_labels_of_each_target(annotator_client, huawei):
    other = TargetFactory(name="5G")

    html = annotator_client.get(page_url(huawei)).content.decode()

    assert f'href="{page_url(other)}"' in html


# Only annotators label


@pytest.mark.parametrize("who", ["curator", "admin", "superuser"])
def test_a_curator_or_admin_who_posts_a_label_takes_no_reservation_and_labels_nothing(huawei, who):
    user = UserFactory(
        username=f"x-{who}", role=None if who == "superuser" else who, is_superuser=who == "superuser"
    )
    sentence = SentenceFactory()
    client = Client()
    client.force_login(user)
    before = snapshot()

    label = client.post(
        reverse("label-submit", args=[huawei.id]), {"sentence": sentence.id, "label": "pro"}, **HTMX
    )
    undo = client.post(reverse("label-undo", args=[huawei.id]), **HTMX)

    assert label.status_code == 403 and undo.status_code == 403
    assert label.content.decode() == "You are not an annotator for this target."
    assert snapshot() == before
    assert not Assignment.objects.exists()


def test_an_annotator_who_is_also_a_curator_still_labels(huawei):
    user = UserFactory(username="both", role="annotator")
    user.groups.add(Group.objects.get(name="curator"))
    sentence = SentenceFactory()
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("label-submit", args=[huawei.id]), {"sentence": sentence.id, "label": "pro"}, **HTMX
    )

    assert response.status_code == 200
    assert Annotation.objects.get(annotator=user).label == Label.PRO
