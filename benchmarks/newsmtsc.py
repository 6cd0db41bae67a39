"""Feature blocks measured on NewsMTSC: TF-IDF alone, with the target's mentions marked,
with the sentence embedding, and with both, through annotate.classifier.

NewsMTSC (Hamborg and Donnay, EACL 2021; MIT licence; github.com/fhamborg/NewsMTSC, the
folder NewsSentiment/controller_data/datasets/NewsMTSC-dataset) holds news sentences, each
with one or more target mentions and the sentiment toward each: negative, neutral,
positive, read here as contra, neutral, pro. One example is a (sentence, mention) pair.
The data are not in this repository: give the folder holding train.jsonl,
devtest_mt.jsonl and devtest_rw.jsonl.

Each variant is trained once with annotate.classifier.train on the train split (its
grouped cross-validation, by article, is the tuning figure: the embedding weight is chosen
on it, never on a devtest split), then scored on both devtest splits. F_avg is the mean
F1 of pro and contra; each variant's difference from TF-IDF alone comes with a paired
bootstrap 95 % interval, resampling devtest sentences (a sentence's targets together).

Sentence vectors are computed once (annotate.embeddings, both cores) and kept in --cache.

Measured (4 Dec 2026, 2 shared cores, load 3-9; 8,739 train examples, 1,476 devtest_mt,
1,146 devtest_rw), F_avg x 100, difference from TF-IDF alone [paired bootstrap 95 %]; the
embedding block is the product's (its 64 leading principal components), the last row the
whole 384-number vector:

    variant                  train CV  devtest_mt                 devtest_rw
    tfidf                      62.6     55.1                       58.0
    tfidf+mark                 65.2     56.1  +1.0 [-1.4, +3.4]    61.2  +3.2 [+1.0, +5.4]
    tfidf+embedding            68.9     60.6  +5.5 [+2.7, +8.6]    65.4  +7.3 [+4.3, +10.5]
    tfidf+mark+embedding       70.8     61.6  +6.6 [+3.8, +9.5]    66.3  +8.3 [+5.0, +11.3]
    tfidf+mark+whole vector    71.2     62.1  +7.1 [+4.1, +10.1]   65.9  +7.9 [+4.5, +11.0]

Tuned on train only (mark+embedding, grouped CV): the weight 0.5 71.1, 1.0 71.2, 2.0 70.9
(whole vector); the components 32 70.5, 64 70.8, 128 70.9, all 71.2 (--tune-components).
64 costs 0.4 CV points against the whole vector and keeps a retrain's SVM fits near
TF-IDF's cost (each dense column is a non-zero in every row): benchmarks/retrain_embeddings.py.

    .venv/bin/python benchmarks/newsmtsc.py /path/to/NewsMTSC-dataset
    .venv/bin/python benchmarks/newsmtsc.py DIR --weights 0.5 1 2   # tune the weight on train
    .venv/bin/python benchmarks/newsmtsc.py DIR --tune-components 32 64 128 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from annotate import classifier, embeddings  # noqa: E402
from annotate.mentions import mark_mentions  # noqa: E402

POLARITY = {2.0: "contra", 4.0: "neutral", 6.0: "pro"}
SPLITS = ("train", "devtest_mt", "devtest_rw")


@dataclass
class Split:
    texts: list[str]
    mentions: list[str]
    labels: list[str]
    articles: list[int]
    sentences: list[int]  # a sentence's index within the split, for the bootstrap


def read_split(path: Path) -> Split:
    split = Split([], [], [], [], [])
    articles: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        article = "_".join(record["primary_gid"].split("_")[:3])
        for target in record["targets"]:
            split.texts.append(record["sentence_normalized"])
            split.mentions.append(target["mention"])
            split.labels.append(POLARITY[target["polarity"]])
            split.articles.append(articles.setdefault(article, len(articles)))
            split.sentences.append(number)
    return split


def vectors(texts: list[str], cache: Path) -> np.ndarray:
    """One stored vector a distinct text (computed once, then read from the cache)."""
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        stored = np.load(cache)
        known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    key = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    missing = sorted({k: t for k, t in zip(key, texts, strict=True) if k not in known}.items())
    if missing:
        started = time.monotonic()
        computed = embeddings.encoder().encode([t for _, t in missing])
        seconds = time.monotonic() - started
        print(f"embedded {len(missing)} sentences in {seconds:.1f} s ({len(missing) / seconds:.0f}/s)")
        known.update({k: v for (k, _), v in zip(missing, computed, strict=True)})
        # Stored as the product stores them: float16.
        np.savez(cache, keys=np.array(list(known)), vectors=np.array(list(known.values()), dtype=np.float16))
    return np.array([known[k] for k in key], dtype=np.float32)


def f_avg(true: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for label in (0, 1):  # pro, contra
        tp = np.sum((true == label) & (predicted == label))
        denominator = np.sum(true == label) + np.sum(predicted == label)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def bootstrap(
    true: np.ndarray, base: np.ndarray, other: np.ndarray, sentences: np.ndarray, rounds: int, seed: int = 0
) -> tuple[float, float]:
    """A 95 % interval of F_avg(other) - F_avg(base), resampling sentences with their targets."""
    rng = np.random.default_rng(seed)
    ids = np.unique(sentences)
    rows = {s: np.flatnonzero(sentences == s) for s in ids}
    differences = []
    for _ in range(rounds):
        pick = np.concatenate([rows[s] for s in rng.choice(ids, size=len(ids))])
        differences.append(f_avg(true[pick], other[pick]) - f_avg(true[pick], base[pick]))
    low, high = np.percentile(differences, [2.5, 97.5])
    return float(low), float(high)


def marked(split: Split) -> list[str]:
    return [mark_mentions(t, (m,)) for t, m in zip(split.texts, split.mentions, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, help="the NewsMTSC-dataset folder")
    parser.add_argument("--cache", type=Path, default=Path("newsmtsc-vectors.npz"))
    parser.add_argument(
        "--weights", type=float, nargs="*", default=[], help="embedding weights to tune on train"
    )
    parser.add_argument("--weight", type=float, default=classifier.EMBEDDING_WEIGHT)
    parser.add_argument(
        "--components",
        type=int,
        default=classifier.EMBEDDING_COMPONENTS,
        help="the embedding's leading principal components the model is given (0: the whole vector)",
    )
    parser.add_argument(
        "--tune-components",
        type=int,
        nargs="*",
        default=[],
        help="component counts to tune on train (0: whole)",
    )
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    args = parser.parse_args()
    splits = {name: read_split(args.data / f"{name}.jsonl") for name in SPLITS}
    vec = {name: vectors(split.texts, args.cache) for name, split in splits.items()}
    train = splits["train"]

    components = args.components or None
    if args.weights or args.tune_components:
        print("\ntuning on train: grouped 5-fold cross-validation, mentions marked, F_avg")
        grid = [(w, components) for w in args.weights] + [
            (args.weight, k or None) for k in args.tune_components
        ]
        for weight, k in grid:
            started = time.monotonic()
            model = classifier.train(
                marked(train),
                train.labels,
                groups=train.articles,
                embeddings=vec["train"],
                features=classifier.Features(embedding_weight=weight, embedding_components=k),
            )
            print(
                f"  weight {weight:<4} components {k or 'all':<4} {100 * model.metrics.f_avg:5.1f}"
                f"  ({time.monotonic() - started:.0f} s)"
            )

    variants = {
        "tfidf": (False, None, None),
        "tfidf+mark": (True, None, None),
        "tfidf+embedding": (False, args.weight, components),
        "tfidf+mark+embedding": (True, args.weight, components),
    }
    if components is not None:  # what the reduction costs: the same with the whole vector
        variants["tfidf+mark+whole vector"] = (True, args.weight, None)
    predictions: dict[str, dict[str, np.ndarray]] = {}
    cv: dict[str, float] = {}
    seconds: dict[str, float] = {}
    code = {label: i for i, label in enumerate(classifier.CLASSES)}
    for name, (mark, weight, k) in variants.items():
        started = time.monotonic()
        model = classifier.train(
            marked(train) if mark else train.texts,
            train.labels,
            groups=train.articles,
            embeddings=vec["train"] if weight is not None else None,
            features=classifier.Features(embedding_weight=weight, embedding_components=k),
        )
        seconds[name] = time.monotonic() - started
        cv[name] = model.metrics.f_avg
        predictions[name] = {}
        for split_name in SPLITS[1:]:
            split = splits[split_name]
            found = classifier.predict(
                model.pipeline,
                marked(split) if mark else split.texts,
                embeddings=vec[split_name] if weight is not None else None,
            )
            predictions[name][split_name] = np.array([code[p.label] for p in found])
        print(f"trained {name} in {seconds[name]:.0f} s")

    print(
        f"\nNewsMTSC, F_avg (mean F1 of pro and contra) x 100; embedding weight {args.weight}, "
        f"{components or 'all'} components"
    )
    print(
        f"load average at the end: {os.getloadavg()[0]:.2f}; bootstrap: {args.rounds} rounds over sentences"
    )
    header = f"{'variant':<24} {'train CV':>8} " + " ".join(
        f"{s:>10} {'diff [95% CI]':>22}" for s in SPLITS[1:]
    )
    print(header)
    for name in variants:
        cells = []
        for split_name in SPLITS[1:]:
            split = splits[split_name]
            true = np.array([code[label] for label in split.labels])
            score = f_avg(true, predictions[name][split_name])
            if name == "tfidf":
                cells.append(f"{100 * score:10.1f} {'':>22}")
                continue
            base = predictions["tfidf"][split_name]
            difference = score - f_avg(true, base)
            low, high = bootstrap(
                true, base, predictions[name][split_name], np.array(split.sentences), args.rounds
            )
            cells.append(
                f"{100 * score:10.1f} {f'{100 * difference:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]':>22}"
            )
        print(f"{name:<24} {100 * cv[name]:8.1f} " + " ".join(cells))
    print(
        "\ntraining time (grouped 5-fold CV + final fit), s: "
        + ", ".join(f"{n} {s:.0f}" for n, s in seconds.items())
    )


if __name__ == "__main__":
    main()
