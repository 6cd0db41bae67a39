from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import dashboard, summary
from annotate.charts.bars import Bar, Segment, StackedRow, bar_chart, progress_bars, stacked_bars
from annotate.charts.heat_map import heat_map
from annotate.charts.lines import Series, line_chart
from annotate.charts.strip import StripCell, label_legend, stance_strip
from annotate.model_history import model_versions
from annotate.models import Adjudication, Label
from annotate.queue.record import annotation_record
from annotate.views.dashboard import dashboard_charts
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
CONFUSION = [[3, 1, 0], [0, 2, 1], [1, 0, 4]]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{SVG}title").text == root.get("aria-label")
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


@pytest.fixture
def known(huawei, annotator, other_annotator, curator):
    """Two sources, five sentences, two annotators, an adjudication and an active model.

    Alpha (3 sentences): pro/pro (one with a suggestion on screen), contra/neutral (a tie),
    a lone skip. Beta (2 sentences): a single neutral label, an adjudicated contra.
    """
    alpha = ArticleFactory(title="Alpha story", source="Alpha")
    beta = ArticleFactory(title="Beta story", source="Beta")
    a0, a1, a2 = (SentenceFactory(article=alpha, position=i, text=f"Alpha {i}.") for i in range(3))
    b0, b1 = (SentenceFactory(article=beta, position=i, text=f"Beta {i}.") for i in range(2))
    SuggestionFactory(target=huawei, sentence=a0, label=Label.NEUTRAL)
    SuggestionFactory(target=huawei, sentence=a2, label=Label.CONTRA)
    SuggestionFactory(target=huawei, sentence=b0, label=Label.NEUTRAL)
    huawei.refresh_from_db()
    record = annotation_record
    record(annotator=annotator, sentence=a0, target=huawei, label="pro", spent_ms=1000, suggestion_shown=True)
    record(annotator=other_annotator, sentence=a0, target=huawei, label="pro", spent_ms=2000)
    record(annotator=annotator, sentence=a1, target=huawei, label="contra", spent_ms=3000)
    record(annotator=other_annotator, sentence=a1, target=huawei, label="neutral", spent_ms=4000)
    record(annotator=annotator, sentence=a2, target=huawei, label="skip", spent_ms=500)
    record(annotator=annotator, sentence=b0, target=huawei, label="neutral")
    Adjudication.objects.create(sentence=b1, target=huawei, label="contra", curator=curator)
    return SimpleNamespace(target=huawei, alpha=alpha, beta=beta, sentences=[a0, a1, a2, b0, b1])


@pytest.fixture
def versions(huawei):
    """An older version and the active one, with its confusion matrix."""
    ModelVersionFactory(
        target=huawei, train_size=10, metrics={"accuracy": 0.5, "macro_f1": 0.4, "f_avg": 0.3}
    )
    active = ModelVersionFactory(
        target=huawei,
        train_size=20,
        metrics={
            "accuracy": 0.75,
            "macro_f1": 0.7,
            "f_avg": 0.65,
            "confusion": CONFUSION,
            "classes": ["pro", "contra", "neutral"],
        },
    )
    huawei.active_version = active
    huawei.save(update_fields=["active_version"])
    return active


# Figures


def test_annotator_progress_counts_labels_skips_today_and_the_median_pace(known):
    progress = dashboard.annotator_progress(
        target=known.target, sentences=5, medians=summary.median_spent_ms(target=known.target)
    )
    assert [(p.username, p.labels, p.skips, p.today, p.share) for p in progress] == [
        ("ann", 3, 1, 4, 5),
        ("bob", 2, 0, 2, 5),
    ]
    ann, bob = progress
    assert ann.median_ms == 1000  # of 500, 1000, 3000; the label without a time is left out
    assert ann.per_hour == 3600
    assert bob.median_ms == 3000  # the mean of the two middle values, 2000 and 4000
    assert bob.per_hour == 1200
    assert ann.percent == 80


def test_an_annotator_without_labels_is_listed_with_nothing_done(known):
    UserFactory(username="carol", role="annotator")
    progress = dashboard.annotator_progress(target=known.target, sentences=6, medians={})
    carol = next(p for p in progress if p.username == "carol")
    assert (carol.done, carol.median_ms, carol.per_hour, carol.share) == (0, None, None, 4)


