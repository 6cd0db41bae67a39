"""Curators' and admins' pages at two corpus sizes: seconds and queries.

Builds one database a size (--sizes, in labels; 10,000 and 1,000,000 by default) with
benchmarks/export.py's generator: articles of 50 sentences from 7 sources, two annotators
on every sentence (labels / 2 sentences) who disagree on about 15 % of them, spent_ms on
every label, a ready model version with a suggestion for every sentence, active. On top:
  - the annotators in the "annotator" group, a curator ("bench-curator", group "curator")
    and an admin ("bench-admin", group "admin"), all with harness.PASSWORD;
  - the labels' created_at/updated_at spread over the past 100 days, a hundredth of them
    today (so "labels changed today" is about 1 %), a tenth changed up to 3 days after
    they were given. bulk_create cannot set them (auto_now and auto_now_add overwrite any
    value given), so after the build one UPDATE a batch of 50,000 ids sets them from a
    hash of the id, in SQL (again when a kept database is reused on another day);
  - adjudications of 1 % of the disagreements by the curator, dated the same way, so the
    adjudication page's settled panel has rows; two older ready model versions;
  - issue 15's settings and data: dynamic overlap with a posterior threshold of 0.8 and
    Dawid-Skene the gold rule; 5 % of the sentences settled and marked evaluation items
    (gold = the first annotator's label nine times in ten), each marked when it was
    settled, so the labels given after it (about half) are the annotators' answers; flags
    on 0.1 % of the sentences (at least MIN_FLAGS) through flag_create (each reason in turn, every third
    resolved); 20 labels on open disagreements returned with a comment through
    label_return (to the annotators other than bench-annotator-0, whose queue walk the
    label-annotator page times as before); the active version's cross-validation (5 folds,
    an out-of-fold prediction for every labelled sentence, agreeing with the first
    annotator 80 % of the time, confidence uniform in [0.34, 0.99]), so the suspicious
    order has data; and the target's summary computed at the end of the build (its
    seconds printed), which stores the Dawid-Skene posteriors the "lowest posterior" order
    and the queue's threshold read.
Everything is written by plain INSERT and UPDATE statements (bulk_create, the ORM and the
services), so database triggers on these tables fire as they do for the application's
own writes.

Then, in a child process per page and size (nothing carries over: memory, caches, the
SQLite page cache; each page at every size before the next page, so that the ratio compares
timings minutes apart on a machine whose load drifts), with production settings (DEBUG
off) and Django's test client (in-process, force_login), it first brings the target's summary up to date when labels
changed since it was computed (what the background worker's summarise_target does; untimed,
its seconds printed), then times --repeat requests of each page and counts their queries
(django.test.utils.CaptureQueriesContext):
  dashboard        GET /dashboard/<t>/                      curator
  adjudicate       GET /adjudicate/<t>/                     curator
  settle           POST /adjudicate/<t>/settle/ (htmx)      curator, one open disagreement each
  models           GET /models/<t>/                         admin
  label-annotator  GET /label/<t>/                          an annotator with labels (cursor reset first)
  label-curator    GET /label/<t>/                          curator
  label-admin      GET /label/<t>/                          admin
  api-agreement    GET /api/targets/<t>/agreement/          curator (session)
  card             GET /export/<t>/card/?level=gold&split=1 admin
  search           GET /search/<t>/?q=huawei                curator (a word in a third of the
                   sentences: ranked at 10,000 labels, past annotate.search.RANK_LIMIT in corpus order)
  search-filtered  GET /search/<t>/?q=trusted+partner&agreement=agreed   curator (ranked, filtered)
  search-rare      GET /search/<t>/?q=huawei&label=contra&agreement=disagreement   curator (a filter
                   that keeps a few of the word's matches: all of them read)
  search-next      GET /search/<t>/?q=huawei&after=...      curator (htmx; the page after the first)
  command          manage.py agreement --target NAME        call_command, output to a StringIO
  adjudicate-posterior   GET /adjudicate/<t>/?order=posterior     curator (lowest posterior first)
  adjudicate-suspicious  GET /adjudicate/<t>/?order=suspicious    curator (cross-validation contradicts)
  adjudicate-flagged     GET /adjudicate/<t>/?order=flagged       curator (open flags first)
  annotator        GET /dashboard/<t>/annotators/<id>/     curator, bench-annotator-0's page
  api-annotators   GET /api/targets/<t>/annotators/         curator (session), every annotator
  api-annotator    GET /api/targets/<t>/annotators/<id>/    curator (session), bench-annotator-0
  api-flags        GET /api/flags/?target=<t>&open=true     curator (session), the first page
  api-returns      GET /api/returns/?target=<t>             curator (session), the first page
  command-annotators  manage.py agreement --target NAME --annotators   call_command
A request that runs longer than --timeout seconds ends its page's child (killed; on
PostgreSQL statement_timeout stops the server's side too) and the page shows TIMEOUT.
Prints p50 and the first request at each size, the ratio largest / smallest, the queries,
and a verdict against the targets: p50 under 1 s at the largest size, ratio at most 2.

Then, unless --no-memory, it runs benchmarks/memory.py (gunicorn with 3 workers serving
Stance beside a bare Django project, the idle RSS of each process tree, target at most
1.5x; --memory-venv DIR keeps its production environment between runs), in the same run.

    .venv/bin/python benchmarks/pages.py                           # 10,000 and 1,000,000 labels
    .venv/bin/python benchmarks/pages.py --keep /tmp/stance-pages  # keep the databases, reuse them
    .venv/bin/python benchmarks/pages.py --sizes 2000 20000 --repeat 2
    .venv/bin/python benchmarks/pages.py --postgres --keep x --pages dashboard,settle

--keep DIR keeps the SQLite files in DIR (pages-<labels>.sqlite3), or with --postgres the
databases stance_pages_<labels> on the server; a run finding one built by the same
generator and the same migrations reuses it (a table bench_pages_build records what was
built), otherwise it is emptied and built again. Exit code 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import export
import harness

ROOT = harness.ROOT
#: Bump when the build below changes what it writes, so kept databases are rebuilt.
BUILD_FORMAT = 3
MARKER = "bench_pages_build"
STATEMENT_TIMEOUT_ENV = "STANCE_BENCH_STATEMENT_TIMEOUT_MS"
ANNOTATOR, CURATOR, ADMIN = "bench-annotator-0", "bench-curator", "bench-admin"
SECONDS_TARGET, RATIO_TARGET = 1.0, 2.0
DAYS = 100
ADJUDICATED_SHARE = 100  # one disagreement in 100 is adjudicated at build time
# Issue 15's settings and data, at the proportions of a team using them:
POSTERIOR_THRESHOLD = 0.8  # dynamic overlap on, with this posterior threshold
EVALUATION_SHARE = 20  # one sentence in 20 (5 %) is settled and marked an evaluation item
FLAG_SHARE = 1000  # one sentence in 1,000 is flagged; a third of the flags resolved
#: But at least this many, so the flags API's first page of open flags is full (100) at
#: every size: a 3-row page against a full one measured the page size, not the data's.
MIN_FLAGS = 160
RETURNS = 20  # labels returned with a comment, to the annotators other than ANNOTATOR
CV_FOLDS = 5  # the active version's cross-validation: an out-of-fold prediction a sentence
CV_AGREES = 0.8  # share of those predictions that are the first annotator's label
BATCH = 50_000
#: Odd multipliers for the per-id hashes that date the labels (coprime to 100 and 10).
K_DAY, K_SECOND, K_RELABEL = 2654435761, 40503, 97531
ROLE_NAMES = {ANNOTATOR: "annotator", CURATOR: "curator", ADMIN: "admin", "-": "(in-process)"}


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    what: str


PAGES = [
    Page("dashboard", CURATOR, "GET /dashboard/<t>/"),
    Page("adjudicate", CURATOR, "GET /adjudicate/<t>/"),
    Page("settle", CURATOR, "POST /adjudicate/<t>/settle/"),
    Page("models", ADMIN, "GET /models/<t>/"),
    Page("label-annotator", ANNOTATOR, "GET /label/<t>/"),
    Page("label-curator", CURATOR, "GET /label/<t>/"),
    Page("label-admin", ADMIN, "GET /label/<t>/"),
    Page("api-agreement", CURATOR, "GET /api/targets/<t>/agreement/"),
    Page("card", ADMIN, "GET /export/<t>/card/?level=gold&split=1"),
    Page("search", CURATOR, "GET /search/<t>/?q=huawei"),
    Page("search-filtered", CURATOR, "GET /search/<t>/?q=trusted+partner&agreement=agreed"),
    Page("search-rare", CURATOR, "GET /search/<t>/?q=huawei&label=contra&agreement=disagreement"),
    Page("search-next", CURATOR, "GET /search/<t>/?q=huawei&after=... (htmx)"),
    Page("command", "-", "manage.py agreement --target"),
    Page("adjudicate-posterior", CURATOR, "GET /adjudicate/<t>/?order=posterior"),
    Page("adjudicate-suspicious", CURATOR, "GET /adjudicate/<t>/?order=suspicious"),
    Page("adjudicate-flagged", CURATOR, "GET /adjudicate/<t>/?order=flagged"),
    Page("annotator", CURATOR, "GET /dashboard/<t>/annotators/<id>/"),
    Page("api-annotators", CURATOR, "GET /api/targets/<t>/annotators/"),
    Page("api-annotator", CURATOR, "GET /api/targets/<t>/annotators/<id>/"),
    Page("api-flags", CURATOR, "GET /api/flags/?target=<t>&open=true"),
    Page("api-returns", CURATOR, "GET /api/returns/?target=<t>"),
    Page("command-annotators", "-", "manage.py agreement --target --annotators"),
]
BY_NAME = {page.name: page for page in PAGES}


def emit(payload: dict) -> None:
    print(json.dumps(payload), flush=True)


def build_key(labels: int, annotators: int) -> str:
    """What a kept database must have been built from: this build, export.py, the migrations."""
    digest = hashlib.sha256(json.dumps([BUILD_FORMAT, labels, annotators]).encode())
    digest.update((ROOT / "benchmarks" / "export.py").read_bytes())
    for path in sorted((ROOT / "annotate" / "migrations").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


# --- build (child) ----------------------------------------------------------------------


def _child_django(args: argparse.Namespace) -> None:
    harness.setup_django(harness.Database(args.vendor, json.loads(args.env), ""), production=True)


def _read_marker() -> dict | None:
    from django.db import connection

    if MARKER not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT info FROM {MARKER}")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _write_marker(info: dict) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (info TEXT NOT NULL)")
        cursor.execute(f"DELETE FROM {MARKER}")
        cursor.execute(f"INSERT INTO {MARKER} (info) VALUES (%s)", [json.dumps(info)])


def _wipe(args: argparse.Namespace) -> None:
    """Empty the database: delete the SQLite file, or drop and recreate PostgreSQL's schema."""
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        path = Path(json.loads(args.env)["SQLITE_PATH"])
        connections.close_all()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")


