from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from annotate import classifier
from annotate.models import Annotation, ModelVersion, Sentence, Suggestion, Target
from annotate.queue.record import annotation_change
from tests.factories import (
    ArticleFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    labelled_corpus,
    train_once,
)

ROOT = Path(__file__).resolve().parent.parent

# Every gold label trains: the evaluation slice has its own tests (test_training.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice")]


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


def retrain(*args: str) -> str:
    out = StringIO()
    call_command("retrain", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def make_active_version(target: Target, count: int = 3) -> tuple[ModelVersion, list[tuple[int, int, str]]]:
    """An active model version with a few suggestions; returns it and its suggestion rows."""
    article = ArticleFactory()
    for i in range(count):
        SuggestionFactory(target=target, sentence=SentenceFactory(article=article, position=i))
    target.refresh_from_db()
    return target.active_version, suggestion_rows(target.active_version)


def suggestion_rows(version: ModelVersion) -> list[tuple[int, int, str]]:
    return list(
        Suggestion.objects.filter(model_version=version)
        .order_by("id")
        .values_list("id", "sentence_id", "label")
    )


# Options


def test_if_changed_trains_nothing_when_no_gold_label_changed_since_the_active_version(huawei):
    labelled_corpus(target=huawei)
    retrain("--if-possible", "--if-changed")

    output = retrain("--if-possible", "--if-changed")

    version = ModelVersion.objects.get()
    assert "No model trained: Model version" in output
    assert f"{version.pk} is up to date" in output
    huawei.refresh_from_db()
    assert huawei.active_version == version


def test_if_changed_trains_again_once_a_gold_label_changed(huawei):
    sentences = labelled_corpus(target=huawei)
    retrain("--if-changed")
    first = ModelVersion.objects.get()
    for annotation in Annotation.objects.filter(sentence=sentences[0]):
        annotation_change(annotator=annotation.annotator, annotation_id=annotation.pk, label="contra")

    output = retrain("--if-changed")

    second = ModelVersion.objects.exclude(pk=first.pk).get()
    # Trained again; whether it replaced the first is the comparison's (test_activation.py):
    # a pro sentence relabelled contra costs it the cross-validated F_avg here.
    assert second.status == "ready"
    assert f"Model version {second.pk} is kept inactive" in output
    assert "Decision: kept inactive: F_avg" in output


def test_without_if_changed_every_run_trains_a_new_version(huawei):
    labelled_corpus(target=huawei)
    retrain()
    retrain()
    assert ModelVersion.objects.count() == 2


def test_it_retrains_the_named_target_and_says_which_version_is_active(huawei):
    nuclear = TargetFactory(name="Nuclear power", control_share=0)
    labelled_corpus(target=nuclear)

    output = retrain("--target", "Nuclear power")

    version = ModelVersion.objects.get()
    assert version.target == nuclear
    nuclear.refresh_from_db()
    assert nuclear.active_version == version
    assert f"Model version {version.pk} is active: 42 suggestions written in" in output
    assert "Target: Nuclear power   training labels: 42" in output


def test_it_says_how_it_cross_validated_and_why_the_evaluation_slice_has_no_score(huawei):
    labelled_corpus(target=huawei)

    output = retrain()

    assert "Cross-validated: 5-fold stratified cross-validation by sentence, shuffled, seed 0: " in output
    assert "every label is in one group (by article and duplicate group)" in output
    assert "Evaluation slice: too small to score: 0 gold labels, at least 10 are needed." in output


def test_without_target_it_retrains_the_first_target(huawei):
    labelled_corpus(target=huawei)
    TargetFactory(name="Nuclear power")

    retrain()

    assert ModelVersion.objects.get().target == huawei


def test_min_labels_lowers_the_number_of_gold_labels_needed(huawei):
    labelled_corpus(target=huawei, per_class=4)

    output = retrain("--target", "Huawei", "--min-labels", "12")

    assert ModelVersion.objects.get().train_size == 12
    assert "training labels: 12" in output


def test_min_labels_raises_the_number_of_gold_labels_needed(huawei):
    labelled_corpus(target=huawei)

    with pytest.raises(CommandError, match="Only 42 gold labels for Huawei; at least 50 are needed"):
        retrain("--target", "Huawei", "--min-labels", "50")

    assert not ModelVersion.objects.exists()


def test_batch_size_splits_the_suggestions_without_losing_any(huawei):
    labelled_corpus(target=huawei)

    retrain("--target", "Huawei", "--batch-size", "4")

    version = ModelVersion.objects.get()
    assert version.suggestions.count() == version.sentences_predicted == Sentence.objects.count() == 42


def test_a_batch_size_below_one_is_refused(huawei):
    labelled_corpus(target=huawei)

    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        retrain("--target", "Huawei", "--batch-size", "0")

    assert not ModelVersion.objects.exists()


# The summary


def test_a_dry_run_prints_the_metrics_table_and_stores_nothing(huawei, model_dir):
    labelled_corpus(target=huawei)
    previous, served = make_active_version(huawei)

    output = retrain("--target", "Huawei", "--dry-run")

    lines = output.splitlines()
    assert "Target: Huawei   training labels: 42   cross-validation folds: 5" in lines
    assert "Label distribution: contra 14, neutral 14, pro 14" in lines
    scores = re.search(
        r"accuracy (\d\.\d{3})   macro-F1 (\d\.\d{3})   F_avg \(pro, contra\) (\d\.\d{3})", output
    )
    assert scores is not None
    assert all(float(score) > 0.8 for score in scores.groups())
    assert re.search(r"^class\s+precision\s+recall\s+f1\s+support$", output, re.MULTILINE)
    for label in ("pro", "contra", "neutral"):
        assert re.search(rf"^{label}\s+\d\.\d{{3}}\s+\d\.\d{{3}}\s+\d\.\d{{3}}\s+14$", output, re.MULTILINE)
    assert "Confusion (rows true, columns predicted: pro, contra, neutral)" in output
    confusion = re.findall(r"^  (pro|contra|neutral)\s+(\d+)\s+(\d+)\s+(\d+)$", output, re.MULTILINE)
    assert [row[0] for row in confusion] == ["pro", "contra", "neutral"]
    assert [sum(map(int, row[1:])) for row in confusion] == [14, 14, 14]
    assert "Dry run: nothing stored" in output
    assert list(ModelVersion.objects.all()) == [previous]
    huawei.refresh_from_db()
    assert huawei.active_version == previous
    assert suggestion_rows(previous) == served
    assert not model_dir.exists() or not any(model_dir.iterdir())


# Refusals


def test_too_few_labels_is_a_clear_error_and_keeps_the_active_model(huawei):
    labelled_corpus(target=huawei, per_class=3)
    previous, served = make_active_version(huawei)

    with pytest.raises(
        CommandError, match=r"Only 9 gold labels for Huawei; at least 20 are needed.*--min-labels"
    ):
        retrain("--target", "Huawei")

    huawei.refresh_from_db()
    assert huawei.active_version == previous
    assert suggestion_rows(previous) == served
    assert list(ModelVersion.objects.all()) == [previous]


def test_a_single_class_is_a_clear_error(huawei):
    labelled_corpus(target=huawei, per_class=3)
    huawei.annotations.exclude(label="pro").update(label="pro")

    with pytest.raises(CommandError, match="Need at least two classes"):
        retrain("--target", "Huawei", "--min-labels", "5")

    assert not ModelVersion.objects.exists()


def test_an_unknown_target_is_a_clear_error(huawei):
    with pytest.raises(CommandError, match=r"No target named 'Nope'\."):
        retrain("--target", "Nope")


def test_if_possible_exits_quietly_when_there_are_too_few_labels(huawei):
    labelled_corpus(target=huawei, per_class=3)

    output = retrain("--if-possible")

    assert output.startswith("No model trained: Only 9 gold labels for Huawei")
    assert not ModelVersion.objects.exists()


def test_if_possible_still_trains_when_it_can(huawei):
    labelled_corpus(target=huawei)

    output = retrain("--if-possible")

    assert ModelVersion.objects.get().status == "ready"
    assert "is active" in output


# A killed run


def subprocess_env(model_dir: Path) -> dict[str, str]:
    """The environment for manage.py to reach the test database this test is using."""
    env = {**os.environ, "DEBUG": "1", "MODEL_DIR": str(model_dir)}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        env["DATABASE_URL"] = f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db["NAME"])
    return env


