"""benchmarks/active_learning.py's simulation core, on a tiny generated corpus (seconds)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from annotate import classifier, uncertainty
from annotate.shuffle import shuffled

ROOT = Path(__file__).resolve().parent.parent


def _load():
    # By path: pysbd installs a top-level package named `benchmarks` too.
    spec = importlib.util.spec_from_file_location(
        "active_learning", ROOT / "benchmarks" / "active_learning.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["active_learning"] = module
    spec.loader.exec_module(module)
    return module


al = _load()
POINTS = (50, 100)


@pytest.fixture(scope="module")
def split():
    return al.split_corpus(al.generate_corpus(size=300, seed=0))


def order(name: str):
    return next(o for o in al.all_orders() if o.name == name)


class SpyFit:
    """The product's fit, remembering what each model was trained on."""

    def __init__(self):
        self.trained: list[list[str]] = []

    def __call__(self, texts, labels):
        self.trained.append(list(texts))
        return al.product_fit(texts, labels)


@pytest.mark.parametrize("name", ["random", "in order", "margin, random start", "mix, in-order start"])
def test_the_test_split_is_never_trained_on_or_handed_out(split, name):
    pool, test = split
    spy = SpyFit()
    run = al.simulate(pool, test, order=order(name), seed=0, points=POINTS, fit=spy)
    held_out = set(test.texts)
    assert held_out and not held_out & set(pool.texts)
    assert spy.trained and not any(held_out & set(texts) for texts in spy.trained)
    assert all(0 <= i < len(pool) for i in run.picked)
    # Each model is trained on exactly the labels handed out so far.
    assert [sorted(texts) for texts in spy.trained] == [
        sorted(pool.texts[i] for i in run.picked[:n]) for n in (50, 100)
    ]


@pytest.mark.parametrize(
    ("name", "retrains"), [("random", []), ("in order", []), ("entropy, random start", [50])]
)
def test_the_curve_has_a_score_at_every_point_and_retrains_every_50_labels(split, name, retrains):
    pool, test = split
    run = al.simulate(pool, test, order=order(name), seed=0, points=POINTS)
    assert list(run.f_avg) == list(POINTS) == list(run.predictions)
    assert all(0 <= f <= 1 for f in run.f_avg.values())
    assert all(len(p) == len(test) for p in run.predictions.values())
    assert len(run.picked) == 100 == len(set(run.picked))
    assert run.retrains == retrains
    assert list(run.next_batch) == [50] and 0 <= run.next_batch[50] <= 1


def test_the_score_is_f_avg_on_the_test_split(split):
    pool, test = split
    run = al.simulate(pool, test, order=order("random"), seed=0, points=POINTS)
    expected = classifier.evaluate(test.labels, run.predictions[100], folds=0)
    assert (
        run.f_avg[100]
        == expected.f_avg
        == (expected.per_class["pro"]["f1"] + expected.per_class["contra"]["f1"]) / 2
    )


@pytest.mark.parametrize("measure", sorted(uncertainty.RANKING))
def test_after_a_retrain_the_queues_ranking_is_handed_out(split, measure):
    pool, test = split
    name = {"least_confident": "least confident"}.get(measure, measure) + ", random start"
    run = al.simulate(pool, test, order=order(name), seed=0, points=POINTS)
    first = run.picked[:50]
    model = al.product_fit([pool.texts[i] for i in first], [pool.labels[i] for i in first])
    rest = [i for i in range(len(pool)) if i not in set(first)]
    ranking = uncertainty.ranked(
        measure, sentence_ids=rest, predictions=classifier.predict(model, [pool.texts[i] for i in rest])
    )
    assert run.picked[50:100] == ranking[:50]


def test_the_next_batch_is_scored_by_the_model_that_chose_it(split):
    pool, test = split
    run = al.simulate(pool, test, order=order("least confident, random start"), seed=0, points=POINTS)
    model = al.product_fit(
        [pool.texts[i] for i in run.picked[:50]], [pool.labels[i] for i in run.picked[:50]]
    )
    batch = run.picked[50:100]
    predicted = [p.label for p in classifier.predict(model, [pool.texts[i] for i in batch])]
    expected = classifier.evaluate([pool.labels[i] for i in batch], predicted, folds=0).f_avg
    assert run.next_batch[50] == expected


def test_the_first_batch_is_random_or_in_order_and_the_same_for_each_order_of_a_seed(split):
    pool, test = split
    random_start = al.simulate(pool, test, order=order("margin, random start"), seed=1, points=(50,))
    baseline = al.simulate(pool, test, order=order("random"), seed=1, points=(50,))
    in_order = al.simulate(pool, test, order=order("margin, in-order start"), seed=1, points=(50,))
    assert random_start.picked == baseline.picked != list(range(50))
    assert in_order.picked == list(range(50))