def _date_sql(table: str) -> str:
    """One UPDATE dating a range of ids: day d = hash % 100 days back (d = 0: today, before
    the build's moment), a second in that day from another hash; created_at up to 3 days
    earlier for a tenth of the rows (labels changed after they were given)."""
    from django.db import connection

    offset = (
        f"(CASE WHEN (id * {K_DAY}) %% {DAYS} = 0 THEN (id * {K_SECOND}) %% %(elapsed)s "
        f"ELSE (id * {K_SECOND}) %% 86400 - ((id * {K_DAY}) %% {DAYS}) * 86400 END)"
    )
    earlier = f"(CASE WHEN (id * {K_RELABEL}) %% 10 = 0 THEN (id * {K_SECOND}) %% 259200 ELSE 0 END)"
    if connection.vendor == "sqlite":
        moment = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %(midnight)s, ({seconds}) || ' seconds')"
    else:
        moment = "%(midnight)s + ({seconds}) * interval '1 second'"
    return (
        f"UPDATE {table} SET updated_at = {moment.format(seconds=offset)}, "
        f"created_at = {moment.format(seconds=f'{offset} - {earlier}')} "
        "WHERE id BETWEEN %(low)s AND %(high)s"
    )


def spread_dates(model: type) -> None:
    """Date every row of `model` over the past DAYS days, one UPDATE a batch of ids."""
    from django.db import connection, transaction
    from django.db.models import Max, Min
    from django.utils import timezone

    from annotate.progress import start_of_day

    bounds = model.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    midnight = start_of_day()
    elapsed = max(1, int((timezone.now() - midnight).total_seconds()))
    sql = _date_sql(connection.ops.quote_name(model._meta.db_table))
    params = {"midnight": connection.ops.adapt_datetimefield_value(midnight), "elapsed": elapsed}
    for low in range(bounds["low"], bounds["high"] + 1, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {**params, "low": low, "high": low + BATCH - 1})


