"""Suggestions predicted on several processes (annotate.predict_pool): the same rows as in
one, a bounded number of chunks in flight, and a worker that fails stops the run cleanly.

Each test that spawns a pool pays a second or two for its workers to start, so there are
few; the rest of the suite predicts in its own process (MODEL_WORKERS=1, pyproject.toml).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from annotate import classifier, predict_pool, training
from annotate.models import ModelVersion, Suggestion
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    labelled_corpus,
    stance_text,
    train_once,
)
from tests.worker_models import DiesInWorker, RaisesInWorker

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_evaluation_slice")]

ROW = ("sentence_id", "target_id", "label", "confidence", "margin", "entropy", "probabilities")


def rows(version: ModelVersion) -> list[tuple[object, ...]]:
    return list(Suggestion.objects.filter(model_version=version).order_by("sentence_id").values_list(*ROW))


def test_two_workers_write_the_same_suggestions_as_one_with_few_chunks_in_flight(huawei, monkeypatch):
    article = ArticleFactory()
    labels = [("pro", "contra", "neutral")[i % 3] for i in range(62)]
    texts = [stance_text(label, i) for i, label in enumerate(labels)]
    for i, text in enumerate(texts):
        SentenceFactory(article=article, position=i, text=text)
    # Trained on part of them, so that the others get less certain suggestions.
    fitted = classifier.fit(texts[:30], labels[:30], features=classifier.Features(aliases=("Huawei",)))
    one = ModelVersionFactory(target=huawei, status=ModelVersion.Status.TRAINING)
    two = ModelVersionFactory(target=huawei, status=ModelVersion.Status.TRAINING)
    read, in_flight = [], []
    real_chunks = training._sentence_chunks

    def counted_chunks(*args, **kwargs):
        for chunk in real_chunks(*args, **kwargs):
            read.append(len(chunk[0]))
            yield chunk

    def written(items, **kwargs):
        for done, item in enumerate(items):
            in_flight.append(len(read) - done)  # read, and not yet written, as this one is
            yield item

    monkeypatch.setattr(training, "_sentence_chunks", counted_chunks)

    assert training.suggestions_write(version=one, pipeline=fitted, batch_size=4, workers=1) == 62
    read.clear()
    assert (
        training.suggestions_write(version=two, pipeline=fitted, batch_size=4, workers=2, progress=written)
        == 62
    )

    assert rows(two) == rows(one)
    # Written in id order, as with one process: a run stopped half way leaves the first batches.
    written_order = Suggestion.objects.filter(model_version=two).order_by("id")
    assert list(written_order.values_list("sentence_id", flat=True)) == [row[0] for row in rows(one)]
    assert len(rows(two)) == 62
    assert len(read) == 16  # 62 sentences, 4 a chunk
    limit = 2 * (1 + predict_pool.QUEUED_PER_WORKER)
    assert max(in_flight) == limit  # the pool was kept busy, and never held more
    assert multiprocessing.active_children() == []


@pytest.fixture
def previous(huawei) -> ModelVersion:
    """An active model version with suggestions for a few sentences of its own."""
    article = ArticleFactory()
    for i in range(3):
        SuggestionFactory(target=huawei, sentence=SentenceFactory(article=article, position=i))
    huawei.refresh_from_db()
    return huawei.active_version


def test_a_worker_that_dies_stops_the_retrain_with_a_clear_error_and_the_active_model_serving(
    huawei, previous, monkeypatch
):
    labelled_corpus(target=huawei)
    served = rows(previous)

    def train_then_die_in_workers(*args, **kwargs):
        trained = train_once(*args, **kwargs)
        return classifier.TrainedModel(
            DiesInWorker(trained.pipeline), trained.metrics, trained.train_size, trained.distribution
        )

    monkeypatch.setattr(classifier, "train", train_then_die_in_workers)

    with pytest.raises(predict_pool.PredictionError, match=r"A prediction worker died .* after 0 sentences"):
        training.retrain(target=huawei, batch_size=10, workers=2)

    huawei.refresh_from_db()
    assert huawei.active_version == previous
    assert rows(previous) == served
    # Left in training, with no suggestion written, for the next run to clear; no worker left.
    failed_run = ModelVersion.objects.get(target=huawei, status="training")
    assert failed_run.suggestions.count() == 0
    assert multiprocessing.active_children() == []


def test_an_error_in_a_worker_is_raised_with_what_it_said_and_how_far_the_run_got():
    chunks = ((i, ["a text", "another"], None) for i in range(5))

    with pytest.raises(
        predict_pool.PredictionError, match=r"after 0 sentences: ValueError: the vocabulary is corrupt"
    ):
        list(predict_pool.predictions(RaisesInWorker(), chunks, workers=2))
    assert multiprocessing.active_children() == []


# A retrain's process, stopped by SIGKILL while its workers predict: it prints their ids.
KILLED_PARENT = """
import multiprocessing, threading, time
from annotate import predict_pool
from tests.worker_models import SleepsInWorker

chunks = ((i, ["a text"], None) for i in range(10))
given = predict_pool.predictions(SleepsInWorker(), chunks, workers=2)
threading.Thread(target=next, args=(given,), daemon=True).start()
while len(multiprocessing.active_children()) < 2:
    time.sleep(0.05)
print(*(child.pid for child in multiprocessing.active_children()), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left


def test_workers_end_when_the_retrain_that_started_them_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) >= 2 and all(alive(pid) for pid in workers)
    finally:
        parent.kill()  # SIGKILL: no clean-up of the parent's runs
        parent.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # not to leave them running when the rule is broken
        os.kill(pid, signal.SIGKILL)

    assert left == []


def test_one_worker_predicts_in_the_calling_process(monkeypatch):
    chunks = [(i, ["a text"], None) for i in range(3)]
    monkeypatch.setattr(predict_pool, "ProcessPoolExecutor", None)  # any pool would fail

    given = list(predict_pool.predictions(RaisesInWorker(), chunks, workers=1))

    assert [key for key, _ in given] == [0, 1, 2]
    assert given[0][1][0].probabilities == pytest.approx({"pro": 1 / 3, "contra": 1 / 3, "neutral": 1 / 3})