@pytest.mark.django_db(transaction=True)
def test_a_retrain_killed_while_writing_suggestions_leaves_the_active_model_and_the_next_run_recovers(
    model_dir, tmp_path
):
    # A fresh target: the flush after a transactional test removes the migration's rows.
    target = TargetFactory(name="Killed run")
    labelled_corpus(target=target)
    previous, served = make_active_version(target)
    article = ArticleFactory()
    Sentence.objects.bulk_create(
        Sentence(
            article=article, position=i, text=f"Unlabelled sentence {i} on the network.", start=0, end=37
        )
        for i in range(3000)
    )
    total = Sentence.objects.count()
    log = tmp_path / "retrain.log"

    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "retrain", "--target", target.name, "--batch-size", "10"],
            cwd=ROOT,
            env=subprocess_env(model_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"retrain ended before it was killed:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"retrain wrote no suggestion in time:\n{log.read_text()}"
                writing = ModelVersion.objects.filter(target=target, status="training").first()
                if writing and Suggestion.objects.filter(model_version=writing).exists():
                    break
                time.sleep(0.01)
        finally:
            process.kill()
            process.wait(timeout=30)

    # Killed half-way: its version is still "training" with part of its suggestions.
    writing.refresh_from_db()
    assert writing.status == "training"
    assert 0 < Suggestion.objects.filter(model_version=writing).count() < total
    target.refresh_from_db()
    assert target.active_version == previous
    assert suggestion_rows(previous) == served
    previous.refresh_from_db()
    assert previous.status == "ready"

    retrain("--target", target.name)

    writing.refresh_from_db()
    assert writing.status == "failed"
    assert "Interrupted" in writing.error
    assert not Suggestion.objects.filter(model_version=writing).exists()
    target.refresh_from_db()
    new = target.active_version
    assert new not in (previous, writing)
    assert new.status == "ready"
    assert Suggestion.objects.filter(model_version=new).count() == total
    assert Suggestion.objects.count() == total
