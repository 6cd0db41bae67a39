"""Active learning, measured honestly: learning curves of the product's queue orders.

One simulated annotator labels a corpus in the order a target's queue would hand it out,
and the model is scored on a held-out test split that is never trained on and never
ranked. What is the product's own code, not a re-implementation:

- the model: annotate.classifier.fit, the pipeline `retrain` fits on every gold label
  (its cross-validation only scores, it does not change the model, so it is left out);
- the ranking: annotate.uncertainty.ranked, the rule the queue's SQL orders suggestions
  by (least confident, smallest margin, highest entropy; ties by sentence id);
- the refresh: the model ranking the queue is the one trained on the labels so far,
  retrained every 50 new gold labels (Target.retrain_every's default, the background
  policy of annotate/retrain_policy.py), as if each retrain finished at once;
- random: the queue's random order, the walk by each sentence's shuffle key
  (annotate/shuffle.py, the Python twin of the database's column, tested to agree): the
  pool's sentences get ids in corpus order, from 1 for seed 0 and from 1 + 100,000 x seed
  for the others (as another database would number them), and are handed out by key;
- mix: uncertainty, with the next open sentence of that same walk `random_share`
  (default 0.2) of the time, as the queue does;
- before any model, the queue hands out the random order's walk (since Dec 2026; article
  order before): each uncertainty order is run with that first batch ("random start", the
  product as it is) and with an article-order one ("in-order start", the product as it
  was). The product has no representative (clustered) first batch, so there is none to
  measure.

Also run: in order (corpus order) and a uniform shuffle (Python's random.shuffle, the
usual baseline, to check that the product's key orders like one). F_avg is the mean F1 of
pro and contra (SemEval-2016), at 50, 100, 200, 400 and 800 labels, over 3 seeds (a seed
numbers the pool for the random order, the random first batch and mix's random picks, and
draws the uniform shuffle and mix's coin; the corpus, its split and the model's own seed
stay fixed). The table gives the mean and, in brackets, the lowest and highest seed. Each
order's difference from random at 200 and 400 labels comes with a paired bootstrap 95 %
interval: test sentences resampled (2,000 times, seed 0), the same resample for both
orders, the difference averaged over the seeds. It counts the test split's sampling
error, not the spread over seeds (shown separately).

Not simulated: the evaluation slice (control set) and evaluation items, a retrain that
takes time or waits for the floor (*Retrain at most every 10 minutes*: at a label every
6 s, 50 labels take 5 minutes, so the floor would refresh the model every ~100 labels),
the activation rule (a new version is activated only if it scores at least as well;
here the newest always ranks), several annotators and overlap above one.

The default corpus is generated (`generate_corpus`, deterministic from --corpus-seed):
articles of 4 to 20 sentences, about 50 % neutral, 25 % pro and 25 % contra, each article
leaning pro, contra or neither; twelve subtopics in corpus order (like a feed imported
week by week), each with its own stance words beside common ones, cue words drawn with a
long tail, negation, stance sentences without a cue word, neutral sentences with one,
and 10 % label noise (a label replaced by another class, in the test split too).
Held out: 20 % of the articles.

A labelled corpus is read with --jsonl (one object a line: "text", "label" in pro, contra,
neutral, and optionally "article", which keeps an article's sentences together in the
split); --test-jsonl gives its test split, else 20 % of its articles (of its rows, without
"article") are held out. NewsMTSC (Hamborg and Donnay, EACL 2021; MIT licence;
github.com/fhamborg/NewsMTSC) is converted with --convert-newsmtsc: positive -> pro,
negative -> contra, neutral -> neutral, one row per sentence, a sentence whose targets
disagree left out (NewsMTSC is sentiment toward a person named in the sentence, not
stance toward one target, so its figures say how the orders behave on real news text, not
what a stance target would reach):

The tables below were measured (Dec 2026) before the random order shipped: "random" there
is a uniform shuffle (now "uniform shuffle"), and mix's random share took the first open
sentence at or after a random id. The queue's random order against a uniform shuffle,
generated corpus, --pool 1000 (1,012 sentences), 20 seeds (load 6.6-8.1, 77 s CPU):

    F_avg x 100, mean (sd over seeds)   50           100          200          400
    random (the queue's key)            16.3 (11.9)  20.4 (13.3)  34.5 (8.6)   43.5 (2.9)
    uniform shuffle                     17.6 (9.5)   26.9 (8.1)   35.6 (7.4)   44.9 (2.8)
    uniform - random, 95 % over seeds   +1.2 [-5.5, +7.9]  +6.4 [-0.4, +13.3]
                                        +1.1 [-3.9, +6.1]  +1.4 [-0.3, +3.2]

No difference the seeds can tell apart at any point (the paired bootstrap counts only the
test split's sampling error, +1.1 [-0.3, +2.5] at 200 and +1.4 [+0.2, +2.6] at 400 here,
so it is not the interval to read between two random orders); the grids below have not
been run again with the queue's key.

Measured (Dec 2026, 2 shared cores, load 0.7-6; generated: 332 s CPU, NewsMTSC: 568 s).
Orders without randomness (in order, an uncertainty order with an in-order start) are the
same for every seed, so their min-max is one value. Generated corpus (pool 3,285, test 715):

    F_avg x 100 on the test split, mean [min-max over seeds]:
                                                      50                100                200                400                800
    random                              22.1 [19.0-27.9]   34.0 [32.6-34.8]   40.0 [34.1-44.6]   46.0 [40.1-50.3]   48.9 [47.1-51.3]
    in order                            19.4 [19.4-19.4]   27.4 [27.4-27.4]   42.3 [42.3-42.3]   49.7 [49.7-49.7]   52.7 [52.7-52.7]
    least confident, random start       22.1 [19.0-27.9]   22.4 [20.9-24.3]   30.8 [20.0-40.0]   46.4 [44.4-50.0]   56.3 [54.6-57.4]
    margin, random start                22.1 [19.0-27.9]   11.5 [ 2.7-27.3]   35.1 [31.5-37.2]   46.1 [43.9-48.8]   55.4 [51.6-57.5]
    entropy, random start               22.1 [19.0-27.9]   29.2 [27.6-30.5]   40.6 [37.3-44.7]   48.1 [45.5-52.9]   54.0 [52.2-55.5]
    mix, random start                   22.1 [19.0-27.9]   18.8 [ 1.0-27.7]   39.7 [38.8-40.8]   47.6 [46.9-48.5]   54.6 [51.0-57.0]
    least confident, in-order start     19.4 [19.4-19.4]   35.9 [35.9-35.9]   42.5 [42.5-42.5]   50.1 [50.1-50.1]   55.5 [55.5-55.5]
    margin, in-order start              19.4 [19.4-19.4]   32.6 [32.6-32.6]   42.0 [42.0-42.0]   50.6 [50.6-50.6]   58.2 [58.2-58.2]
    entropy, in-order start             19.4 [19.4-19.4]   37.7 [37.7-37.7]   38.4 [38.4-38.4]   45.1 [45.1-45.1]   54.8 [54.8-54.8]
    mix, in-order start                 19.4 [19.4-19.4]   29.7 [22.1-37.5]   43.1 [40.8-46.1]   47.3 [46.9-47.6]   53.1 [52.3-54.1]

    Difference from random (F_avg x 100), mean over seeds [paired bootstrap 95 %]:
                                                 vs random at 200            vs random at 400
    in order                                 +2.4 [ -2.7,  +7.5]        +3.6 [ -1.2,  +8.6]
    least confident, random start            -9.2 [-12.7,  -5.4]        +0.4 [ -3.0,  +3.9]
    margin, random start                     -4.9 [ -8.2,  -1.4]        +0.1 [ -3.2,  +3.3]
    entropy, random start                    +0.7 [ -2.8,  +4.2]        +2.0 [ -1.5,  +5.3]
    mix, random start                        -0.2 [ -3.4,  +3.3]        +1.5 [ -1.6,  +4.6]
    least confident, in-order start          +2.6 [ -2.0,  +7.7]        +4.1 [ -0.9,  +9.1]
    margin, in-order start                   +2.0 [ -3.3,  +7.1]        +4.5 [ +0.1,  +9.0]
    entropy, in-order start                  -1.5 [ -6.5,  +3.8]        -0.9 [ -5.5,  +3.8]
    mix, in-order start                      +3.1 [ -0.4,  +6.8]        +1.2 [ -2.3,  +4.7]

NewsMTSC (pool: 3,999 sentences of train, --pool 4000; test: devtest_rw, 1,037):

    F_avg x 100 on the test split, mean [min-max over seeds]:
                                                      50                100                200                400                800
    random                              23.0 [17.7-26.5]   29.4 [20.1-41.0]   41.6 [34.6-47.7]   45.0 [41.6-47.6]   51.7 [50.7-53.0]
    in order                            29.6 [29.6-29.6]   35.4 [35.4-35.4]   35.0 [35.0-35.0]   46.5 [46.5-46.5]   51.2 [51.2-51.2]
    least confident, random start       23.0 [17.7-26.5]   28.8 [20.9-33.6]   39.7 [31.4-44.9]   45.4 [43.6-46.9]   48.9 [47.5-50.9]
    margin, random start                23.0 [17.7-26.5]   29.5 [23.8-40.2]   40.4 [33.4-44.2]   46.8 [45.0-47.8]   49.9 [48.9-51.1]
    entropy, random start               23.0 [17.7-26.5]   38.0 [34.0-42.0]   38.3 [36.1-41.0]   43.4 [43.2-43.7]   49.0 [48.3-50.1]
    mix, random start                   23.0 [17.7-26.5]   35.1 [20.5-42.7]   42.5 [41.5-44.1]   46.3 [45.0-47.4]   50.9 [49.9-51.4]
    least confident, in-order start     29.6 [29.6-29.6]   33.3 [33.3-33.3]   36.0 [36.0-36.0]   40.7 [40.7-40.7]   50.0 [50.0-50.0]
    margin, in-order start              29.6 [29.6-29.6]   36.5 [36.5-36.5]   43.0 [43.0-43.0]   45.2 [45.2-45.2]   47.0 [47.0-47.0]
    entropy, in-order start             29.6 [29.6-29.6]   35.1 [35.1-35.1]   44.4 [44.4-44.4]   47.2 [47.2-47.2]   48.2 [48.2-48.2]
    mix, in-order start                 29.6 [29.6-29.6]   32.6 [27.1-35.4]   36.2 [26.8-41.6]   45.6 [44.2-46.6]   51.6 [51.1-52.0]

    Difference from random (F_avg x 100), mean over seeds [paired bootstrap 95 %]:
                                                 vs random at 200            vs random at 400
    in order                                 -6.6 [-10.0,  -3.0]        +1.5 [ -2.0,  +5.1]
    least confident, random start            -1.8 [ -4.4,  +0.8]        +0.5 [ -1.8,  +2.9]
    margin, random start                     -1.2 [ -3.9,  +1.5]        +1.9 [ -0.6,  +4.5]
    entropy, random start                    -3.2 [ -5.8,  -0.6]        -1.6 [ -4.2,  +1.2]
    mix, random start                        +1.0 [ -1.6,  +3.7]        +1.4 [ -1.4,  +4.2]
    least confident, in-order start          -5.6 [ -9.1,  -1.6]        -4.3 [ -8.4,  -0.2]
    margin, in-order start                   +1.4 [ -2.4,  +5.3]        +0.2 [ -3.7,  +4.0]
    entropy, in-order start                  +2.8 [ -1.0,  +6.6]        +2.2 [ -1.7,  +6.0]
    mix, in-order start                      -5.4 [ -8.3,  -2.4]        +0.7 [ -1.9,  +3.5]

Neither corpus shows an order ahead of random at 200 labels; at 400 only margin with an
in-order start on the generated corpus (+4.5 [+0.1, +9.0]). On the generated corpus the
uncertainty orders lead at 800 (54-58 against 48.9, no interval computed); on NewsMTSC
random and mix are level at 800 and the pure uncertainty orders behind. With a random start
the first uncertainty batch can lower F_avg (margin at 100 labels: 11.5 against 22.1 at 50).

    .venv/bin/python benchmarks/active_learning.py                      # generated corpus
    .venv/bin/python benchmarks/active_learning.py --convert-newsmtsc DIR/train.jsonl > train.al.jsonl
    .venv/bin/python benchmarks/active_learning.py --convert-newsmtsc DIR/devtest_mt.jsonl > test.al.jsonl
    .venv/bin/python benchmarks/active_learning.py --jsonl train.al.jsonl --test-jsonl test.al.jsonl

--orders, --points, --seeds, --retrain-every and --pool (a random subset of the pool's
articles, in corpus order, to bound the time) change what is run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotate import classifier, uncertainty  # noqa: E402
from annotate.shuffle import shuffled as shuffle_order  # noqa: E402

if TYPE_CHECKING:
    import numpy as np
    from sklearn.pipeline import Pipeline

POINTS = (50, 100, 200, 400, 800)
SEEDS = (0, 1, 2)
#: Target.retrain_every's, Target.random_share's and Target.uncertainty_measure's defaults.
RETRAIN_EVERY = 50
RANDOM_SHARE = 0.2
MIX_MEASURE = uncertainty.MARGIN
#: training.retrain's minimum of gold labels (the `retrain` command's --min-labels).
MIN_LABELS = 20
TEST_SHARE = 0.2
COMPARED_AT = (200, 400)
RESAMPLES = 2000
NEWSMTSC_POLARITY = {2.0: "contra", 4.0: "neutral", 6.0: "pro"}
#: The first sentence id of a seed's numbering of the pool (seed 0: a fresh database's).
IDS_A_SEED = 100_000


# --- corpora -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    labels: list[str]
    articles: list[int]  # an article id per sentence; the corpus is in article order

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> Corpus:
        return Corpus(
            [self.texts[i] for i in indices],
            [self.labels[i] for i in indices],
            [self.articles[i] for i in indices],
        )

    def shares(self) -> dict[str, float]:
        counts = Counter(self.labels)
        return {label: counts[label] / len(self.labels) for label in classifier.CLASSES}


FUNCTION_WORDS = (
    "the of and to in that is was for on said with he it as at by from his has have but are "
    "they be this not an which its had who would will been were their or more after also new "
    "one than last about year could two when other there up into can over some"
).split()
NEGATION = "not"
REPORTED = ("asked whether", "questioned if", "debated whether", "was told that")
TARGET = ("the pipeline", "the Nordwind pipeline", "the project", "Nordwind")


def _pseudo_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.4:
            word += rng.choice(consonants)
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


class _Zipf:
    """Draws words with a long tail: the word of rank r about 1/r as often as the first."""

    def __init__(self, words: Sequence[str], exponent: float = 1.0) -> None:
        self.words = list(words)
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(len(words))))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.words, cum_weights=self.cumulative)[0]


#: Class shares of the generated corpus; a noisy label is redrawn from them.
SHARES = {"pro": 0.25, "contra": 0.25, "neutral": 0.5}


def generate_corpus(*, size: int = 4000, seed: int = 0, noise: float = 0.1, topics: int = 12) -> Corpus:
    """A stance corpus of about `size` sentences in articles; the same for the same seed."""
    rng = random.Random(seed)
    taken = set(FUNCTION_WORDS)
    function_words = _Zipf(FUNCTION_WORDS)
    filler = _Zipf(_pseudo_words(rng, 1500, taken))
    common = {label: _Zipf(_pseudo_words(rng, 25, taken)) for label in ("pro", "contra")}
    topic_words = [_pseudo_words(rng, 60, taken) for _ in range(topics)]
    topic_cues = [{label: _pseudo_words(rng, 6, taken) for label in ("pro", "contra")} for _ in range(topics)]
    other = {"pro": "contra", "contra": "pro"}
    # An article leans pro, contra or neither; over all of them the shares are SHARES.
    leanings = {"pro": (0.45, 0.05), "contra": (0.05, 0.45), "neither": (0.25, 0.25)}

    def cue(label: str, topic: int) -> str:
        return common[label](rng) if rng.random() < 0.7 else rng.choice(topic_cues[topic][label])

    def sentence(label: str, topic: int) -> str:
        words = [
            function_words(rng) if rng.random() < 0.5 else filler(rng) for _ in range(rng.randint(6, 18))
        ]
        words += [rng.choice(topic_words[topic]) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.6:
            words.append(rng.choice(TARGET))
        if label == "neutral":
            if rng.random() < 0.2:  # a stance word that does not make a stance
                framed = cue(rng.choice(("pro", "contra")), topic)
                words.append(f"{rng.choice(REPORTED)} {framed}" if rng.random() < 0.5 else framed)
        else:
            for _ in range(rng.choices((0, 1, 2, 3), weights=(0.08, 0.32, 0.4, 0.2))[0]):
                negated = rng.random() < 0.15
                words.append(f"{NEGATION} {cue(other[label], topic)}" if negated else cue(label, topic))
            if rng.random() < 0.1:  # the other side quoted
                words.append(cue(other[label], topic))
        rng.shuffle(words)
        return " ".join(words).capitalize() + "."

    texts: list[str] = []
    labels: list[str] = []
    articles: list[int] = []
    expected_articles = size / 12
    article = 0
    while len(texts) < size:
        in_order_topic = min(topics - 1, int(article * topics / expected_articles))
        topic = rng.randrange(topics) if rng.random() < 0.2 else in_order_topic
        pro, contra = leanings[rng.choice(tuple(leanings))]
        for _ in range(min(rng.randint(4, 20), size - len(texts))):
            label = rng.choices(("pro", "contra", "neutral"), weights=(pro, contra, 1 - pro - contra))[0]
            texts.append(sentence(label, topic))
            if rng.random() < noise:  # an annotator's slip: a label drawn at random
                label = rng.choices(tuple(SHARES), weights=tuple(SHARES.values()))[0]
            labels.append(label)
            articles.append(article)
        article += 1
    return Corpus(texts, labels, articles)


def read_jsonl(path: Path) -> Corpus:
    """Rows with "text", "label" (pro, contra, neutral) and optionally "article"."""
    texts: list[str] = []
    labels: list[str] = []
    articles: list[int] = []
    names: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        text, label = row.get("text"), row.get("label")
        if not isinstance(text, str) or not text.strip() or label not in classifier.CLASSES:
            raise SystemExit(f"{path}:{number}: needs a text and a label in {list(classifier.CLASSES)}")
        texts.append(text)
        labels.append(label)
        articles.append(names.setdefault(str(row.get("article", f"row {number}")), len(names)))
    return Corpus(texts, labels, articles)


def newsmtsc_rows(path: Path) -> list[dict[str, str]]:
    """NewsMTSC's sentences as --jsonl rows: a sentence whose targets agree, else none."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        polarities = {NEWSMTSC_POLARITY[target["polarity"]] for target in record["targets"]}
        if len(polarities) == 1:
            article = "_".join(record["primary_gid"].split("_")[:3])
            rows.append(
                {"text": record["sentence_normalized"], "label": polarities.pop(), "article": article}
            )
    return rows


