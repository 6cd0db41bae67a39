from __future__ import annotations

import hashlib
from pathlib import Path

import joblib
import pytest
from django.db import connection

from annotate import classifier, embeddings, training
from annotate.classifier import CLASSES, TrainingError
from annotate.embedding_store import embeddings_read
from annotate.models import Adjudication, Annotation, ModelVersion, Sentence, Suggestion, Target
from annotate.queue.record import annotation_record
from annotate.suggestions import in_control_set
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
    labelled_corpus,
    stance_text,
    train_once,
)

# Counts of training labels are exact: the slice's own tests below give it a share.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice")]


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


def with_slice(target: Target, share: float) -> None:
    target.control_share = share
    target.save(update_fields=["control_share"])


@pytest.fixture
def previous(huawei) -> ModelVersion:
    """An active model version with suggestions for a few sentences of its own."""
    article = ArticleFactory()
    for i in range(3):
        SuggestionFactory(target=huawei, sentence=SentenceFactory(article=article, position=i))
    huawei.refresh_from_db()
    return huawei.active_version


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def state(target: Target) -> tuple[object, ...]:
    """The target's active version, its versions and every suggestion, to compare before and after."""
    active = Target.objects.values_list("active_version_id", flat=True).get(pk=target.pk)
    versions = list(ModelVersion.objects.order_by("id").values_list("id", "status", "error"))
    stored = list(
        Suggestion.objects.order_by("id").values_list("id", "model_version_id", "sentence_id", "label")
    )
    return active, versions, stored


def label_all(sentences: list[Sentence], target: Target, *labels: str) -> None:
    """Each sentence gets one label from each of len(labels) annotators."""
    annotators = [UserFactory(password=None) for _ in labels]
    for sentence in sentences:
        for annotator, value in zip(annotators, labels, strict=True):
            annotation_record(annotator=annotator, sentence=sentence, target=target, label=value)


def telling_sentences(label: str, count: int, start: int = 100) -> list[Sentence]:
    article = ArticleFactory()
    return [
        SentenceFactory(article=article, position=i, text=stance_text(label, start + i)) for i in range(count)
    ]


# A successful retrain


def test_retrain_stores_a_ready_version_with_cross_validated_metrics(huawei):
    labelled_corpus(target=huawei)

    result = training.retrain(target=huawei)

    version = ModelVersion.objects.get(target=huawei)
    assert result.version == version
    assert (version.status, version.error) == ("ready", "")
    assert version.finished_at is not None
    assert {"accuracy", "macro_f1", "f_avg", "per_class", "confusion"} <= set(version.metrics)
    assert version.metrics["accuracy"] > 0.8
    assert version.metrics["macro_f1"] > 0.8
    assert version.metrics["f_avg"] > 0.8
    assert set(version.metrics["per_class"]) == set(CLASSES)
    assert version.metrics["per_class"]["pro"]["support"] == 14
    assert sum(map(sum, version.metrics["confusion"])) == 42
    assert version.train_size == 42
    assert version.label_distribution == {"pro": 14, "contra": 14, "neutral": 14}
    assert version.duration_s > 0


def test_retrain_saves_the_model_in_model_dir_with_its_hash(huawei, model_dir):
    labelled_corpus(target=huawei)

    version = training.retrain(target=huawei).version

    version.refresh_from_db()
    path = model_dir / version.file_name
    assert files(model_dir) == [version.file_name]
    assert version.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    pipeline = joblib.load(path)
    text = stance_text("contra", 999)
    inputs = classifier.model_inputs(pipeline, [text], embeddings.encoder().encode([text]))
    assert list(pipeline.predict(inputs)) == ["contra"]


