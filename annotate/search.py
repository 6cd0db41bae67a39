"""Full-text search over sentences, for curators: one function over SQLite's FTS5 and
PostgreSQL's text search (the index is annotate/search_index.py's).

A query is read here, never handed to either engine's syntax: words (letters and digits),
"quoted phrases", and -word or -"a phrase" to leave sentences out. Each word or phrase
becomes one quoted phrase token of FTS5, or of websearch_to_tsquery, so no input (an
unbalanced quote, `*`, `NEAR(`, `:`, a column filter, an operator) can be a syntax error.
What each engine matches is its own: both stem English words (Porter on SQLite, Snowball on
PostgreSQL), and PostgreSQL leaves out English stop words (the, a, of, ...), which SQLite
matches like any other word.

Results come best first (bm25 on SQLite, ts_rank on PostgreSQL), then by sentence id, and a
page continues after a cursor of (score, id), so paging never repeats or skips a sentence of
an unchanged corpus. Ranking scores every match, so it is done up to RANK_LIMIT matches: a
broader search (a common word alone) comes in corpus order (sentence id), which both
engines walk without scoring, and the page says so; its cursor is the id alone, so a
search keeps its order from page to page. Two queries a page whatever the corpus: the
first RANK_LIMIT + 1 matches' ids and scores (counted, and ranked when they are all, in
Python), and the page's sentences (with the match marked, the article, the tally). The filters read the per-sentence tallies the triggers keep
(annotate/tally_sql.py): the gold label is the tallies' rule (annotate.gold.decide: a
curator's label, else a strict majority), agreement their agreement column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import TextChoices
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotate import search_index
from annotate.models import STANCE_LABELS, Target

#: Most matches ranked, and counted: past it, results come in corpus order, and the page
#: says "more than". Scoring 10,000 matches takes about 10 ms; a word in a third of a
#: million sentences, 150-350 ms.
RANK_LIMIT = 10_000
#: Longest query read (the form refuses longer ones), and most words and phrases.
QUERY_MAX_LENGTH = 500
MAX_TERMS = 32
PAGE_SIZE = 20
# Private-use characters around a match, turned into <mark> after the text is escaped.
_OPEN, _CLOSE = "\ue000", "\ue001"
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
_WORD = re.compile(r"[^\W_]+")
Param = int | float | str | None


class Agreement(TextChoices):
    AGREED = "agreed", "agreed (two or more labels, all the same)"
    DISAGREEMENT = "disagreement", "disagreement (labels differ)"
    UNLABELLED = "unlabelled", "unlabelled (no label but skips)"


class BadQuery(ValueError):
    """A query that cannot be searched for; the message says why, for the page."""


@dataclass(frozen=True)
class Terms:
    """A query read: phrases (each a tuple of words) to find, and to leave out."""

    find: tuple[tuple[str, ...], ...]
    leave_out: tuple[tuple[str, ...], ...] = ()

    def fts5(self) -> str:
        """An FTS5 query of quoted phrase tokens only (words hold no quote)."""
        found = " AND ".join(_quoted(words) for words in self.find)
        if not self.leave_out:
            return found
        return f"({found}) NOT ({' OR '.join(_quoted(words) for words in self.leave_out)})"

    def websearch(self) -> str:
        """The same query in websearch_to_tsquery's syntax, every phrase quoted."""
        parts = [_quoted(words) for words in self.find]
        parts += ["-" + _quoted(words) for words in self.leave_out]
        return " ".join(parts)