def open_disagreements(target: object, limit: int | None = None) -> list[tuple[int, str]]:
    """(sentence id, one of its labels) for sentences whose non-skipped labels differ and that
    no curator has settled, in sentence order."""
    from django.db.models import Count, Exists, Min, OuterRef

    from annotate.models import Adjudication, Annotation, Label

    rows = (
        Annotation.objects.filter(target=target)
        .exclude(label=Label.SKIP)
        .alias(
            settled=Exists(Adjudication.objects.filter(target=target, sentence_id=OuterRef("sentence_id")))
        )
        .filter(settled=False)
        .values("sentence_id")
        .annotate(kinds=Count("label", distinct=True), first=Min("label"))
        .filter(kinds__gt=1)
        .order_by("sentence_id")
        .values_list("sentence_id", "first")
    )
    return list(rows[:limit] if limit else rows)


def _counts(target: object) -> dict:
    from annotate.models import (
        Adjudication,
        Annotation,
        CrossValidatedPrediction,
        EvaluationItem,
        Flag,
        LabelReturn,
        Sentence,
        SentencePosterior,
    )
    from annotate.progress import start_of_day

    labels = Annotation.objects.filter(target=target)
    total = labels.count()
    return {
        "labels": total,
        "sentences": Sentence.objects.count(),
        "today_share": labels.filter(updated_at__gte=start_of_day()).count() / max(1, total),
        "adjudications": Adjudication.objects.filter(target=target).count(),
        "evaluation_items": EvaluationItem.objects.filter(target=target).count(),
        "flags": Flag.objects.filter(target=target).count(),
        "open_flags": Flag.objects.filter(target=target, resolved_at__isnull=True).count(),
        "returns": LabelReturn.objects.filter(target=target).count(),
        "cross_validated": CrossValidatedPrediction.objects.filter(
            model_version_id=target.active_version_id
        ).count(),
        "posteriors": SentencePosterior.objects.filter(target=target).count(),
    }