def test_retrain_writes_one_suggestion_per_sentence_for_the_new_version(huawei):
    labelled_corpus(target=huawei)
    unlabelled = telling_sentences("contra", 3) + telling_sentences("pro", 3, start=200)

    result = training.retrain(target=huawei, batch_size=5)

    version = result.version
    stored = Suggestion.objects.filter(model_version=version)
    assert sorted(stored.values_list("sentence_id", flat=True)) == sorted(
        Sentence.objects.values_list("id", flat=True)
    )
    assert result.sentences_predicted == Sentence.objects.count() == 48
    version.refresh_from_db()
    assert version.sentences_predicted == 48
    assert set(stored.values_list("target_id", flat=True)) == {huawei.pk}
    assert [stored.get(sentence=s).label for s in unlabelled] == ["contra"] * 3 + ["pro"] * 3
    suggestion = stored.get(sentence=unlabelled[0])
    assert set(suggestion.probabilities) == set(CLASSES)
    assert suggestion.confidence == pytest.approx(max(suggestion.probabilities.values()), abs=1e-5)
    assert 0 <= suggestion.margin <= suggestion.confidence <= 1
    assert suggestion.entropy > 0


def test_retrain_makes_the_new_version_the_targets_active_one(huawei, previous):
    labelled_corpus(target=huawei)

    version = training.retrain(target=huawei).version

    assert huawei.active_version == version
    huawei.refresh_from_db()
    assert huawei.active_version == version
    assert version != previous


def test_the_previous_versions_suggestions_are_deleted_only_after_the_switch(huawei, previous):
    labelled_corpus(target=huawei)
    before = Suggestion.objects.filter(model_version=previous).count()
    observed = []  # (previous version's suggestions, active version) after every write
    checking = False

    def watch(execute, sql, params, many, context):
        nonlocal checking
        result = execute(sql, params, many, context)
        if not checking and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            checking = True
            try:
                observed.append(
                    (
                        Suggestion.objects.filter(model_version=previous).count(),
                        Target.objects.values_list("active_version_id", flat=True).get(pk=huawei.pk),
                    )
                )
            finally:
                checking = False
        return result

    with connection.execute_wrapper(watch):
        version = training.retrain(target=huawei, batch_size=10).version

    assert observed[0] == (before, previous.pk)
    assert all(active == version.pk for count, active in observed if count < before)
    assert (before, version.pk) in observed  # switched while the old suggestions were all there
    assert observed[-1] == (0, version.pk)
    previous.refresh_from_db()
    assert (previous.status, previous.metrics["accuracy"]) == ("ready", 0.7)


def test_the_active_version_keeps_serving_while_suggestions_are_written(huawei, previous):
    labelled_corpus(target=huawei)
    served = list(Suggestion.objects.filter(model_version=previous).values_list("id", "sentence_id", "label"))
    seen = []

    def progress(batches, **kwargs):
        for batch in batches:
            seen.append(
                (
                    Target.objects.values_list("active_version_id", flat=True).get(pk=huawei.pk),
                    list(
                        Suggestion.objects.filter(model_version=previous).values_list(
                            "id", "sentence_id", "label"
                        )
                    ),
                )
            )
            yield batch

    training.retrain(target=huawei, batch_size=10, progress=progress)

    assert seen == [(previous.pk, served)] * 5  # 45 sentences in batches of 10


# Refusals leave the active model alone


def test_too_few_gold_labels_are_refused_with_their_count(huawei, previous, model_dir):
    labelled_corpus(target=huawei, per_class=3)
    before = state(huawei)

    with pytest.raises(TrainingError, match="Only 9 gold labels for Huawei; at least 20 are needed"):
        training.retrain(target=huawei)

    assert state(huawei) == before
    assert files(model_dir) == []


def test_min_labels_sets_how_many_gold_labels_are_enough(huawei):
    labelled_corpus(target=huawei, per_class=4)

    with pytest.raises(TrainingError, match="Only 12 gold labels"):
        training.retrain(target=huawei, min_labels=13)
    version = training.retrain(target=huawei, min_labels=12).version

    assert version.train_size == 12


def test_labels_of_a_single_class_are_refused(huawei, previous, model_dir):
    label_all(telling_sentences("pro", 25), huawei, "pro", "pro")
    before = state(huawei)

    with pytest.raises(TrainingError, match="at least two classes"):
        training.retrain(target=huawei)

    assert state(huawei) == before
    assert files(model_dir) == []