def test_article_progress_counts_sentences_with_a_label_and_with_full_overlap(known):
    rows = dashboard.article_progress(target=known.target)
    assert [(a.title, a.source, a.sentences, a.labelled, a.full) for a in rows] == [
        ("Alpha story", "Alpha", 3, 2, 2),
        ("Beta story", "Beta", 2, 1, 0),
    ]


def test_article_progress_counts_skips_as_decisions_but_apart_from_labels(known):
    rows = dashboard.article_progress(target=known.target)
    assert [(a.title, a.full, a.done, a.done_with_skips, a.started, a.percent) for a in rows] == [
        ("Alpha story", 2, 2, 0, 1, 67),  # the lone skip is one decision of the overlap of two
        ("Beta story", 0, 0, 0, 1, 0),
    ]


@pytest.fixture
def decided_with_a_skip(huawei, annotator, other_annotator):
    """An article whose two sentences both got the overlap of two decisions, one a skip."""
    article = ArticleFactory(title="Decided story")
    first, second = (SentenceFactory(article=article, position=i) for i in range(2))
    for who, sentence, label in [
        (annotator, first, "pro"),
        (other_annotator, first, "pro"),
        (annotator, second, "contra"),
        (other_annotator, second, "skip"),
    ]:
        annotation_record(annotator=who, sentence=sentence, target=huawei, label=label)
    return article


def test_an_article_fully_decided_with_a_skip_is_100_percent_done(huawei, decided_with_a_skip):
    (row,) = dashboard.article_progress(target=huawei)
    assert (row.full, row.done, row.done_with_skips, row.started, row.percent) == (1, 2, 1, 0, 100)


def test_the_article_chart_draws_skipped_sentences_as_done_and_apart(
    curator_client, huawei, decided_with_a_skip
):
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert "2 / 2 (100%)" in html
    assert "Decided story: done with skips 1 of 2 (50%)" in html
    assert "Decided story: full overlap 1 of 2 (50%)" in html


def test_article_progress_stops_at_the_limit(known):
    assert [a.title for a in dashboard.article_progress(target=known.target, limit=1)] == ["Alpha story"]


def test_label_distribution_counts_gold_labels_overall_and_per_source(known):
    overall, by_source = summary.distributions(target=known.target)
    assert overall.counts == {"pro": 1, "contra": 1, "neutral": 1}
    assert overall.unresolved == 1
    assert {source: (d.counts, d.unresolved) for source, d in by_source.items()} == {
        "Alpha": ({"pro": 1, "contra": 0, "neutral": 0}, 1),
        "Beta": ({"pro": 0, "contra": 1, "neutral": 1}, 0),
    }


def test_stance_profiles_show_gold_labels_else_the_active_suggestion(known):
    board = dashboard.dashboard_for(target=known.target)
    alpha, beta = board.profiles
    assert [(c.position, c.label, c.kind) for c in alpha.cells] == [
        (0, "pro", "gold"),  # gold wins over the neutral suggestion
        (1, None, "none"),  # a tie and no suggestion
        (2, "contra", "suggestion"),
    ]
    assert [(c.label, c.kind) for c in beta.cells] == [("neutral", "gold"), ("contra", "gold")]
    assert (alpha.pro, alpha.suggested, alpha.unlabelled) == (1, 1, 1)


def test_agreement_figures_cover_the_target_the_sources_and_the_control_set(known):
    board = dashboard.dashboard_for(target=known.target)
    assert board.agreement.percent == 0.5
    assert board.agreement.labels == 5
    assert board.agreement_by_source["Alpha"].percent == 0.5
    assert board.agreement_by_source["Beta"].labels == 1
    assert board.agreement_by_suggestion["with suggestion"].labels == 1
    assert board.agreement_by_suggestion["without suggestion"].labels == 4
    assert board.pairs == [("ann", "bob", pytest.approx(board.agreement.pairs[0].kappa), 2)]


def test_suggestion_sway_compares_labels_with_the_model_on_and_off_screen(known):
    since = known.target.active_version.created_at
    sway = summary.suggestion_sway(target=known.target, since=since)
    assert sway == summary.SuggestionSway(
        since=since, shown=1, accepted=0, shown_matching=0, control=4, control_matching=1
    )
    assert sway.control_match_rate == 0.25


