from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.evaluation_items import evaluation_items_mark, evaluation_items_unmark
from annotate.models import EvaluationItem, Target


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--sentences takes sentence ids separated by commas, not {text!r}.") from None
    if not ids or min(ids) < 1:
        raise CommandError("--sentences takes sentence ids from 1, separated by commas.")
    return ids


class Command(BaseCommand):
    help = (
        "Mark settled sentences as evaluation items, mixed silently into every annotator's "
        "queue (the adjudication page's `e` key, in bulk): the sentences given with --sentences, "
        "or every settled sentence of the target (--limit N: the first N by sentence id). "
        "--unmark takes them out again; --list prints them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--target", required=True, help="Target name, e.g. Huawei.")
        parser.add_argument(
            "--sentences", help="Sentence ids separated by commas (default: every settled one)."
        )
        parser.add_argument("--limit", type=int, help="Mark at most this many (with no --sentences).")
        parser.add_argument("--unmark", action="store_true", help="Unmark instead (all, or --sentences).")
        parser.add_argument("--list", action="store_true", dest="listing", help="Print the evaluation items.")
        parser.add_argument(
            "--curator", help="Who marks them (default: the first superuser, else the first curator)."
        )

    def handle(
        self,
        *args: Any,
        target: str,
        sentences: str | None,
        limit: int | None,
        unmark: bool,
        listing: bool,
        curator: str | None,
        **options: Any,
    ) -> None:
        chosen = Target.objects.filter(name=target).first()
        if chosen is None:
            raise CommandError(f"No target named {target!r}.")
        if limit is not None and (limit < 1 or sentences is not None):
            raise CommandError("--limit takes a number from 1, without --sentences.")
        ids = None if sentences is None else _ids(sentences)
        if listing:
            items = EvaluationItem.objects.filter(target=chosen).select_related("adjudication", "sentence")
            for item in items:
                self.stdout.write(f"{item.sentence_id}\t{item.adjudication.label}\t{item.sentence.text[:80]}")
            self.stdout.write(self.style.SUCCESS(f"{len(items)} evaluation items on {chosen.name}."))
            return
        if unmark:
            done = evaluation_items_unmark(target=chosen, sentence_ids=ids)
            self.stdout.write(
                self.style.SUCCESS(f"Unmarked {done.unmarked} evaluation items on {chosen.name}.")
            )
            return
        users = get_user_model().objects.order_by("pk")
        if curator is not None:
            marker = users.filter(username=curator).first()
            if marker is None:
                raise CommandError(f"No user named {curator!r}.")
        else:
            marker = users.filter(is_superuser=True).first() or users.filter(groups__name="curator").first()
            if marker is None:
                raise CommandError("No superuser or curator to mark them as: give --curator NAME.")
        marked = evaluation_items_mark(curator=marker, target=chosen, sentence_ids=ids, limit=limit)
        for sentence_id in marked.unsettled:
            self.stderr.write(f"sentence {sentence_id}: not settled on {chosen.name}, left out")
        total = EvaluationItem.objects.filter(target=chosen).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Marked {marked.marked} evaluation items on {chosen.name} "
                f"({marked.already} were already; {total} in all)."
            )
        )
