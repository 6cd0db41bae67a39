"""How long annotators' label round trips wait while a big import runs.

An annotator process labels sentence after sentence (`queue.loop.label_and_next`, the
labelling page's round trip) against a throwaway database while this process runs
`manage.py import_articles` (or `import_labels`) on a generated file. Printed: the worst
and the 99th-percentile round trip during the import, at two import sizes, and the ratio
of the worst waits. Imports that commit in bounded batches keep the worst wait about the
same at both sizes (ratio near 1); one transaction for the whole run makes it grow with
the file (the ratio near the size ratio).

    .venv/bin/python benchmarks/import_lock.py                        # SQLite, articles
    .venv/bin/python benchmarks/import_lock.py --kind labels --sizes 2000 20000
    .venv/bin/python benchmarks/import_lock.py --postgres             # 127.0.0.1:5432

Each size runs in a child process of its own (a fresh database); the annotator is a
grandchild. Everything stays on this machine, and every loop is bounded in time.

Measured on the 2-core machine shared with other work (load average 4-11):

| run | before (one transaction) | after (batches) |
|---|---|---|
| SQLite import_articles 2,000 / 10,000 (before), 10,000 / 100,000 (after) | worst 10.9 s / 30.5 s (the busy timeout) | worst 0.36 s / 0.52 s, ratio 1.47 |
| SQLite import_labels 2,000 / 20,000 | - | worst 0.44 s / 1.14 s (the 20,000 new sentences' one transaction) |
| PostgreSQL import_labels 2,000 / 20,000 | worst 8.5 s / 48.3 s, ratio 5.70 | worst 0.96 s / 0.82 s, ratio 0.86 |
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from corpus import generate, make_sentence  # noqa: E402
from harness import (  # noqa: E402
    Database,
    percentile,
    setup_django,
    temporary_folder,
    throwaway_database,
)

SENTENCES_PER_ARTICLE = 30
LABELLER_SECONDS_MAX = 1800


def write_articles(path: Path, sentences: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        made = 0
        while made < sentences:
            texts = [make_sentence(rng) for _ in range(min(SENTENCES_PER_ARTICLE, sentences - made))]
            out.write(json.dumps({"title": texts[0][:60], "body": " ".join(texts)}) + "\n")
            made += len(texts)


def write_labels(path: Path, rows: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("text,label\n")
        for number in range(rows):
            text = make_sentence(rng).replace(",", "")
            out.write(f"{text} ({number}),{rng.choice(['pro', 'contra', 'neutral'])}\n")


def labeller(stop_file: Path, username: str, target_name: str) -> None:
    """Label until `stop_file` appears; print each round trip's seconds as JSON."""
    from django.contrib.auth import get_user_model
    from django.db import OperationalError

    from annotate.models import Target
    from annotate.queue.loop import label_and_next
    from annotate.queue.reservations import next_sentence_id

    annotator = get_user_model().objects.get(username=username)
    target = Target.objects.get(name=target_name)
    _, sentence_id = next_sentence_id(annotator=annotator, target=target)
    Path(str(stop_file) + ".ready").touch()
    waits: list[tuple[float, float]] = []  # (started, seconds)
    deadline = time.monotonic() + LABELLER_SECONDS_MAX
    while sentence_id is not None and not stop_file.exists() and time.monotonic() < deadline:
        started = time.monotonic()
        # "database is locked" after SQLite's busy timeout: the round trip waited that long.
        with contextlib.suppress(OperationalError):
            sentence_id = label_and_next(
                annotator=annotator, target_id=target.pk, sentence_id=sentence_id, label="pro"
            ).next_sentence_id
        waits.append((time.time(), time.monotonic() - started))
        time.sleep(0.05)  # an annotator reads before the next key press; 20 labels a second at most
    print(json.dumps(waits))


def run_one(kind: str, size: int, database: Database, workdir: Path) -> dict[str, object]:
    """Seed, start the annotator, import `size` sentences or labels, report the waits."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.models import Target

    call_command("migrate", verbosity=0)
    generate(5000, seed=1)
    target = Target.objects.create(name="Bench", overlap=2)
    get_user_model().objects.create(username="bench-annotator")
    rng = random.Random(size)
    path = workdir / ("import.jsonl" if kind == "articles" else "labels.csv")
    (write_articles if kind == "articles" else write_labels)(path, size, rng)
    stop = workdir / "stop"
    child = subprocess.Popen(
        [sys.executable, __file__, "--labeller", str(stop), "bench-annotator", target.name],
        env={**os.environ, **database.env},
        stdout=subprocess.PIPE,
        text=True,
    )
    for _ in range(600):  # the annotator's first sentence is reserved before the import starts
        if Path(str(stop) + ".ready").exists() or child.poll() is not None:
            break
        time.sleep(0.1)
    time.sleep(1)
    began = time.time()
    if kind == "articles":
        call_command("import_articles", str(path))
    else:
        call_command("import_labels", str(path), "--target", target.name, "--annotator", "bench-import")
    ended = time.time()
    stop.touch()
    out, _ = child.communicate(timeout=120)
    during = [seconds for started, seconds in json.loads(out) if began <= started <= ended + 30]
    return {
        "kind": kind,
        "size": size,
        "database": database.vendor,
        "import_s": round(ended - began, 1),
        "round_trips": len(during),
        "worst_s": round(max(during, default=0.0), 3),
        "p99_s": round(percentile(during, 99), 3) if during else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kind", choices=["articles", "labels"], default="articles")
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--postgres", action="store_true", help="A throwaway database on 127.0.0.1:5432.")
    parser.add_argument("--labeller", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.labeller:
        _django_from_env()
        labeller(Path(args.labeller[0]), args.labeller[1], args.labeller[2])
        return
    if args.one:
        with temporary_folder("import-lock-") as folder:
            workdir = Path(folder)
            with throwaway_database(postgres=args.postgres, name="import_lock", workdir=workdir) as database:
                setup_django(database)
                print(json.dumps(run_one(args.kind, args.one, database, workdir)))
        return

    results = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--kind", args.kind, "--one", str(size)]
        command += ["--postgres"] if args.postgres else []
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{result['database']} import_{args.kind} of {size:,}: {result['import_s']} s, "
            f"{result['round_trips']} round trips during it, worst {result['worst_s']} s, "
            f"p99 {result['p99_s']} s",
            flush=True,
        )
    small, large = results
    ratio = large["worst_s"] / small["worst_s"] if small["worst_s"] else float("inf")
    print(f"worst wait ratio {args.sizes[1]:,} / {args.sizes[0]:,}: {ratio:.2f}")
    print(f"/proc/loadavg: {Path('/proc/loadavg').read_text().strip()}")


def _django_from_env() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


if __name__ == "__main__":
    main()