def test_a_dry_run_reports_metrics_and_stores_nothing(huawei, previous, model_dir):
    labelled_corpus(target=huawei)
    before = state(huawei)

    result = training.retrain(target=huawei, dry_run=True)

    assert (result.dry_run, result.version, result.sentences_predicted) == (True, None, 0)
    assert result.train_size == 42
    assert result.metrics.accuracy > 0.8
    assert state(huawei) == before
    assert files(model_dir) == []


# Gold rules decide what is training data


def test_skipped_sentences_are_not_training_data(huawei):
    labelled_corpus(target=huawei)
    label_all(telling_sentences("pro", 6), huawei, "skip", "skip")

    version = training.retrain(target=huawei).version

    assert version.train_size == 42
    assert version.label_distribution == {"pro": 14, "contra": 14, "neutral": 14}


def test_a_skip_beside_a_label_leaves_the_label_as_training_data(huawei):
    sentences = telling_sentences("contra", 2)
    label_all(sentences, huawei, "contra", "skip")

    texts, labels = training.training_data(target=huawei)

    assert sorted(zip(texts, labels, strict=True)) == sorted((s.text, "contra") for s in sentences)


def test_unresolved_ties_are_not_training_data(huawei):
    labelled_corpus(target=huawei)
    label_all(telling_sentences("pro", 6), huawei, "pro", "contra")

    version = training.retrain(target=huawei).version

    assert version.train_size == 42
    assert version.label_distribution == {"pro": 14, "contra": 14, "neutral": 14}


def test_an_adjudicated_tie_is_training_data_with_the_curators_label(huawei):
    tie, other_tie = telling_sentences("contra", 2)
    label_all([tie, other_tie], huawei, "pro", "contra")
    Adjudication.objects.create(
        sentence=tie, target=huawei, label="neutral", curator=UserFactory(password=None)
    )

    assert training.training_data(target=huawei) == ([tie.text], ["neutral"])


def test_skips_and_ties_do_not_count_toward_the_minimum(huawei, previous):
    labelled_corpus(target=huawei, per_class=6)
    label_all(telling_sentences("pro", 5), huawei, "skip", "skip")
    label_all(telling_sentences("contra", 5, start=300), huawei, "pro", "contra")
    before = state(huawei)

    with pytest.raises(TrainingError, match="Only 18 gold labels"):
        training.retrain(target=huawei)

    assert state(huawei) == before


def test_labels_for_another_target_are_not_training_data(huawei):
    labelled_corpus(target=TargetFactory(name="Nuclear power"))

    with pytest.raises(TrainingError, match="Only 0 gold labels for Huawei"):
        training.retrain(target=huawei)


# Interrupted runs


def test_a_version_left_in_training_is_marked_failed_and_cleared_by_the_next_run(huawei, previous):
    sentences = labelled_corpus(target=huawei)
    dead = ModelVersionFactory(target=huawei, status=ModelVersion.Status.TRAINING)
    for sentence in sentences[:4]:
        SuggestionFactory(model_version=dead, target=huawei, sentence=sentence)

    version = training.retrain(target=huawei).version

    dead.refresh_from_db()
    assert dead.status == "failed"
    assert "Interrupted" in dead.error
    assert not Suggestion.objects.filter(model_version=dead).exists()
    previous.refresh_from_db()
    assert (previous.status, previous.error) == ("ready", "")
    assert ModelVersion.objects.get(target=huawei, status="ready", pk=version.pk)


