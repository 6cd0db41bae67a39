"""The dataset card's Annotation process and Methods sections: every number checked against
the database, counted here independently with the ORM."""

from __future__ import annotations

import datetime
import statistics
from collections import Counter, defaultdict

import pytest
from django.urls import reverse

from annotate.card_figures import DuplicateGroups, EvaluationSliceScore, ReliabilityInterval
from annotate.card_methods import card_sections
from annotate.dataset_card import dataset_card
from annotate.export import ExportSpec, annotator_pseudonym, export_summary
from annotate.models import Adjudication, Annotation, Article, Label, TargetSummary
from annotate.summary import fresh_summary
from tests import reference_agreement
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db

S, A = "shown", "accepted"


@pytest.fixture
def process_corpus(huawei, annotator, other_annotator, curator):
    """Four articles: two CC-BY-4.0 from a file, one unknown from the API, one only skipped.

    Labels with suggestions shown and accepted, a tie, singles, majorities of two and three,
    adjudications (one on a sentence without labels), skips (one with a suggestion on
    screen) and sentences only skipped; an annotator whose only label was deleted.
    """
    cy = UserFactory(username="cy", role="annotator")
    gone = UserFactory(username="gone", role="annotator")
    wire = dict(licence="CC-BY-4.0", imported_from="wire.jsonl")
    first = ArticleFactory(source="Reuters", published=datetime.date(2019, 4, 28), **wire)
    second = ArticleFactory(source="BBC", published=datetime.date(2019, 5, 2), **wire)
    third = ArticleFactory(source="Guardian", published=None, imported_from="API")
    skipped = ArticleFactory(source="Agency", licence="proprietary", imported_from="old.txt")
    ann, bob = annotator, other_annotator
    plan = [
        (first, [(ann, "pro", S, A), (bob, "pro", S)], None),  # majority
        (first, [(ann, "pro", S, A), (bob, "contra")], None),  # tie
        (first, [(ann, "neutral"), (bob, "skip", S)], None),  # single; a skip with a suggestion shown
        (first, [(ann, "contra"), (bob, "contra"), (cy, "contra", S)], None),  # majority of three
        (second, [(ann, "pro", S), (bob, "contra")], "neutral"),  # adjudicated
        (second, [(ann, "skip"), (bob, "skip")], None),  # only skipped
        (second, [], "pro"),  # adjudicated without labels
        (third, [(cy, "neutral", S, A)], None),  # single
        (third, [(cy, "pro", S), (ann, "neutral"), (bob, "neutral", S)], None),  # majority
        (skipped, [(cy, "skip")], None),  # only skipped: its article is in no export
    ]
    for position, (article, labels, adjudicated) in enumerate(plan):
        sentence = SentenceFactory(article=article, position=position)
        for who, label, *flags in labels:
            AnnotationFactory(
                annotator=who,
                sentence=sentence,
                target=huawei,
                label=label,
                suggestion_shown=S in flags,
                accepted_suggestion=A in flags,
            )
        if adjudicated:
            Adjudication.objects.create(sentence=sentence, target=huawei, label=adjudicated, curator=curator)
    AnnotationFactory(annotator=gone, sentence=sentence, target=huawei, label="pro").delete()
    return huawei


def card_of(target, **spec):
    spec = ExportSpec(target=target, **{"level": "gold", **spec})
    return dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=target))


def section(card: str, heading: str) -> str:
    """The text of one `##` or `###` section of the card."""
    start = card.index(heading)
    level = heading.split(" ")[0] + " "
    rest = card[start + len(heading) :]
    ends = [i for i in (rest.find("\n" + level), rest.find("\n## ")) if i >= 0]
    return rest[: min(ends)] if ends else rest


def stance(annotations):
    return [a for a in annotations if a.label != Label.SKIP]