def split_corpus(corpus: Corpus, *, test_share: float = TEST_SHARE, seed: int = 0) -> tuple[Corpus, Corpus]:
    """(pool, test): a seeded share of the articles held out; both keep corpus order."""
    articles = sorted(set(corpus.articles))
    held = set(random.Random(seed).sample(articles, round(len(articles) * test_share)))
    pool = [i for i, a in enumerate(corpus.articles) if a not in held]
    test = [i for i, a in enumerate(corpus.articles) if a in held]
    return corpus.subset(pool), corpus.subset(test)


def sample_articles(corpus: Corpus, *, size: int, seed: int = 0) -> Corpus:
    """A random subset of whole articles, about `size` sentences, in corpus order."""
    articles = sorted(set(corpus.articles))
    random.Random(seed).shuffle(articles)
    lengths = Counter(corpus.articles)
    kept: set[int] = set()
    total = 0
    for article in articles:
        if total >= size:
            break
        kept.add(article)
        total += lengths[article]
    return corpus.subset([i for i, a in enumerate(corpus.articles) if a in kept])


# --- orders and the simulation -------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    name: str
    measure: str | None = None  # an uncertainty measure; None: random or in order
    start: str = "random"  # the first batch, before any model: "random" or "in_order"
    random_share: float = 0.0  # mix: the share of random picks once a model ranks
    kind: str = "uncertainty"  # or "random", "in_order", "uniform"


