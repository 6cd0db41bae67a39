from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotate.corpus import (
    MAX_LENGTHS,
    READ_UNITS,
    CorpusError,
    articles_import,
    articles_import_summary,
    licence_problem,
    parse_files,
)
from annotate.models import UNKNOWN_LICENCE, Unit


class Command(BaseCommand):
    help = (
        "Import articles from .txt files (headline on the first line, then paragraphs) and "
        ".jsonl files (one article a line: title, body, optional source, url, published), or "
        "folders of them, with the licence they were obtained under (--licence, shown in the dataset "
        "card). --unit text keeps each record whole, one unit to label (posts, headlines, "
        "comments); --unit line makes each non-empty line of a .txt file such a text. Every file "
        "is read and checked first: a bad file aborts the run before anything is written. "
        "Articles are then stored in batches (an article always with all its sentences), so "
        "annotators keep labelling during a long import; known articles are skipped, so a run "
        "that was stopped can simply be started again to import the rest."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", help="Files or folders to import.")
        parser.add_argument("--source", default="", help="Source outlet for articles that name none.")
        parser.add_argument(
            "--licence",
            default=UNKNOWN_LICENCE,
            help="The licence of the texts (e.g. CC-BY-4.0), for articles whose record names none; "
            f"shown in the dataset card. Default: {UNKNOWN_LICENCE}.",
        )
        parser.add_argument(
            "--unit",
            choices=READ_UNITS,
            default=Unit.SENTENCE.value,
            help="What annotators label: 'sentence' splits each text into sentences (news articles; the "
            "default); 'text' keeps each record whole as one unit (a .jsonl record's body, or a whole .txt "
            "file with no headline taken), for posts, headlines and comments; 'line' reads .txt files as "
            "one text a non-empty line (a file of posts), each its own article, kept whole. Stored with "
            "each article: an article already stored keeps its own.",
        )

    def handle(
        self, *args: Any, paths: list[str], source: str, licence: str, unit: str, **options: Any
    ) -> None:
        if len(source) > MAX_LENGTHS["source"] or "\x00" in source:
            raise CommandError(f"--source must be at most {MAX_LENGTHS['source']} characters, with no NUL.")
        licence = licence.strip() or UNKNOWN_LICENCE
        if licence_problem(licence) is not None:
            raise CommandError(f"--licence must be at most {MAX_LENGTHS['licence']} characters, with no NUL.")
        try:
            parsed = list(parse_files(paths, unit=unit))
            result = articles_import(
                articles=parsed,
                source=source,
                licence=licence,
                progress=lambda items: tqdm(items, desc="Importing", unit="article", disable=None),
            )
        except CorpusError as error:
            raise CommandError(str(error)) from None
        for level, line in articles_import_summary(result, unit=unit):
            self.stdout.write(self.style.SUCCESS(line) if level == "success" else self.style.WARNING(line))
