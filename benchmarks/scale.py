"""Scale: the label round trip and the next-sentence query at 10,000 and 1,000,000 sentences.

Builds two throwaway databases in the same run (two SQLite files, or with --postgres two
PostgreSQL databases it creates and drops), each with a corpus, a target (overlap 2) in
--order (random, the default for new targets, or in_order), and a realistic labelled
prefix: the first --prefix sentences of that order (the same number in both, or with
--prefix-share the same share of each) fully labelled by ten other annotators, eight of
whom hold a live reservation just after it. Then, in child processes
with production settings (DEBUG off) and Django's test Client (in-process, no network),
alternating between the corpora for --rounds rounds, it times:
  round trip     POST /label/<target>/submit/ (htmx) for the sentence shown, which records
                 the label and renders the next card;
  next sentence  annotate.next_sentence() alone, with no live reservation (so the
                 queue query runs), the label recorded untimed in between;
and the parts: the open-sentences search from the cursor, progress, the card read, history.
Prints medians for both sizes and their ratio (target <= 1.5), then EXPLAIN (QUERY PLAN)
of the order's open-sentences query and its cursor move on both corpora, asserting that
each walks an index and never scans or sorts a table that grows with the corpus. Exits 1
when a ratio or a plan check fails.

    .venv/bin/python benchmarks/scale.py
    .venv/bin/python benchmarks/scale.py --postgres
    .venv/bin/python benchmarks/scale.py --small 10000 --large 100000 --labels 50 --rounds 1
    .venv/bin/python benchmarks/scale.py --dynamic   # dynamic overlap on, the prefix agreed
    .venv/bin/python benchmarks/scale.py --posterior # and a posterior threshold (0.8), the
                                                     # prefix's stored posteriors above it
    .venv/bin/python benchmarks/scale.py --order in_order
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

SENTENCE_ID = re.compile(rb'data-sentence-id="(\d+)"')
OTHERS = 10
HOLDERS = 8
POSTERIOR_THRESHOLD = 0.8
PARTS = ["round_trip", "next_sentence", "open_query", "progress", "card", "history"]


def build(args: argparse.Namespace) -> None:
    """Child: migrate, the corpus, the target, the labelled prefix."""
    harness.setup_django(harness.Database(args.vendor, json.loads(args.env), ""))
    import datetime

    import corpus
    from django.core.management import call_command
    from django.utils import timezone

    from annotate.models import Annotation, AnnotationEvent, Assignment, Sentence

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    stats = corpus.generate(args.sentences, seed=5)
    target = harness.make_target(name="Scale", overlap=2, queue_order=args.order)
    if args.dynamic or args.posterior:
        target.dynamic_overlap = True
        target.posterior_threshold = POSTERIOR_THRESHOLD if args.posterior else None
        target.save(update_fields=["dynamic_overlap", "posterior_threshold"])
    others = harness.make_annotators(OTHERS, prefix="other")
    harness.make_annotators(args.rounds, prefix="measured")
    from django.contrib.auth import get_user_model

    other_ids = list(get_user_model().objects.filter(username__in=others).values_list("id", flat=True))
    in_queue_order = ("shuffle_key", "id") if args.order == "random" else ("article_id", "position")
    prefix = list(
        Sentence.objects.order_by(*in_queue_order).values_list("id", flat=True)[: args.prefix + HOLDERS]
    )
    annotations, events = [], []
    for i, sentence_id in enumerate(prefix[: args.prefix]):
        for j in range(2):  # overlap 2: two labels each, from annotators taking turns
            annotator = other_ids[(i + j) % OTHERS]
            # With --dynamic the pairs agree (a disagreeing one would ask for a third and be
            # handed out at once: the search would not walk the labelled prefix).
            label = ("pro", "contra", "neutral")[(i + (0 if args.dynamic or args.posterior else j)) % 3]
            annotations.append(
                Annotation(annotator_id=annotator, sentence_id=sentence_id, target=target, label=label)
            )
            events.append(
                AnnotationEvent(
                    annotator_id=annotator,
                    sentence_id=sentence_id,
                    target=target,
                    action="create",
                    new_label=label,
                )
            )
    Annotation.objects.bulk_create(annotations, batch_size=5000)
    if args.posterior:
        # Every prefix sentence has a stored posterior, above the threshold: the search
        # walking the prefix seeks each one's row and finds it asks for no one more.
        from annotate.models import SentencePosterior

        SentencePosterior.objects.bulk_create(
            [
                SentencePosterior(target=target, sentence_id=sentence_id, label="pro", posterior=0.9, votes=2)
                for sentence_id in prefix[: args.prefix]
            ],
            batch_size=5000,
        )
    AnnotationEvent.objects.bulk_create(events, batch_size=5000)
    now = timezone.now()
    Assignment.objects.bulk_create(
        [
            Assignment(
                annotator_id=other_ids[h],
                target=target,
                sentence_id=prefix[args.prefix + h],
                shown_at=now,
                expires_at=now + datetime.timedelta(days=1),
            )
            for h in range(HOLDERS)
        ]
    )
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as a live database would have
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {"sentences": stats.sentences, "articles": stats.articles, "seconds": time.monotonic() - started}
        )
    )


def measure(args: argparse.Namespace) -> None:
    """Child: time the round trip and the queue on one corpus, one round."""
    harness.setup_django(harness.Database(args.vendor, json.loads(args.env), ""), production=True)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from annotate.models import Assignment, QueueCursor, Target
    from annotate.progress import progress_for
    from annotate.queue.card import read_card
    from annotate.queue.record import annotation_record
    from annotate.queue.reservations import next_sentence
    from annotate.queue.rule import rule_params
    from annotate.views.labelling import history_context

    user = get_user_model().objects.get(username=f"measured-{args.round:03d}")
    target = Target.objects.get(name="Scale")
    client = Client()
    client.force_login(user)
    page = client.get(f"/label/{target.pk}/")
    assert page.status_code == 200, page.status_code
    sentence = int(SENTENCE_ID.search(page.content).group(1))
    url = f"/label/{target.pk}/submit/"
    timings: dict[str, list[float]] = {part: [] for part in PARTS}
    labels = ("pro", "contra", "neutral")
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        response = client.post(url, {"sentence": sentence, "label": "pro"}, HTTP_HX_REQUEST="true")
    sentence = int(SENTENCE_ID.search(response.content).group(1))
    for i in range(args.warmup + args.labels):
        started = time.perf_counter()
        response = client.post(
            url, {"sentence": sentence, "label": labels[i % 3], "spent_ms": 2000}, HTTP_HX_REQUEST="true"
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        sentence = int(SENTENCE_ID.search(response.content).group(1))
        if i >= args.warmup:
            timings["round_trip"].append(elapsed)

    class Request:  # what history_context reads
        pass

    request = Request()
    request.user = user
    for i in range(args.warmup + args.labels):
        Assignment.objects.filter(annotator_id=user.pk, target=target).delete()
        started = time.perf_counter()
        chosen = next_sentence(annotator=user, target=target)
        elapsed = time.perf_counter() - started
        cursor = QueueCursor.objects.get(annotator=user, target=target)
        params = {**rule_params(annotator=user, target=target, now=timezone.now()), **starts(cursor)}
        t0 = time.perf_counter()
        with connection.cursor() as db:
            db.execute(f"{open_query(args.order)} LIMIT 1", params)
            db.fetchall()
        t1 = time.perf_counter()
        progress_for(annotator=user, target=target)
        t2 = time.perf_counter()
        read_card(annotator=user, target=target, sentence_id=chosen.pk)
        t3 = time.perf_counter()
        list(history_context(request, target)["history"])
        t4 = time.perf_counter()
        annotation_record(annotator=user, sentence=chosen, target=target, label=labels[i % 3], spent_ms=2000)
        if i >= args.warmup:
            timings["next_sentence"].append(elapsed)
            timings["open_query"].append(t1 - t0)
            timings["progress"].append(t2 - t1)
            timings["card"].append(t3 - t2)
            timings["history"].append(t4 - t3)
    print(json.dumps({**timings, "queries": len(queries)}))


def open_query(order: str) -> str:
    from annotate.queue import statements

    return statements.OPEN_SHUFFLED if order == "random" else statements.OPEN_IN_ORDER


def starts(cursor) -> dict[str, int]:
    """The search's start parameters from the annotator's cursor (None: the start)."""
    if cursor is None:
        return {"start_article": 0, "start_position": 0, "start_key": 0, "start_sentence": 0}
    return {
        "start_article": cursor.article_id,
        "start_position": cursor.position,
        "start_key": cursor.shuffle_key,
        "start_sentence": cursor.shuffle_sentence_id,
    }


def plan_problems(plan: str, vendor: str) -> list[str]:
    problems = []
    if vendor == "sqlite":
        # A subquery in FROM (MATERIALIZE or CO-ROUTINE <alias>) is read by a SCAN of its
        # own rows, not of a table: the cursor move's one-row subqueries (statements._move)
        # and its constant row. What each subquery reads is checked on its own lines.
        subqueries = set(re.findall(r"\b(?:MATERIALIZE|CO-ROUTINE) (\w+)", plan)) | {"CONSTANT"}
        for line in plan.splitlines():
            if "TEMP B-TREE" in line:
                problems.append(f"sorts in a temporary b-tree: {line.strip()}")
            scan = re.search(r"\bSCAN (\w+)(.*)", line)
            if scan and scan.group(1) in subqueries and "USING" not in scan.group(2):
                continue
            if scan and "USING" not in scan.group(2):
                problems.append(f"full table scan: {line.strip()}")
            elif scan and scan.group(1) not in ("last", "found"):
                # A SCAN USING INDEX walks the whole index; only the last sentence's
                # (ORDER BY ... DESC LIMIT 1) stops at its first step.
                problems.append(f"walks a whole index: {line.strip()}")
        uses_index = (
            "USING INDEX" in plan or "USING COVERING INDEX" in plan or "USING INTEGER PRIMARY KEY" in plan
        )
    else:
        for table in (
            "annotate_sentence",
            "annotate_annotation",
            "annotate_article",
            "annotate_sentenceposterior",
        ):
            if f"Seq Scan on {table}" in plan:
                problems.append(f"sequential scan on {table}")
        if "posterior_lowest" in plan:  # a walk of the range below the threshold a sentence
            problems.append("reads the posteriors below the threshold instead of the sentence's row")
        lines = plan.splitlines()
        for i, line in enumerate(lines):
            if not re.search(r"(->\s+|^\s*)Sort\b", line):
                continue
            # What the sort reads: the first scan below it. A sort of the annotator's own
            # open returns (annotate_labelreturn, a few rows) is bounded; of these, not.
            scanned = next((below for below in lines[i + 1 :] if " on annotate_" in below), "")
            if re.search(r" on annotate_(sentence|annotation|suggestion|assignment|sentencetally) ", scanned):
                problems.append(f"sorts rows instead of walking an index in order: {scanned.strip()}")
        uses_index = "Index Scan" in plan or "Index Only Scan" in plan
    if not uses_index:
        problems.append("no index used")
    return problems


def explain(args: argparse.Namespace) -> None:
    """Child: the query plans of the order's open-sentences query and its cursor move, and
    whether they are index-only."""
    harness.setup_django(harness.Database(args.vendor, json.loads(args.env), ""), production=True)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from annotate.models import QueueCursor, Target
    from annotate.queue import statements
    from annotate.queue.rule import rule_params

    user = get_user_model().objects.get(username="measured-000")
    target = Target.objects.get(name="Scale")
    # What reservations.reserve_next_locked() runs to find the next sentence: the cursor's
    # move, then the search from it (ids only; the card is then read by primary key).
    cursor = QueueCursor.objects.filter(annotator=user, target=target).first()
    params = {**rule_params(annotator=user, target=target, now=timezone.now()), **starts(cursor)}
    move = statements.MOVE_SHUFFLE_CURSOR if args.order == "random" else statements.MOVE_CURSOR
    plans, problems = [], []
    for sql in (f"{open_query(args.order)} LIMIT 1", move):
        with connection.cursor() as db:
            db.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql, params)
            rows = db.fetchall()
        plan = "\n".join(" ".join(str(part) for part in row) for row in rows)
        plans.append(plan)
        problems += plan_problems(plan, connection.vendor)
    print(json.dumps({"plan": plans[0], "move_plan": plans[1], "problems": problems}))


def child(phase: str, args: argparse.Namespace, database: harness.Database, **extra: object) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--vendor", database.vendor]
    command += ["--env", json.dumps(database.env), "--labels", str(args.labels), "--warmup", str(args.warmup)]
    command += ["--rounds", str(args.rounds), "--order", args.order] + (["--dynamic"] if args.dynamic else [])
    command += ["--posterior"] if args.posterior else []
    extra.setdefault("prefix", args.prefix)
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    env = {key: value for key, value in os.environ.items() if key not in ("SQLITE_PATH", "DATABASE_URL")}
    result = subprocess.run(
        command, check=False, capture_output=True, text=True, cwd=harness.ROOT, env=env, timeout=3600
    )
    if result.returncode != 0:
        sys.exit(f"{phase} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=200, help="timed labels a corpus, per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds over the two corpora")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--prefix", type=int, default=5000, help="sentences already fully labelled")
    parser.add_argument(
        "--prefix-share",
        type=float,
        default=None,
        help="instead of --prefix: this share of each corpus already fully labelled (e.g. 0.1)",
    )
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--dynamic", action="store_true", help="the target's dynamic overlap on (most 3)")
    parser.add_argument(
        "--posterior",
        action="store_true",
        help=f"dynamic overlap with a posterior threshold ({POSTERIOR_THRESHOLD}), the prefix's posteriors above it",
    )
    parser.add_argument(
        "--order",
        choices=["random", "in_order"],
        default="random",
        help="the target's queue order (default random, as for new targets)",
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--phase", choices=["build", "measure", "explain"], help=argparse.SUPPRESS)
    parser.add_argument("--vendor", help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    parser.add_argument("--sentences", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        {"build": build, "measure": measure, "explain": explain}[args.phase](args)
        return
    if args.pg_host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback database hosts")
    if args.prefix_share is not None and not 0 <= args.prefix_share < 0.9:
        parser.error("--prefix-share must be in [0, 0.9)")
    small_prefix = round(args.small * args.prefix_share) if args.prefix_share is not None else args.prefix
    if small_prefix + HOLDERS + (args.warmup + args.labels) * 2 * args.rounds > args.small:
        parser.error("the small corpus is too small for that prefix and that many labels")

    workdir = Path(tempfile.mkdtemp(prefix="stance-scale-"))
    ok = True
    try:
        with (
            harness.throwaway_database(
                postgres=args.postgres, name="stance_scale_small", pg_host=args.pg_host, pg_port=args.pg_port,
                workdir=workdir,
            ) as small,
            harness.throwaway_database(
                postgres=args.postgres, name="stance_scale_large", pg_host=args.pg_host, pg_port=args.pg_port,
                workdir=workdir,
            ) as large,
        ):  # fmt: skip
            corpora = {"small": (small, args.small), "large": (large, args.large)}
            prefixes = {}
            for name, (database, size) in corpora.items():
                prefixes[name] = (
                    round(size * args.prefix_share) if args.prefix_share is not None else args.prefix
                )
                print(f"Building {size:,} sentences ({database.label}) ...", flush=True)
                built = child("build", args, database, sentences=size, prefix=prefixes[name])
                print(
                    f"  {built['sentences']:,} sentences in {built['seconds']:.0f} s, "
                    f"the first {prefixes[name]:,} fully labelled",
                    flush=True,
                )
            timings = {name: {part: [] for part in PARTS} for name in corpora}
            queries = {}
            for r in range(args.rounds):
                order = list(corpora) if r % 2 == 0 else list(reversed(corpora))
                for name in order:
                    measured = child("measure", args, corpora[name][0], round=r, prefix=prefixes[name])
                    for part in PARTS:
                        timings[name][part] += measured[part]
                    queries[name] = measured["queries"]
                    print(
                        f"  round {r + 1}, {name}: round trip median "
                        f"{statistics.median(measured['round_trip']) * 1000:.2f} ms",
                        flush=True,
                    )
            plans = {name: child("explain", args, database) for name, (database, _) in corpora.items()}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'median ms':<16}{args.small:>12,}{args.large:>12,}{'ratio':>8}")
    ratios = {}
    for part in PARTS:
        a = statistics.median(timings["small"][part]) * 1000
        b = statistics.median(timings["large"][part]) * 1000
        ratios[part] = b / a
        print(f"{part.replace('_', ' '):<16}{a:>12.2f}{b:>12.2f}{b / a:>8.2f}")
    for part in ("round_trip", "next_sentence"):
        p90s = [harness.percentile([v * 1000 for v in timings[n][part]], 90) for n in corpora]
        print(
            f"{part.replace('_', ' ') + ' p90':<16}{p90s[0]:>12.2f}{p90s[1]:>12.2f}{p90s[1] / p90s[0]:>8.2f}"
        )
    print(f"{'queries a label':<16}{queries['small']:>12}{queries['large']:>12}")
    print(
        f"\nratio large / small: round trip {ratios['round_trip']:.2f}, "
        f"next sentence {ratios['next_sentence']:.2f} (target <= 1.5)"
    )
    print(
        f"\nEXPLAIN of the open-sentences query, {args.order} ({args.large:,} sentences):\n{plans['large']['plan']}"
    )
    for name, (_, size) in corpora.items():
        if plans[name]["problems"]:
            print(f"plan check ({size:,}): FAIL: " + "; ".join(plans[name]["problems"]))
            ok = False
        else:
            print(
                f"plan check ({size:,}): ok (the search and the cursor move walk an index in "
                "queue order, no scan or sort of a growing table)"
            )
    for part in ("round_trip", "next_sentence"):
        if ratios[part] > 1.5:
            print(f"FAIL: {part.replace('_', ' ')} grows with the corpus ({ratios[part]:.2f} > 1.5)")
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
