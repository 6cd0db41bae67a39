from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.agreement import Figures, agreement_by, agreement_by_suggestion, target_agreement
from annotate.models import Article, Target


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = (
        "Print a target's inter-annotator agreement (Krippendorff's alpha, Fleiss' kappa, "
        "percent agreement, Cohen's kappa per pair) overall, per source, per article, and "
        "with versus without a suggestion shown: the dashboard's figures."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--target", required=True, help="Target name, e.g. Huawei.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON instead of tables."
        )

    def handle(self, *args: Any, target: str, as_json: bool, **options: Any) -> None:
        chosen = Target.objects.filter(name=target).first()
        if chosen is None:
            raise CommandError(f"No target named {target!r}.")
        overall = target_agreement(chosen)
        by_source = agreement_by(chosen, "sentence__article__source")
        by_article = agreement_by(chosen, "sentence__article_id")
        by_suggestion = agreement_by_suggestion(chosen)
        if as_json:
            self._json(chosen, overall, by_source, by_article, by_suggestion)
            return
        titles = dict(Article.objects.filter(pk__in=list(by_article)).values_list("pk", "title"))
        self._table("Overall", {chosen.name: overall})
        self._table("By source", {source or "(no source)": f for source, f in by_source.items()})
        self._table("By article", {titles.get(pk, pk): f for pk, f in by_article.items()})
        self._table("With and without a suggestion shown", by_suggestion)
        names = dict(get_user_model().objects.values_list("pk", "username"))
        self.stdout.write("\nCohen's kappa per pair of annotators")
        for pair in overall.pairs:
            a, b = names.get(pair.annotator_a), names.get(pair.annotator_b)
            self.stdout.write(f"  {a} and {b}: {_fmt(pair.kappa)} on {pair.sentences} sentences")

    def _table(self, title: str, rows: dict[object, Figures]) -> None:
        w = self.stdout.write
        w(f"\n{title}")
        w(f"  {'':<50}{'alpha':>8}{'(n)':>6}{'Fleiss':>8}{'(n)':>6}{'agree%':>8}{'labels':>8}")
        for name, f in rows.items():
            percent = "—" if f.percent is None else f"{100 * f.percent:.1f}"
            w(
                f"  {str(name)[:48]:<50}{_fmt(f.alpha):>8}{f.alpha_sentences:>6}{_fmt(f.fleiss):>8}"
                f"{f.fleiss_sentences:>6}{percent:>8}{f.labels:>8}"
            )

    def _json(
        self, target: Target, overall: Figures, by_source: dict, by_article: dict, by_suggestion: dict
    ) -> None:
        payload = {
            "target": target.name,
            "overall": overall.as_dict(),
            "by_source": {str(k): v.as_dict() for k, v in by_source.items()},
            "by_article": {str(k): v.as_dict() for k, v in by_article.items()},
            "by_suggestion": {k: v.as_dict() for k, v in by_suggestion.items()},
        }
        self.stdout.write(json.dumps(payload, indent=2))
