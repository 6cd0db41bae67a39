"""Migration 0016's backfill at two sizes: the seconds `backfill_exact` takes to key every
stored sentence and set its exact duplicate group, as `manage.py migrate` runs it on an
existing corpus (inside the migration's transaction).

Each size gets a throwaway database (SQLite, or PostgreSQL with --postgres) with N
synthetic sentences from benchmarks/corpus.py and every text_key and duplicate_group
cleared, as before the migration; the backfill runs in a child process per size.

    .venv/bin/python benchmarks/backfill.py                    # 100,000 and 1,000,000
    .venv/bin/python benchmarks/backfill.py --sizes 20000 200000 --postgres
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


def child(n: int, env: dict[str, str]) -> None:
    harness.setup_django(harness.Database("", env, ""))
    import corpus
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotate.duplicate_groups import backfill_exact
    from annotate.models import Sentence

    call_command("migrate", verbosity=0)
    corpus.generate(n, seed=n)
    Sentence.objects.update(text_key=None, duplicate_group=None)
    started = time.perf_counter()
    with transaction.atomic():
        backfill_exact(connection)
    seconds = time.perf_counter() - started
    missing = Sentence.objects.filter(duplicate_group=None).count()
    print(json.dumps({"seconds": seconds, "missing": missing}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(args.env))
        return
    print(f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    figures = []
    with harness.temporary_folder("stance-backfill-") as folder:
        for n in args.sizes:
            with harness.throwaway_database(
                postgres=args.postgres, name=f"stance_backfill_{n}", workdir=Path(folder)
            ) as database:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(n), "--env", json.dumps(database.env)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                result = json.loads(out.stdout.strip().splitlines()[-1])
                figures.append(result["seconds"])
                print(
                    f"{n:>9,} sentences ({database.label}): backfill {result['seconds']:.1f} s, "
                    f"{n / result['seconds']:,.0f} sentences/s, {result['missing']} left without a group",
                    flush=True,
                )
    print(f"time ratio {figures[1] / figures[0]:.1f} for a size ratio of {args.sizes[1] / args.sizes[0]:.0f}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
