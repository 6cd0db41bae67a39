"""Short texts (posts, headlines, comments) kept whole as one unit to label: `--unit`."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotate.corpus import read_articles
from annotate.dataset_card import dataset_card
from annotate.export import ExportSpec, export_summary
from annotate.models import Annotation, Article, Sentence
from annotate.summary import fresh_summary
from tests.factories import AnnotationFactory, ArticleFactory, SentenceFactory

pytestmark = pytest.mark.django_db

# A post as a team gets it: a line break, doubled spaces, hashtags at the end. Split into
# sentences, the hashtags become a "sentence" of their own.
POST = "Not buying the Huawei story.\nBan them now!  #5G #Huawei"
POST_UNIT = "Not buying the Huawei story. Ban them now! #5G #Huawei"
TWEETS = [
    "Huawei phones are great value #tech",
    "Keep Huawei out of our networks!!! #5G #security",
    "@bbc what did the minister say about huawei? #5G",
]


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*records: dict[str, object]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def import_articles(*args: str) -> str:
    out = StringIO()
    call_command("import_articles", *args, stdout=out)
    return out.getvalue()


def units(article: Article) -> list[str]:
    return list(article.sentences.order_by("position").values_list("text", flat=True))


def stored() -> tuple[object, ...]:
    return (
        list(Article.objects.order_by("id").values_list("id", "unit")),
        list(Sentence.objects.order_by("id").values_list("id", "text")),
    )


# Reading and storing


def test_a_jsonl_record_kept_whole_is_one_unit_with_its_whitespace_normalised(tmp_path):
    path = write(tmp_path, "posts.jsonl", jsonl({"title": "A post", "body": POST, "source": "X"}))

    output = import_articles(str(path), "--unit", "text")

    article = Article.objects.get()
    assert (article.unit, article.body, article.title, article.source) == ("text", POST, "A post", "X")
    assert units(article) == [POST_UNIT]
    sentence = article.sentences.get()
    assert (sentence.start, sentence.end) == (0, len(POST))
    assert "Imported 1 articles (1 texts kept whole)" in output


def test_the_same_record_split_into_sentences_makes_its_hashtags_a_sentence(tmp_path):
    path = write(tmp_path, "posts.jsonl", jsonl({"title": "A post", "body": POST}))

    import_articles(str(path))

    article = Article.objects.get()
    assert article.unit == "sentence"
    assert units(article)[-1] == "#5G #Huawei"


def test_a_jsonl_record_kept_whole_needs_no_title(tmp_path):
    path = write(tmp_path, "posts.jsonl", jsonl({"body": TWEETS[0]}, {"body": "x " * 80}))

    articles = read_articles(path, unit="text")

    assert articles[0].title == TWEETS[0]
    assert articles[1].title.endswith("…") and len(articles[1].title) <= 101


def test_a_txt_file_kept_whole_is_one_unit_and_takes_no_headline(tmp_path):
    path = write(tmp_path, "post.txt", "Great game tonight\n\n#NBA   #Huawei\n")

    import_articles(str(path), "--unit", "text")

    article = Article.objects.get()
    assert (article.title, article.body, article.unit) == (
        "Great game tonight",
        "Great game tonight\n\n#NBA   #Huawei",
        "text",
    )
    assert units(article) == ["Great game tonight #NBA #Huawei"]


def test_a_txt_file_read_a_line_at_a_time_stores_each_post_as_its_own_article(tmp_path):
    path = write(tmp_path, "tweets.txt", "\ufeff" + "\n\n".join(TWEETS) + "\r\n  \n")

    output = import_articles(str(path), "--unit", "line")

    articles = list(Article.objects.order_by("id"))
    assert [units(article) for article in articles] == [[tweet] for tweet in TWEETS]
    assert {(a.unit, a.imported_from) for a in articles} == {("text", "tweets.txt")}
    assert [a.title for a in articles] == TWEETS
    assert "Imported 3 articles (3 texts kept whole)" in output


def test_the_same_post_twice_in_a_file_of_posts_is_stored_once(tmp_path):
    path = write(tmp_path, "tweets.txt", f"{TWEETS[0]}\n{TWEETS[1]}\n{TWEETS[0]}  \n")

    output = import_articles(str(path), "--unit", "line")

    assert Article.objects.count() == 2
    assert "skipped 1 already present" in output


# Bad input: a one-line error, and nothing written


def test_an_unknown_unit_is_refused_and_nothing_is_stored(tmp_path):
    path = write(tmp_path, "posts.jsonl", jsonl({"title": "A", "body": TWEETS[0]}))

    with pytest.raises(
        CommandError, match=r"--unit: invalid choice: 'word' \(choose from 'sentence', 'text', 'line'\)"
    ):
        import_articles(str(path), "--unit", "word")

    assert stored() == ([], [])


def test_read_articles_refuses_an_unknown_unit(tmp_path):
    path = write(tmp_path, "posts.jsonl", jsonl({"title": "A", "body": TWEETS[0]}))

    with pytest.raises(ValueError, match="unknown unit 'words'"):
        read_articles(path, unit="words")


UNIT_BAD_FILES = [
    (
        "text",
        "blank.jsonl",
        jsonl({"title": "A", "body": TWEETS[0]}, {"body": " \n\t "}),
        "blank.jsonl:2: record has no 'body'",
    ),
    ("text", "nobody.jsonl", jsonl({"title": "A"}), "nobody.jsonl:1: record has no 'body'"),
    ("text", "bom.txt", "\ufeff \n ", "bom.txt: the file is empty"),
    ("line", "blank.txt", "\ufeff\n  \n\t\n", "blank.txt: the file holds no texts"),
    ("line", "empty.txt", "  \n", "empty.txt: the file is empty"),
    (
        "line",
        "posts.jsonl",
        jsonl({"title": "A", "body": TWEETS[0]}),
        "posts.jsonl: unit 'line' reads .txt files, a text a line; to keep each .jsonl record whole, use 'text'",
    ),
]


@pytest.mark.parametrize(
    ("unit", "name", "content", "message"), UNIT_BAD_FILES, ids=[f"{c[0]}-{c[1]}" for c in UNIT_BAD_FILES]
)
def test_a_bad_file_for_a_unit_fails_the_whole_run_with_a_one_line_error(
    tmp_path, unit, name, content, message
):
    good = write(tmp_path, "good.txt", TWEETS[0] + "\n")
    bad = write(tmp_path, name, content)

    with pytest.raises(CommandError) as caught:
        import_articles(str(good), str(bad), "--unit", unit)

    assert str(caught.value) == f"{bad.parent}/{message}"
    assert stored() == ([], [])


# Importing again


def test_importing_again_with_another_unit_keeps_the_stored_units_and_says_so(tmp_path):
    path = write(
        tmp_path, "posts.jsonl", jsonl({"title": "A post", "body": POST}, {"title": "B", "body": TWEETS[0]})
    )
    import_articles(str(path))
    before = stored()

    output = import_articles(str(path), "--unit", "text")

    assert stored() == before
    assert "skipped 2 already present" in output
    assert "2 of the skipped articles are stored split into sentences, not as --unit text asks" in output


def test_importing_again_with_the_same_unit_warns_of_nothing(tmp_path):
    path = write(tmp_path, "tweets.txt", "\n".join(TWEETS))
    import_articles(str(path), "--unit", "line")

    output = import_articles(str(path), "--unit", "text")  # a whole file: a new text
    again = import_articles(str(path), "--unit", "line")

    assert "Imported 1 articles (1 texts kept whole)" in output
    assert "skipped 3 already present." in again and "of the skipped" not in again


# Labels for texts kept whole


def test_a_label_file_of_whole_posts_labels_the_units_kept_whole(tmp_path, huawei):
    posts = [POST, *TWEETS]
    import_articles(
        str(write(tmp_path, "posts.jsonl", jsonl(*({"body": p} for p in posts)))), "--unit", "text"
    )
    # The label file spaces the texts its own way: whitespace is no part of a match.
    rows = [{"text": " ".join(p.split()).replace(" ", "  ", 1), "label": "FAVOR"} for p in posts]
    labels = write(tmp_path, "labels.jsonl", jsonl(*rows))

    output = StringIO()
    call_command(
        "import_labels",
        str(labels),
        "--target",
        "Huawei",
        "--annotator",
        "semeval",
        "--map",
        "FAVOR=pro",
        stdout=output,
    )

    assert Sentence.objects.count() == len(posts)  # no sentence added
    labelled = Annotation.objects.filter(annotator__username="semeval")
    assert sorted(labelled.values_list("sentence__text", flat=True)) == sorted(
        " ".join(p.split()) for p in posts
    )
    assert set(labelled.values_list("sentence__article__unit", flat=True)) == {"text"}


def test_a_label_file_of_whole_posts_does_not_match_them_split_into_sentences(tmp_path, huawei):
    import_articles(str(write(tmp_path, "posts.jsonl", jsonl({"title": "A post", "body": POST}))))
    labels = write(tmp_path, "labels.csv", f'text,label\n"{POST}",pro\n')

    call_command(
        "import_labels", str(labels), "--target", "Huawei", "--annotator", "semeval", stdout=StringIO()
    )

    # The whole post is a sentence of its own, added after the split ones.
    added = Sentence.objects.get(annotations__annotator__username="semeval")
    assert added.text == POST_UNIT
    assert added.position == Sentence.objects.count() - 1 > 1


def test_the_article_import_labels_makes_is_stored_as_texts_kept_whole(tmp_path, huawei):
    labels = write(tmp_path, "labels.csv", "text,label\nHuawei is fine.,pro\nHuawei is not.,contra\n")

    call_command(
        "import_labels", str(labels), "--target", "Huawei", "--annotator", "semeval", stdout=StringIO()
    )

    assert Article.objects.get().unit == "text"


# The dataset card


def labelled_article(huawei, *, unit: str) -> Article:
    article = ArticleFactory(unit=unit)
    sentence = SentenceFactory(article=article, position=0)
    AnnotationFactory(sentence=sentence, target=huawei, label="pro")
    return article


def card_of(target) -> str:
    spec = ExportSpec(target=target, level="gold")
    return dataset_card(spec=spec, summary=export_summary(spec=spec), figures=fresh_summary(target=target))


def methods(card: str) -> str:
    return next(line for line in card.splitlines() if line.startswith("> "))


def test_the_card_says_which_articles_were_split_and_which_kept_whole(huawei):
    labelled_article(huawei, unit="sentence")
    for _ in range(2):
        labelled_article(huawei, unit="text")
    ArticleFactory(unit="text")  # not labelled: in no export

    card = card_of(huawei)

    assert (
        "- **Units labelled**: sentences, split from 1 article; whole texts, one unit each, not split into "
        "sentences, in 2 articles." in card
    )
    assert (
        "on sentences of 1 news article and whole texts, not split into sentences, in 2 articles from"
        in methods(card)
    )


def test_a_card_of_texts_kept_whole_speaks_of_no_news_articles(huawei):
    labelled_article(huawei, unit="text")

    card = card_of(huawei)

    assert "- **Units labelled**: whole texts, one unit each, not split into sentences, in 1 article." in card
    assert "on whole texts, not split into sentences, in 1 article from" in methods(card)
    assert "news article" not in card


def test_a_card_of_split_articles_reads_as_before(huawei):
    labelled_article(huawei, unit="sentence")

    card = card_of(huawei)

    assert "- **Units labelled**: sentences, split from 1 article." in card
    assert "on sentences of 1 news article from" in methods(card)