def all_orders() -> list[Order]:
    orders = [
        Order("random", kind="random"),
        Order("in order", kind="in_order"),
        Order("uniform shuffle", kind="uniform"),
    ]
    for start, said in (("random", "random start"), ("in_order", "in-order start")):
        for measure, name in (
            (uncertainty.LEAST_CONFIDENT, "least confident"),
            (uncertainty.MARGIN, "margin"),
            (uncertainty.ENTROPY, "entropy"),
        ):
            orders.append(Order(f"{name}, {said}", measure=measure, start=start))
        orders.append(Order(f"mix, {said}", measure=MIX_MEASURE, start=start, random_share=RANDOM_SHARE))
    return orders


@dataclass
class Run:
    order: str
    seed: int
    f_avg: dict[int, float] = field(default_factory=dict)  # labels -> F_avg on the test split
    predictions: dict[int, list[str]] = field(default_factory=dict)  # labels -> test predictions
    picked: list[int] = field(default_factory=list)  # pool indices in the order labelled
    retrains: list[int] = field(default_factory=list)  # label counts at which a model ranked anew
    #: labels -> F_avg of that point's model on the next `retrain_every` sentences handed
    #: out (those its ranking chose, under an uncertainty order): what a slice labelled in
    #: this order would score.
    next_batch: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0