def test_the_random_order_is_the_queues_walk_by_shuffle_key(split):
    pool, test = split
    run = al.simulate(pool, test, order=order("random"), seed=0, points=(50,))
    other_seed = al.simulate(pool, test, order=order("random"), seed=2, points=(50,))

    # Seed 0 numbers the pool from id 1, as a fresh database does.
    ids = list(range(1, len(pool) + 1))
    assert run.picked == [i - 1 for i in shuffled(ids)][:50]
    assert other_seed.picked != run.picked


def test_mix_takes_its_random_picks_from_the_random_orders_walk(split):
    pool, test = split
    mix = al.simulate(pool, test, order=order("mix, random start"), seed=0, points=(50, 150))
    walk = [i - 1 for i in shuffled(list(range(1, len(pool) + 1)))]
    assert mix.picked[:50] == walk[:50]  # the random start is the walk
    labelled = set(mix.picked[:50])
    next_in_walk = 0
    for picked in mix.picked[50:]:
        # A random pick is the walk's next open sentence at that moment.
        hits = next(i for i in walk if i not in labelled) == picked
        next_in_walk += hits
        labelled.add(picked)

    assert 5 <= next_in_walk <= 40  # about a fifth of 100 (share 0.2), and ranked picks rarely


def test_mix_hands_out_random_sentences_beside_the_ranking(split):
    pool, test = split
    mix = al.simulate(pool, test, order=order("mix, random start"), seed=0, points=POINTS)
    margin = al.simulate(pool, test, order=order("margin, random start"), seed=0, points=POINTS)
    ranked = margin.picked[50:]
    off_ranking = [i for i in mix.picked[50:] if i not in set(ranked)]
    assert 0 < len(off_ranking) < 25  # about a fifth


def test_the_generated_corpus_is_deterministic_with_the_class_shares():
    corpus = al.generate_corpus(size=2000, seed=3)
    assert corpus == al.generate_corpus(size=2000, seed=3)
    assert corpus.texts != al.generate_corpus(size=2000, seed=4).texts
    shares = corpus.shares()
    assert abs(shares["neutral"] - 0.5) < 0.05
    assert abs(shares["pro"] - 0.25) < 0.05 and abs(shares["contra"] - 0.25) < 0.05


def test_the_split_keeps_each_article_on_one_side(split):
    pool, test = split
    assert not set(pool.articles) & set(test.articles)


def test_a_paired_difference_of_an_order_with_itself_is_zero(split):
    pool, test = split
    runs = [al.simulate(pool, test, order=order("random"), seed=s, points=(50,)) for s in (0, 1)]
    d = al.paired_difference(test, runs, runs, 50, al.resample_weights(len(test), resamples=200))
    assert (d.mean, d.low, d.high) == (0, 0, 0)


def test_newsmtsc_becomes_rows_with_stance_labels_and_a_sentence_whose_targets_disagree_is_left_out(tmp_path):
    source = tmp_path / "train.jsonl"
    records = [
        {"primary_gid": "a_1_2_x_0", "sentence_normalized": "Good.", "targets": [{"polarity": 6.0}]},
        {
            "primary_gid": "a_1_2_y_1",
            "sentence_normalized": "Bad.",
            "targets": [{"polarity": 2.0}, {"polarity": 2.0}],
        },
        {
            "primary_gid": "a_1_3_z_0",
            "sentence_normalized": "Both.",
            "targets": [{"polarity": 2.0}, {"polarity": 6.0}],
        },
        {"primary_gid": "a_1_3_w_0", "sentence_normalized": "Said.", "targets": [{"polarity": 4.0}]},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = al.newsmtsc_rows(source)
    assert rows == [
        {"text": "Good.", "label": "pro", "article": "a_1_2"},
        {"text": "Bad.", "label": "contra", "article": "a_1_2"},
        {"text": "Said.", "label": "neutral", "article": "a_1_3"},
    ]
    converted = tmp_path / "rows.jsonl"
    converted.write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = al.read_jsonl(converted)
    assert corpus.labels == ["pro", "contra", "neutral"] and corpus.articles == [0, 0, 1]


def test_a_jsonl_row_without_a_stance_label_is_refused(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a", "label": "pro"}\n{"text": "b", "label": "FAVOR"}\n')
    with pytest.raises(SystemExit, match=r"rows\.jsonl:2"):
        al.read_jsonl(path)
