"""Export at scale: stream a million annotations to JSONL and keep memory flat.

Builds a throwaway SQLite database (or uses DATABASE_URL) with SENTENCES synthetic sentences
in articles of 50, each labelled by ANNOTATORS annotators (500,000 x 2 = 1,000,000
annotations by default), and a model version with a suggestion for every sentence. Then
runs, each in its own process, `export_dataset`'s work (annotate.export.export_to_path):
  annotations  one row per label, with splits, as JSONL;
  gold         one row per resolved sentence, with splits, as JSONL.
Prints rows, seconds, rows per second and peak memory (ru_maxrss of the exporting process)
against the 300 MB target.

    .venv/bin/python benchmarks/export.py                        # 500,000 sentences x 2
    .venv/bin/python benchmarks/export.py --sentences 20000      # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = "Benchmark export"
PEAK_TARGET_MB = 300
PER_ARTICLE = 50
BATCH = 50_000
WORDS = (
    "the a of to in and for on with that by as at from Huawei UK Britain China US 5G government "
    "company network telecom equipment officials minister ambassador said would could has have "
    "risk threat trusted partner security spying fair open ban decision report week"
).split()


def setup_django(database: str | None, *, debug: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")
    os.environ["DEBUG"] = "1" if debug else "0"
    # Exports run as in production: without DEBUG, which would also log every query.
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    if database:
        os.environ["SQLITE_PATH"] = database
    import django

    django.setup()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def build(args: argparse.Namespace) -> None:
    """Articles, sentences, every annotator's label on every sentence, and suggestions."""
    setup_django(args.database)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.models import Annotation, Article, ModelVersion, Sentence, Suggestion, Target

    call_command("migrate", verbosity=0)
    rng = random.Random(11)
    target, _ = Target.objects.get_or_create(name=TARGET, defaults={"guidelines": "pro / contra / neutral"})
    users = [
        get_user_model().objects.get_or_create(username=f"bench-annotator-{i}")[0]
        for i in range(args.annotators)
    ]
    version = ModelVersion.objects.create(target=target, status=ModelVersion.Status.READY, train_size=1000)
    labels = ("pro", "contra", "neutral", "neutral")
    started = time.monotonic()
    for first in range(0, args.sentences, BATCH):
        count = min(BATCH, args.sentences - first)
        articles = Article.objects.bulk_create(
            Article(
                title=f"Article {first + i}",
                source=f"Outlet {i % 7}",
                body="",
                content_hash=f"bench-export-{first + i}",
            )
            for i in range(0, count, PER_ARTICLE)
        )
        sentences = Sentence.objects.bulk_create(
            (
                Sentence(
                    article=articles[i // PER_ARTICLE],
                    position=i % PER_ARTICLE,
                    text=(text := " ".join(rng.choices(WORDS, k=rng.randint(10, 28))).capitalize() + "."),
                    start=0,
                    end=len(text),
                )
                for i in range(count)
            ),
            batch_size=5000,
        )
        annotations, suggestions = [], []
        for sentence in sentences:
            label = rng.choice(labels)
            for user in users:
                disagrees = rng.random() < 0.15
                annotations.append(
                    Annotation(
                        annotator=user,
                        sentence=sentence,
                        target=target,
                        label=rng.choice(labels) if disagrees else label,
                        spent_ms=rng.randint(800, 20_000),
                        suggestion_shown=rng.random() < 0.9,
                        accepted_suggestion=rng.random() < 0.3,
                    )
                )
            confidence = round(rng.uniform(0.34, 0.99), 4)
            suggestions.append(
                Suggestion(
                    model_version=version,
                    sentence=sentence,
                    target=target,
                    label=label,
                    confidence=confidence,
                    probabilities={label: confidence},
                )
            )
        Annotation.objects.bulk_create(annotations, batch_size=5000)
        Suggestion.objects.bulk_create(suggestions, batch_size=5000)
        print(
            f"  built {first + count:,} sentences, {(first + count) * len(users):,} annotations "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    target.active_version = version
    target.save(update_fields=["active_version"])


def export(args: argparse.Namespace) -> None:
    """One export, measured in this process."""
    setup_django(args.database, debug=False)
    from annotate.export import ExportSpec, export_to_path
    from annotate.models import Target

    spec = ExportSpec(target=Target.objects.get(name=TARGET), level=args.level, format="jsonl", split=True)
    before = peak_mb()
    path = args.workdir / spec.filename
    started = time.monotonic()
    summary = export_to_path(spec=spec, path=path)
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "rows": summary.rows,
                "seconds": seconds,
                "bytes": path.stat().st_size,
                "start_mb": before,
                "peak_mb": peak_mb(),
            }
        )
    )
    path.unlink()


def card(args: argparse.Namespace) -> None:
    """The gold export's dataset card: a counting pass over the rows, then the agreement."""
    setup_django(args.database, debug=False)
    from annotate.dataset_card import dataset_card
    from annotate.export import ExportSpec, export_summary
    from annotate.models import Target
    from annotate.summary import fresh_summary

    spec = ExportSpec(target=Target.objects.get(name=TARGET), level="gold", format="jsonl", split=True)
    before = peak_mb()
    started = time.monotonic()
    summary = export_summary(spec=spec)
    dataset_card(spec=spec, summary=summary, figures=fresh_summary(target=spec.target))
    seconds = time.monotonic() - started
    print(json.dumps({"rows": summary.rows, "seconds": seconds, "start_mb": before, "peak_mb": peak_mb()}))


def child(phase: str, args: argparse.Namespace, level: str = "", capture: bool = True) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--workdir", str(args.workdir)]
    command += ["--sentences", str(args.sentences), "--annotators", str(args.annotators)]
    if level:
        command += ["--level", level]
    if args.database:
        command += ["--database", args.database]
    result = subprocess.run(command, check=True, capture_output=capture, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1]) if capture else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=500_000)
    parser.add_argument("--annotators", type=int, default=2)
    parser.add_argument("--phase", choices=["build", "export", "card"], help=argparse.SUPPRESS)
    parser.add_argument("--level", choices=["annotations", "gold"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        {"build": build, "export": export, "card": card}[args.phase](args)
        return
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as workdir:
        args.workdir = Path(workdir)
        args.database = None if os.environ.get("DATABASE_URL") else str(args.workdir / "bench.sqlite3")
        print(
            f"Building {args.sentences:,} sentences x {args.annotators} annotators "
            f"= {args.sentences * args.annotators:,} annotations ...",
            flush=True,
        )
        child("build", args, capture=False)
        results = {}
        for level in ("annotations", "gold"):
            print(f"Exporting {level} as JSONL with splits ...", flush=True)
            results[level] = child("export", args, level=level)
        print("Writing the gold export's dataset card ...", flush=True)
        card_result = child("card", args)
    print()
    print(
        f"{'level':<13}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'MB written':>12}{'start MB':>10}{'peak MB':>9}"
    )
    for level, r in results.items():
        print(
            f"{level:<13}{r['rows']:>11,}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>10,.0f}"
            f"{r['bytes'] / 1e6:>12,.0f}{r['start_mb']:>10.0f}{r['peak_mb']:>9.0f}"
        )
    peak = max(r["peak_mb"] for r in results.values())
    verdict = "within" if peak < PEAK_TARGET_MB else "OVER"
    print(f"peak memory: {peak:.0f} MB, {verdict} the {PEAK_TARGET_MB} MB target")
    print(
        f"dataset card (counting pass, then annotate.agreement over every label): "
        f"{card_result['seconds']:.1f} s, peak {card_result['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
