from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotate.dataset_card import card_warnings, card_write
from annotate.duplicate_groups import duplicates_refresh
from annotate.export import (
    FORMATS,
    LEVELS,
    OPTION_HELP,
    ExportError,
    ExportSpec,
    ExportSummary,
    check_choice,
    export_stream,
    export_to_path,
)
from annotate.models import Target
from annotate.splits import DEFAULT_SEED, SeedError, parse_seed


def seed_argument(value: str) -> int:
    """The export's one seed rule (ASCII digits), with its message, for argparse."""
    try:
        return parse_seed(value)
    except SeedError as error:
        raise ArgumentTypeError(str(error)) from None


def choice_argument(option: str) -> Callable[[str], str]:
    """The export's check of --level or --format, with its message (the form's and the
    download's), for argparse."""

    def check(value: str) -> str:
        try:
            return check_choice(option, value)
        except ExportError as error:
            raise ArgumentTypeError(str(error)) from None

    return check


class Command(BaseCommand):
    help = (
        "Export a target's labels as JSONL or CSV: every annotator's label (--level annotations) "
        "or one gold label per sentence (--level gold). Skips are left out. Streams, so memory "
        "stays flat; writes to stdout without --output."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--target", required=True, help="Target name, e.g. Huawei.")
        # The options and their help are the export form's too (annotate.forms.export.ExportForm).
        for option, choices in (("format", FORMATS), ("level", LEVELS)):
            parser.add_argument(
                f"--{option}",
                required=True,
                type=choice_argument(option),
                choices=choices,
                help=OPTION_HELP[option],
            )
        parser.add_argument("--split", action="store_true", help=OPTION_HELP["split"])
        parser.add_argument("--seed", type=seed_argument, default=DEFAULT_SEED, help=OPTION_HELP["seed"])
        parser.add_argument("--names", action="store_true", help=OPTION_HELP["names"])
        parser.add_argument("--output", type=Path, help="File to write; stdout without it.")
        parser.add_argument("--card", action="store_true", help="Write a dataset card beside --output.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Target.objects.filter(name=options["target"]).first()
        if target is None:
            raise CommandError(f"No target named {options['target']!r}.")
        if options["card"] and not options["output"]:
            raise CommandError("--card writes the card beside the export: give --output FILE too.")
        spec = ExportSpec(
            target=target,
            level=options["level"],
            format=options["format"],
            split=options["split"],
            seed=options["seed"],
            names=options["names"],
        )
        if spec.split:
            duplicates_refresh()  # the split rests on the duplicate groups: bring them up to date
        output: Path | None = options["output"]
        if output is None:
            streamed = ExportSummary()
            for chunk in export_stream(spec, summary=streamed):
                self.stdout.write(chunk, ending="")
            self._warn(spec, streamed)
            return
        try:
            summary = export_to_path(
                spec=spec,
                path=output,
                progress=lambda rows: iter(tqdm(rows, desc="Exporting", unit=" rows", disable=None)),
            )
            card = card_write(spec=spec, summary=summary, beside=output) if options["card"] else None
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {summary.rows} {spec.level} rows of {target.name} to {output}"
                + (f", and the dataset card to {card}." if card else ".")
            )
        )
        self._warn(spec, summary)

    def _warn(self, spec: ExportSpec, summary: ExportSummary) -> None:
        for warning in card_warnings(spec=spec, summary=summary):
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
