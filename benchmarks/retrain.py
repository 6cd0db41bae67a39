"""Retrain at scale: the tool's `retrain` against plain scikit-learn on the same texts.

Builds a throwaway SQLite database (or uses DATABASE_URL) with LABELLED labelled and
UNLABELLED unlabelled synthetic sentences, then runs, each in its own process:
  tool      training.retrain(): read gold labels, cross-validate, fit, predict every
            sentence and write its suggestion, switch the active model;
  baseline  the same scikit-learn work (annotate.classifier.train and predict in batches)
            on the same texts held in memory, writing nothing.
Prints wall time and peak memory of each, the ratio, and suggestions written per second.

    .venv/bin/python benchmarks/retrain.py                      # 100,000 + 1,000,000
    .venv/bin/python benchmarks/retrain.py --labelled 5000 --unlabelled 50000
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
    from annotate.models import Target
    from annotate.training import retrain

    started = time.monotonic()
    result = retrain(target=Target.objects.get(name="Benchmark"), min_labels=1)
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "suggest_seconds": result.suggest_seconds,
                "predicted": result.sentences_predicted,
                "train_size": result.train_size,
                "f_avg": result.metrics.f_avg,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


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


def child(phase: str, args: argparse.Namespace, capture: bool = True) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--workdir", str(args.workdir)]
    command += ["--labelled", str(args.labelled), "--unlabelled", str(args.unlabelled)]
    if args.database:
        command += ["--database", args.database]
    result = subprocess.run(command, check=True, capture_output=capture, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1]) if capture else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--labelled", type=int, default=100_000)
    parser.add_argument("--unlabelled", type=int, default=1_000_000)
    parser.add_argument("--phase", choices=["build", "dump", "tool", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        {"build": build, "dump": dump_all_texts, "tool": run_tool, "baseline": run_baseline}[args.phase](args)
        return
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as workdir:
        args.workdir = Path(workdir)
        args.database = None if os.environ.get("DATABASE_URL") else str(args.workdir / "bench.sqlite3")
        print(
            f"Building {args.labelled:,} labelled + {args.unlabelled:,} unlabelled sentences ...", flush=True
        )
        child("build", args, capture=False)
        child("dump", args, capture=False)
        print("Running plain scikit-learn ...", flush=True)
        baseline = child("baseline", args)
        print("Running retrain ...", flush=True)
        tool = child("tool", args)
    ratio = tool["seconds"] / baseline["seconds"]
    print()
    print(f"{'':<22}{'wall s':>10}{'peak MB':>10}{'F_avg':>8}")
    print(
        f"{'scikit-learn alone':<22}{baseline['seconds']:>10.1f}{baseline['peak_mb']:>10.0f}{baseline['f_avg']:>8.3f}"
    )
    print(f"{'retrain (the tool)':<22}{tool['seconds']:>10.1f}{tool['peak_mb']:>10.0f}{tool['f_avg']:>8.3f}")
    print(f"ratio tool / scikit-learn: {ratio:.2f} (target <= 1.5)")
    print(f"peak memory: {max(tool['peak_mb'], baseline['peak_mb']):.0f} MB (target < 4096)")
    print(
        f"suggestions: {tool['predicted']:,} predicted and written in {tool['suggest_seconds']:.1f} s, "
        f"{tool['predicted'] / tool['suggest_seconds']:,.0f} sentences/s"
    )


if __name__ == "__main__":
    main()
