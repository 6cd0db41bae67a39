from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotate.agreement_data import agreement_by_article
from annotate.agreement_figures import Figures, Reliability, interval_text
from annotate.evaluation import AnnotatorEvaluation, evaluations
from annotate.models import STANCE_LABELS, Article, Target
from annotate.summary import Summary, fresh_summary, summary_for

#: Articles in the "By article" table unless --articles says otherwise.
ARTICLES_SHOWN = 100


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = (
        "Print a target's inter-annotator agreement (Krippendorff's alpha with its bootstrap "
        "95 % interval, Fleiss' kappa, percent agreement, Cohen's kappa per pair) overall, per "
        "source, per article, and with versus without a suggestion shown; alpha per label and "
        "with each annotator left out: the dashboard's figures, from the target's summary (it "
        "says when it was computed; --recompute computes it now). Per article for a page of "
        "articles, counted now. --annotators adds each annotator against the evaluation items."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--target", required=True, help="Target name, e.g. Huawei.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON instead of tables."
        )
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="Compute the summary now if it misses changes (reads every label: seconds at a million).",
        )
        parser.add_argument(
            "--articles", type=int, default=ARTICLES_SHOWN, help="Articles in the by-article table (0: none)."
        )
        parser.add_argument(
            "--articles-after", type=int, default=0, help="The by-article table starts after this article id."
        )
        parser.add_argument(
            "--annotators",
            action="store_true",
            help="Also each annotator against the evaluation items: accuracy (Wilson 95 %% interval), "
            "kappa against gold, confusion matrix, median seconds, too-fast labels, flags.",
        )

    def handle(
        self,
        *args: Any,
        target: str,
        as_json: bool,
        recompute: bool,
        articles: int,
        articles_after: int,
        annotators: bool = False,
        **options: Any,
    ) -> None:
        chosen = Target.objects.filter(name=target).first()
        if chosen is None:
            raise CommandError(f"No target named {target!r}.")
        if articles < 0 or articles_after < 0:
            raise CommandError("--articles and --articles-after take a number from 0.")
        summary = None if recompute else summary_for(target=chosen)
        if summary is None:  # asked for, or a large target's first summary
            summary = fresh_summary(target=chosen)
        page = list(
            Article.objects.filter(pk__gt=articles_after)
            .order_by("pk")
            .values_list("pk", flat=True)[:articles]
        )
        by_article = agreement_by_article(target=chosen, articles=page) if page else {}
        overall, by_source, by_suggestion = (
            summary.agreement,
            summary.agreement_by_source,
            summary.agreement_by_suggestion,
        )
        found = evaluations(target=chosen, summary=summary) if annotators else None
        if as_json:
            self._json(chosen, summary, by_article, found)
            return
        self.stdout.write(self._stamp(summary))
        titles = dict(Article.objects.filter(pk__in=list(by_article)).values_list("pk", "title"))
        self._table("Overall", {chosen.name: overall})
        self._table("By source", {source or "(no source)": f for source, f in by_source.items()})
        self._table("By article", {titles.get(pk, str(pk)): f for pk, f in by_article.items()})
        if articles and len(page) == articles:
            self.stdout.write(f"  (more articles: --articles-after {page[-1]})")
        self._table("With and without a suggestion shown", by_suggestion)
        names = dict(get_user_model().objects.values_list("pk", "username"))
        self.stdout.write("\nCohen's kappa per pair of annotators")
        for pair in overall.pairs:
            a, b = names.get(pair.annotator_a), names.get(pair.annotator_b)
            self.stdout.write(f"  {a} and {b}: {_fmt(pair.kappa)} on {pair.sentences} sentences")
        self._reliability(overall, summary.reliability, names)
        if found is not None:
            self._annotators(chosen, found)

    def _annotators(self, target: Target, found: list[AnnotatorEvaluation]) -> None:
        w = self.stdout.write
        w(
            f"\nAnnotators against evaluation items (flagged below {target.evaluation_threshold:.0%} after "
            f"{target.evaluation_min_items} answers; too fast: a median under {target.min_label_ms} ms)"
        )
        w(
            f"  {'':<32}{'answers':>8}{'accuracy':>10}{'95 % CI':>15}{'kappa':>8}"
            f"{'median s':>10}{'too fast':>14}  flags"
        )
        for e in found:
            ci = "—" if e.interval is None else f"{e.interval[0]:.3f}–{e.interval[1]:.3f}"
            fast = "—" if e.fast is None else f"{e.fast}/{e.timed}"
            median = "—" if e.median_seconds is None else f"{e.median_seconds:.1f}"
            flags = [
                name
                for name, on in (("flagged", e.flagged), ("paused", e.paused), ("too fast", e.too_fast))
                if on
            ]
            w(
                f"  {e.username[:30]:<32}{e.answered:>8}{_fmt(e.accuracy):>10}{ci:>15}{_fmt(e.kappa):>8}"
                f"{median:>10}{fast:>14}  {', '.join(flags)}"
            )
            for gold, row in e.confusion_rows:
                if any(row):
                    cells = ", ".join(f"{given} {n}" for given, n in zip(STANCE_LABELS, row, strict=True))
                    w(f"    gold {gold:<8} answered {cells}")
            m = e.model_matrix
            if m is not None:
                note = "" if m.identifiable else "; vote shares: no sentence had two labels"
                w(f"    Dawid-Skene matrix ({m.labels} labels, estimated accuracy {m.accuracy:.3f}{note})")
                for true, probabilities in m.table:
                    cells = ", ".join(
                        f"{given} {p:.3f}" for given, p in zip(STANCE_LABELS, probabilities, strict=True)
                    )
                    w(f"    true {true:<8} gives {cells}")

    def _reliability(self, overall: Figures, found: Reliability | None, names: dict[int, str]) -> None:
        w = self.stdout.write
        w(f"\nKrippendorff's alpha {_fmt(overall.alpha)}, {interval_text(overall) or 'no interval'}")
        if found is None:
            w("  (this summary predates alpha per label and per annotator: --recompute)")
            return
        w(f"  ({found.method}; {overall.alpha_sentences} sentences, {overall.labels} labels)")
        w("\nAlpha per label (one against the rest)")
        for row in found.per_label:
            w(
                f"  {row.label:<10}{_fmt(row.alpha):>8}  {row.labels} of the labels on {row.sentences} sentences"
            )
        w("\nAlpha with each annotator left out")
        for left in found.left_out:
            name = names.get(left.annotator, str(left.annotator))
            w(
                f"  {name[:30]:<32}{_fmt(left.alpha):>8}  on {left.sentences} sentences, "
                f"{left.labels} labels ({left.own_labels} of theirs left out)"
            )
        if found.annotators > len(found.left_out):
            w(f"  (the {len(found.left_out)} of {found.annotators} annotators with the most labels)")

    def _table(self, title: str, rows: dict[str, Figures]) -> None:
        w = self.stdout.write
        w(f"\n{title}")
        w(f"  {'':<50}{'alpha':>8}{'95 % CI':>15}{'(n)':>6}{'Fleiss':>8}{'(n)':>6}{'agree%':>8}{'labels':>8}")
        for name, f in rows.items():
            percent = "—" if f.percent is None else f"{100 * f.percent:.1f}"
            ci = "" if f.alpha_low is None else f"{_fmt(f.alpha_low)}–{_fmt(f.alpha_high)}"
            w(
                f"  {name[:48]:<50}{_fmt(f.alpha):>8}{ci:>15}{f.alpha_sentences:>9}{_fmt(f.fleiss):>8}"
                f"{f.fleiss_sentences:>9}{percent:>8}{f.labels:>10}"
            )

    @staticmethod
    def _stamp(summary: Summary) -> str:
        when = f"Computed {summary.computed_at:%Y-%m-%d %H:%M:%S %Z} in {summary.seconds:.1f} s"
        if summary.fresh:
            return f"{when}; up to date."
        return (
            f"{when}; {summary.changes_missed} "
            f"({summary.changes_counted}; a recompute is queued: --recompute computes it now)."
        )

    def _json(
        self,
        target: Target,
        summary: Summary,
        by_article: dict[int, Figures],
        found: list[AnnotatorEvaluation] | None = None,
    ) -> None:
        payload = {
            "target": target.name,
            "computed_at": summary.computed_at.isoformat(),
            "changes_since": summary.changes_since,
            "overall": summary.agreement.as_dict(),
            "by_source": {str(k): v.as_dict() for k, v in summary.agreement_by_source.items()},
            "by_article": {str(k): v.as_dict() for k, v in by_article.items()},
            "by_suggestion": {k: v.as_dict() for k, v in summary.agreement_by_suggestion.items()},
            "reliability": None if summary.reliability is None else summary.reliability.as_dict(),
        }
        if found is not None:
            payload["annotators"] = [e.as_dict() for e in found]
        self.stdout.write(json.dumps(payload, indent=2))
