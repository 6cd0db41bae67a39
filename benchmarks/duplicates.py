"""Near-duplicate search at two sizes: the time of annotate.duplicates.sentence_groups on
synthetic news sentences (benchmarks/corpus.py's vocabulary, whose sentences share many
5-grams: harder than real prose) with 0.1 % planted reprints with one word changed, and the
ratio of the two times (linear growth: about the ratio of the sizes).

    .venv/bin/python benchmarks/duplicates.py                 # 100,000 and 1,000,000
    .venv/bin/python benchmarks/duplicates.py 20000 200000

No database: the scan's database side reads (id, text) in one pass and writes changed rows.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from corpus import make_sentence  # noqa: E402

from annotate.duplicates import sentence_groups, similarity  # noqa: E402


def measure(n: int) -> float:
    rng = random.Random(n)
    texts = [make_sentence(rng) for _ in range(n)]
    planted = []
    for _ in range(n // 1000):
        i = rng.randrange(n)
        words = texts[i].split()
        words[rng.randrange(len(words))] = "replacement"
        texts.append(" ".join(words))
        planted.append((i, len(texts) - 1))
    started = time.perf_counter()
    groups = sentence_groups(enumerate(texts))
    seconds = time.perf_counter() - started
    at_threshold = [(i, j) for i, j in planted if similarity(texts[i], texts[j]) >= 0.7]
    found = sum(groups.group[i] == groups.group[j] for i, j in at_threshold)
    print(
        f"{len(texts):>9,} sentences: {seconds:6.1f} s, {groups.exact_links:,} exact and {groups.near_links:,} "
        f"near links; planted pairs at or above the threshold found {found}/{len(at_threshold)}",
        flush=True,
    )
    return seconds


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    small, large = (measure(n) for n in sizes)
    print(f"time ratio {large / small:.1f} for a size ratio of {sizes[1] / sizes[0]:.0f}")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