def _quoted(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'


def query_terms(text: str) -> Terms:
    """Read a query. Raises BadQuery when it only leaves words out, or is too long."""
    if len(text) > QUERY_MAX_LENGTH:
        raise BadQuery(f"A search is at most {QUERY_MAX_LENGTH} characters.")
    find: list[tuple[str, ...]] = []
    leave_out: list[tuple[str, ...]] = []
    for match in _TERM.finditer(text):
        minus, phrase, word = match.groups()
        words = tuple(w.lower() for w in _WORD.findall(phrase if phrase is not None else word))
        if words:
            (leave_out if minus else find).append(words)
    if len(find) + len(leave_out) > MAX_TERMS:
        raise BadQuery(f"A search has at most {MAX_TERMS} words and phrases.")
    if leave_out and not find:
        raise BadQuery("Add a word to find: a minus only leaves sentences out.")
    return Terms(find=tuple(find), leave_out=tuple(leave_out))


@dataclass(frozen=True)
class Filters:
    """What the hits must also be. None (or "") means any."""

    label: str = ""  # the gold label (the tallies' rule), one of STANCE_LABELS
    agreement: str = ""  # an Agreement value
    article_id: int | None = None
    source: str | None = None
    flagged: bool = False  # only sentences with an open annotator's flag on the target


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: its last hit's score (lower is better; None in corpus order) and
    sentence id."""

    score: float | None
    sentence_id: int

    def __str__(self) -> str:
        return f"{'n' if self.score is None else repr(self.score)}_{self.sentence_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        score, _, sentence_id = text.partition("_")
        try:
            parsed = cls(None if score == "n" else float(score), int(sentence_id))
        except ValueError:
            raise BadQuery("That page of results is not there; search again.") from None
        if parsed.score != parsed.score or not 0 < parsed.sentence_id < 2**63:  # NaN, bad id
            raise BadQuery("That page of results is not there; search again.")
        return parsed


@dataclass(frozen=True)
class SearchHit:
    sentence_id: int
    position: int
    marked: SafeString  # the text, escaped, each match in <mark>
    article_id: int
    article_title: str
    source: str
    counts: dict[str, int]  # non-zero stance label counts for the target
    skips: int
    gold: str  # "" when none (no label, or a tie)
    adjudicated: bool
    agreement: float | None  # None below two labels
    score: float | None  # None in corpus order


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    next_cursor: Cursor | None = None
    total: int = 0
    more: bool = False  # more than RANK_LIMIT matches (total is then RANK_LIMIT)
    ranked: bool = True  # best first; else in corpus order (more than RANK_LIMIT matches)


def marked(text: str) -> SafeString:
    """The engine's highlighted text, escaped, with its match markers as <mark> (always
    balanced, whatever characters the sentence holds)."""
    out, inside = [], False
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", text):
        if piece == _OPEN:
            if not inside:
                out.append("<mark>")
            inside = True
        elif piece == _CLOSE:
            if inside:
                out.append("</mark>")
            inside = False
        else:
            out.append(escape(piece))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # escaped above, piece by piece


def _sql_parts(terms: Terms, filters: Filters, target: Target) -> tuple[str, str, str, list[Param]]:
    """(id expression, score expression, FROM ... WHERE ..., its parameters) of the hits."""
    joins: list[str] = []
    join_params: list[Param] = []
    where: list[str] = []
    where_params: list[Param] = []
    if connection.vendor == "postgresql":
        sentence_id, score = "s.id", "(-ts_rank(s.search_vector, q))::float8"
        joins.append(f"annotate_sentence s CROSS JOIN websearch_to_tsquery('{search_index.PG_CONFIG}', %s) q")
        join_params.append(terms.websearch())
        where.append("s.search_vector @@ q")
    else:
        fts = search_index.FTS_TABLE
        sentence_id, score = f"{fts}.rowid", f"bm25({fts})"
        joins.append(fts)
        where.append(f"{fts} MATCH %s")
        where_params.append(terms.fts5())
        if filters.article_id is not None or filters.source is not None:
            joins.append(f"JOIN annotate_sentence s ON s.id = {fts}.rowid")
    if filters.source is not None:
        joins.append("JOIN annotate_article a ON a.id = s.article_id")
        where.append("a.source = %s")
        where_params.append(filters.source)
    if filters.article_id is not None:
        where.append("s.article_id = %s")
        where_params.append(filters.article_id)
    if filters.label or filters.agreement:
        joins.append(
            f"LEFT JOIN annotate_sentencetally t ON t.sentence_id = {sentence_id} AND t.target_id = %s"
        )
        join_params.append(target.pk)
    if filters.label:
        where.append("t.gold = %s")
        where_params.append(filters.label)
    if filters.agreement == Agreement.AGREED:
        where.append("t.agreement = 1")
    elif filters.agreement == Agreement.DISAGREEMENT:
        where.append("t.agreement < 1")
    elif filters.agreement == Agreement.UNLABELLED:
        where.append("(t.sentence_id IS NULL OR t.votes = 0)")
    if filters.flagged:
        # The flags' sentence index finds a match's flags; open ones are few.
        where.append(
            "EXISTS (SELECT 1 FROM annotate_flag f WHERE f.sentence_id = "
            f"{sentence_id} AND f.target_id = %s AND f.resolved_at IS NULL)"
        )
        where_params.append(target.pk)
    sql = "FROM " + " ".join(joins) + " WHERE " + " AND ".join(where)
    return sentence_id, score, sql, join_params + where_params


def _candidates(
    terms: Terms, filters: Filters, target: Target, after: Cursor | None
) -> list[tuple[int, float]]:
    """(sentence id, score) of the first RANK_LIMIT + 1 matches by id (after the cursor's
    id in corpus order): one pass over the matches, which stops there, so a broad search
    scores no more than that and a narrow one is counted and ranked from the same rows."""
    sentence_id, score, body, params = _sql_parts(terms, filters, target)
    sql = f"SELECT {sentence_id}, {score} {body}"
    if after is not None and after.score is None:
        sql += f" AND {sentence_id} > %s"
        params.append(after.sentence_id)
    with connection.cursor() as cursor:
        cursor.execute(sql + f" ORDER BY {sentence_id} LIMIT %s", [*params, RANK_LIMIT + 1])
        return [(int(row[0]), float(row[1])) for row in cursor.fetchall()]


_DETAILS = (
    "s.id, s.position, {marked}, a.id, a.title, a.source, "
    "t.pro, t.contra, t.neutral, t.skip, t.gold, t.adjudicated, t.agreement "
    "FROM {source} JOIN annotate_article a ON a.id = s.article_id "
    "LEFT JOIN annotate_sentencetally t ON t.sentence_id = s.id AND t.target_id = %s "
)


def _details(terms: Terms, target: Target, ids: list[int]) -> dict[int, tuple]:
    """Each hit's sentence, its text with the matches marked, article and tally."""
    marks = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        sql = "SELECT " + _DETAILS.format(
            marked=f"ts_headline('{search_index.PG_CONFIG}', s.text, q, %s)",
            source=f"annotate_sentence s CROSS JOIN websearch_to_tsquery('{search_index.PG_CONFIG}', %s) q",
        )
        options = f"StartSel={_OPEN}, StopSel={_CLOSE}, HighlightAll=true"
        params: list[Param] = [options, terms.websearch(), target.pk, *ids]
        sql += f"WHERE s.id IN ({marks})"
    else:
        fts = search_index.FTS_TABLE
        sql = "SELECT " + _DETAILS.format(
            marked=f"highlight({fts}, 0, %s, %s)",
            source=f"{fts} JOIN annotate_sentence s ON s.id = {fts}.rowid",
        )
        params = [_OPEN, _CLOSE, target.pk, terms.fts5(), *ids]
        sql += f"WHERE {fts} MATCH %s AND {fts}.rowid IN ({marks})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(row[0]): row for row in cursor.fetchall()}


