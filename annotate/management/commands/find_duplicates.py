from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from annotate.duplicate_groups import duplicates_refresh


class Command(BaseCommand):
    help = (
        "Group reprinted sentences: exact copies (normalised text) and near-identical ones "
        "(character 5-gram similarity at least 0.7), so no group crosses an export's splits. "
        "Skips an unchanged corpus unless --force."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--force", action="store_true", help="Scan even if nothing changed.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = duplicates_refresh(force=options["force"])
        if result is None:
            self.stdout.write("The corpus is unchanged since the last scan: nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Scanned {result.sentences:,} sentences in {result.seconds:.1f} s: {result.groups:,} groups of "
                f"two or more ({result.grouped_sentences:,} sentences, the largest {result.largest_group:,}; "
                f"{result.exact_links:,} exact and {result.near_links:,} near links); {result.changed:,} rows updated."
            )
        )
