"""Pipelines that fail only in a prediction worker (annotate.predict_pool), for its tests.

Monkeypatching cannot reach a spawned worker: it imports the real code afresh. These
classes travel to it pickled, by reference to this module, which therefore imports no
Django (a worker has none set up) and nothing of the tests beside it.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from annotate.classifier import CLASSES


def _in_worker() -> bool:
    return multiprocessing.parent_process() is not None


class DiesInWorker:
    """A fitted pipeline that predicts as usual in the test's process and kills the worker
    process that tries (as the kernel's out-of-memory killer would)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.named_steps = pipeline.named_steps
        self.classes_ = pipeline.classes_

    def predict(self, inputs: Any) -> Any:
        return self.pipeline.predict(inputs)

    def predict_proba(self, inputs: Any) -> Any:
        if _in_worker():
            os._exit(9)
        return self.pipeline.predict_proba(inputs)


class RaisesInWorker:
    """A stand-in pipeline (no scikit-learn, so its worker starts fast) that raises in a worker."""

    named_steps: dict[str, Any] = {}
    classes_ = CLASSES

    def predict_proba(self, inputs: Any) -> Any:
        if _in_worker():
            raise ValueError("the vocabulary is corrupt")
        import numpy as np

        return np.full((len(inputs), len(CLASSES)), 1 / 3)


class SleepsInWorker(RaisesInWorker):
    """A stand-in pipeline whose workers take a minute a chunk: still busy when their parent is killed."""

    def predict_proba(self, inputs: Any) -> Any:
        if _in_worker():
            import time

            time.sleep(60)
        return super().predict_proba(inputs)
