from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotate.api.tokens import token_issue


class Command(BaseCommand):
    help = (
        "Print a user's API token for scripts (send it as `Authorization: Token <key>`), "
        "creating it if they have none. --rotate replaces it; the old one stops working."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username", help="The user the token is for.")
        parser.add_argument("--rotate", action="store_true", help="Replace the user's existing token.")

    def handle(self, *args: Any, username: str, rotate: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, created = token_issue(user=user, by=None, rotate=rotate)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        state = "new" if created else "existing"
        self.stderr.write(self.style.SUCCESS(f"The {state} API token of {username}:"))
        self.stdout.write(token.key)
