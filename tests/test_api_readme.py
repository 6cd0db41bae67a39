"""The README's API example, run as a script against a live server: with a token it lists
the sentences it has not labelled, labels them, and exports the labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from annotate.models import Annotation
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory, api_token

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The Python block of the README's API section."""
    section = README.read_text().split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_labels_every_unlabelled_sentence_and_exports_them(
    live_server, tmp_path, monkeypatch
):
    # The transactional database starts without the data migration's rows.
    Group.objects.get_or_create(name="admin")
    huawei = TargetFactory(name="Huawei")
    admin = UserFactory(username="admin", role="admin", password=None)
    article = ArticleFactory()
    # More than a page (100), so the script follows a cursor.
    sentences = [
        SentenceFactory(
            article=article, position=i, text=f"Sentence {i} {'on spying' if i % 3 == 0 else 'said'}."
        )
        for i in range(105)
    ]
    Annotation.objects.create(annotator=admin, sentence=sentences[1], target=huawei, label="pro")

    code = readme_example()
    code = re.sub(r'^BASE = ".*"$', f'BASE = "{live_server.url}/api"', code, flags=re.MULTILINE)
    code = re.sub(r'^TOKEN = ".*"$', f'TOKEN = "{api_token(admin)}"', code, flags=re.MULTILINE)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})

    labels = dict(Annotation.objects.filter(annotator=admin).values_list("sentence_id", "label"))
    expected = {s.id: "contra" if "spying" in s.text else "neutral" for s in sentences}
    expected[sentences[1].id] = "pro"  # labelled before the script ran, so left alone
    assert labels == expected
    exported = [json.loads(line) for line in (tmp_path / "huawei-annotations.jsonl").read_text().splitlines()]
    assert {row["sentence_id"]: row["label"] for row in exported} == expected
