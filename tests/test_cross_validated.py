"""Each training label's out-of-fold prediction, stored at retrain (CrossValidatedPrediction)
and read by the adjudication page's "suspicious labels" order: known answers on a small
corpus whose words give each stance away, with one label deliberately wrong."""

from __future__ import annotations

import pytest

from annotate import classifier, training
from annotate.models import CrossValidatedPrediction, ModelVersion, Sentence, Suggestion, Target
from annotate.queue.record import annotation_record
from annotate.review import SUSPICIOUS_CONFIDENCE, by_suspicion
from tests.factories import ArticleFactory, SentenceFactory, UserFactory, stance_text, train_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice", "model_dir")]

#: Shares no word with the corpus: a model that has seen it can learn its words, one that
#: has not knows nothing of them.
UNIQUE = "Zebras quietly juggle marmalade xylophones."


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


class Corpus:
    def __init__(self, target: Target) -> None:
        self.annotators = [UserFactory(password=None) for _ in range(2)]
        self.target = target
        self.right: list[Sentence] = []
        for a in range(14):  # an article a pro, a contra and a neutral sentence
            article = ArticleFactory()
            for k, label in enumerate(("pro", "contra", "neutral")):
                sentence = SentenceFactory(article=article, position=k, text=stance_text(label, 3 * a + k))
                self.label(sentence, label)
                self.right.append(sentence)
        # A contra sentence both annotators called pro, and a sentence unlike any other.
        self.wrong = SentenceFactory(text=stance_text("contra", 500))
        self.label(self.wrong, "pro")
        self.unique = SentenceFactory(text=UNIQUE)
        self.label(self.unique, "neutral")

    def label(self, sentence: Sentence, label: str) -> None:
        for annotator in self.annotators:
            annotation_record(annotator=annotator, sentence=sentence, target=self.target, label=label)


@pytest.fixture
def corpus(huawei) -> Corpus:
    return Corpus(huawei)


def oof(version: ModelVersion, sentence: Sentence) -> CrossValidatedPrediction:
    return CrossValidatedPrediction.objects.get(model_version=version, sentence=sentence)


def test_a_deliberately_wrong_label_is_suspicious_with_the_label_its_fold_model_predicted(huawei, corpus):
    version = training.retrain(target=huawei).version
    huawei.refresh_from_db()

    items = by_suspicion(target=huawei, limit=50)

    assert [item.sentence_id for item in items] == [corpus.wrong.pk]  # and no correct label
    assert items[0].model_label == "contra" and items[0].model_confidence >= SUSPICIOUS_CONFIDENCE
    assert items[0].suspicious == [(a.pk, "pro") for a in corpus.annotators]
    # The model trained on that label has learnt it: its suggestion agrees, and would not
    # have called the label suspicious.
    assert Suggestion.objects.get(model_version=version, sentence=corpus.wrong).label == "pro"


def test_the_out_of_fold_prediction_comes_from_a_model_that_did_not_see_the_sentence(huawei, corpus):
    version = training.retrain(target=huawei).version

    suggestion = Suggestion.objects.get(model_version=version, sentence=corpus.unique)
    assert suggestion.label == "neutral"  # the model trained on it memorised its words
    assert oof(version, corpus.unique).label != "neutral"  # the fold model never saw them


def test_a_row_is_written_for_every_training_label_and_deleted_with_the_version(huawei, corpus):
    version = training.retrain(target=huawei).version

    rows = CrossValidatedPrediction.objects.filter(model_version=version)
    trained_on = {s.pk for s in [*corpus.right, corpus.wrong, corpus.unique]}
    assert set(rows.values_list("sentence_id", flat=True)) == trained_on
    assert rows.count() == version.train_size == len(trained_on)
    assert oof(version, corpus.right[0]).label == "pro"
    Target.objects.filter(pk=huawei.pk).update(active_version=None)
    version.delete()
    assert not CrossValidatedPrediction.objects.exists()


def test_a_sentence_labelled_after_training_has_no_row_and_is_not_suspicious(huawei, corpus):
    later = SentenceFactory(text=stance_text("contra", 600))
    version = training.retrain(target=huawei).version
    huawei.refresh_from_db()
    corpus.label(later, "pro")  # after: what a deployment's next labels are

    assert not CrossValidatedPrediction.objects.filter(sentence=later).exists()
    assert Suggestion.objects.get(model_version=version, sentence=later).label == "contra"
    assert later.pk not in [item.sentence_id for item in by_suspicion(target=huawei, limit=50)]


def test_an_interrupted_runs_out_of_fold_predictions_are_cleared_by_the_next_run(huawei, corpus):
    stale = ModelVersion.objects.create(target=huawei, status=ModelVersion.Status.TRAINING)
    CrossValidatedPrediction.objects.create(
        model_version=stale, sentence=corpus.wrong, label="pro", confidence=1
    )

    training.retrain(target=huawei)

    assert not CrossValidatedPrediction.objects.filter(model_version=stale).exists()


def test_a_dry_run_stores_no_out_of_fold_prediction(huawei, corpus):
    training.retrain(target=huawei, dry_run=True)

    assert not CrossValidatedPrediction.objects.exists()