Fit = Callable[[Sequence[str], Sequence[str]], "Pipeline"]


def product_fit(texts: Sequence[str], labels: Sequence[str]) -> Pipeline:
    return classifier.fit(texts, labels, random_state=0)


def _fitted(fit: Fit, texts: Sequence[str], labels: Sequence[str]) -> Pipeline | None:
    """The model retrain would make from these labels, or None where it refuses them."""
    if len(labels) < MIN_LABELS:
        return None
    try:
        return fit(texts, labels)
    except classifier.TrainingError:
        return None


def simulate(
    pool: Corpus,
    test: Corpus,
    *,
    order: Order,
    seed: int,
    points: Sequence[int] = POINTS,
    retrain_every: int = RETRAIN_EVERY,
    fit: Fit = product_fit,
) -> Run:
    """Label the pool in the order's sequence up to the last point, scoring on `test`.

    Only pool sentences are ever labelled, trained on or ranked; `test` is only predicted.
    """
    started = time.process_time()
    run = Run(order.name, seed)
    # The queue's random order: pool index i is sentence id first_id + i, walked by key; the
    # same first batch for every order of a seed that starts at random.
    first_id = 1 + IDS_A_SEED * seed
    permutation = [i - first_id for i in shuffle_order(list(range(first_id, first_id + len(pool))))]
    uniform = list(range(len(pool)))
    random.Random(seed).shuffle(uniform)
    draws = random.Random(seed + 1_000_003)  # mix's coin
    is_open = [True] * len(pool)
    labelled: list[int] = []
    ranking: list[int] = []
    walk = in_order = shuffled = uniform_walk = 0
    waiting: dict[int, Pipeline] = {}  # a point's model, until the next batch is labelled
    last = max(points)

    def next_open(sequence: Sequence[int], start: int) -> tuple[int, int] | None:
        for i in range(start, len(sequence)):
            if is_open[sequence[i]]:
                return sequence[i], i + 1
        return None

    while True:
        count = len(labelled)
        retrain = order.kind == "uncertainty" and count > 0 and count % retrain_every == 0 and count < last
        scored = count - retrain_every
        if scored in waiting:  # the next batch after a point is labelled: score it
            batch = labelled[scored:]
            predicted = [
                p.label for p in classifier.predict(waiting.pop(scored), [pool.texts[i] for i in batch])
            ]
            run.next_batch[scored] = classifier.evaluate(
                [pool.labels[i] for i in batch], predicted, folds=0
            ).f_avg
        if retrain or count in points:
            model = _fitted(fit, [pool.texts[i] for i in labelled], [pool.labels[i] for i in labelled])
            if count in points:
                if model is None:  # no model: everything neutral, as before any model
                    predicted = ["neutral"] * len(test)
                else:
                    predicted = [p.label for p in classifier.predict(model, test.texts)]
                run.predictions[count] = predicted
                run.f_avg[count] = classifier.evaluate(test.labels, predicted, folds=0).f_avg
                if model is not None and count < last:
                    waiting[count] = model
            if retrain and model is not None:
                open_ids = [i for i in range(len(pool)) if is_open[i]]
                predictions = classifier.predict(model, [pool.texts[i] for i in open_ids])
                ranking = uncertainty.ranked(
                    order.measure or "", sentence_ids=open_ids, predictions=predictions
                )
                walk = 0
                run.retrains.append(count)
        if count >= last or not any(is_open):
            break
        picked: int | None = None
        if order.kind == "uniform":
            picked, uniform_walk = next_open(uniform, uniform_walk) or (None, uniform_walk)
        elif order.kind == "random":
            picked, shuffled = next_open(permutation, shuffled) or (None, shuffled)
        elif order.kind == "in_order" or (not ranking and order.start == "in_order"):
            picked, in_order = next_open(range(len(pool)), in_order) or (None, in_order)
        elif not ranking:
            picked, shuffled = next_open(permutation, shuffled) or (None, shuffled)
        elif order.random_share and draws.random() < order.random_share:
            # The queue's mix: the next open sentence of the random order's walk (its cursor).
            picked, shuffled = next_open(permutation, shuffled) or (None, shuffled)
        else:
            found = next_open(ranking, walk)
            if found is None:  # every ranked sentence is labelled: the rest in order
                picked, in_order = next_open(range(len(pool)), in_order) or (None, in_order)
            else:
                picked, walk = found
        assert picked is not None
        is_open[picked] = False
        labelled.append(picked)
    run.picked = labelled
    run.seconds = time.process_time() - started
    return run