def _hit(row: tuple, score: float | None) -> SearchHit:
    sentence_id, position, text, article_id, title, source, *tally = row
    pro, contra, neutral, skip, gold, adjudicated, agreement = tally
    counts = {label: n for label, n in zip(STANCE_LABELS, (pro, contra, neutral), strict=True) if n}
    return SearchHit(
        sentence_id=sentence_id,
        position=position,
        marked=marked(text),
        article_id=article_id,
        article_title=title,
        source=source,
        counts=counts,
        skips=skip or 0,
        gold=gold or "",
        adjudicated=bool(adjudicated),
        agreement=agreement,
        score=score,
    )


def sentences_search(
    *,
    target: Target,
    query: str,
    filters: Filters | None = None,
    limit: int = PAGE_SIZE,
    after: Cursor | None = None,
) -> SearchPage:
    """One page of the sentences matching `query` and `filters`, best first, after the
    cursor (None: the first page); labels and gold are `target`'s. An empty query (or one
    of punctuation only) finds nothing without asking the database. Raises BadQuery."""
    terms = query_terms(query)
    if not terms.find:
        return SearchPage()
    filters = filters or Filters()
    rows = _candidates(terms, filters, target, after)
    page: list[tuple[int, float | None]]
    if after is not None and after.score is None:
        # Corpus order, as the first page was: it had more than RANK_LIMIT matches.
        ranked, total = False, RANK_LIMIT + 1
        page = [(sentence_id, None) for sentence_id, _ in rows[: limit + 1]]
    elif len(rows) > RANK_LIMIT and after is None:
        ranked, total = False, len(rows)
        page = [(sentence_id, None) for sentence_id, _ in rows[: limit + 1]]
    else:
        # Ranked: every match is among the rows (a ranked cursor ranks the rows it finds,
        # should the corpus have grown past RANK_LIMIT matches since its first page).
        ranked, total = True, len(rows)
        rows.sort(key=lambda row: (row[1], row[0]))
        if after is not None and after.score is not None:
            mark = (after.score, after.sentence_id)
            rows = [row for row in rows if (row[1], row[0]) > mark]
        page = [(sentence_id, score) for sentence_id, score in rows[: limit + 1]]
    page, further = page[:limit], len(page) > limit
    details = _details(terms, target, [sentence_id for sentence_id, _ in page]) if page else {}
    hits = [_hit(details[sentence_id], score) for sentence_id, score in page if sentence_id in details]
    last = page[-1] if page else None
    return SearchPage(
        hits=hits,
        next_cursor=Cursor(last[1], last[0]) if further and last else None,
        total=min(total, RANK_LIMIT),
        more=total > RANK_LIMIT,
        ranked=ranked,
    )
