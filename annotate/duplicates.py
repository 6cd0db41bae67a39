"""Duplicate groups of sentences: reprints word for word, and near-identical copies.

News outlets reprint wire copy and quotes. A sentence and its reprint in train and test
would let a model score on text it was trained on, so sentences are grouped and a group
never crosses a split (annotate.splits) or a cross-validation fold.

Two sentences are in one group when a chain of these links joins them:

- **exact**: the same normalised text (normalise(): Unicode NFKC, case folded, punctuation
  and quotes removed, whitespace collapsed), found by a hash (text_key) at import;
- **near**: character 5-gram similarity at least NEAR_THRESHOLD: the Jaccard index of the
  two normalised texts' sets of 5-character substrings (similarity()), for texts of at
  least NEAR_MIN_CHARS normalised characters (shorter ones are grouped only when exact).

Near pairs are found without comparing every pair: MinHash signatures of each text's
5-gram set (numpy, BANDS x ROWS hash functions) are cut into bands, texts sharing a
band's values are candidates, and each candidate pair is checked with the exact
similarity. A pair at the threshold is found with probability 1 - (1 - t^ROWS)^BANDS
(0.9999 at 0.7), and the work grows linearly with the number of texts
(benchmarks/duplicates.py). Groups are the connected components (union-find).

Pure Python and numpy: no Django, so grouped cross-validation can call it on texts.
numpy is imported where it is used: corpus imports (web processes) use text_key only.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Near-identical: Jaccard similarity of the character 5-gram sets at least this.
#: One word changed in a 20-word news sentence gives about 0.8; two unrelated sentences of
#: news prose about 0.1.
NEAR_THRESHOLD = 0.7
#: Character n-gram length of the near-duplicate similarity.
NGRAM = 5
#: Normalised texts shorter than this (about seven words) are grouped only when exactly
#: equal: in a short text one changed character moves the similarity by 0.1 or more, so
#: "Sentence number 1234 about Huawei." and "... 1235 ..." would count as one text.
NEAR_MIN_CHARS = 40
#: MinHash LSH: BANDS bands of ROWS hash values each. Five rows keep the candidates
#: (pairs sharing a band) growing about linearly; at four they grew with the square of n on
#: news-like text, whose sentences share many 5-grams ("the ", "said ").
BANDS, ROWS = 20, 5
#: Up to this many texts every pair is a candidate (no chance of a miss).
ALL_PAIRS_BELOW = 400
#: A band bucket with more texts than this checks each against the next only (all pairs
#: would be quadratic); buckets that large come from boilerplate that is exact anyway.
BUCKET_ALL_PAIRS = 64
#: Candidates whose MinHash estimate is this far below the threshold are not checked.
ESTIMATE_MARGIN = 0.2

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The text as compared: NFKC, case folded, and every run of characters that are not
    letters or digits (punctuation, quotes, dashes, symbols, whitespace) one space."""
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def text_key(text: str) -> int:
    """A signed 64-bit hash of the normalised text: equal for exact duplicates (stored on
    the sentence, indexed, so an import finds a new sentence's group with one query)."""
    digest = hashlib.blake2b(normalise(text).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def shingles(normalised: str) -> set[str]:
    """The set of NGRAM-character substrings of a normalised text."""
    return {normalised[i : i + NGRAM] for i in range(len(normalised) - NGRAM + 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two texts' character 5-gram sets, after normalise()."""
    first, second = shingles(normalise(a)), shingles(normalise(b))
    if not first or not second:
        return 1.0 if normalise(a) == normalise(b) else 0.0
    return len(first & second) / len(first | second)


class UnionFind:
    """Disjoint sets over arbitrary hashable items; the representative is the smallest."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        parent = self.parent.setdefault(item, item)
        root = item
        while parent != root:
            root, parent = parent, self.parent[parent]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = (ra, rb) if ra < rb else (rb, ra)
            self.parent[high] = low


def _coefficients(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed odd multipliers and offsets of the MinHash functions (a fixed seed: the same
    groups every run)."""
    import numpy as np

    rng = np.random.default_rng(20191215)
    multipliers = rng.integers(0, 2**31, size=count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = rng.integers(0, 2**32, size=count, dtype=np.uint32)
    return multipliers, offsets


def _ngram_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every text's character 5-grams as 32-bit codes, concatenated, and where each text's
    codes start. Texts must have at least NGRAM characters."""
    import numpy as np

    chars = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    ends = np.cumsum(lengths)
    total = len(chars) - NGRAM + 1
    code = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(NGRAM):  # a polynomial hash of the five code points, mod 2**64
            code = code * np.uint64(0x100000001B3) + chars[k : k + total]
    # Keep the n-grams that lie inside one text: those starting at most len - NGRAM in.
    valid = np.ones(total, dtype=bool)
    for k in range(1, NGRAM):
        cut = ends - k
        valid[cut[cut < total]] = False
    folded = (code[valid] ^ (code[valid] >> np.uint64(29))).astype(np.uint32)
    counts = lengths - NGRAM + 1
    return folded, np.concatenate([[0], np.cumsum(counts)[:-1]])


@dataclass(frozen=True)
class Signatures:
    """Per text: one 64-bit key a band (texts with an equal key are candidates) and the low
    8 bits of every MinHash value (b-bit MinHash: enough to estimate a candidate's
    similarity, in a byte a value, so a million texts take 100 MB)."""

    bands: np.ndarray  # n x BANDS, uint64
    low_bits: np.ndarray  # n x BANDS*ROWS, uint8


def _signatures(texts: Sequence[str], *, chunk: int = 20_000) -> Signatures:
    """MinHash signatures of the texts' 5-gram sets, a chunk of texts at a time."""
    import numpy as np

    multipliers, offsets = _coefficients(BANDS * ROWS)
    bands = np.zeros((len(texts), BANDS), dtype=np.uint64)
    low_bits = np.empty((len(texts), BANDS * ROWS), dtype=np.uint8)
    for first in range(0, len(texts), chunk):
        codes, starts = _ngram_codes(texts[first : first + chunk])
        rows = slice(first, first + len(starts))
        with np.errstate(over="ignore"):
            for j in range(BANDS * ROWS):
                minimum = np.minimum.reduceat(codes * multipliers[j] + offsets[j], starts)
                low_bits[rows, j] = minimum
                band = bands[rows, j // ROWS]
                bands[rows, j // ROWS] = band * np.uint64(0x9E3779B97F4A7C15) + minimum
    return Signatures(bands=bands, low_bits=low_bits)


def _candidate_pairs(signatures: Signatures) -> np.ndarray:
    """Pairs (a < b, rows of an int64 array of two columns) of row numbers that agree on
    every value of at least one band, each pair once."""
    import numpy as np

    n = len(signatures.bands)
    if n <= ALL_PAIRS_BELOW:  # a few hundred texts: every pair, no chance of a miss
        a, b = np.triu_indices(n, k=1)
        return np.stack([a, b], axis=1).astype(np.int64)
    found: list[np.ndarray] = []
    for band in range(BANDS):
        keys = signatures.bands[:, band]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        # In sorted keys, equal keys at distance d are in one bucket: all pairs of a bucket
        # up to BUCKET_ALL_PAIRS members, neighbours only beyond.
        for distance in range(1, BUCKET_ALL_PAIRS):
            same = np.flatnonzero(ordered[distance:] == ordered[:-distance])
            if not len(same):
                break
            a, b = order[same], order[same + distance]
            found.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)


def _estimated(signatures: Signatures, pairs: np.ndarray, *, chunk: int = 200_000) -> np.ndarray:
    """Each pair's MinHash estimate of its similarity: the share of equal values, less the
    1 in 256 chance that two different values agree in their low 8 bits."""
    import numpy as np

    bits = signatures.low_bits
    out = np.empty(len(pairs), dtype=np.float64)
    for first in range(0, len(pairs), chunk):
        part = pairs[first : first + chunk]
        out[first : first + len(part)] = (bits[part[:, 0]] == bits[part[:, 1]]).mean(axis=1)
    return (out - 1 / 256) / (1 - 1 / 256)


def near_pairs(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of normalised texts whose 5-gram similarity is at least
    NEAR_THRESHOLD, found by MinHash LSH and checked exactly. Texts should be distinct
    (exact duplicates are grouped by their key first, more cheaply)."""
    eligible = [i for i, text in enumerate(texts) if len(text) >= NEAR_MIN_CHARS]
    if len(eligible) < 2:
        return []
    signatures = _signatures([texts[i] for i in eligible])
    pairs = _candidate_pairs(signatures)
    # The estimate's standard error is under 0.05 at the threshold (100 values): a pair
    # estimated ESTIMATE_MARGIN below it is left out unchecked (a 1 in 10^4 miss).
    pairs = pairs[_estimated(signatures, pairs) >= NEAR_THRESHOLD - ESTIMATE_MARGIN]
    found: list[tuple[int, int]] = []
    sets: dict[int, set[str]] = {}
    for a, b in pairs.tolist():
        i, j = eligible[a], eligible[b]
        first = sets.get(i) or sets.setdefault(i, shingles(texts[i]))
        second = sets.get(j) or sets.setdefault(j, shingles(texts[j]))
        if len(first & second) >= NEAR_THRESHOLD * len(first | second):
            found.append((i, j))
    return found


@dataclass(frozen=True)
class Groups:
    """Each item's group (the smallest id in it) and how many links made them."""

    group: dict[int, int]
    exact_links: int
    near_links: int

    @property
    def duplicated(self) -> dict[int, int]:
        """Groups of two or more items: representative -> size."""
        sizes: dict[int, int] = {}
        for representative in self.group.values():
            sizes[representative] = sizes.get(representative, 0) + 1
        return {r: n for r, n in sizes.items() if n > 1}


def sentence_groups(items: Iterable[tuple[int, str]], *, near: bool = True) -> Groups:
    """Duplicate groups of (id, text) items: exact duplicates of the normalised text, and
    near-identical ones (near_pairs) unless near=False. Each id maps to its group's
    smallest id. Grouped cross-validation calls this on its training texts."""
    sets = UnionFind()
    first_of: dict[str, int] = {}
    exact = 0
    for item_id, text in items:
        key = normalise(text)
        sets.find(item_id)
        if key in first_of:
            sets.union(first_of[key], item_id)
            exact += 1
        else:
            first_of[key] = item_id
    near_links = 0
    if near:
        keys = list(first_of)
        for i, j in near_pairs(keys):
            if sets.find(first_of[keys[i]]) != sets.find(first_of[keys[j]]):
                near_links += 1
            sets.union(first_of[keys[i]], first_of[keys[j]])
    return Groups(
        group={item: sets.find(item) for item in list(sets.parent)}, exact_links=exact, near_links=near_links
    )
