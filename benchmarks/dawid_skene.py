"""Dawid-Skene at two sizes: annotate.dawid_skene.fit on synthetic labels, then the database
side (annotate.aggregation) on a throwaway SQLite file at the smaller size.

Synthetic labels: every sentence labelled by two different annotators (the default
overlap), each with a symmetric confusion matrix of accuracy drawn from 0.55-0.95, true
stances 30/25/45 % pro/contra/neutral, from a seeded numpy generator. Two cases a size:
  typical  20 annotators: few distinct label patterns, which the fit runs on once each;
  spread   one annotator per 50 sentences (2,000 at 100,000 labels, 20,000 at 1,000,000):
           nearly every sentence its own pattern, the fit's worst case.
Prints seconds, EM steps, patterns, the largest error of the estimated accuracies, peak
memory of the fit (tracemalloc: what numpy allocated) and the time ratio of the sizes.

The database part builds SENTENCES/2 x 2 labels with bulk_create (the tally triggers
fire), then times label_arrays (the one query, into numpy), dawid_skene_gold (both
queries and the fit) and the gold export to JSONL, each with its peak (ru_maxrss).

    .venv/bin/python benchmarks/dawid_skene.py                    # 100,000 and 1,000,000
    .venv/bin/python benchmarks/dawid_skene.py --sizes 20000 200000 --no-database
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotate.dawid_skene import fit  # noqa: E402

PRIOR = np.array([0.3, 0.25, 0.45])


def simulate(labels: int, annotators: int, seed: int):
    """Two different annotators' labels on each of labels/2 sentences."""
    rng = np.random.default_rng(seed)
    sentences = labels // 2
    accuracy = rng.uniform(0.55, 0.95, annotators)
    truth = rng.choice(3, size=sentences, p=PRIOR)
    first = rng.integers(0, annotators, sentences)
    second = (first + rng.integers(1, annotators, sentences)) % annotators
    item = np.repeat(np.arange(sentences), 2)
    who = np.stack([first, second], axis=1).ravel()
    right = rng.random(item.size) < accuracy[who]
    given = np.where(right, truth[item], (truth[item] + rng.integers(1, 3, item.size)) % 3)
    return item, who, given, accuracy


def measure(labels: int, annotators: int) -> float:
    item, who, given, accuracy = simulate(labels, annotators, seed=labels + annotators)
    tracemalloc.start()
    started = time.perf_counter()
    model = fit(items=item, annotators=who, labels=given, n_classes=3)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    error = np.abs(model.accuracy - accuracy[model.annotator_ids]).max()
    print(
        f"{labels:>10,} labels {annotators:>6,} annotators: {seconds:6.2f} s, {model.iterations:>4} EM steps "
        f"({'converged' if model.converged else 'NOT converged'}), {model.patterns:>8,} patterns, "
        f"accuracy error <= {error:.3f}, fit peak {peak:,.0f} MB",
        flush=True,
    )
    return seconds


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database(labels: int, annotators: int, workdir: str) -> None:
    """Build labels/2 sentences labelled twice in a throwaway SQLite file; time the loader."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    os.environ["DEBUG"] = "0"
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(Path(workdir) / "bench.sqlite3")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.aggregation import dawid_skene_gold, label_arrays
    from annotate.export import ExportSpec, export_to_path
    from annotate.models import STANCE_LABELS, Annotation, Article, GoldMethod, Sentence, Target

    call_command("migrate", verbosity=0)
    item, who, given, _ = simulate(labels, annotators, seed=1)
    target = Target.objects.create(name="Benchmark Dawid-Skene", gold_method=GoldMethod.DAWID_SKENE)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-ds-{i}") for i in range(annotators)
    )
    rng = random.Random(3)
    started = time.monotonic()
    sentences: list[Sentence] = []
    for first in range(0, labels // 2, 50):
        article = Article.objects.create(
            title=f"A{first}", source="Outlet", body="", content_hash=f"ds-{first}"
        )
        sentences += Sentence.objects.bulk_create(
            Sentence(
                article=article, position=i, text=f"Sentence {first + i} {rng.random()}.", start=0, end=9
            )
            for i in range(min(50, labels // 2 - first))
        )
    Annotation.objects.bulk_create(
        (
            Annotation(annotator=users[w], sentence=sentences[i], target=target, label=STANCE_LABELS[g])
            for i, w, g in zip(item.tolist(), who.tolist(), given.tolist(), strict=True)
        ),
        batch_size=5000,
    )
    print(
        f"  built {labels // 2:,} sentences and {labels:,} labels in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    for name, work in (
        ("label_arrays (one query into numpy)", lambda: label_arrays(target=target)),
        ("dawid_skene_gold (both queries and the fit)", lambda: dawid_skene_gold(target=target)),
        (
            "gold export to JSONL",
            lambda: export_to_path(
                spec=ExportSpec(target=target, level="gold"), path=Path(workdir) / "gold.jsonl"
            ),
        ),
    ):
        started = time.monotonic()
        work()
        print(f"  {name}: {time.monotonic() - started:.2f} s, process peak {peak_mb():,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000])
    parser.add_argument("--no-database", action="store_true", help="Only the synthetic arrays.")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    small, large = args.sizes
    for case, annotators in (("typical", lambda n: 20), ("spread", lambda n: max(2, n // 50))):
        print(f"{case}:")
        seconds = [measure(n, annotators(n)) for n in (small, large)]
        print(f"  time ratio {seconds[1] / seconds[0]:.1f} for a size ratio of {large / small:.0f}")
    if not args.no_database:
        print(
            f"database ({'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}), {small:,} labels, 20 annotators:"
        )
        with tempfile.TemporaryDirectory(prefix="stance-bench-ds-") as workdir:
            database(small, 20, workdir)
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
