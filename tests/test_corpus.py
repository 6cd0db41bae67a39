from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotate import corpus
from annotate.corpus import CorpusError, ParsedArticle, articles_import, read_articles, split_sentences
from annotate.models import Annotation, Article, QueueCursor, Sentence
from tests.factories import SentenceFactory, TargetFactory, UserFactory
from tests.threads import label_from_another_connection

SEED_COUNTS = {
    "Chinese envoy urges Britain to resist external pressure over decisions on Huawei": 16,
    "China tells UK to resist pressure over Huawei 5G fears if it wants to protect country's "
    "'long-term development'": 32,
    "Chinese envoy to the UK Liu Xiaoming has thrown his weight behind telecom giant Huawei, whose role…": 13,
    "File Photo: UK and Chinese flags (L) and Huawei logo (R)": 14,
    "Liu Xiaoming, the Chinese Ambassador to the UK, on Sunday urged Britain to “resist pressure”…": 16,
}
# The same digest on SQLite and PostgreSQL proves both store identical sentences.
SEED_SENTENCES_SHA256 = "6c7fd5c0a2ed12bd91d8f1f7af78efaefa3a9901842e0ae0aac0278df7bf6354"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def texts(body: str) -> list[str]:
    return [span.text for span in split_sentences(body)]


def test_abbreviations_and_titles_do_not_split_sentences():
    body = "He said the U.S. would reassess. Mr Liu disagreed. Mr. Hunt and Dr. Fox met at 5 p.m. on Monday."
    assert texts(body) == [
        "He said the U.S. would reassess.",
        "Mr Liu disagreed.",
        "Mr. Hunt and Dr. Fox met at 5 p.m. on Monday.",
    ]


def test_a_quotation_with_inner_full_stops_stays_one_sentence():
    body = '"Huawei is safe. Trust us," the ambassador wrote. Officials declined to comment.'
    assert texts(body) == [
        '"Huawei is safe. Trust us," the ambassador wrote.',
        "Officials declined to comment.",
    ]


def test_each_line_is_its_own_paragraph_and_offsets_point_into_the_body():
    body = "Photo: Reuters\nThe first sentence. The second one!\n\nA new paragraph without a stop"
    spans = split_sentences(body)
    assert [s.text for s in spans] == [
        "Photo: Reuters",
        "The first sentence.",
        "The second one!",
        "A new paragraph without a stop",
    ]
    assert all(body[s.start : s.end] == s.text for s in spans)


def test_a_txt_file_takes_its_first_line_as_headline(tmp_path):
    path = write(tmp_path, "a.txt", "Huawei wins a contract\n\nThe UK chose Huawei. Critics objected.\n")
    [article] = read_articles(path)
    assert article.title == "Huawei wins a contract"
    assert article.body == "The UK chose Huawei. Critics objected."


def test_a_txt_file_without_headline_keeps_its_first_sentence_in_the_body(tmp_path):
    path = write(tmp_path, "a.txt", "The UK chose Huawei on Tuesday.\nCritics objected.\n")
    [article] = read_articles(path)
    assert article.title == "The UK chose Huawei on Tuesday."
    assert article.body.startswith("The UK chose Huawei on Tuesday.")


def test_a_jsonl_file_reads_every_field(tmp_path):
    record = {
        "title": "T",
        "body": "Body one. Body two.",
        "source": "Reuters",
        "url": "https://example.org/a",
        "published": "2019-04-28",
        "extra": "ignored",
    }
    path = write(tmp_path, "a.jsonl", json.dumps(record) + "\n\n")
    [article] = read_articles(path)
    assert (article.title, article.source, article.url, str(article.published)) == (
        "T",
        "Reuters",
        "https://example.org/a",
        "2019-04-28",
    )