def test_suggestion_sway_leaves_out_labels_from_before_the_model_went_live(known):
    sway = summary.suggestion_sway(target=known.target, since=timezone.now())
    assert (sway.shown, sway.control, sway.shown_match_rate) == (0, 0, None)


def test_suggestion_sway_is_absent_without_a_model(huawei):
    assert summary.suggestion_sway(target=huawei, since=timezone.now()) is None


def test_model_versions_are_listed_oldest_first_with_the_active_confusion_matrix(huawei, versions):
    points, confusion = model_versions(target=huawei)
    assert [(p.train_size, p.accuracy, p.macro_f1, p.f_avg, p.active) for p in points] == [
        (10, 0.5, 0.4, 0.3, False),
        (20, 0.75, 0.7, 0.65, True),
    ]
    assert confusion.version_id == versions.pk
    assert confusion.rows[1] == ("contra", [0, 2, 1])


def test_failed_versions_are_left_out(huawei):
    ModelVersionFactory(target=huawei, status="failed", metrics={})
    assert model_versions(target=huawei) == ([], None)


# Charts


def test_a_bar_chart_is_valid_svg_with_a_bar_per_value():
    root = parse(bar_chart([Bar("a", 3), Bar("b", 1), Bar("c", None)], title="Counts"))
    assert len(root.findall(f".//{SVG}rect")) == 2
    assert {"3", "1", "n/a"} <= set(texts(root))


def test_a_bar_chart_draws_negative_values_left_of_zero():
    root = parse(bar_chart([Bar("up", 0.5), Bar("down", -0.5)], title="Alpha", domain=(0, 1)))
    up, down = root.findall(f".//{SVG}rect")
    assert float(down.get("x")) < float(up.get("x"))
    assert root.find(f".//{SVG}line") is not None


def test_chart_text_is_escaped():
    evil = "<script>alert(1)</script>"
    svg = bar_chart([Bar(evil, 1)], title=evil)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == evil
    assert evil in texts(root)  # the row label, as text, not markup


def test_stacked_bars_split_each_row_by_share():
    rows = [StackedRow("Outlet <b>", [Segment("pro", 1, "#1e7a34"), Segment("contra", 3, "#b3261e")])]
    svg = stacked_bars(rows, title="Lean", legend=[("pro", "#1e7a34")])
    root = parse(svg)
    track, pro, contra = (r for r in root.findall(f"{SVG}rect") if r.get("height") == "18")
    assert float(pro.get("width")) * 3 == pytest.approx(float(contra.get("width")), abs=0.2)
    assert float(pro.get("width")) + float(contra.get("width")) == pytest.approx(
        float(track.get("width")), abs=0.2
    )
    assert {"25%", "75%"} <= set(texts(root))
    assert "<b>" not in svg


def test_progress_bars_say_how_much_of_the_total_is_done():
    root = parse(progress_bars([StackedRow("ann", [Segment("labels", 3, "#000")], 12)], title="Progress"))
    assert "3 / 12 (25%)" in texts(root)


def test_the_heat_map_writes_every_cell_count():
    root = parse(heat_map(CONFUSION, ["pro", "contra", "neutral"], title="Confusion"))
    cells = [t.text for t in root.iter(f"{SVG}text") if t.get("font-size") == "16"]
    assert cells == [str(n) for row in CONFUSION for n in row]
    assert len(root.findall(f".//{SVG}rect")) == 9


def test_the_learning_curve_draws_a_line_per_metric():
    series = [Series("accuracy", [(10, 0.5), (20, 0.75)]), Series("F_avg", [(10, 0.3), (20, 0.65)])]
    root = parse(line_chart(series, title="Learning", x_label="labels", y_label="score"))
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert len(root.findall(f".//{SVG}circle")) == 4
    assert {"10", "20", "0.00", "1.00"} <= set(texts(root))


def test_the_stance_strip_has_one_coloured_block_per_sentence_with_a_tooltip():
    cells = [StripCell("pro", "1: pro"), StripCell("contra", "2: <i>", faint=True), StripCell(None, "3")]
    root = parse(stance_strip(cells, title="Profile"))
    blocks = root.findall(f"{SVG}g")
    assert [b.find(f"{SVG}rect").get("fill") for b in blocks] == ["#1e7a34", "#fff", "#d0d0d0"]
    assert [b.find(f"{SVG}rect").get("stroke") for b in blocks] == [None, "#b3261e", None]
    assert [b.find(f"{SVG}title").text for b in blocks] == ["1: pro", "2: <i>", "3"]


