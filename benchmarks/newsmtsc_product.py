"""NewsMTSC through the product's own commands, with and without sentence embeddings.

The product trains one model a target, so the three persons NewsMTSC mentions most become
targets (Trump, Clinton, Obama, each its own name as its alias: marked in the text before
TF-IDF). Each run, in its own process on a throwaway SQLite database:
  1. `import_articles --unit text` stores the sentences, each its own article;
  2. `import_labels` gives each target its train-split labels (one annotator, overlap 1,
     no evaluation slice: the devtest splits are the held-out data); a sentence whose
     mentions of one target were given different sentiments is left out;
  3. with SENTENCE_EMBEDDINGS=1, what the task worker does after an import: every sentence
     embedded once and stored (annotate.embedding_store.embeddings_compute), timed;
  4. `retrain --target NAME` for each target: grouped cross-validation, fit, a suggestion
     for every sentence; the suggestions for the devtest sentences are then scored.
F_avg is pooled over the three targets' devtest examples (mt and rw together), with a
paired bootstrap 95 % interval of the difference (sentences resampled).

Measured (4 Dec 2026, 2 shared cores, load 3-5), F_avg x 100:

    target   train  devtest  CV tfidf  CV +emb  dev tfidf  dev +emb
    Trump      830      241      56.1     68.9       50.3      56.4
    Clinton    358       92      68.1     75.7       63.7      72.8
    Obama      328       94      54.2     66.0       55.5      58.1
    pooled              427                          61.6      66.1  +4.6 [+0.3, +9.0]

(both columns with the targets' names marked; the embedding's the product's default, its
64 leading principal components; with the whole vector, before, pooled 66.7, +5.1
[+0.7, +9.6]). Retrain seconds for the three targets, vectors stored: TF-IDF 53,
with the embedding 55 (1.05x); embedding the 1,919 sentences once: 63 s.

    .venv/bin/python benchmarks/newsmtsc_product.py /path/to/NewsMTSC-dataset
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = ("Trump", "Clinton", "Obama")
POLARITY = {2.0: "contra", 4.0: "neutral", 6.0: "pro"}


def examples(path: Path) -> dict[tuple[str, str], str]:
    """(target, sentence) to label, for the TARGETS; sentences with conflicting labels left out."""
    found: dict[tuple[str, str], set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        text = " ".join(record["sentence_normalized"].split())
        for mention in record["targets"]:
            words = re.findall(r"\w+", mention["mention"])
            if words and words[-1] in TARGETS:
                found.setdefault((words[-1], text), set()).add(POLARITY[mention["polarity"]])
    return {key: labels.pop() for key, labels in found.items() if len(labels) == 1}


def run_one(data: Path, folder: Path) -> dict[str, object]:
    """One run inside this process (the environment names its database)."""
    import django

    django.setup()
    from django.core.management import call_command

    from annotate.embedding_store import embeddings_compute, enabled
    from annotate.models import ModelVersion, Sentence, Suggestion, Target

    call_command("migrate", verbosity=0)
    train = examples(data / "train.jsonl")
    devtest = {**examples(data / "devtest_mt.jsonl"), **examples(data / "devtest_rw.jsonl")}
    articles = folder / "devtest.jsonl"
    # Every sentence its own article (unit text), the train ones too: the labels then find
    # their sentences, and cross-validation groups by sentence (and duplicate group), not by
    # the one article import_labels would make of a file.
    texts = sorted({text for _, text in devtest} | {text for name, text in train if name in TARGETS})
    articles.write_text("".join(json.dumps({"title": t[:60], "body": t}) + "\n" for t in texts))
    call_command("import_articles", str(articles), "--unit", "text", verbosity=0, stdout=io.StringIO())
    for name in TARGETS:
        Target.objects.create(name=name, aliases=[name], overlap=1, control_share=0)
        rows = folder / f"train-{name}.jsonl"
        rows.write_text(
            "".join(
                json.dumps({"text": t, "label": y}) + "\n" for (n, t), y in sorted(train.items()) if n == name
            )
        )
        call_command(
            "import_labels", str(rows), "--target", name, "--annotator", "newsmtsc", stdout=io.StringIO()
        )
    embed_seconds = 0.0
    if enabled():
        started = time.monotonic()
        embedded = embeddings_compute()
        embed_seconds = time.monotonic() - started
    else:
        embedded = 0
    results: dict[str, object] = {"embedded": embedded, "embed_seconds": embed_seconds, "targets": {}}
    by_text = dict(Sentence.objects.values_list("text", "id"))
    for name in TARGETS:
        started = time.monotonic()
        call_command("retrain", "--target", name, stdout=io.StringIO())
        seconds = time.monotonic() - started
        target = Target.objects.get(name=name)
        version = ModelVersion.objects.get(pk=target.active_version_id)
        suggested = dict(Suggestion.objects.filter(model_version=version).values_list("sentence_id", "label"))
        rows_scored = [
            (text, label, suggested[by_text[text]])
            for (n, text), label in sorted(devtest.items())
            if n == name
        ]
        results["targets"][name] = {  # type: ignore[index]
            "train": version.train_size,
            "cv_f_avg": version.metrics["f_avg"],
            "retrain_seconds": seconds,
            "devtest": rows_scored,
        }
    return results


def f_avg(pairs: list[tuple[str, str]]) -> float:
    scores = []
    for label in ("pro", "contra"):
        tp = sum(1 for t, p in pairs if t == p == label)
        denominator = sum(t == label for t, _ in pairs) + sum(p == label for _, p in pairs)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return sum(scores) / 2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, help="the NewsMTSC-dataset folder")
    parser.add_argument("--one", choices=["0", "1"], help=argparse.SUPPRESS)  # a child run
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.data, Path(os.environ["MODEL_DIR"]).parent)))
        return
    runs = {}
    for mode in ("0", "1"):
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "stance.settings",
                "SECRET_KEY": "newsmtsc-benchmark-not-secret",
                "SQLITE_PATH": f"{folder}/db.sqlite3",
                "MODEL_DIR": f"{folder}/models",
                "SENTENCE_EMBEDDINGS": mode,
            }
            env.pop("DATABASE_URL", None)
            done = subprocess.run(
                [sys.executable, __file__, str(args.data), "--one", mode],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                sys.exit(done.stderr)
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])

    import numpy as np

    print(
        "NewsMTSC through import_articles, import_labels and retrain; F_avg x 100 on devtest_mt + devtest_rw"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(
        f"{'target':<8} {'train':>6} {'devtest':>7} {'CV tfidf':>9} {'CV +emb':>8} {'dev tfidf':>10} {'dev +emb':>9}"
    )
    pooled: dict[str, list[tuple[str, str, str]]] = {"0": [], "1": []}
    for name in TARGETS:
        plain, embedded = runs["0"]["targets"][name], runs["1"]["targets"][name]
        for mode, run in (("0", plain), ("1", embedded)):
            pooled[mode].extend((text, t, p) for text, t, p in run["devtest"])
        print(
            f"{name:<8} {plain['train']:>6} {len(plain['devtest']):>7} {100 * plain['cv_f_avg']:9.1f} "
            f"{100 * embedded['cv_f_avg']:8.1f} {100 * f_avg([(t, p) for _, t, p in plain['devtest']]):10.1f} "
            f"{100 * f_avg([(t, p) for _, t, p in embedded['devtest']]):9.1f}"
        )
    base = [(t, p) for _, t, p in pooled["0"]]
    other = [(t, p) for _, t, p in pooled["1"]]
    sentences = [text for text, _, _ in pooled["0"]]
    ids = sorted(set(sentences))
    rows = {s: [i for i, x in enumerate(sentences) if x == s] for s in ids}
    rng = np.random.default_rng(0)
    differences = []
    for _ in range(args.rounds):
        pick = [i for s in rng.choice(len(ids), size=len(ids)) for i in rows[ids[s]]]
        differences.append(f_avg([other[i] for i in pick]) - f_avg([base[i] for i in pick]))
    low, high = np.percentile(differences, [2.5, 97.5])
    print(
        f"pooled   {'':>6} {len(base):>7} {'':>9} {'':>8} {100 * f_avg(base):10.1f} {100 * f_avg(other):9.1f}"
        f"   difference {100 * (f_avg(other) - f_avg(base)):+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"
    )
    retrains = {m: sum(r["targets"][n]["retrain_seconds"] for n in TARGETS) for m, r in runs.items()}
    print(
        f"retrain seconds (3 targets, vectors stored): tfidf {retrains['0']:.0f}, +embedding {retrains['1']:.0f} "
        f"({retrains['1'] / retrains['0']:.2f}x); embedding {runs['1']['embedded']} sentences once: "
        f"{runs['1']['embed_seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