def test_clearing_an_interrupted_run_leaves_the_active_model_serving(huawei, previous, monkeypatch):
    sentences = labelled_corpus(target=huawei)
    dead = ModelVersionFactory(target=huawei, status=ModelVersion.Status.TRAINING)
    SuggestionFactory(model_version=dead, target=huawei, sentence=sentences[0])
    served = list(Suggestion.objects.filter(model_version=previous).values_list("id", "sentence_id", "label"))
    calls = []
    real_predict = classifier.predict

    def predict_then_fail(pipeline, texts, **vectors):
        calls.append(len(texts))
        if len(calls) > 1:
            raise MemoryError("the machine ran out of memory")
        return real_predict(pipeline, texts, **vectors)

    monkeypatch.setattr(training.classifier, "predict", predict_then_fail)

    with pytest.raises(MemoryError):
        training.retrain(target=huawei, batch_size=10)

    dead.refresh_from_db()
    assert (dead.status, dead.suggestions.count()) == ("failed", 0)
    huawei.refresh_from_db()
    assert huawei.active_version == previous
    assert (
        list(Suggestion.objects.filter(model_version=previous).values_list("id", "sentence_id", "label"))
        == served
    )
    # The failed run itself is left in training with a batch written, for the next run to clear.
    failed_run = ModelVersion.objects.get(target=huawei, status="training")
    assert failed_run.suggestions.count() == 10


def test_a_run_left_in_training_for_another_target_is_not_touched(huawei):
    labelled_corpus(target=huawei)
    other = ModelVersionFactory(target=TargetFactory(), status=ModelVersion.Status.TRAINING)

    training.retrain(target=huawei)

    other.refresh_from_db()
    assert (other.status, other.error) == ("training", "")


def test_a_run_declared_abandoned_by_a_later_one_does_not_switch(huawei, previous):
    labelled_corpus(target=huawei)
    before = state(huawei)

    def later_run_clears_this_one(batches, **kwargs):
        for batch in batches:
            ModelVersion.objects.filter(status="training").update(status="failed")
            yield batch

    with pytest.raises(TrainingError, match="Another retrain replaced this one"):
        training.retrain(target=huawei, progress=later_run_clears_this_one)

    active, _, stored = state(huawei)
    assert active == before[0] == previous.pk
    assert [row for row in stored if row[1] == previous.pk] == before[2]


# Honest scores: grouped cross-validation and the evaluation slice


def corpus_in_articles(target: Target, *, articles: int, per_article: int) -> list[Sentence]:
    """Telling sentences spread over several articles, each labelled as worded by two annotators."""
    annotators = [UserFactory(password=None) for _ in range(2)]
    sentences = []
    for a in range(articles):
        article = ArticleFactory()
        for i in range(per_article):
            n = a * per_article + i
            label = CLASSES[n % 3]
            sentence = SentenceFactory(article=article, position=i, text=stance_text(label, 1000 + n))
            for annotator in annotators:
                annotation_record(annotator=annotator, sentence=sentence, target=target, label=label)
            sentences.append(sentence)
    return sentences


def test_cross_validation_is_grouped_by_article_and_duplicate_group_and_says_so(huawei):
    corpus_in_articles(huawei, articles=6, per_article=9)

    version = training.retrain(target=huawei).version

    cv = version.metrics["cv"]
    assert (cv["grouped"], cv["groups"], cv["n"], cv["folds"]) == (True, 6, 54, 5)
    assert "grouped by article and duplicate group (6 groups)" in cv["how"]
    assert "seed 0" in cv["how"]


def test_labels_from_one_article_are_cross_validated_by_sentence_and_called_optimistic(huawei):
    labelled_corpus(target=huawei)

    cv = training.retrain(target=huawei).version.metrics["cv"]

    assert (cv["grouped"], cv["groups"]) == (False, 1)
    assert "every label is in one group (by article and duplicate group)" in cv["how"]
    assert "optimistic" in cv["how"]


def test_evaluation_slice_sentences_are_never_training_data(huawei):
    sentences = corpus_in_articles(huawei, articles=4, per_article=15)
    with_slice(huawei, 0.3)
    held = [s for s in sentences if in_control_set(target=huawei, sentence_id=s.pk)]
    assert 5 < len(held) < 40  # the hash picks a share of them, not none or all

    data = training.training_set(target=huawei)
    version = training.retrain(target=huawei).version

    assert not {s.text for s in held} & set(data.texts)
    assert sorted(data.slice_texts) == sorted(s.text for s in held)
    assert version.train_size == len(sentences) - len(held) == len(data.texts)
    assert version.metrics["evaluation_slice"]["n"] == len(held)
    assert version.metrics["evaluation_slice"]["share"] == 0.3