def test_the_stance_strip_tells_labels_apart_without_colour():
    """A letter on each labelled block; suggestions outlined and dashed with a small letter."""
    cells = [StripCell("pro", "a"), StripCell("contra", "b"), StripCell("neutral", "c")]
    cells += [StripCell("contra", "d", faint=True), StripCell(None, "e")]
    root = parse(stance_strip(cells, title="Profile"))
    assert texts(root) == ["P", "C", "N", "c"]
    outlined = [r for r in root.iter(f"{SVG}rect") if r.get("stroke-dasharray")]
    assert len(outlined) == 1


def test_the_stance_key_names_each_letter_and_the_suggestion_mark():
    root = parse(label_legend())
    shown = texts(root)
    for letter, name in [("P", "pro"), ("C", "contra"), ("N", "neutral")]:
        assert letter in shown and name in shown
    assert "no label" in shown
    assert "dashed, small letter: suggested by the model" in shown
    assert "P pro, C contra, N neutral" in root.get("aria-label")


def test_each_stance_profile_lists_its_sentences_as_text_for_keyboards(curator_client, known):
    """The strip's tooltips reach neither a keyboard nor a screen reader: the text does."""
    html = curator_client.get(reverse("dashboard", args=[known.target.pk])).content.decode()
    alpha = html[html.index("Stance profile of Alpha story") :]
    alpha = alpha[: alpha.index("</details>")]
    assert "<summary>Sentences as text" in alpha
    a0, a1, a2 = known.sentences[:3]
    detail = reverse("article-detail", args=[known.alpha.pk])
    assert f'<a href="{detail}#s{a0.pk}"><strong class="label-pro">pro</strong></a>: Alpha 0.' in alpha
    assert f'<a href="{detail}#s{a1.pk}">no label</a>: Alpha 1.' in alpha  # a tie
    assert (
        f'<a href="{detail}#s{a2.pk}"><strong class="label-contra">contra</strong> (suggested)</a>: Alpha 2.'
        in alpha
    )
    assert "1 pro, 1 contra, 0 neutral (1 of them suggested by the model), 1 without a label" in html


def test_no_chart_uses_inline_style_or_script(known, versions):
    board = dashboard.dashboard_for(target=known.target)
    built = dashboard_charts(board)
    svgs = [v for v in built.values() if isinstance(v, str)] + [strip for _, strip, _ in built["profiles"]]
    for svg in svgs:
        parse(svg)
        assert "style=" not in svg
        assert "<script" not in svg