@pytest.mark.django_db
def test_the_seed_corpus_imports_with_the_documented_sentence_counts(seeds_dir):
    call_command("import_articles", str(seeds_dir))
    counts = {a.title: a.sentences.count() for a in Article.objects.all()}
    assert counts == SEED_COUNTS
    digest = hashlib.sha256()
    for s in Sentence.objects.select_related("article").order_by("article_id", "position"):
        assert s.article.body[s.start : s.end] == s.text
        digest.update(f"{s.article.title}|{s.position}|{s.start}|{s.end}|{s.text}\n".encode())
    assert digest.hexdigest() == SEED_SENTENCES_SHA256


@pytest.mark.django_db
def test_importing_the_same_articles_again_adds_nothing(seeds_dir, tmp_path):
    call_command("import_articles", str(seeds_dir))
    # The same body under another file name and with different spacing is the same article.
    copy = write(tmp_path, "copy.txt", (seeds_dir / "000_d61a6c3550263ea7.txt").read_text() + "\n\n")
    call_command("import_articles", str(seeds_dir), str(copy))
    assert Article.objects.count() == 5
    assert Sentence.objects.count() == sum(SEED_COUNTS.values())


@pytest.mark.django_db
def test_a_jsonl_with_the_same_article_twice_stores_it_once(tmp_path):
    line = json.dumps({"title": "T", "body": "One. Two."})
    path = write(tmp_path, "a.jsonl", f"{line}\n{line}\n")
    call_command("import_articles", str(path))
    assert Article.objects.count() == 1
    assert Sentence.objects.count() == 2