def test_the_evaluation_slice_score_is_scikit_learns_f1_of_the_saved_model_on_its_sentences(
    huawei, model_dir
):
    from sklearn.metrics import accuracy_score, f1_score

    sentences = corpus_in_articles(huawei, articles=5, per_article=18)
    with_slice(huawei, 0.35)
    held = [s for s in sentences if in_control_set(target=huawei, sentence_id=s.pk)]
    # Annotators overrule the words on a few slice sentences, so the model cannot score 1.
    curator = UserFactory(password=None)
    for sentence, label in zip(held[:6], ["neutral", "pro", "contra"] * 2, strict=True):
        Adjudication.objects.create(sentence=sentence, target=huawei, label=label, curator=curator)
    golds = training.resolved_golds(target=huawei)

    version = training.retrain(target=huawei).version

    pipeline = joblib.load(model_dir / version.file_name)
    true = [golds[s.pk] for s in held]
    vectors = embeddings_read(sentence_ids=[s.pk for s in held], compute_missing=False)
    predicted = list(pipeline.predict(classifier.model_inputs(pipeline, [s.text for s in held], vectors)))
    pro, contra = f1_score(true, predicted, labels=["pro", "contra"], average=None)
    figures = version.metrics["evaluation_slice"]
    assert figures["scored"] is True
    assert figures["n"] == len(held) >= 10
    assert figures["f_avg"] == pytest.approx((pro + contra) / 2, abs=1e-12)
    assert figures["f_avg"] < 1
    assert figures["macro_f1"] == pytest.approx(f1_score(true, predicted, average="macro"), abs=1e-12)
    assert figures["accuracy"] == pytest.approx(accuracy_score(true, predicted), abs=1e-12)


def test_a_slice_too_small_to_score_says_so_instead_of_a_number(huawei):
    sentences = corpus_in_articles(huawei, articles=3, per_article=12)
    with_slice(huawei, 0.1)
    held = sum(in_control_set(target=huawei, sentence_id=s.pk) for s in sentences)
    assert held < 10

    result = training.retrain(target=huawei)

    figures = result.version.metrics["evaluation_slice"]
    assert (figures["scored"], figures["n"]) == (False, held)
    assert f"too small to score: {held} gold labels, at least 10 are needed" in figures["reason"]
    assert "f_avg" not in figures
    assert result.evaluation.metrics is None


def test_slice_sentences_labelled_with_a_suggestion_on_screen_are_left_out_of_its_score(huawei):
    sentences = corpus_in_articles(huawei, articles=4, per_article=15)
    with_slice(huawei, 0.3)
    held = [s for s in sentences if in_control_set(target=huawei, sentence_id=s.pk)]
    prompted = held[0]  # labelled before the control share was raised
    Annotation.objects.filter(sentence=prompted).update(suggestion_shown=True)

    data = training.training_set(target=huawei)

    assert data.slice_left_out == 1
    assert prompted.text not in data.slice_texts
    assert prompted.text not in data.texts
    assert len(data.slice_texts) == len(held) - 1


def test_too_few_training_labels_name_the_ones_held_in_the_evaluation_slice(huawei):
    sentences = corpus_in_articles(huawei, articles=2, per_article=12)
    with_slice(huawei, 0.3)
    held = sum(in_control_set(target=huawei, sentence_id=s.pk) for s in sentences)

    with pytest.raises(TrainingError) as refused:
        training.retrain(target=huawei, min_labels=30)

    assert str(refused.value) == (
        f"Only {24 - held} gold labels for Huawei; at least 30 are needed. Label more sentences "
        f"(or lower --min-labels). {held} more are in the evaluation slice, which is never trained on."
    )
