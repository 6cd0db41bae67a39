from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotate.demo import DEMO_TARGET, demo_accounts_create, demo_target_new_default


class Command(BaseCommand):
    help = (
        "Create the demo accounts (an admin, a curator, two annotators) and print their passwords; "
        "the demo target takes the random order while it has no labels."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Create them even when DEBUG is off (never in production)."
        )
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="Where the app is served, to print beside the accounts (`make run` passes its HOST and PORT).",
        )

    def handle(self, *args: Any, force: bool, url: str, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts have public passwords; run with DEBUG=1 or --force.")
        accounts = demo_accounts_create()
        self.stdout.write(f"Demo accounts (log in at {url}):")
        for account in accounts:
            state = "created" if account.created else "exists"
            self.stdout.write(
                f"  {account.role:<10} {account.username:<11} password: {account.password}  ({state})"
            )
        if demo_target_new_default():
            self.stdout.write(
                f"The {DEMO_TARGET} target hands out sentences in the random order, as new targets do."
            )
        self.stdout.write(self.style.SUCCESS("Demo accounts ready."))
