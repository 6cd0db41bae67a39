from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from annotate.corpus import CorpusError
from annotate.label_import import labels_import, parse_mapping, read_label_rows
from annotate.models import Target


class Command(BaseCommand):
    help = (
        "Load labelled texts (CSV or JSONL with a text and a label column) as one annotator's "
        "labels. Texts that match a sentence label it; others become sentences of an article "
        "named after the file. A bad row aborts the run and nothing is written."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--target", required=True, help="Target name, e.g. Huawei.")
        parser.add_argument("--annotator", required=True, help="Username to record the labels under.")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument(
            "--map", default="", help="Label mapping, e.g. FAVOR=pro,AGAINST=contra,NONE=neutral."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = Target.objects.filter(name=options["target"]).first()
        if target is None:
            raise CommandError(f"No target named {options['target']!r}.")
        try:
            mapping = parse_mapping(options["map"])
            rows = read_label_rows(
                options["file"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                mapping=mapping,
            )
            result = labels_import(
                path=options["file"], rows=rows, target=target, annotator_name=options["annotator"]
            )
        except (CorpusError, ValueError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.rows} labels for {target.name} as {options['annotator']}: "
                f"{result.matched} on existing sentences, {result.new_sentences} new sentences."
            )
        )
