"""Predicting suggestions on every core: a fitted pipeline, chunks of texts in, predictions out.

A million sentences' suggestions are mostly TF-IDF of each text, pure Python in one
process; `predictions` spreads the chunks over `workers` processes and gives the results
back in the order the chunks came, so the caller (annotate.training.suggestions_write)
reads from the database and writes to it itself, as it did with one process. At most
`in_flight` chunks are read and not yet written, so memory stays flat whatever the corpus.

The workers are spawned, not forked: the parent holds database connections and, in the
task worker, threads, which a fork would copy half-way through whatever they were doing.
A spawned worker starts a fresh interpreter, imports only this module and scikit-learn
(no Django: nothing here touches the database), and gets the pipeline once, pickled, when
it starts. With one worker nothing is spawned: the chunks are predicted in the calling
process, as before there was a pool.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any, TypeVar

from annotate import classifier
from annotate.classifier import Prediction, TrainingError

if TYPE_CHECKING:
    import numpy as np

Key = TypeVar("Key")

#: Chunks a worker may have queued beside the one it predicts: enough that no worker
#: waits while the parent writes a chunk, few enough that memory does not grow.
QUEUED_PER_WORKER = 2


class PredictionError(TrainingError):
    """A worker process failed or died while predicting; the message says which and how far."""


_pipeline: Any = None  # a worker's copy of the fitted pipeline, set once when it starts


def _exit_with_parent() -> None:
    """End this worker when the process that started it ends, however it ended.

    A retrain killed by SIGKILL (or the out-of-memory killer) runs no clean-up, and its
    idle workers would wait for work forever, each holding a copy of the model.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    wait([parent.sentinel])
    os._exit(1)


def _worker_start(pickled: bytes) -> None:
    global _pipeline
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()
    _pipeline = pickle.loads(pickled)


def _worker_predict(texts: Sequence[str], embeddings: np.ndarray | None) -> list[Prediction]:
    return classifier.predict(_pipeline, texts, embeddings=embeddings)


def predictions(
    pipeline: Any,
    chunks: Iterable[tuple[Key, Sequence[str], np.ndarray | None]],
    *,
    workers: int,
    in_flight: int | None = None,
) -> Generator[tuple[Key, list[Prediction]], None, None]:
    """Each chunk's key and the predictions for its texts (with their vectors, for a
    pipeline that embeds), in the chunks' order.

    `chunks` is read lazily: a chunk is read only when fewer than `in_flight` (by default
    QUEUED_PER_WORKER a worker, and one each in hand) are read and not yet given back.
    Raises PredictionError when a worker raises or dies; what was given back before stays
    given, nothing after it is.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}.")
    if workers == 1:
        for key, texts, embeddings in chunks:
            yield key, classifier.predict(pipeline, texts, embeddings=embeddings)
        return
    limit = in_flight if in_flight is not None else workers * (1 + QUEUED_PER_WORKER)
    if limit < 1:
        raise ValueError(f"in_flight must be at least 1, not {limit}.")
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_worker_start,
        initargs=(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL),),
    )
    pending: deque[tuple[Key, int, Future[list[Prediction]]]] = deque()
    given = 0
    try:
        source = iter(chunks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                key, texts, embeddings = chunk
                pending.append((key, len(texts), executor.submit(_worker_predict, texts, embeddings)))
            if not pending:
                return
            key, size, future = pending.popleft()
            try:
                result = future.result()
            except BrokenProcessPool as died:
                raise PredictionError(
                    f"A prediction worker died (killed, or out of memory?) after {given:,} sentences "
                    f"were predicted; nothing after them was written."
                ) from died
            except Exception as failed:
                raise PredictionError(
                    f"Predicting failed in a worker process after {given:,} sentences: "
                    f"{type(failed).__name__}: {failed}"
                ) from failed
            given += size
            yield key, result
    finally:
        # On an error, or when the caller stops reading: queued chunks are dropped, and the
        # workers end before this returns, so none outlives the run that started it.
        executor.shutdown(wait=True, cancel_futures=True)