def test_the_card_names_each_annotator_by_pseudonym_with_their_stance_labels_and_skips(process_corpus):
    counts: dict[int, Counter] = defaultdict(Counter)
    for a in Annotation.objects.filter(target=process_corpus):
        counts[a.annotator_id]["skips" if a.label == Label.SKIP else "labels"] += 1
    labels = [c["labels"] for c in counts.values()]

    text = section(card_of(process_corpus), "## Annotation process")

    assert f"- **Annotators**: {len(counts)}, named in the export by stable pseudonyms" in text
    assert (
        f"min {min(labels)}, median {statistics.median(labels):g}, max {max(labels)} "
        f"({sum(labels)} in all, and {sum(c['skips'] for c in counts.values())} skips)"
    ) in text
    rows = [line for line in text.splitlines() if line.startswith("| annotator-")]
    assert sorted(rows) == sorted(
        f"| {annotator_pseudonym(i)} | {c['labels']} | {c['skips']} |" for i, c in counts.items()
    )


def test_the_card_names_annotators_by_username_when_the_export_does(process_corpus):
    text = section(card_of(process_corpus, level="annotations", names=True), "## Annotation process")
    assert "named in the export by username" in text
    assert "| ann |" in text and "| cy |" in text and "| gone |" not in text and "annotator-" not in text


def test_the_card_gives_the_overlap_as_sentences_by_their_number_of_stance_labels(process_corpus):
    per_sentence = Counter(a.sentence_id for a in stance(Annotation.objects.filter(target=process_corpus)))
    spread = sorted(Counter(per_sentence.values()).items())
    expected = ", ".join(f"{s} with {n} label{'s' if n != 1 else ''}" for n, s in spread)

    text = section(card_of(process_corpus), "## Annotation process")

    assert (
        f"- **Overlap**: each sentence is handed to {process_corpus.overlap} annotators; "
        f"{len(per_sentence)} sentences with stance labels ({expected})."
    ) in text


def test_the_card_counts_the_labels_with_a_suggestion_on_screen_and_those_that_accepted_it(process_corpus):
    labels = stance(Annotation.objects.filter(target=process_corpus))
    shown = sum(a.suggestion_shown for a in labels)
    accepted = sum(a.accepted_suggestion for a in labels)

    text = section(card_of(process_corpus), "### Model suggestions")

    assert (
        f"- **With a suggestion on screen**: {shown} ({shown / len(labels):.0%}) of the {len(labels)} stance "
        f"labels; **accepted** with one key: {accepted} ({accepted / len(labels):.0%}) "
        f"({accepted / shown:.0%} of those shown)."
    ) in text
    assert f"- **Without a suggestion**: {len(labels) - shown} labels" in text


def test_the_card_gives_agreement_with_and_without_a_suggestion_and_what_that_means(process_corpus):
    reference = reference_agreement.agreement_by_suggestion(process_corpus)
    labels = stance(Annotation.objects.filter(target=process_corpus))
    with_, without = reference["with suggestion"], reference["without suggestion"]
    assert with_.alpha != without.alpha  # the corpus tells the two apart

    text = section(card_of(process_corpus), "### Model suggestions")

    shown = sum(a.suggestion_shown for a in labels)
    for name, figures, n in [
        ("with a suggestion on screen", with_, shown),
        ("without a suggestion", without, len(labels) - shown),
    ]:
        assert (
            f"| {name} | {n} | {figures.alpha_sentences} | {figures.alpha:.3f} | {figures.percent:.3f} |"
        ) in text
    assert "a suggestion on screen can anchor annotators" in text
    assert f"Here alpha is {with_.alpha:.3f} with a suggestion and {without.alpha:.3f} without" in text


