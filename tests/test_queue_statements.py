"""The label loop's hand-written statements (annotate/queue/statements.py): their text is
pinned, so a change is deliberate, and each walks an index on SQLite and PostgreSQL.

After a deliberate change: `UPDATE_SNAPSHOTS=1 pytest tests/test_queue_statements.py`
rewrites tests/snapshots/queue_statements.sql; review its diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from annotate.models import Label
from annotate.progress import start_of_day
from annotate.queue import sql, statements
from annotate.queue.rule import rule_params
from annotate.shuffle import shuffle_key
from tests.factories import ModelVersionFactory, SuggestionFactory

SNAPSHOT = Path(__file__).parent / "snapshots" / "queue_statements.sql"


def snapshot_text() -> str:
    return "".join(f"-- {name}\n{text}\n\n" for name, text in statements.ALL.items())


def test_every_statement_reads_as_pinned():
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(snapshot_text())
    assert snapshot_text() == SNAPSHOT.read_text(), "a queue statement changed: see this file's docstring"


def test_every_table_a_statement_names_is_a_model_table():
    from django.apps import apps

    tables = {model._meta.db_table for model in apps.get_app_config("annotate").get_models()}
    named = set(re.findall(r'(?:FROM|JOIN|INTO|UPDATE) "(\w+)"', "\n".join(statements.ALL.values())))
    assert named and named <= tables, named - tables


def every_parameter(*, annotator, target, sentence, version) -> dict[str, object]:
    now = timezone.now()
    return {
        **rule_params(annotator=annotator, target=target, now=now),
        "start_article": sentence.article_id,
        "start_position": sentence.position,
        "sentence": sentence.pk,
        "start_key": shuffle_key(sentence.pk),
        "start_sentence": sentence.pk,
        "version": version.pk,
        "score": 0.5,
        "from_sentence": sentence.pk,
        "label": Label.PRO,
        "spent_ms": 1000,
        "accepted_suggestion": False,
        "suggestion_shown": True,
        "around": 2,
        "today": sql.moment(start_of_day()),
        "shuffle": 7,
    }


#: Aliases of the tables a statement must not read whole (SQLite's plan names the alias).
TABLE_ALIASES = {
    "mine", "label", "held", "own", "live", "labelled", "sentence", "last", "s", "x", "a", "sg",
    "t", "today", "done", "ev", "item", "pause", "tally", "post", "annotate_queuecursor", "annotate_assignment", "annotate_annotation",
}  # fmt: skip
#: Statements that hand out the first sentence of an order: they must walk an index in
#: that order and stop, not sort what they found.
ORDERED = {
    "MOVE_CURSOR", "MOVE_SHUFFLE_CURSOR", "OPEN_IN_ORDER", "RESERVE_FIRST_OPEN", "OPEN_SHUFFLED",
    "RESERVE_FIRST_OPEN_SHUFFLED",
}  # fmt: skip


#: PostgreSQL's plan: a scan of a table that grows with the corpus, and the last sentence.
LARGE_TABLE = re.compile(
    r" on annotate_(sentence|annotation|suggestion|assignment|sentencetally|sentenceposterior) "
)
LAST = re.compile(r" on annotate_sentence last(_\d+)? ")


def plan_of(statement: str, params: dict[str, object]) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tiny test tables are cheapest to read whole; with sequential scans priced out
            # the planner still picks one wherever no index serves.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params)
        return [" ".join(str(part) for part in row) for row in cursor.fetchall()]


def full_scans(name: str, plan: list[str]) -> list[str]:
    if connection.vendor == "postgresql":
        # A scan node of a large table without an Index Cond walks its whole index: only
        # the last sentence (ORDER BY ... DESC LIMIT 1, one step of an index) may.
        bad = []
        for i, line in enumerate(plan):
            if not LARGE_TABLE.search(line) or LAST.search(line):
                continue
            if "Seq Scan" in line:
                bad.append(line)
            elif "Index Scan" in line or "Index Only Scan" in line:
                node = [line]
                for following in plan[i + 1 :]:
                    if "->" in following:
                        break
                    node.append(following)
                if not any("Index Cond" in part for part in node) and not line.rstrip().split("(")[
                    0
                ].endswith(" last "):
                    bad.append(line)
        return bad
    bad = []
    for line in plan:
        # SCAN is a walk from the start, of the table or of an index (SEARCH seeks): only
        # the last sentence (ORDER BY ... DESC LIMIT 1, one step of an index) may scan.
        scanned = re.search(r"\bSCAN (\w+)(.*)", line)
        walked_last = scanned is not None and scanned.group(1) == "last" and "INDEX" in scanned.group(2)
        if scanned and scanned.group(1) in TABLE_ALIASES and not walked_last:
            bad.append(line)
        if name.split("[")[0] in ORDERED and "TEMP B-TREE" in line:
            bad.append(line)
    return bad


@pytest.mark.parametrize("name", [name for name in statements.ALL if not name.endswith("FOR_UPDATE")])
def test_every_statement_walks_an_index(name, annotator, huawei, sentences):
    if name in ("LOCK_TARGET", "TARGET_AND_SENTENCE") and connection.features.has_select_for_update:
        name += "_FOR_UPDATE"
    version = ModelVersionFactory(target=huawei)
    for sentence in sentences:
        SuggestionFactory(model_version=version, sentence=sentence, target=huawei)
    params = every_parameter(annotator=annotator, target=huawei, sentence=sentences[1], version=version)
    plan = plan_of(statements.ALL[name], params)
    assert plan or "SELECT" not in statements.ALL[name]
    assert not full_scans(name, plan), "\n".join(plan)


#: A walk of the sentences in a plan: SQLite names the alias; PostgreSQL the table and the
#: alias, numbered from its second use on (sentence_1, ...).
WALK_STEP = re.compile(r"\b(SEARCH|SCAN) sentence\b| on annotate_sentence sentence(_\d+)? ")


@pytest.mark.parametrize("name", ["MOVE_CURSOR", "MOVE_SHUFFLE_CURSOR"])
def test_a_cursor_move_walks_the_sentences_once_for_both_columns(name, annotator, huawei, sentences):
    # After a rewind to the start the walk reads everything the annotator finished: the
    # cursor's two columns take the one sentence it finds, not a walk each.
    statement = statements.ALL[name]
    assert statement.count('FROM "annotate_sentence" "sentence"') == 1
    version = ModelVersionFactory(target=huawei)
    params = every_parameter(annotator=annotator, target=huawei, sentence=sentences[1], version=version)
    plan = plan_of(statement, params)
    assert len([line for line in plan if WALK_STEP.search(line)]) == 1, "\n".join(plan)
