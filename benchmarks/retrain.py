"""Retrain at scale: the tool's `retrain` against plain scikit-learn on the same texts.

Builds a throwaway SQLite database (or uses DATABASE_URL) with LABELLED labelled and
UNLABELLED unlabelled synthetic sentences, then runs, each in its own process:
  tool      training.retrain(): read gold labels, cross-validate, fit, predict every
            sentence and write its suggestion, switch the active model;
  baseline  the same scikit-learn work (annotate.classifier.train and predict in batches)
            on the same texts held in memory, writing nothing.
The tool runs twice, from the same state (no version, no suggestion): with one worker,
predicting every suggestion in its own process as before there was a pool, and with
--workers (settings.MODEL_WORKERS by default) spawned prediction workers
(annotate.predict_pool). With SENTENCE_EMBEDDINGS on, every sentence is embedded first, as
the import's task would have, and not timed (at about 40 sentences a second on two cores a
large corpus takes hours: SENTENCE_EMBEDDINGS=0 leaves the block out). Prints wall time
and peak memory of each (the retrain's process and its largest worker), the ratio to
scikit-learn, and suggestions written per second with one worker and with N, and their
ratio.

    .venv/bin/python benchmarks/retrain.py                      # 100,000 + 1,000,000
    SENTENCE_EMBEDDINGS=0 .venv/bin/python benchmarks/retrain.py --labelled 5000 --unlabelled 50000
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

VOCABULARY = {
    "pro": "trusted safe reliable partner welcome open fair investment jobs cooperation".split(),
    "contra": "risk threat spying ban exclude danger warning security concerns espionage".split(),
    "neutral": "said monday report network decision week council ministers plans statement".split(),
}
FILLER = (
    "the a of to in and for on with that by as at from Huawei UK Britain China US 5G government "
    "company network telecom equipment officials minister ambassador said would could has have"
).split()


def sentence(rng: random.Random, label: str) -> str:
    words = rng.choices(FILLER, k=rng.randint(10, 28)) + rng.choices(VOCABULARY[label], k=rng.randint(1, 4))
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def setup_django(database: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")
    os.environ["DEBUG"] = "1"
    if database:
        os.environ["SQLITE_PATH"] = database
    import django

    django.setup()


def build(args: argparse.Namespace) -> None:
    """Create the corpus and labels; write the labelled texts for the baseline."""
    setup_django(args.database)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.models import Annotation, Article, Sentence, Target

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    target, _ = Target.objects.get_or_create(name="Benchmark")
    annotator, _ = get_user_model().objects.get_or_create(username="bench-annotator")
    total = args.labelled + args.unlabelled
    per_article = 50
    started = time.monotonic()
    labelled_out = (args.workdir / "labelled.jsonl").open("w")
    next_label = 0
    for first in range(0, total, 50_000):
        count = min(50_000, total - first)
        articles = Article.objects.bulk_create(
            [
                Article(
                    title=f"Article {first + i}",
                    source=f"Outlet {i % 7}",
                    body="",
                    content_hash=f"bench-{first + i}",
                )
                for i in range(0, count, per_article)
            ]
        )
        sentences, labels = [], []
        for i in range(count):
            label = rng.choice(("pro", "contra", "neutral", "neutral"))
            text = sentence(rng, label)
            if rng.random() < 0.15:  # annotators disagree with the words now and then
                label = rng.choice(("pro", "contra", "neutral"))
            sentences.append(
                Sentence(
                    article=articles[i // per_article],
                    position=i % per_article,
                    text=text,
                    start=0,
                    end=len(text),
                )
            )
            labels.append(label)
        created = Sentence.objects.bulk_create(sentences, batch_size=5000)
        annotations = []
        for s, label in zip(created, labels, strict=True):
            if next_label < args.labelled and rng.random() < args.labelled / total * 1.2:
                annotations.append(Annotation(annotator=annotator, sentence=s, target=target, label=label))
                labelled_out.write(json.dumps({"text": s.text, "label": label}) + "\n")
                next_label += 1
        Annotation.objects.bulk_create(annotations, batch_size=5000)
        print(
            f"  built {first + count:,} sentences, {next_label:,} labelled ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    labelled_out.close()
    print(f"corpus: {Sentence.objects.count():,} sentences, {Annotation.objects.count():,} labels")


def run_tool(args: argparse.Namespace) -> None:
    setup_django(args.database)
    from django.conf import settings

    from annotate.models import Target
    from annotate.training import retrain

    workers = settings.MODEL_WORKERS if args.workers is None else args.workers
    started = time.monotonic()
    result = retrain(target=Target.objects.get(name="Benchmark"), min_labels=1, workers=workers)
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "workers": workers,
                "seconds": seconds,
                "suggest_seconds": result.suggest_seconds,
                "predicted": result.sentences_predicted,
                "train_size": result.train_size,
                "f_avg": result.metrics.f_avg,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                # The largest of the prediction workers (0 with one worker: none is started).
                "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def embed(args: argparse.Namespace) -> None:
    """Every sentence's embedding stored, as the import's task leaves them, when
    SENTENCE_EMBEDDINGS is on: both runs then read the same stored vectors."""
    setup_django(args.database)
    from annotate.embedding_store import embeddings_compute, enabled

    started = time.monotonic()
    done = embeddings_compute() if enabled() else 0
    print(json.dumps({"enabled": enabled(), "embedded": done, "seconds": time.monotonic() - started}))


def reset(args: argparse.Namespace) -> None:
    """Back to the state the first run started from: no version, no suggestion."""
    setup_django(args.database)
    from annotate.models import ModelVersion, Suggestion, Target

    Target.objects.update(active_version=None)
    Suggestion.objects.all().delete()
    ModelVersion.objects.all().delete()


def run_baseline(args: argparse.Namespace) -> None:
    from annotate.classifier import predict, train

    labelled = [json.loads(line) for line in (args.workdir / "labelled.jsonl").read_text().splitlines()]
    everything = (args.workdir / "all.txt").read_text().splitlines()
    started = time.monotonic()
    model = train([r["text"] for r in labelled], [r["label"] for r in labelled])
    predicted = sum(
        len(predict(model.pipeline, everything[start : start + 5000]))
        for start in range(0, len(everything), 5000)
    )
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "predicted": predicted,
                "f_avg": model.metrics.f_avg,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def dump_all_texts(args: argparse.Namespace) -> None:
    setup_django(args.database)
    from annotate.models import Sentence

    with open(args.workdir / "all.txt", "w") as out:
        for text in (
            Sentence.objects.order_by("id").values_list("text", flat=True).iterator(chunk_size=10_000)
        ):
            out.write(text.replace("\n", " ") + "\n")


def child(phase: str, args: argparse.Namespace, capture: bool = True, workers: int | None = None) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--workdir", str(args.workdir)]
    command += ["--labelled", str(args.labelled), "--unlabelled", str(args.unlabelled)]
    if args.database:
        command += ["--database", args.database]
    if workers is not None:
        command += ["--workers", str(workers)]
    result = subprocess.run(command, check=True, capture_output=capture, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1]) if capture else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labelled", type=int, default=100_000)
    parser.add_argument("--unlabelled", type=int, default=1_000_000)
    parser.add_argument(
        "--workers",
        type=int,
        help="prediction workers of the second run (default: settings.MODEL_WORKERS); the first has one",
    )
    parser.add_argument(
        "--phase", choices=["build", "dump", "embed", "tool", "reset", "baseline"], help=argparse.SUPPRESS
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phases = {
            "build": build,
            "dump": dump_all_texts,
            "tool": run_tool,
            "reset": reset,
            "embed": embed,
            "baseline": run_baseline,
        }
        phases[args.phase](args)
        return
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as workdir:
        args.workdir = Path(workdir)
        args.database = None if os.environ.get("DATABASE_URL") else str(args.workdir / "bench.sqlite3")
        print(
            f"Building {args.labelled:,} labelled + {args.unlabelled:,} unlabelled sentences ...", flush=True
        )
        child("build", args, capture=False)
        child("dump", args, capture=False)
        embedded = child("embed", args)
        if embedded["enabled"]:
            print(
                f"Embedded {embedded['embedded']:,} sentences in {embedded['seconds']:.0f} s (not timed below)"
            )
        else:
            print("SENTENCE_EMBEDDINGS is off: TF-IDF blocks only")
        print("Running plain scikit-learn ...", flush=True)
        baseline = child("baseline", args)
        print("Running retrain with one worker ...", flush=True)
        tool = child("tool", args, workers=1)
        child("reset", args, capture=False)
        print(f"Running retrain with {args.workers or 'MODEL_WORKERS'} workers ...", flush=True)
        pooled = child("tool", args, workers=args.workers)
    print()
    print(f"{'':<24}{'wall s':>8}{'suggest s':>11}{'sugg./s':>9}{'peak MB':>9}{'worker MB':>11}{'F_avg':>7}")
    print(
        f"{'scikit-learn alone':<24}{baseline['seconds']:>8.1f}{'':>11}{'':>9}"
        f"{baseline['peak_mb']:>9.0f}{'':>11}{baseline['f_avg']:>7.3f}"
    )
    for run in (tool, pooled):
        name = f"retrain, {run['workers']} worker{'s' if run['workers'] > 1 else ''}"
        worker_mb = f"{run['worker_peak_mb']:.0f}" if run["worker_peak_mb"] else "-"
        print(
            f"{name:<24}{run['seconds']:>8.1f}{run['suggest_seconds']:>11.1f}"
            f"{run['predicted'] / run['suggest_seconds']:>9,.0f}{run['peak_mb']:>9.0f}"
            f"{worker_mb:>11}{run['f_avg']:>7.3f}"
        )
    print(f"ratio tool / scikit-learn: {tool['seconds'] / baseline['seconds']:.2f} with one worker, ", end="")
    print(f"{pooled['seconds'] / baseline['seconds']:.2f} with {pooled['workers']} (target <= 1.5)")
    # Each worker holds its own copy of the model: the machine needs the retrain's process
    # and every worker at their peak, at worst at once.
    pooled_total = pooled["peak_mb"] + pooled["workers"] * pooled["worker_peak_mb"]
    print(
        f"peak memory: {max(tool['peak_mb'], baseline['peak_mb']):.0f} MB with one worker, at most "
        f"{pooled_total:.0f} MB with {pooled['workers']} (the retrain and each worker at its peak; target < 4096)"
    )
    rates = [run["predicted"] / run["suggest_seconds"] for run in (tool, pooled)]
    print(
        f"suggestions: {tool['predicted']:,} predicted and written, {rates[0]:,.0f} sentences/s with one "
        f"worker, {rates[1]:,.0f} with {pooled['workers']}: {rates[1] / rates[0]:.2f}x"
    )
    print(f"load average: {Path('/proc/loadavg').read_text().strip()} (the machine may be shared)")


if __name__ == "__main__":
    main()
