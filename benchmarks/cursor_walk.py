"""The cursor's walk after a reset, at two sizes: the move statements' seconds and ratio.

Builds a throwaway database a size (SQLite, or with --postgres a PostgreSQL database on
127.0.0.1:5432 created and dropped): sentences in articles of 50, one target (overlap 2),
and one annotator who has labelled every sentence, the worst case of a walk: after a
rewind to the start, each move reads everything the annotator finished before it stands
past the last sentence. Then, in that child process, times --repeat runs of each move
statement (annotate/queue/statements.py) from the reset cursor, each in a transaction
rolled back (so every run walks the whole corpus), and checks where it lands:
  MOVE_CURSOR          the in-order cursor (article, position), past the last sentence
  MOVE_SHUFFLE_CURSOR  the shuffle cursor (shuffle key, id), past the last sentence
Prints the median and the first run at each size and the ratio largest / smallest (linear
growth: about the ratio of the sizes).

    .venv/bin/python benchmarks/cursor_walk.py                        # 20,000 and 200,000 sentences
    .venv/bin/python benchmarks/cursor_walk.py --sizes 2000 20000 --repeat 3
    .venv/bin/python benchmarks/cursor_walk.py --postgres
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

STATEMENTS = ("MOVE_CURSOR", "MOVE_SHUFFLE_CURSOR")
PER_ARTICLE = 50
BATCH = 50_000


def build(sentences: int) -> None:
    """Articles, sentences and one annotator's label on every one of them."""
    from django.contrib.auth import get_user_model

    from annotate.models import Annotation, Article, Sentence

    target = harness.make_target(name="Cursor walk", overlap=2)
    user = get_user_model().objects.create(username="bench-annotator-0")
    for first in range(0, sentences, BATCH):
        count = min(BATCH, sentences - first)
        articles = Article.objects.bulk_create(
            Article(title=f"Article {first + i}", source="Outlet", body="", content_hash=f"walk-{first + i}")
            for i in range(0, count, PER_ARTICLE)
        )
        made = Sentence.objects.bulk_create(
            (
                Sentence(
                    article=articles[i // PER_ARTICLE], position=i % PER_ARTICLE, text="A.", start=0, end=2
                )
                for i in range(count)
            ),
            batch_size=5000,
        )
        Annotation.objects.bulk_create(
            (Annotation(annotator=user, sentence=s, target=target, label="pro") for s in made),
            batch_size=5000,
        )


def measure(args: argparse.Namespace) -> None:
    """Child: build one size, then time each move statement from the reset cursor."""
    harness.setup_django(harness.Database(args.vendor, json.loads(args.env), ""), production=True)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from annotate.models import Sentence, Target
    from annotate.queue import sql, statements
    from annotate.queue.rule import rule_params

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    build(args.sentences)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    built = time.monotonic() - started
    user = get_user_model().objects.get(username="bench-annotator-0")
    target = Target.objects.get(name="Cursor walk")
    params = rule_params(annotator=user, target=target, now=timezone.now())
    sql.fetch(statements.CREATE_CURSOR, params)
    last = Sentence.objects.order_by("article_id", "position").values_list("article_id", "position").last()
    last_shuffled = Sentence.objects.order_by("shuffle_key", "id").values_list("shuffle_key", "id").last()
    past = {
        "MOVE_CURSOR": (last[0], last[1] + 1),
        "MOVE_SHUFFLE_CURSOR": (last_shuffled[0], last_shuffled[1] + 1),
    }
    result: dict[str, object] = {"built": built}
    for name in STATEMENTS:
        seconds = []
        for _ in range(args.repeat):
            with transaction.atomic():
                sql.fetch(
                    'UPDATE "annotate_queuecursor" SET "article_id" = 0, "position" = 0, "shuffle_key" = 0,'
                    ' "shuffle_sentence_id" = 0',
                    {},
                )
                begun = time.perf_counter()
                row = sql.fetch(getattr(statements, name), params)[0]
                seconds.append(time.perf_counter() - begun)
                transaction.set_rollback(True)
            landed = tuple(row[:2]) if name == "MOVE_CURSOR" else tuple(row[-2:])
            assert landed == past[name], (name, landed, past[name])
        result[name] = {"median": statistics.median(seconds), "first": seconds[0]}
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[20_000, 200_000], help="sentences")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sentences", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--vendor", help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args)
        return
    print(f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results = {}
    with harness.temporary_folder("stance-cursor-walk-") as folder:
        for size in args.sizes:
            with harness.throwaway_database(
                postgres=args.postgres, name=f"stance_cursor_{size}", workdir=Path(folder)
            ) as db:
                command = [
                    sys.executable,
                    __file__,
                    "--child",
                    "--sentences",
                    str(size),
                    "--repeat",
                    str(args.repeat),
                ]
                command += ["--vendor", db.vendor, "--env", json.dumps(db.env)]
                output = subprocess.run(
                    command, check=True, stdout=subprocess.PIPE, text=True, cwd=harness.ROOT
                )
                results[size] = json.loads(output.stdout.strip().splitlines()[-1])
            print(
                f"{size:>9,} sentences, all labelled by the annotator (built in {results[size]['built']:.0f} s)"
            )
            for name in STATEMENTS:
                figures = results[size][name]
                print(
                    f"  {name:<20} median {figures['median']:7.3f} s   first {figures['first']:7.3f} s",
                    flush=True,
                )
    small, large = args.sizes
    for name in STATEMENTS:
        ratio = results[large][name]["median"] / results[small][name]["median"]
        print(f"{name}: time ratio {ratio:.1f} for a size ratio of {large / small:.0f}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
