"""Background tasks, run by `python manage.py db_worker` (django-tasks with django-tasks-db)."""

from __future__ import annotations

import datetime

from django_tasks import task

from annotate.corpus import CorpusError, ParsedArticle, article_import_one
from annotate.models import Target, Unit

#: The name the task is stored under (DBTaskResult.task_path), to look its results up.
IMPORT_ARTICLE_TASK_PATH = "annotate.tasks.import_article"


@task()
def retrain_target(target_id: int) -> dict[str, object]:
    """Retrain a target's model; the result (or the error) is stored with the task."""
    # Imported here: the web processes import this module to queue tasks, and training
    # brings scikit-learn and numpy with it when it runs.
    from annotate.duplicate_groups import duplicates_refresh
    from annotate.training import retrain

    duplicates_refresh()  # the cross-validation groups and the slice's copies rest on them
    result = retrain(target=Target.objects.get(pk=target_id))
    return {
        "version": result.version.pk if result.version else None,
        "train_size": result.train_size,
        "f_avg": result.metrics.f_avg,
        "macro_f1": result.metrics.macro_f1,
        "accuracy": result.metrics.accuracy,
        "seconds": round(result.seconds, 2),
        # The evaluation slice's F_avg, or None when it was too small to score.
        "slice_f_avg": result.evaluation.metrics.f_avg
        if result.evaluation and result.evaluation.metrics
        else None,
        "slice_n": result.evaluation.n if result.evaluation else 0,
        # Whether it became active, and on what evidence (annotate.activation).
        "activated": bool(result.comparison and result.comparison.activate),
        "decision": result.comparison.reason if result.comparison else "",
    }


@task()
def activate_version(target_id: int, version_id: int, by_id: int | None = None) -> dict[str, object]:
    """Make a ready version active (an admin's activation or rollback): its suggestions are
    written again first. The target comes first so one filter finds a target's model tasks."""
    from django.contrib.auth.models import User

    from annotate.activation import version_activate

    by = User.objects.filter(pk=by_id).first() if by_id is not None else None
    done = version_activate(target_id=target_id, version_id=version_id, by=by)
    return {
        "version": done.version.pk,
        "previous": done.previous_id,
        "sentences_predicted": done.sentences_predicted,
        "activated": True,
    }


@task()
def import_article(
    *,
    title: str,
    body: str,
    source: str = "",
    url: str = "",
    published: str | None = None,
    licence: str = "",
    unit: str = Unit.SENTENCE,
) -> dict[str, object]:
    """Split and store one article too long to split inside a web request (POST /api/articles/).

    The fields were checked by the API before the task was queued. A body refused when the
    task runs (stored meanwhile is fine: that is the stored article) comes back as `error`.
    """
    parsed = ParsedArticle(
        title=title,
        body=body,
        source=source,
        url=url,
        published=datetime.date.fromisoformat(published) if published else None,
        origin="API",
        licence=licence,
        unit=unit,
    )
    try:
        stored, created = article_import_one(parsed=parsed)
    except CorpusError as error:
        return {"article": None, "created": False, "sentences": 0, "error": str(error)}
    return {"article": stored.pk, "created": created, "sentences": stored.sentences.count(), "error": ""}


SUMMARISE_TASK_PATH = "annotate.tasks.summarise_target"


@task()
def summarise_target(target_id: int) -> dict[str, object]:
    """Recompute a target's summary (annotate.summary): agreement, distributions, medians,
    and the split counts, after the duplicate groups are brought up to date."""
    from annotate.duplicate_groups import duplicates_refresh
    from annotate.summary import compute

    duplicates_refresh()
    summary = compute(target=Target.objects.get(pk=target_id))
    return {"changes": summary.changes, "seconds": round(summary.seconds, 2)}


def summarise_pending(*, target_id: int) -> bool:
    """Whether a recompute of the target's summary is queued or running."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=SUMMARISE_TASK_PATH, status__in=["READY", "RUNNING"], args_kwargs__args=[target_id]
    ).exists()


@task()
def import_upload(upload_id: int) -> dict[str, object]:
    """Import an admin's confirmed upload (annotate.uploads), its progress on the Upload row."""
    from annotate.uploads import upload_run

    upload = upload_run(upload_id=upload_id)
    return {"status": upload.status, "error": upload.error}


@task()
def embed_sentences() -> dict[str, object]:
    """Embed every stored sentence that has no vector of the current model yet (queued by
    each import; annotate/embedding_store.py). Runs in the worker: onnxruntime is loaded here."""
    import time

    from annotate.embedding_store import embeddings_compute

    started = time.monotonic()
    done = embeddings_compute()
    return {"sentences": done, "seconds": round(time.monotonic() - started, 2)}
