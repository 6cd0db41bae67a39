"""A synthetic news corpus for benchmarks: N sentences across articles, written in batches.

Sentences are 8 to 40 words (most near 20, like news prose) drawn from a news vocabulary
with a Zipf-like skew; about 30 sentences an article; each article's body is its sentences
joined, and every sentence keeps its true offsets into it (body[start:end] == text).
Rows are written with bulk_create in batches, one transaction a batch, never one save a row.

    .venv/bin/python benchmarks/corpus.py 100000                  # throwaway SQLite file
    .venv/bin/python benchmarks/corpus.py 1000000 --sqlite /tmp/big.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stance_bench .venv/bin/python benchmarks/corpus.py 1000000

From Python (after django.setup()): `corpus.generate(n_sentences)` returns a CorpusStats.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Function words first: with the Zipf weights below they are the most frequent, as in prose.
WORDS = (
    "the of to and a in that is for on with as was by it at from said has be have are "
    "its an not will which but this were would had been they their more after also who "
    "government company network minister officials security China Britain UK US Huawei 5G "
    "equipment telecom decision ambassador country countries national risk pressure "
    "cooperation investment market markets technology infrastructure operators mobile "
    "suppliers supplier contracts vendors vendor core parts access ban banned exclude "
    "allow allowed warning warned concerns intelligence services spying espionage trade "
    "deal talks week Monday Tuesday Wednesday Thursday Friday Sunday statement report "
    "reported according spokesperson prime secretary foreign office embassy Beijing London "
    "Washington Brussels European Union allies partners council committee review approved "
    "plans plan future economy economic growth jobs billion million pounds dollars percent "
    "share shares customers broadband fibre rollout delay delays cost costs chief executive "
    "founder firm firms group groups industry sector analysts experts critics lawmakers MPs "
    "parliament vote votes debate law rules regulator Ofcom agency centre cyber threat "
    "threats trust trusted safe reliable open fair welcome welcomed reject rejected urged "
    "urge resist external interference decisions long-term development relations tensions "
    "sanctions tariffs export exports import imports chips semiconductors data privacy "
    "users phones smartphones sales revenue profit quarter year years months today recent "
    "latest new first last high-risk limited cap percent role roles key critical sensitive "
    "military defence Pentagon administration president Trump Johnson May Hunt Liu Xiaoming "
    "Ren Zhengfei Shenzhen headquarters global worldwide international domestic local "
    "however while although because despite since before during under over against between"
).split()
#: Zipf-like weights (1/rank) so that function words dominate as they do in real text.
CUM_WEIGHTS = list(itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(WORDS))))
SOURCES = ["Reuters", "BBC News", "The Guardian", "Financial Times", "Xinhua", "The Telegraph", "CNN"]
MIN_WORDS, MODE_WORDS, MAX_WORDS = 8, 20, 40


@dataclass(frozen=True)
class CorpusStats:
    articles: int
    sentences: int
    seconds: float
    characters: int
    words: int

    @property
    def rows_per_second(self) -> float:
        return (self.articles + self.sentences) / self.seconds if self.seconds else 0.0


def make_sentence(rng: random.Random) -> str:
    n = round(rng.triangular(MIN_WORDS, MAX_WORDS, MODE_WORDS))
    words = rng.choices(WORDS, cum_weights=CUM_WEIGHTS, k=n)
    if n > 14 and rng.random() < 0.4:  # a clause
        words[rng.randrange(5, n - 4)] += ","
    text = " ".join(words)
    return text[0].upper() + text[1:] + ("." if rng.random() < 0.93 else "?")


def generate(
    n_sentences: int,
    *,
    per_article: int = 30,
    batch_size: int = 5000,
    seed: int | None = None,
    progress: bool = False,
    using: str = "default",
) -> CorpusStats:
    """Bulk-create `n_sentences` sentences in articles of about `per_article` sentences.

    Django must be set up and migrated. Each batch of about `batch_size` sentences (and
    their articles) is one transaction. A `seed` makes the texts reproducible; without
    one every call writes new articles (content hashes are unique).
    """
    from django.db import transaction

    from annotate.models import Article, Sentence

    rng = random.Random(seed if seed is not None else random.getrandbits(64))
    run = f"{rng.getrandbits(32):08x}"
    started = time.monotonic()
    made_articles = made_sentences = characters = words = 0
    articles_per_batch = max(1, batch_size // per_article)
    while made_sentences < n_sentences:
        articles: list[Article] = []
        bodies: list[list[str]] = []
        for _ in range(articles_per_batch):
            remaining = n_sentences - made_sentences - sum(len(b) for b in bodies)
            if remaining <= 0:
                break
            count = min(remaining, max(1, per_article + rng.randint(-8, 8)))
            texts = [make_sentence(rng) for _ in range(count)]
            body = " ".join(texts)
            number = made_articles + len(articles)
            articles.append(
                Article(
                    title=" ".join(texts[0].split()[:12]).rstrip(",.?"),
                    source=SOURCES[number % len(SOURCES)],
                    url=f"https://news.example/{run}/{number}",
                    body=body,
                    content_hash=hashlib.sha256(f"{run}:{number}:{body}".encode()).hexdigest(),
                )
            )
            bodies.append(texts)
        with transaction.atomic(using=using):
            created = Article.objects.using(using).bulk_create(articles, batch_size=1000)
            sentences = []
            for article, texts in zip(created, bodies, strict=True):
                offset = 0
                for position, text in enumerate(texts):
                    sentences.append(
                        Sentence(
                            article_id=article.pk,
                            position=position,
                            text=text,
                            start=offset,
                            end=offset + len(text),
                        )
                    )
                    offset += len(text) + 1
                    characters += len(text)
                    words += text.count(" ") + 1
            Sentence.objects.using(using).bulk_create(sentences, batch_size=batch_size)
        made_articles += len(created)
        made_sentences += len(sentences)
        if progress:
            elapsed = time.monotonic() - started
            print(
                f"  {made_sentences:,} / {n_sentences:,} sentences, {made_articles:,} articles "
                f"({elapsed:.0f} s)",
                end="\r",
                flush=True,
            )
    if progress:
        print()
    return CorpusStats(made_articles, made_sentences, time.monotonic() - started, characters, words)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "sentences", type=int, nargs="?", default=100_000, help="how many (10,000 to 1,000,000)"
    )
    parser.add_argument("--per-article", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--sqlite", help="SQLite file to fill (default: a throwaway one; DATABASE_URL wins when set)"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")
    os.environ.setdefault("DEBUG", "1")
    with tempfile.TemporaryDirectory(prefix="stance-corpus-") as workdir:
        if not os.environ.get("DATABASE_URL"):
            os.environ["SQLITE_PATH"] = args.sqlite or str(Path(workdir) / "corpus.sqlite3")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        print(f"Writing {args.sentences:,} sentences to {connection.vendor} ...", flush=True)
        stats = generate(
            args.sentences,
            per_article=args.per_article,
            batch_size=args.batch_size,
            seed=args.seed,
            progress=sys.stdout.isatty(),
        )
        connection.close()
    per_sentence = max(1, stats.sentences)
    print(
        f"{stats.sentences:,} sentences in {stats.articles:,} articles in {stats.seconds:.1f} s: "
        f"{stats.rows_per_second:,.0f} rows/s, {stats.sentences / stats.seconds:,.0f} sentences/s "
        f"(mean {stats.words / per_sentence:.1f} words, {stats.characters / per_sentence:.0f} characters)"
    )


if __name__ == "__main__":
    main()
