"""Stored sentence embeddings: computed once a sentence, read by training and suggestions.

An import queues `annotate.tasks.embed_sentences` (when SENTENCE_EMBEDDINGS is on); the
task worker embeds every sentence without a vector of the current model, in batches on
both cores (annotate.embeddings), and stores each as float16 bytes (SentenceEmbedding).
A retrain and the suggestions it writes read the stored vectors, and embed the few that
are missing (a sentence imported since the task last ran) in the same way: a retrain then
costs about what a TF-IDF one does. The web processes only queue the task: nothing here
that computes a vector is imported by them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from annotate.embeddings import MODEL_NAME, encoder, from_bytes, to_bytes
from annotate.models import Sentence, SentenceEmbedding

if TYPE_CHECKING:
    import numpy as np

#: Sentences embedded and written a transaction.
BATCH_SIZE = 512
#: Sentence ids a query when vectors are read (SQLite bounds a statement's parameters).
READ_CHUNK = 5000
EMBED_TASK_PATH = "annotate.tasks.embed_sentences"


def enabled() -> bool:
    return bool(settings.SENTENCE_EMBEDDINGS)


def _no_progress(iterable: Iterable[Any], **kwargs: object) -> Iterable[Any]:
    return iterable


def _missing_batches(batch_size: int, sentence_ids: Sequence[int] | None) -> Iterator[list[tuple[int, str]]]:
    """Sentences without a vector of the current model, in id order, by keyset pagination."""
    last = 0
    while True:
        rows = Sentence.objects.filter(id__gt=last).exclude(embedding__model_name=MODEL_NAME)
        if sentence_ids is not None:
            rows = rows.filter(id__in=sentence_ids)
        batch = list(rows.order_by("id").values_list("id", "text")[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def embeddings_compute(
    *,
    sentence_ids: Sequence[int] | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[..., Iterable[Any]] = _no_progress,
) -> int:
    """Embed and store every sentence (or those given) without a current vector; how many.

    A vector of another model is replaced. Each batch is one transaction.
    """
    done = 0
    for batch in progress(_missing_batches(batch_size, sentence_ids), desc="Embedding"):
        vectors = encoder().encode([text for _, text in batch])
        ids = [sentence_id for sentence_id, _ in batch]
        with transaction.atomic():
            SentenceEmbedding.objects.filter(sentence_id__in=ids).delete()  # another model's
            SentenceEmbedding.objects.bulk_create(
                SentenceEmbedding(sentence_id=sentence_id, model_name=MODEL_NAME, vector=to_bytes(vector))
                for sentence_id, vector in zip(ids, vectors, strict=True)
            )
        done += len(batch)
    return done


def embeddings_read(*, sentence_ids: Sequence[int], compute_missing: bool = True) -> np.ndarray:
    """The sentences' vectors, one row a sentence in the order given (missing ones computed
    first, unless `compute_missing` is off: then a sentence without a vector is an error)."""
    stored: dict[int, bytes | memoryview] = {}
    for start in range(0, len(sentence_ids), READ_CHUNK):  # bounded IN lists
        chunk = sentence_ids[start : start + READ_CHUNK]
        if compute_missing:
            embeddings_compute(sentence_ids=chunk)
        stored.update(
            SentenceEmbedding.objects.filter(sentence_id__in=chunk, model_name=MODEL_NAME).values_list(
                "sentence_id", "vector"
            )
        )
    missing = [i for i in sentence_ids if i not in stored]
    if missing:
        raise LookupError(f"{len(missing)} sentences have no {MODEL_NAME} vector (first: {missing[0]}).")
    return from_bytes([bytes(stored[i]) for i in sentence_ids])


def embeddings_enqueue() -> bool:
    """Queue the embedding task once the transaction commits, unless one is already waiting
    (a running one picks up every sentence stored before it reaches the end)."""
    from django_tasks_db.models import DBTaskResult

    from annotate.tasks import embed_sentences

    if not enabled() or DBTaskResult.objects.filter(task_path=EMBED_TASK_PATH, status="READY").exists():
        return False
    transaction.on_commit(embed_sentences.enqueue)
    return True


def vectors_for(*, pipeline: Any, sentence_ids: Sequence[int]) -> np.ndarray | None:
    """What a fitted pipeline needs beside the texts: the sentences' vectors if it has the
    embedding block (annotate.classifier.uses_embeddings), else None."""
    from annotate.classifier import uses_embeddings

    return embeddings_read(sentence_ids=sentence_ids) if uses_embeddings(pipeline) else None
