from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotate.corpus import CorpusError
from annotate.label_import import labels_import, labels_import_summary, parse_mapping, read_label_rows
from annotate.models import Target, column_size
from annotate.retrain_policy import retrain_if_due


class Command(BaseCommand):
    help = (
        "Load labelled texts (CSV or JSONL with a text and a label column) as one annotator's "
        "labels. Texts that match a sentence label it; others become sentences of an article "
        "named after the file. The whole file is checked first: a bad row, a text given twice with "
        "different labels, or a sentence that wants no more labels (it has the target's overlap of "
        "other annotators' labels, or with dynamic overlap agreeing ones or the maximum) aborts the run and nothing is written. A text repeated with the same label is "
        "recorded once and reported. Labels are then written in batches, so annotators keep "
        "labelling meanwhile; a stopped run can be started again (what it stored is matched)."
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
        limit = column_size(get_user_model(), "username")
        if len(options["annotator"]) > limit or "\x00" in options["annotator"]:
            raise CommandError(f"--annotator must be a username of at most {limit} characters, with no NUL.")
        try:
            mapping = parse_mapping(options["map"])
            rows = read_label_rows(
                options["file"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                mapping=mapping,
            )
            result = labels_import(
                path=options["file"],
                rows=rows,
                target=target,
                annotator_name=options["annotator"],
                progress=lambda items: tqdm(items, desc="Labelling", unit="label", disable=None),
            )
        except (CorpusError, ValueError) as error:
            raise CommandError(str(error)) from None
        if retrain_if_due(target=target):
            self.stdout.write("Enough new gold labels: a retrain is queued for the background worker.")
        summary = labels_import_summary(
            result, path=options["file"], target=target, annotator_name=options["annotator"]
        )
        styles = {"success": self.style.SUCCESS, "warning": self.style.WARNING}
        for level, line in summary:
            self.stdout.write(styles.get(level, str)(line))