# --- figures ---------------------------------------------------------------------------------


def _codes(labels: Sequence[str]) -> np.ndarray:
    import numpy as np

    return np.array([classifier.CLASSES.index(label) for label in labels])


def bootstrap_f_avg(true: Sequence[str], predicted: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """F_avg on each resample; `weights` holds how often each test sentence is drawn."""
    import numpy as np

    y, p = _codes(true), _codes(predicted)
    scores = []
    for label in ("pro", "contra"):
        c = classifier.CLASSES.index(label)
        hits = weights @ ((y == c) & (p == c)).astype(float)
        said = weights @ (p == c).astype(float)
        actual = weights @ (y == c).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores.append(np.where(said + actual > 0, 2 * hits / (said + actual), 0.0))
    return (scores[0] + scores[1]) / 2


def resample_weights(size: int, *, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.multinomial(size, np.full(size, 1 / size), size=resamples).astype(float)


@dataclass(frozen=True)
class Difference:
    mean: float
    low: float
    high: float


def paired_difference(
    test: Corpus, runs: Sequence[Run], baseline: Sequence[Run], point: int, weights: np.ndarray
) -> Difference:
    """The order's F_avg minus the baseline's, seed by seed, averaged over the seeds; the
    interval from resampling the test sentences (the same resample for both)."""
    import numpy as np

    by_seed = {run.seed: run for run in baseline}
    paired = [(run, by_seed[run.seed]) for run in runs if point in run.f_avg and run.seed in by_seed]
    mean = float(np.mean([run.f_avg[point] - base.f_avg[point] for run, base in paired]))
    resampled = np.mean(
        [
            bootstrap_f_avg(test.labels, run.predictions[point], weights)
            - bootstrap_f_avg(test.labels, base.predictions[point], weights)
            for run, base in paired
        ],
        axis=0,
    )
    low, high = np.percentile(resampled, [2.5, 97.5])
    return Difference(mean, float(low), float(high))


def curve_table(results: dict[str, list[Run]], points: Sequence[int]) -> str:
    width = max(len(name) for name in results) + 2
    lines = [" " * width + "".join(f"{p:>19}" for p in points)]
    for name, runs in results.items():
        cells = []
        for p in points:
            values = [run.f_avg[p] * 100 for run in runs if p in run.f_avg]
            if not values:
                cells.append(f"{'-':>19}")
                continue
            mean = sum(values) / len(values)
            cells.append(f"{mean:>7.1f} [{min(values):4.1f}-{max(values):4.1f}]")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def next_batch_table(results: dict[str, list[Run]], points: Sequence[int]) -> str:
    width = max(len(name) for name in results) + 2
    lines = [" " * width + "".join(f"{p:>10}" for p in points)]
    for name, runs in results.items():
        cells = []
        for p in points:
            values = [run.next_batch[p] * 100 for run in runs if p in run.next_batch]
            cells.append(f"{sum(values) / len(values):>10.1f}" if values else f"{'-':>10}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def difference_table(test: Corpus, results: dict[str, list[Run]], points: Sequence[int]) -> str:
    weights = resample_weights(len(test))
    baseline = results["random"]
    width = max(len(name) for name in results) + 2
    lines = [" " * width + "".join(f"{'vs random at ' + str(p):>28}" for p in points)]
    for name, runs in results.items():
        if name == "random":
            continue
        cells = []
        for p in points:
            if not all(p in run.f_avg for run in [*runs, *baseline]):
                cells.append(f"{'-':>28}")
                continue
            d = paired_difference(test, runs, baseline, p, weights)
            cells.append(f"{d.mean * 100:>+12.1f} [{d.low * 100:+5.1f}, {d.high * 100:+5.1f}]")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


def describe(corpus: Corpus) -> str:
    shares = ", ".join(f"{label} {share:.0%}" for label, share in corpus.shares().items())
    return f"{len(corpus)} sentences in {len(set(corpus.articles))} articles ({shares})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jsonl", type=Path, help="a labelled corpus (text, label, optionally article)")
    parser.add_argument("--test-jsonl", type=Path, help="its test split (else 20 %% of its articles)")
    parser.add_argument(
        "--convert-newsmtsc", type=Path, metavar="FILE", help="print FILE as --jsonl rows; exit"
    )
    parser.add_argument("--size", type=int, default=4000, help="generated corpus: sentences (default 4000)")
    parser.add_argument(
        "--noise", type=float, default=0.1, help="generated corpus: label noise (default 0.1)"
    )
    parser.add_argument("--corpus-seed", type=int, default=0)
    parser.add_argument("--pool", type=int, help="keep about this many pool sentences (whole articles)")
    parser.add_argument("--points", type=int, nargs="+", default=list(POINTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--retrain-every", type=int, default=RETRAIN_EVERY)
    parser.add_argument("--orders", nargs="+", help="only these orders (names as printed, quoted)")
    args = parser.parse_args(argv)

    if args.convert_newsmtsc:
        for row in newsmtsc_rows(args.convert_newsmtsc):
            print(json.dumps(row, ensure_ascii=False))
        return
    if args.jsonl:
        corpus = read_jsonl(args.jsonl)
        if args.test_jsonl:
            pool, test = corpus, read_jsonl(args.test_jsonl)
        else:
            pool, test = split_corpus(corpus, seed=args.corpus_seed)
        source = str(args.jsonl)
    else:
        corpus = generate_corpus(size=args.size, seed=args.corpus_seed, noise=args.noise)
        pool, test = split_corpus(corpus, seed=args.corpus_seed)
        source = f"generated (seed {args.corpus_seed}, noise {args.noise:.0%})"
    if args.pool:
        pool = sample_articles(pool, size=args.pool, seed=args.corpus_seed)
    held_out = set(test.texts)
    copies = [i for i, text in enumerate(pool.texts) if text in held_out]
    if copies:  # a test sentence is never trained on, not even as its copy in the pool
        pool = pool.subset([i for i in range(len(pool)) if pool.texts[i] not in held_out])
    orders = [o for o in all_orders() if not args.orders or o.name in args.orders]
    if "random" not in {o.name for o in orders}:
        orders.insert(0, all_orders()[0])
    points = sorted(args.points)
    print(f"corpus: {source}")
    print(
        f"pool: {describe(pool)}" + (f"; {len(copies)} copies of test sentences left out" if copies else "")
    )
    print(f"test: {describe(test)}")
    print(f"retrain every {args.retrain_every} labels; seeds {args.seeds}; load before {load()}")
    started, cpu = time.monotonic(), time.process_time()
    results: dict[str, list[Run]] = {}
    for order in orders:
        for seed in args.seeds:
            run = simulate(
                pool, test, order=order, seed=seed, points=points, retrain_every=args.retrain_every
            )
            results.setdefault(order.name, []).append(run)
            print(
                f"  {order.name:<28} seed {seed}: "
                + " ".join(f"{p}:{run.f_avg[p] * 100:.1f}" for p in points if p in run.f_avg)
                + f"  ({run.seconds:.0f} s CPU)",
                flush=True,
            )
    print()
    print("F_avg x 100 on the test split, mean [min-max over seeds]:")
    print(curve_table(results, points))
    print()
    print(
        f"F_avg x 100 of each point's model on the next {args.retrain_every} sentences handed out, mean over seeds:"
    )
    print(next_batch_table(results, points))
    print()
    print("Difference from random (F_avg x 100), mean over seeds [paired bootstrap 95 %]:")
    print(difference_table(test, results, [p for p in COMPARED_AT if p in points]))
    print()
    print(
        f"{time.monotonic() - started:.0f} s wall, {time.process_time() - cpu:.0f} s CPU; load after {load()}"
    )


if __name__ == "__main__":
    main()
