from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotate.classifier import CLASSES, TrainingError
from annotate.duplicate_groups import duplicates_refresh
from annotate.models import Target
from annotate.training import BATCH_SIZE, DEFAULT_MIN_LABELS, RetrainResult, UpToDate, retrain


class Command(BaseCommand):
    help = (
        "Train the stance classifier on a target's gold labels and, if it scores at least as well "
        "as the active model (on the evaluation slice, or cross-validated while the slice is "
        "small), write a suggestion for every sentence and make it active. Otherwise, or if "
        "anything goes wrong, the previous model stays active."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--target", help="Target name (default: the only or first target).")
        parser.add_argument(
            "--min-labels", type=int, default=DEFAULT_MIN_LABELS, help="Fewest gold labels to train on."
        )
        parser.add_argument("--dry-run", action="store_true", help="Train and report metrics; store nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help="Sentences predicted and written per batch of suggestions.",
        )
        parser.add_argument(
            "--if-possible",
            action="store_true",
            help="Exit quietly (status 0) when there are too few labels, as `make run` does.",
        )
        parser.add_argument(
            "--if-changed",
            action="store_true",
            help="Train only when the gold labels differ from those the active model was trained on.",
        )

    def handle(
        self,
        *args: Any,
        target: str | None,
        min_labels: int,
        dry_run: bool,
        batch_size: int,
        if_possible: bool,
        if_changed: bool,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        chosen = (
            Target.objects.filter(name=target).first() if target else Target.objects.order_by("id").first()
        )
        if chosen is None:
            raise CommandError(f"No target named {target!r}." if target else "No target exists.")
        # Cross-validation groups and the slice's copies rest on the duplicate groups: bring
        # them up to date first (nothing is scanned when the corpus is as the last scan left it).
        duplicates_refresh()
        try:
            result = retrain(
                target=chosen,
                min_labels=min_labels,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=lambda items, **kw: tqdm(items, unit="batch", disable=None, **kw),
                only_if_changed=if_changed,
            )
        except UpToDate as current:
            self.stdout.write(f"No model trained: {current}")
            return
        except TrainingError as error:
            if if_possible:
                self.stdout.write(f"No model trained: {error}")
                return
            raise CommandError(str(error)) from None
        self._summary(chosen, result)

    def _summary(self, target: Target, result: RetrainResult) -> None:
        m = result.metrics
        w = self.stdout.write
        w(f"Target: {target.name}   training labels: {result.train_size}   cross-validation folds: {m.folds}")
        w("Label distribution: " + ", ".join(f"{k} {v}" for k, v in sorted(result.distribution.items())))
        if m.validation is not None:
            w(f"Cross-validated: {m.validation.how}.")
        w(f"accuracy {m.accuracy:.3f}   macro-F1 {m.macro_f1:.3f}   F_avg (pro, contra) {m.f_avg:.3f}")
        w(f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
        for label in CLASSES:
            row = m.per_class[label]
            w(
                f"{label:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}"
            )
        w("Confusion (rows true, columns predicted: " + ", ".join(CLASSES) + ")")
        for label, predicted in zip(CLASSES, m.confusion, strict=True):
            w(f"  {label:<10}" + "".join(f"{n:>8}" for n in predicted))
        held = result.evaluation
        if held is not None and held.metrics is not None:
            s = held.metrics
            w(
                f"Evaluation slice ({held.n} gold labels never trained on, labelled without a suggestion): "
                f"accuracy {s.accuracy:.3f}   macro-F1 {s.macro_f1:.3f}   F_avg (pro, contra) {s.f_avg:.3f}"
            )
        elif held is not None:
            w(f"Evaluation slice: {held.reason}.")
        comparison = result.comparison
        if result.version is None:  # a dry run stores no version
            w(self.style.WARNING(f"Dry run: nothing stored ({result.seconds:.1f} s)."))
        elif comparison is None or comparison.activate:
            if comparison is not None:
                w(f"Decision: {comparison.reason}.")
            w(
                self.style.SUCCESS(
                    f"Model version {result.version.pk} is active: {result.sentences_predicted} suggestions "
                    f"written in {result.seconds:.1f} s."
                )
            )
        else:
            w(f"Decision: {comparison.reason}.")
            w(
                self.style.WARNING(
                    f"Model version {result.version.pk} is kept inactive; v{target.active_version_id} stays "
                    f"active ({result.seconds:.1f} s). An admin may still activate it on the models page."
                )
            )