BAD_FILES = [
    ("latin1.txt", "Headline\nCaf\xe9 au lait.\n".encode("latin-1"), "latin1.txt:2: not UTF-8"),
    ("binary.txt", b"Headline\n\x89PNG\x00\x01\x02", "binary.txt:2: binary data"),
    ("empty.txt", b"  \n\n", "empty.txt: the file is empty"),
    ("empty.jsonl", b"", "empty.jsonl: the file is empty"),
    (
        "broken.jsonl",
        b'{"title": "A", "body": "Fine."}\n{"title": "B", "body": \n',
        "broken.jsonl:2: invalid JSON",
    ),
    (
        "nobody.jsonl",
        b'{"title": "A", "body": "Fine."}\n\n{"title": "B"}\n',
        "nobody.jsonl:3: record has no 'body'",
    ),
    ("blankbody.jsonl", b'{"title": "A", "body": "   "}\n', "blankbody.jsonl:1: record has no 'body'"),
    ("array.jsonl", b'["title", "body"]\n', "array.jsonl:1: each line must be a JSON object"),
    ("date.jsonl", b'{"title": "A", "body": "B.", "published": "April"}\n', "date.jsonl:1: 'published'"),
    ("notes.csv", b"title,body\nA,B\n", "notes.csv: unsupported file type"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_fails_the_whole_run_with_a_one_line_error(tmp_path, seeds_dir, name, content, message):
    good = write(tmp_path, "good.jsonl", json.dumps({"title": "Good", "body": "A good article."}) + "\n")
    bad = write(tmp_path, name, content)
    with pytest.raises(CommandError) as caught:
        call_command("import_articles", str(good), str(bad))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert Article.objects.count() == 0
    assert Sentence.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("import_articles", str(tmp_path / "nope.txt"))


def test_corpus_error_names_the_file_and_line():
    assert str(CorpusError("a.jsonl", "invalid JSON", 7)) == "a.jsonl:7: invalid JSON"


@pytest.mark.django_db
def test_the_import_command_reports_what_it_did(seeds_dir, capsys):
    call_command("import_articles", str(seeds_dir), "--source", "Seeds")
    assert "Imported 5 articles (91 sentences); skipped 0" in capsys.readouterr().out
    assert set(Article.objects.values_list("source", flat=True)) == {"Seeds"}


# Long paragraphs: pysbd's time grows with the square of what it is given


class RecordingSegmenter:
    """Splits after . ! ? like pysbd (trailing space kept) and records each input's length."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def segment(self, text: str) -> list[str]:
        self.lengths.append(len(text))
        return re.findall(r"[^.!?]*[.!?]+\s*|[^.!?]+$", text)


@pytest.mark.parametrize(
    "sentence",
    ["Huawei said the ban was unfair; officials disagreed, citing risks! ", "word " * 50, "x" * 997],
    ids=["sentences", "no sentence end", "no space"],
)
def test_a_two_megabyte_paragraph_reaches_the_segmenter_in_bounded_pieces(monkeypatch, sentence):
    segmenter = RecordingSegmenter()
    monkeypatch.setattr(corpus, "_segmenter", lambda: segmenter)
    body = "Headline\n" + (sentence * (2_000_000 // len(sentence) + 1))[:2_000_000].strip() + "\nEnd."

    spans = split_sentences(body)

    assert max(segmenter.lengths) <= corpus.SEGMENT_MAX_CHARS
    assert all(body[span.start : span.end] == span.text for span in spans)
    assert [span.start for span in spans] == sorted(span.start for span in spans)
    # Nothing is lost or doubled at the cuts.
    assert "".join(span.text for span in spans).replace(" ", "") == body.replace("\n", "").replace(" ", "")


def test_a_long_paragraph_is_cut_between_sentences_and_offsets_stay_right():
    paragraph = " ".join(f"Sentence number {i} says Mr. Liu met the U.S. envoy." for i in range(300))
    body = f"Headline\n{paragraph}\nLast line."

    spans = split_sentences(body)

    assert len(paragraph) > 4 * corpus.SEGMENT_MAX_CHARS
    assert [span.text for span in spans] == [
        "Headline",
        *(f"Sentence number {i} says Mr. Liu met the U.S. envoy." for i in range(300)),
        "Last line.",
    ]
    assert all(body[span.start : span.end] == span.text for span in spans)


# Batches: annotators label while a long import runs


def parsed_articles(count: int, sentences: int = 3) -> list[ParsedArticle]:
    return [
        ParsedArticle(
            title=f"Imported {n}", body=" ".join(f"Article {n} sentence {i}." for i in range(sentences))
        )
        for n in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_label_commits_while_an_import_is_between_batches():
    # Fresh rows: a transactional test cannot rely on the data migration's target.
    target, annotator = TargetFactory(), UserFactory()
    sentence = SentenceFactory()
    during: list[tuple[bool, int]] = []

    def progress(items):
        for number, item in enumerate(items):
            if number == 2:  # two of the four articles are stored, two to come
                during.append(
                    label_from_another_connection(annotator=annotator, target=target, sentence=sentence)
                )
            yield item

    result = articles_import(articles=parsed_articles(4), progress=progress, batch_size=3)

    assert during == [(True, 3)]  # the label went through with 1 + 2 articles stored
    assert result.articles_created == 4
    assert Annotation.objects.get().label == "pro"


@pytest.mark.django_db
def test_an_import_stopped_between_batches_leaves_whole_articles_and_resumes():
    articles = parsed_articles(5, sentences=4)

    def stopped_after_three(items):
        for number, item in enumerate(items):
            if number == 3:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        articles_import(articles=articles, progress=stopped_after_three, batch_size=4)

    assert Article.objects.count() == 3
    assert {a.sentences.count() for a in Article.objects.all()} == {4}
    resumed = articles_import(articles=articles, batch_size=4)
    assert (resumed.articles_created, resumed.articles_skipped, resumed.sentences_created) == (2, 3, 8)
    assert Sentence.objects.count() == 20


@pytest.mark.django_db
def test_an_import_rewinds_cursors_that_passed_the_new_sentences(annotator, huawei):
    # A cursor past every article (the annotator finished an article imported later).
    QueueCursor.objects.create(annotator=annotator, target=huawei, article_id=10**9, position=0)

    articles_import(articles=parsed_articles(1))

    new = Sentence.objects.get(article__title="Imported 0", position=0)
    cursor = QueueCursor.objects.get()
    assert (cursor.article_id, cursor.position) == (new.article_id, 0)
