"""The dataset card's reliability, evaluation slice and duplicate groups (annotate/card_methods.py,
gathered by annotate/card_figures.py): each number checked against the database, counted
here independently, or against a corpus built to hold a known answer."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import joblib
import pytest

from annotate import agreement, classifier, training
from annotate.corpus import ParsedArticle, articles_import
from annotate.dataset_card import dataset_card
from annotate.embedding_store import embeddings_read
from annotate.export import ExportSpec, export_summary
from annotate.models import STANCE_LABELS, Sentence
from annotate.suggestions import in_control_set
from annotate.summary import fresh_summary
from tests import reference_agreement as reference
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory, UserFactory
from tests.test_card_process import section
from tests.test_training_duplicates import near, reprinted_stories

pytestmark = pytest.mark.django_db


def card_of(target, **spec) -> str:
    spec = ExportSpec(target=target, **{"level": "gold", **spec})
    return dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=target))


def methods(card: str) -> str:
    return next(line for line in card.splitlines() if line.startswith("> "))


@pytest.fixture
def voted(huawei):
    """Forty sentences leaning to one label, each labelled by two to four of four annotators."""
    rng = random.Random(3)
    annotators = [UserFactory(role="annotator") for _ in range(4)]
    articles = [ArticleFactory() for _ in range(4)]
    for n in range(40):
        sentence = SentenceFactory(article=articles[n % 4], position=n)
        lean = rng.choice(STANCE_LABELS)
        for who in rng.sample(annotators, rng.randint(2, 4)):
            label = rng.choice([lean, lean, lean, *STANCE_LABELS])
            AnnotationFactory(annotator=who, sentence=sentence, target=huawei, label=label)
    return huawei


def test_the_card_gives_alpha_with_its_bootstrap_interval_per_label_and_with_each_annotator_left_out(voted):
    votes = reference.votes_for(voted)
    alpha, pairable = reference.krippendorff_alpha(votes)
    low, high, resamples = agreement.alpha_interval(agreement._table(votes)[0])
    by_sentence = defaultdict(list)
    for vote in votes:
        by_sentence[vote.sentence_id].append(vote)
    shared = [v for found in by_sentence.values() if len(found) >= 2 for v in found]
    annotators = {v.annotator_id for v in shared}
    left = [reference.left_out_alpha(votes, a)[0] for a in annotators]

    card = card_of(voted)
    text = section(card, "### Reliability")

    assert (
        f"- **Krippendorff's alpha** (nominal): {alpha:.3f} over {pairable} sentences with two or more "
        f"labels; 95% bootstrap confidence interval {low:.3f} to {high:.3f} (percentile bootstrap over "
        f"sentences: {resamples} resamples (seed {agreement.BOOTSTRAP_SEED})"
    ) in text
    per_label = ", ".join(
        f"{label} {reference.label_alpha(votes, label):.3f} "
        f"({sum(v.label == label for v in shared)} of its labels)"
        for label in STANCE_LABELS
    )
    assert f"- **Alpha per label** (that label against the rest): {per_label}." in text
    assert (f"for each of the {len(annotators)} annotators: from {min(left):.3f} to {max(left):.3f}.") in text
    assert (
        f"alpha = {alpha:.3f} (nominal, {pairable} sentences with two or more labels, 95% bootstrap "
        f"confidence interval {low:.3f} to {high:.3f} ({resamples:,} resamples))"
    ) in methods(card)


def test_a_target_without_shared_sentences_has_no_alpha_and_no_interval_in_its_card(huawei):
    AnnotationFactory(target=huawei, label="pro")

    card = card_of(huawei)

    assert "- **Krippendorff's alpha**: not defined yet" in section(card, "### Reliability")
    assert "confidence interval" not in card


@pytest.fixture
def reprinted(huawei, model_dir):
    """Twelve stories and their reprints (annotate.duplicates finds the copies), a 30 %
    evaluation slice, and a model trained on the rest."""
    reprinted_stories(huawei, stories=12)
    huawei.control_share = 0.3
    huawei.save(update_fields=["control_share"])
    training.retrain(target=huawei)
    huawei.refresh_from_db()
    return huawei


def test_the_card_gives_the_active_models_evaluation_slice_score_with_its_size(reprinted, model_dir):
    from sklearn.metrics import accuracy_score, f1_score

    sentences = list(Sentence.objects.all())
    held = [s for s in sentences if in_control_set(target=reprinted, sentence_id=s.pk)]
    copies = [
        s
        for s in sentences
        if not in_control_set(target=reprinted, sentence_id=s.pk) and any(near(s.text, h.text) for h in held)
    ]
    golds = training.resolved_golds(target=reprinted)
    version = reprinted.active_version
    pipeline = joblib.load(model_dir / version.file_name)
    true = [golds[s.pk] for s in held]
    vectors = embeddings_read(sentence_ids=[s.pk for s in held], compute_missing=False)
    predicted = list(pipeline.predict(classifier.model_inputs(pipeline, [s.text for s in held], vectors)))
    pro, contra = f1_score(true, predicted, labels=["pro", "contra"], average=None)
    assert len(held) >= 10 and copies

    card = card_of(reprinted, split=True)
    text = section(card, "### Evaluation slice")

    assert (
        f"- **Model version {version.pk}**, scored on the random evaluation slice: the control set (30% of"
        in text
    )
    assert (
        f"- **Score** on {len(held)} sentences: F_avg {(pro + contra) / 2:.3f}, macro-F1 "
        f"{f1_score(true, predicted, average='macro'):.3f}, accuracy {accuracy_score(true, predicted):.3f}."
    ) in text
    assert f"not scored); {len(copies)} duplicates of slice sentences (not trained on)." in text
    assert f"evaluation slice of {len(held)} sentences" in methods(card)
    assert f"the model reached F_avg {(pro + contra) / 2:.3f}" in methods(card)
    how = version.metrics["cv"]["how"]
    assert "grouped by article and duplicate group" in how
    assert f"The `suggestion` fields are its predictions.\nCross-validation: {how}." in card


def test_a_card_without_an_active_model_says_the_slice_was_not_measured(huawei):
    card = card_of(huawei)
    assert "- Not measured: no active model" in section(card, "### Evaluation slice")
    assert "evaluation slice" not in methods(card)


def test_the_card_counts_the_duplicate_groups_and_how_the_splits_joined_their_articles(reprinted):
    line = "Subscribe to our newsletter for the latest technology and telecoms news every morning."
    articles_import(articles=[ParsedArticle(title="Boilerplate", body=f"{line}\nA sentence.\n{line}")])
    AnnotationFactory(target=reprinted, label="pro")  # an exported article that reprints nothing
    groups = Counter(Sentence.objects.values_list("duplicate_group", flat=True))
    shared = {group: n for group, n in groups.items() if n > 1}
    articles = defaultdict(set)
    for group, article in Sentence.objects.values_list("duplicate_group", "article_id"):
        if group in shared:
            articles[group].add(article)
    # As built: each story reprints three sentences in one other article's, each a group of
    # two; one unlabelled article repeats a line of its own; one labelled article has no copy.
    assert (len(shared), sum(shared.values())) == (12 * 3 + 1, 12 * 3 * 2 + 2)
    assert sorted(Counter(len(found) for found in articles.values()).items()) == [(1, 1), (2, 36)]

    card = card_of(reprinted, split=True)
    text = section(card, "### Duplicate groups")

    assert (
        f"- **Found**: {len(shared)} groups of two or more sentences with the same or a near-identical text "
        f"({sum(shared.values())} sentences); 36 of them span two or more articles."
    ) in text
    joined = {article for found in articles.values() if len(found) > 1 for article in found}
    assert f"goes to one split whole: {len(joined)} exported articles in 12 such units." in text
    assert (
        f"({len(shared)} groups, {sum(shared.values())} sentences) were kept within one split; "
        f"{len(joined)} articles sharing a group were joined into 12 units assigned to one split whole."
    ) in methods(card)
    unsplit = card_of(reprinted)
    assert "this export is not split" in section(unsplit, "### Duplicate groups")