def gold_methods(target) -> Counter:
    """How each sentence's gold label was decided, from the labels and adjudications."""
    votes: dict[int, Counter] = defaultdict(Counter)
    skipped = set()
    for a in Annotation.objects.filter(target=target):
        if a.label == Label.SKIP:
            skipped.add(a.sentence_id)
        else:
            votes[a.sentence_id][a.label] += 1
    adjudicated = set(Adjudication.objects.filter(target=target).values_list("sentence_id", flat=True))
    methods = Counter()
    for sentence_id in votes.keys() | adjudicated | skipped:
        counts = votes.get(sentence_id, Counter())
        n = sum(counts.values())
        if sentence_id in adjudicated:
            methods["adjudicated"] += 1
        elif n == 0:
            methods["skipped only"] += 1
        elif n == 1:
            methods["single"] += 1
        elif max(counts.values()) * 2 > n:
            methods["majority"] += 1
        else:
            methods["tie"] += 1
    return methods


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def test_the_card_counts_how_gold_labels_were_decided_with_ties_and_skips_left_out(process_corpus):
    methods = gold_methods(process_corpus)
    skips = Annotation.objects.filter(target=process_corpus, label=Label.SKIP).count()

    card = card_of(process_corpus)
    text = section(card, "### Gold labels")

    assert f"- **Adjudicated** by a curator: {plural(methods['adjudicated'], 'sentence')}." in text
    assert f"(a strict majority of two or more labels): {plural(methods['majority'], 'sentence')}." in text
    assert f"- **Single** label: {plural(methods['single'], 'sentence')}." in text
    assert f"not adjudicated): {plural(methods['tie'], 'sentence')}." in text
    assert (
        f"- **Skips** left out: {plural(skips, 'skip')}; {plural(methods['skipped only'], 'sentence')} were"
        in text
    )
    gold_rows = methods["adjudicated"] + methods["majority"] + methods["single"]
    assert f"`huawei-gold.jsonl` (jsonl), {gold_rows} rows." in card


def test_the_cards_provenance_names_the_exported_articles_sources_files_dates_and_licences(process_corpus):
    labelled = Annotation.objects.filter(target=process_corpus).exclude(label=Label.SKIP)
    ids = set(labelled.values_list("sentence__article_id", flat=True)) | set(
        Adjudication.objects.filter(target=process_corpus).values_list("sentence__article_id", flat=True)
    )
    articles = Article.objects.filter(id__in=ids)
    sources = Counter(a.source for a in articles)
    licences = Counter(a.licence for a in articles)
    dates = sorted(a.published for a in articles if a.published)
    files = Counter(a.imported_from for a in articles if a.imported_from not in ("API", "admin", ""))
    imported = sorted(a.created_at.date() for a in articles)

    def listing(counts):
        return ", ".join(
            f"{k} ({plural(n, 'article')})" for k, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
        )

    text = section(card_of(process_corpus), "### Provenance")

    assert (
        f"- **Articles**: {len(ids)} (those with a stance label or an adjudication), from {len(sources)} sources: {listing(sources)}."
        in text
    )
    undated = sum(a.published is None for a in articles)
    assert f"- **Published**: {dates[0]} to {dates[-1]} ({undated} undated)." in text
    api = sum(a.imported_from == "API" for a in articles)
    assert (
        f"on {imported[0]}, from {plural(len(files), 'file')}: {listing(files)}; the API ({plural(api, 'article')})."
        in text
    )
    assert f"- **Licence**: {listing(licences)}." in text
    assert "proprietary" not in text  # the article only skipped is in no export
    assert f"The licence of {plural(licences['unknown'], 'article')} is unknown: check it" in text