# The page


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_curators_see_every_chart_with_its_numbers(curator_client, known, versions):
    response = curator_client.get(reverse("dashboard", args=[known.target.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') >= 10
    assert html.count("<summary>Numbers</summary>") == 6
    for heading in ("Progress per annotator", "Progress per article", "Label distribution", "Stance profile"):
        assert heading in html
    assert "Confusion matrix of v" in html
    assert "Alpha story" in html
    assert "Models and retraining" not in html  # admins only (the navigation links the page)


def test_admins_see_the_dashboard_and_a_link_to_the_models_page(admin_client_, known):
    response = admin_client_.get(reverse("dashboard", args=[known.target.pk]))
    assert response.status_code == 200
    assert reverse("models", args=[known.target.pk]) in response.content.decode()


def test_an_empty_target_renders_without_figures(curator_client, huawei):
    response = curator_client.get(reverse("dashboard", args=[huawei.pk]))
    assert response.status_code == 200
    assert "No trained model yet." in response.content.decode()


def test_annotators_are_refused_the_dashboard(annotator_client, huawei):
    assert annotator_client.get(reverse("dashboard", args=[huawei.pk])).status_code == 403


def test_anonymous_users_are_sent_to_log_in(huawei):
    response = Client().get(reverse("dashboard", args=[huawei.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_target_is_not_found(curator_client):
    assert curator_client.get(reverse("dashboard", args=[987654])).status_code == 404


def test_the_dashboard_refuses_post(curator_client, huawei):
    assert curator_client.post(reverse("dashboard", args=[huawei.pk])).status_code == 405


def test_article_titles_are_escaped(curator_client, huawei):
    SentenceFactory(article=ArticleFactory(title="<script>alert(1)</script>", source="<b>Src</b>"))
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert "<script>alert" not in html
    assert "<b>Src</b>" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_the_navigation_links_the_dashboard_for_curators_only(curator_client, annotator_client, huawei):
    link = f'href="{reverse("dashboard", args=[huawei.pk])}"'
    assert link in curator_client.get(reverse("article-list")).content.decode()
    assert link not in annotator_client.get(reverse("article-list")).content.decode()


def test_a_curators_dashboard_offers_no_export_and_no_retraining(curator_client, known):
    """Only admins export and retrain (annotate.roles), so curators are not shown the links;
    the navigation links the models page, which curators may read."""
    html = curator_client.get(reverse("dashboard", args=[known.target.pk])).content.decode()
    assert reverse("export", args=[known.target.pk]) not in html
    assert "Export gold labels" not in html
    assert "Models and retraining" not in html


def test_an_admins_dashboard_offers_the_export(admin_client_, known):
    html = admin_client_.get(reverse("dashboard", args=[known.target.pk])).content.decode()
    assert f'href="{reverse("export", args=[known.target.pk])}?format=jsonl' in html


def _corpus(target, *, articles: int, per_article: int) -> None:
    labellers = [UserFactory(role="annotator") for _ in range(2)]
    version = ModelVersionFactory(target=target, metrics={"accuracy": 0.5, "confusion": CONFUSION})
    target.active_version = version
    target.save(update_fields=["active_version"])
    for a in range(articles):
        article = ArticleFactory(source=f"Source {a % 3}")
        for i in range(per_article):
            sentence = SentenceFactory(article=article, position=i)
            SuggestionFactory(target=target, sentence=sentence, model_version=version)
            for labeller in labellers[: 1 + i % 2]:
                annotation_record(
                    annotator=labeller,
                    sentence=sentence,
                    target=target,
                    label=Label.values[i % 4],
                    spent_ms=900,
                )
        Adjudication.objects.create(sentence=sentence, target=target, label="pro", curator=labellers[0])


@pytest.mark.parametrize("articles", [2, 8])
def test_the_figures_take_the_same_queries_for_any_corpus_size(huawei, articles, django_assert_num_queries):
    _corpus(huawei, articles=articles, per_article=articles)
    summary.compute(target=huawei)  # as the background task leaves it
    with django_assert_num_queries(10):
        dashboard.dashboard_for(target=huawei)


@pytest.mark.parametrize("articles", [2, 8])
def test_the_page_takes_a_bounded_number_of_queries(
    curator_client, huawei, articles, django_assert_max_num_queries
):
    # The figures' 10, the session, user and role checks, the targets, and the navigation.
    _corpus(huawei, articles=articles, per_article=articles)
    summary.compute(target=huawei)
    with django_assert_max_num_queries(26):
        response = curator_client.get(reverse("dashboard", args=[huawei.pk]))
    assert response.status_code == 200


def test_agreement_per_source_names_articles_without_a_source(huawei, annotator, other_annotator):
    sentence = SentenceFactory(article=ArticleFactory(source=""))
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label="pro")
    board = dashboard.dashboard_for(target=huawei)
    assert list(board.agreement_by_source) == ["(no source)"]


def test_a_stance_strip_escapes_the_sentence_text_in_its_tooltips() -> None:
    strip = stance_strip([StripCell("pro", '1: pro · <script>alert("x")</script> & co')], title="t")
    assert "<script>" not in strip
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in strip


def test_each_stance_strip_has_its_sentences_as_escaped_text(known, versions):
    """The text list beside each strip is built in Python (annotate.charts.strip.sentence_list);
    what an article's title or sentence holds is text, never markup."""
    sentence = known.target.annotations.first().sentence
    sentence.text = 'A <b>bold</b> "claim"'
    sentence.save(update_fields=["text"])
    board = dashboard.dashboard_for(target=known.target)
    texts = [text for _, _, text in dashboard_charts(board)["profiles"]]
    listed = "".join(texts)
    assert "A &lt;b&gt;bold&lt;/b&gt; &quot;claim&quot;" in listed
    assert "<b>" not in listed
    assert sum(text.count("<li ") for text in texts) == sum(len(p.cells) for p in board.profiles)