def _people_and_versions(target: object) -> None:
    """Groups and passwords for export.py's annotators, a curator, an admin; model metrics."""
    import datetime
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from annotate.models import STANCE_LABELS, ModelVersion

    users = get_user_model()
    hashed = make_password(harness.PASSWORD)
    users.objects.filter(username__startswith="bench-annotator-").update(password=hashed)
    for username, group in ((CURATOR, "curator"), (ADMIN, "admin")):
        users.objects.create(username=username, password=hashed).groups.add(Group.objects.get(name=group))
    annotator_group = Group.objects.get(name="annotator")
    for user in users.objects.filter(username__startswith="bench-annotator-"):
        user.groups.add(annotator_group)
    rng = random.Random(3)
    active = target.active_version
    now = timezone.now()
    for days, version in ((60, None), (30, None), (2, active)):
        size = {60: 2000, 30: 20000, 2: 100000}[days]
        accuracy = round(rng.uniform(0.6, 0.8), 3)
        fields = {
            "status": ModelVersion.Status.READY,
            "train_size": size,
            "finished_at": now - datetime.timedelta(days=days),
            "duration_s": rng.uniform(20, 300),
            "label_distribution": {"pro": size // 4, "contra": size // 4, "neutral": size // 2},
            "metrics": {
                "accuracy": accuracy,
                "macro_f1": accuracy - 0.05,
                "f_avg": accuracy - 0.08,
                "classes": list(STANCE_LABELS),
                "confusion": [[rng.randint(50, 900) for _ in STANCE_LABELS] for _ in STANCE_LABELS],
            },
        }
        if version is None:
            ModelVersion.objects.create(target=target, **fields)
        else:
            ModelVersion.objects.filter(pk=version.pk).update(**fields)


def _adjudicate_some(target: object) -> tuple[int, int]:
    """Settle one disagreement in ADJUDICATED_SHARE: (settled, disagreements there were)."""
    import random

    from django.contrib.auth import get_user_model

    from annotate.models import STANCE_LABELS, Adjudication

    curator = get_user_model().objects.get(username=CURATOR)
    rng = random.Random(17)
    disagreements = open_disagreements(target)
    chosen = disagreements[::ADJUDICATED_SHARE]
    Adjudication.objects.bulk_create(
        [
            Adjudication(
                sentence_id=sentence_id, target=target, label=rng.choice(STANCE_LABELS), curator=curator
            )
            for sentence_id, _ in chosen
        ],
        batch_size=5000,
    )
    return len(chosen), len(disagreements)


# --- issue 15's settings and data --------------------------------------------------------


def _issue15_settings(target: object) -> None:
    """Dynamic overlap with a posterior threshold, Dawid-Skene the gold rule (plain UPDATE:
    target_update would queue a summary for a worker the benchmark does not run; the build
    computes it itself)."""
    from annotate.models import GoldMethod, Target

    Target.objects.filter(pk=target.pk).update(
        dynamic_overlap=True, posterior_threshold=POSTERIOR_THRESHOLD, gold_method=GoldMethod.DAWID_SKENE
    )
    target.refresh_from_db()


def _first_labels(target: object) -> dict[int, str]:
    """Each sentence's label by ANNOTATOR (who labelled every sentence)."""
    from annotate.models import Annotation

    return dict(
        Annotation.objects.filter(target=target, annotator__username=ANNOTATOR).values_list(
            "sentence_id", "label"
        )
    )


def _evaluation_items(target: object, first: dict[int, str]) -> int:
    """Settle one sentence in EVALUATION_SHARE (those not settled yet) and mark it an
    evaluation item, as the `evaluation_items` command's bulk mark does: the gold label is
    ANNOTATOR's nine times in ten. Dated with the adjudications (`_date_items`)."""
    import random

    from django.contrib.auth import get_user_model

    from annotate.models import STANCE_LABELS, Adjudication, EvaluationItem

    curator = get_user_model().objects.get(username=CURATOR)
    settled = set(Adjudication.objects.filter(target=target).values_list("sentence_id", flat=True))
    rng = random.Random(23)
    chosen = [s for s in sorted(first)[EVALUATION_SHARE // 2 :: EVALUATION_SHARE] if s not in settled]
    marked = 0
    for low in range(0, len(chosen), BATCH):
        adjudications = Adjudication.objects.bulk_create(
            [
                Adjudication(
                    sentence_id=s,
                    target=target,
                    curator=curator,
                    label=first[s] if rng.random() < 0.9 else rng.choice(STANCE_LABELS),
                )
                for s in chosen[low : low + BATCH]
            ],
            batch_size=5000,
        )
        items = EvaluationItem.objects.bulk_create(
            [
                EvaluationItem(
                    adjudication_id=a.pk, target=target, sentence_id=a.sentence_id, marked_by=curator
                )
                for a in adjudications
            ],
            batch_size=5000,
        )
        marked += len(items)
    return marked


def _date_items() -> None:
    """An evaluation item marked when its sentence was settled (the adjudication's dating):
    the labels given after it are the annotators' answers, about half of them."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "annotate_evaluationitem" SET "created_at" = (SELECT "a"."updated_at" '
            'FROM "annotate_adjudication" "a" WHERE "a"."id" = "annotate_evaluationitem"."adjudication_id")'
        )


def _flags(target: object, first: dict[int, str]) -> int:
    """One sentence in FLAG_SHARE flagged by an annotator (each reason in turn, every other
    one with a comment), every third flag resolved by the curator: through the services."""
    from django.contrib.auth import get_user_model

    from annotate.flags import flag_create, flag_resolve
    from annotate.models import FlagReason

    users = get_user_model().objects
    curator = users.get(username=CURATOR)
    annotators = list(users.filter(username__startswith="bench-annotator-").order_by("username"))
    step = max(1, min(FLAG_SHARE, len(first) // MIN_FLAGS))
    chosen = sorted(first)[step // 2 :: step]
    for i, sentence_id in enumerate(chosen):
        flag = flag_create(
            annotator=annotators[i % len(annotators)],
            target=target,
            sentence_id=sentence_id,
            reason=FlagReason.values[i % len(FlagReason.values)],
            comment="Is this about the company or the country?" if i % 2 else "",
        )
        if i % 3 == 0:
            flag_resolve(curator=curator, target=target, flag_id=flag.pk)
    return len(chosen)


def _returns(target: object) -> int:
    """RETURNS labels on open disagreements returned with a comment (label_return, with its
    history event), to the annotators other than ANNOTATOR: a returned sentence comes first
    in its annotator's queue, and the label-annotator page times ANNOTATOR's walk of the
    queue as before."""
    from django.contrib.auth import get_user_model

    from annotate.models import Annotation
    from annotate.returns import label_return

    users = get_user_model().objects
    curator = users.get(username=CURATOR)
    others = list(
        users.filter(username__startswith="bench-annotator-").exclude(username=ANNOTATOR).order_by("username")
    )
    disagreements = open_disagreements(target)
    chosen = disagreements[:: max(1, len(disagreements) // RETURNS)][:RETURNS]
    for i, (sentence_id, _) in enumerate(chosen):
        annotation = Annotation.objects.get(
            target=target, sentence_id=sentence_id, annotator=others[i % len(others)]
        )
        label_return(
            curator=curator,
            target=target,
            annotation_id=annotation.pk,
            comment="The guidelines count a quoted minister as the government: please look again.",
        )
    return len(chosen)


def _cross_validated(target: object, first: dict[int, str]) -> int:
    """The active version's out-of-fold predictions, one a labelled sentence (what a retrain
    on every gold label stores): ANNOTATOR's label CV_AGREES of the time, else another,
    confidence uniform in [0.34, 0.99]; the version's train_size and folds to match."""
    import random

    from annotate.models import STANCE_LABELS, CrossValidatedPrediction, ModelVersion

    rng = random.Random(29)
    version = ModelVersion.objects.get(pk=target.active_version_id)
    batch: list[CrossValidatedPrediction] = []
    for sentence_id in sorted(first):
        label = first[sentence_id]
        if label not in STANCE_LABELS or rng.random() >= CV_AGREES:
            label = rng.choice([other for other in STANCE_LABELS if other != label])
        batch.append(
            CrossValidatedPrediction(
                model_version=version,
                sentence_id=sentence_id,
                label=label,
                confidence=round(rng.uniform(0.34, 0.99), 4),
            )
        )
        if len(batch) >= BATCH:
            CrossValidatedPrediction.objects.bulk_create(batch, batch_size=5000)
            batch = []
    CrossValidatedPrediction.objects.bulk_create(batch, batch_size=5000)
    ModelVersion.objects.filter(pk=version.pk).update(
        train_size=len(first), metrics={**version.metrics, "folds": CV_FOLDS}
    )
    return len(first)


def build(args: argparse.Namespace) -> None:
    """Child: reuse a kept database built the same way, or (empty it and) build it."""
    _child_django(args)
    from django.db import connection
    from django.utils import timezone

    from annotate.models import Adjudication, Annotation, Target

    started = time.monotonic()
    key = build_key(args.labels, args.annotators)
    today = timezone.localdate().isoformat()
    marker = _read_marker()
    if marker is not None and marker.get("key") == key:
        # Dated again from the ids on another day, so that "today" is still today's 1 %.
        if marker["built_on"] != today:
            for model in (Annotation, Adjudication):
                spread_dates(model)
            _date_items()
            _settle_statistics()
            _write_marker({**marker, "built_on": today})
        target = Target.objects.get(name=export.TARGET)
        emit(
            {
                "state": "reused",
                "dated_again": marker["built_on"] != today,
                "seconds": time.monotonic() - started,
                **_counts(target),
            }
        )
        return
    if connection.introspection.table_names():
        print(
            f"  {'a different build' if marker else 'not a finished build'} is there: emptying it", flush=True
        )
        _wipe(args)
    # Django is set up without DEBUG, so export.build's setup_django (DEBUG=1) comes too late
    # to keep a copy of every INSERT; its migrate and generator run as they are.
    export.build(
        argparse.Namespace(
            database=None, sentences=args.labels // args.annotators, annotators=args.annotators
        )
    )
    target = Target.objects.get(name=export.TARGET)
    _people_and_versions(target)
    _issue15_settings(target)
    # Statistics of the bulk-built tables before the dating UPDATEs: their tally triggers'
    # statements were planned for empty tables (this machine's PostgreSQL runs without
    # autovacuum), and a batch of 50,000 labels took 40 s to 5 minutes instead of seconds.
    _settle_statistics()
    print("  dating the labels ...", flush=True)
    spread_dates(Annotation)
    _, disagreements = _adjudicate_some(target)
    print("  evaluation items, flags, returns, cross-validated predictions ...", flush=True)
    first = _first_labels(target)
    _evaluation_items(target, first)
    spread_dates(Adjudication)
    _date_items()
    _flags(target, first)
    _returns(target)
    _cross_validated(target, first)
    del first
    _settle_statistics()
    # What the background worker does once labels changed: the summary, with the
    # Dawid-Skene posteriors the "lowest posterior" order and the queue's threshold read.
    from annotate.summary import compute

    summary_started = time.monotonic()
    compute(target=target)
    summary_seconds = time.monotonic() - summary_started
    _settle_statistics()
    _write_marker({"key": key, "built_on": today, "labels": args.labels})
    emit(
        {
            "state": "built",
            "seconds": time.monotonic() - started,
            "summary_seconds": summary_seconds,
            "disagreements": disagreements,
            **_counts(target),
        }
    )


def _settle_statistics() -> None:
    """Fresh statistics and no dead rows, as a live database has them: the dating UPDATEs
    leave a dead version of every label and tally row on PostgreSQL, which autovacuum
    clears within minutes on a live server, but a measurement right after the build would
    read through them (the dashboard took twice as long)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- measure (child) --------------------------------------------------------------------


def _requester(name: str, client: object, target: object, repeat: int) -> Callable[[], int]:
    """What one timed request of the page is; returns its status (0 for the command)."""
    import io

    from django.core.management import call_command

    t = target.pk
    gets = {
        "dashboard": f"/dashboard/{t}/",
        "adjudicate": f"/adjudicate/{t}/",
        "models": f"/models/{t}/",
        "label-annotator": f"/label/{t}/",
        "label-curator": f"/label/{t}/",
        "label-admin": f"/label/{t}/",
        "api-agreement": f"/api/targets/{t}/agreement/",
        "card": f"/export/{t}/card/?level=gold&split=1",
        "search": f"/search/{t}/?q=huawei",
        "search-filtered": f"/search/{t}/?q=trusted+partner&agreement=agreed",
        "search-rare": f"/search/{t}/?q=huawei&label=contra&agreement=disagreement",
        "adjudicate-posterior": f"/adjudicate/{t}/?order=posterior",
        "adjudicate-suspicious": f"/adjudicate/{t}/?order=suspicious",
        "adjudicate-flagged": f"/adjudicate/{t}/?order=flagged",
        "api-annotators": f"/api/targets/{t}/annotators/",
        "api-flags": f"/api/flags/?target={t}&open=true",
        "api-returns": f"/api/returns/?target={t}",
    }
    if name in ("annotator", "api-annotator"):
        from django.contrib.auth import get_user_model

        a = get_user_model().objects.get(username=ANNOTATOR).pk
        gets["annotator"] = f"/dashboard/{t}/annotators/{a}/"
        gets["api-annotator"] = f"/api/targets/{t}/annotators/{a}/"
    if name in gets:
        url = gets[name]
        return lambda: client.get(url).status_code
    if name == "settle":
        # Chosen before the clock starts; each settle takes the next open disagreement.
        pending = iter(open_disagreements(target, repeat))

        def settle() -> int:
            sentence_id, label = next(pending)
            url = f"/adjudicate/{t}/settle/"
            return client.post(
                url, {"sentence": sentence_id, "label": label}, HTTP_HX_REQUEST="true"
            ).status_code

        return settle
    if name == "search-next":
        # The first page's cursor, found before the clock starts.
        import html
        import re

        first = client.get(f"/search/{t}/?q=huawei", HTTP_HX_REQUEST="true").content.decode()
        url = html.unescape(re.search(r'class="button search-next" href="([^"]+)"', first)[1])
        return lambda: client.get(url, HTTP_HX_REQUEST="true").status_code
    if name in ("command", "command-annotators"):
        options = {"annotators": True} if name == "command-annotators" else {}

        def command() -> int:
            call_command("agreement", target=target.name, stdout=io.StringIO(), **options)
            return 0

        return command
    raise ValueError(name)


def _statement_timeout() -> None:
    """On PostgreSQL, every connection of this child cancels a statement running past the
    parent's --timeout (STATEMENT_TIMEOUT_ENV, in ms): set as each connection opens, since
    a request may close its connection and the next opens another."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    milliseconds = os.environ.get(STATEMENT_TIMEOUT_ENV)
    if not milliseconds or connection.vendor != "postgresql":
        return

    def limit(sender: object, connection: object, **kwargs: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(milliseconds)}")

    connection_created.connect(limit, weak=False)
    connection.close()  # opened by the setup's checks: the next one is limited


def measure(args: argparse.Namespace) -> None:
    """Child: one page, --repeat requests, a JSON line after each."""
    _child_django(args)
    _statement_timeout()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from annotate.models import Assignment, QueueCursor, Target

    page = BY_NAME[args.page]
    target = Target.objects.get(name=export.TARGET)
    client = Client()
    if page.role != "-":
        user = get_user_model().objects.get(username=page.role)
        client.force_login(user)
        # The same start in every run, kept database or not: an annotator without a cursor.
        QueueCursor.objects.filter(annotator=user, target=target).delete()
        Assignment.objects.filter(annotator=user, target=target).delete()
    run = _requester(page.name, client, target, args.repeat)
    # Untimed: what the background worker does after labels change (summarise_target), so
    # the pages are timed as a curator finds them once it has run: with a fresh summary.
    from annotate.models import TargetChanges, TargetSummary
    from annotate.summary import compute, is_current

    changes = TargetChanges.objects.filter(target=target).values_list("changes", flat=True).first()
    stored = TargetSummary.objects.filter(target=target).first()
    if stored is None or not is_current(stored, changes_now=changes or 0):
        started = time.perf_counter()
        compute(target=target)
        emit({"summary_seconds": time.perf_counter() - started})
    # Untimed: the process's first request loads the URLconf, the views and the middleware
    # (a second or two here), which a served worker has done once for all pages.
    client.get("/accounts/login/")
    emit({"ready": True})
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            status = run()
            seconds = time.perf_counter() - started
        emit({"seconds": seconds, "queries": len(queries), "status": status})


# --- parent -----------------------------------------------------------------------------


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    timeout: bool = False
    error: str = ""

    @property
    def p50(self) -> float | None:
        return (
            None if self.timeout or self.error or not self.seconds else harness.percentile(self.seconds, 50)
        )


def _child_command(
    phase: str, args: argparse.Namespace, database: harness.Database, *extra: str
) -> list[str]:
    return [
        sys.executable, __file__, "--phase", phase, "--vendor", database.vendor,
        "--env", json.dumps(database.env), "--annotators", str(args.annotators), *extra,
    ]  # fmt: skip


def _child_env(database: harness.Database, timeout: float | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("SQLITE_PATH", "DATABASE_URL")}
    if timeout and database.vendor == "postgresql":
        # A statement running past the timeout is cancelled by the server too, not left
        # running after its client was killed. Not through PGOPTIONS: libpq ignores it
        # when the connection names its own options, as stance/settings.py does
        # (random_page_cost); the child sets it on each connection (`_statement_timeout`).
        env[STATEMENT_TIMEOUT_ENV] = str(int(timeout * 1000))
    return env


def run_build(args: argparse.Namespace, database: harness.Database, labels: int) -> dict:
    command = _child_command("build", args, database, "--labels", str(labels))
    process = subprocess.Popen(command, cwd=ROOT, env=_child_env(database), stdout=subprocess.PIPE, text=True)
    result = {}
    for line in process.stdout:
        if line.startswith("{"):
            result = json.loads(line)
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or not result:
        sys.exit(f"building {labels:,} labels failed (exit {process.returncode})")
    return result


def time_page(args: argparse.Namespace, database: harness.Database, page: str, workdir: Path) -> Timing:
    """Run the page's child, reading a line a request; kill it when one runs past --timeout."""
    command = _child_command("measure", args, database, "--page", page, "--repeat", str(args.repeat))
    stderr = (workdir / f"measure-{page}.log").open("w+")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_child_env(database, args.timeout),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    timing = Timing()
    wait = max(args.timeout, 600)  # setting up (the settle page finds its disagreements first)
    while True:
        try:
            line = lines.get(timeout=wait)
        except queue.Empty:
            timing.timeout = True
            process.kill()
            break
        if line is None:
            break
        if not line.startswith("{"):
            continue
        result = json.loads(line)
        if "summary_seconds" in result:
            print(
                f"    (the background summary ran first: {result['summary_seconds']:.1f} s, untimed)",
                flush=True,
            )
            continue
        if result.get("ready"):
            wait = args.timeout
            continue
        if result["status"] not in (0, 200):
            timing.error = f"HTTP {result['status']}"
        timing.seconds.append(result["seconds"])
        timing.queries.append(result["queries"])
    if process.wait() != 0 and not timing.timeout and not timing.error:
        stderr.seek(0)
        tail = stderr.read()[-3000:]
        timing.error = f"exit {process.returncode}"
        print(f"    {page} failed:\n{tail}", flush=True)
    stderr.close()
    return timing


@contextlib.contextmanager
def kept_postgres(*, name: str, host: str, port: int) -> Iterator[harness.Database]:
    """A PostgreSQL database of a fixed name, created when missing and left in place."""
    import psycopg

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@{host}:{port}/{name}"
    yield harness.Database("postgresql", {"DATABASE_URL": url}, f"PostgreSQL {name} on {host}:{port} (kept)")


def database_for(args: argparse.Namespace, labels: int, workdir: Path) -> contextlib.AbstractContextManager:
    if args.postgres and args.keep:
        return kept_postgres(name=f"stance_pages_{labels}", host=args.pg_host, port=args.pg_port)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        path = args.keep / f"pages-{labels}.sqlite3"
        return contextlib.nullcontext(
            harness.Database("sqlite", {"SQLITE_PATH": str(path)}, f"SQLite {path} (kept)")
        )
    return harness.throwaway_database(
        postgres=args.postgres, name=f"stance_pages_{labels}", pg_host=args.pg_host, pg_port=args.pg_port,
        workdir=workdir,
    )  # fmt: skip


# --- report -----------------------------------------------------------------------------


def _seconds(timing: Timing) -> str:
    if timing.timeout:
        return "TIMEOUT"
    if timing.error:
        return "ERROR"
    return f"{timing.p50:.3f}"


def _first(timing: Timing) -> str:
    return f"{timing.seconds[0]:.3f}" if timing.seconds else "—"


def _queries(timing: Timing) -> str:
    if not timing.queries:
        return "—"
    low, high = min(timing.queries), max(timing.queries)
    return str(low) if low == high else f"{low}-{high}"


def verdict(small: Timing, large: Timing, timeout: float) -> tuple[str, float | None]:
    if large.timeout:
        return f"MISS (a request over {timeout:.0f} s)", None
    if small.error or large.error or small.p50 is None or large.p50 is None:
        return "MISS (error)", None
    ratio = large.p50 / small.p50 if small.p50 > 0 else float("inf")
    misses = []
    if large.p50 >= SECONDS_TARGET:
        misses.append(f"{large.p50:.2f} s >= {SECONDS_TARGET:.0f} s")
    if ratio > RATIO_TARGET:
        misses.append(f"ratio {ratio:.1f} > {RATIO_TARGET:.0f}")
    return ("MISS (" + "; ".join(misses) + ")" if misses else "PASS"), ratio


def print_table(sizes: list[int], pages: list[str], results: dict[int, dict[str, Timing]], args) -> bool:
    small, large = sizes[0], sizes[-1]
    columns = [("p50", _seconds, 14), ("first", _first, 16), ("queries", _queries, 18)]
    head = f"{'page':<23}{'as':<13}"
    for title, _, width in columns:
        head += "".join(f"{f'{title} {n:,}':>{width}}" for n in sizes)
        head += f"{'ratio':>8}" if title == "p50" else ""
    print(head + "  verdict")
    ok = True
    for page in pages:
        timings = [results[n][page] for n in sizes]
        text, ratio = verdict(results[small][page], results[large][page], args.timeout)
        ok &= text == "PASS"
        line = f"{page:<23}{ROLE_NAMES[BY_NAME[page].role]:<13}"
        for title, show, width in columns:
            line += "".join(f"{show(t):>{width}}" for t in timings)
            line += f"{'—' if ratio is None else f'{ratio:.2f}':>8}" if title == "p50" else ""
        print(f"{line}  {text}")
        for n, t in zip(sizes, timings, strict=True):
            if t.timeout and t.seconds:
                done = ", ".join(f"{s:.1f}" for s in t.seconds)
                print(f"{'':<36}@{n:,}: {len(t.seconds)} request(s) done before the timeout: {done} s")
    print(
        f"targets: p50 under {SECONDS_TARGET:.0f} s at {large:,} labels, at most {RATIO_TARGET:.0f}x "
        f"{small:,} labels" + ("" if large >= 1_000_000 else " (the issue sets them at 1,000,000 labels)")
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="labels a database")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests a page and size")
    parser.add_argument("--pages", default=",".join(p.name for p in PAGES), help="comma-separated page names")
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds before a request counts as TIMEOUT"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep (and reuse) the databases: SQLite files in this folder"
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="leave out benchmarks/memory.py")
    parser.add_argument("--memory-venv", help="memory.py's production environment, kept here")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument(
        "--annotators", type=int, default=2, help="labels a sentence (every annotator labels all)"
    )
    parser.add_argument("--phase", choices=["build", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--vendor", help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    parser.add_argument("--labels", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        {"build": build, "measure": measure}[args.phase](args)
        return
    pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = [name for name in pages if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback database hosts")
    if args.repeat < 1 or args.annotators < 2:
        parser.error("--repeat must be at least 1 and --annotators at least 2")
    sizes = sorted(set(args.sizes))
    if sizes[0] < args.annotators * 50:
        parser.error("every size needs at least one article of 50 sentences")

    started = time.monotonic()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="stance-pages-"))
    results: dict[int, dict[str, Timing]] = {}
    ok = True
    try:
        with contextlib.ExitStack() as stack:
            databases = {n: stack.enter_context(database_for(args, n, workdir)) for n in sizes}
            for n in sizes:
                print(
                    f"{n:,} labels on {n // args.annotators:,} sentences ({databases[n].label}) ...",
                    flush=True,
                )
                built = run_build(args, databases[n], n)
                print(
                    f"  {built['state']} in {built['seconds']:.0f} s: {built['labels']:,} labels, "
                    f"{built['sentences']:,} sentences, {built['adjudications']:,} adjudications, "
                    f"{100 * built['today_share']:.2f} % changed today",
                    flush=True,
                )
                print(
                    f"  {built['evaluation_items']:,} evaluation items, {built['flags']:,} flags "
                    f"({built['open_flags']:,} open), {built['returns']:,} returns, "
                    f"{built['cross_validated']:,} cross-validated predictions, "
                    f"{built['posteriors']:,} stored posteriors"
                    + (f" (summary {built['summary_seconds']:.0f} s)" if "summary_seconds" in built else ""),
                    flush=True,
                )
            # A page at every size before the next page: on a shared machine the load
            # drifts over a run, and the ratio compares timings minutes apart, not half an hour.
            results = {n: {} for n in sizes}
            for page in pages:
                for n in sizes:
                    timing = time_page(args, databases[n], page, workdir)
                    results[n][page] = timing
                    print(
                        f"  {n:,} labels, {page}: p50 {_seconds(timing)}, "
                        f"each {', '.join(f'{s:.3f}' for s in timing.seconds) or '—'} s, "
                        f"{_queries(timing)} queries",
                        flush=True,
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, p50 over {args.repeat} request(s), seconds")
    ok &= print_table(sizes, pages, results, args)
    print(
        f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"whole run {time.monotonic() - started:.0f} s"
    )
    if not args.no_memory:
        print("\nidle memory (benchmarks/memory.py) ...", flush=True)
        command = [sys.executable, str(Path(__file__).resolve().parent / "memory.py")]
        if args.memory_venv:
            command += ["--venv", args.memory_venv]
        ok &= subprocess.run(command, cwd=ROOT).returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