def test_the_methods_paragraph_fills_in_every_number_and_leaves_out_missing_figures(process_corpus):
    figures = fresh_summary(target=process_corpus)
    methods = gold_methods(process_corpus)
    labels = stance(Annotation.objects.filter(target=process_corpus))
    spec = ExportSpec(target=process_corpus, level="gold")
    rows = methods["adjudicated"] + methods["majority"] + methods["single"]

    bare = card_sections(spec=spec, rows=rows, figures=figures)
    paragraph = next(line for line in bare if line.startswith("> "))

    assert f"The dataset holds {rows} gold stance labels" in paragraph
    annotators = len({a.annotator_id for a in Annotation.objects.filter(target=process_corpus)})
    assert f"{annotators} annotators gave {len(labels)} stance labels" in paragraph
    assert (
        "accepted it with one key" in paragraph
        and f"{sum(a.accepted_suggestion for a in labels)} accepted" in paragraph
    )
    reference = reference_agreement.target_agreement(process_corpus)
    assert (
        f"Krippendorff's alpha = {reference.alpha:.3f} (nominal, {reference.alpha_sentences} sentences"
        in paragraph
    )
    assert (
        f"adjudication ({methods['adjudicated']} sentences), the strict majority of two or more labels "
        f"({methods['majority']}) or a single label ({methods['single']}); {plural(methods['tie'], 'tie')}"
    ) in paragraph
    for missing in ("confidence interval", "evaluation slice", "near-identical", "None", "n/a", "{"):
        assert missing not in paragraph

    full = card_sections(
        spec=ExportSpec(target=process_corpus, level="gold", split=True),
        rows=rows,
        figures=figures,
        reliability=ReliabilityInterval(low=0.123, high=0.456, resamples=1000),
        evaluation=EvaluationSliceScore(sentences=42, f_avg=0.612, macro_f1=0.58),
        duplicates=DuplicateGroups(groups=3, sentences=7),
    )
    paragraph = next(line for line in full if line.startswith("> "))
    assert "95% bootstrap confidence interval 0.123 to 0.456 (1,000 resamples)" in paragraph
    assert "evaluation slice of 42 sentences" in paragraph and "F_avg 0.612 and macro-F1 0.580" in paragraph
    assert "(3 groups, 7 sentences) were kept within one split." in paragraph
    unsplit = card_sections(
        spec=spec, rows=rows, figures=figures, duplicates=DuplicateGroups(groups=3, sentences=7)
    )
    paragraph = next(line for line in unsplit if line.startswith("> "))
    assert "were grouped (3 groups, 7 sentences); this export is not split." in paragraph


def test_an_empty_targets_card_has_the_sections_without_a_number_it_lacks(huawei):
    card = card_of(huawei)
    assert "- **Annotators**: none yet." in card
    paragraph = next(line for line in card.splitlines() if line.startswith("> "))
    assert "Krippendorff" not in paragraph and "None" not in paragraph
    assert "No model suggestion was shown while labelling." in paragraph


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("level", ["gold", "annotations"])
def test_the_card_page_holds_the_process_and_methods_for_either_format(
    admin_client_, process_corpus, fmt, level
):
    response = admin_client_.get(
        reverse("export-card", args=[process_corpus.pk]), {"format": fmt, "level": level, "split": "1"}
    )
    card = response.content.decode()
    assert response.status_code == 200
    assert "## Annotation process" in card and "### Provenance" in card and "## Methods" in card
    assert f"`huawei-{level}.{fmt}` ({fmt})" in card


def test_the_command_writes_the_process_section_into_a_csv_exports_card(process_corpus, tmp_path):
    from django.core.management import call_command

    call_command(
        "export_dataset",
        "--target=Huawei",
        "--format=csv",
        "--level=annotations",
        "--card",
        f"--output={tmp_path / 'huawei-annotations.csv'}",
        stdout=__import__("io").StringIO(),
    )
    card = (tmp_path / "huawei-annotations.card.md").read_text()
    labels = len(stance(Annotation.objects.filter(target=process_corpus)))
    assert f"The dataset holds {labels} stance labels, one row per annotator's label" in card
    assert "- **Licence**: CC-BY-4.0 (2 articles), unknown (1 article)." in card


def test_a_summary_stored_before_it_held_the_process_figures_has_them_counted_now(process_corpus):
    fresh_summary(target=process_corpus)
    stored = TargetSummary.objects.get(target=process_corpus)
    del stored.figures["process"]
    stored.save()
    figures = fresh_summary(target=process_corpus)
    assert figures.process is None
    spec = ExportSpec(target=process_corpus, level="gold")
    card = dataset_card(spec=spec, summary=export_summary(spec=spec), figures=figures)
    assert (
        f"- **Adjudicated** by a curator: {plural(gold_methods(process_corpus)['adjudicated'], 'sentence')}."
        in card
    )
