"""The data model: what is annotated (Target, Article, Sentence) and the labels."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Label(models.TextChoices):
    PRO = "pro", "Pro"
    CONTRA = "contra", "Contra"
    NEUTRAL = "neutral", "Neutral"
    SKIP = "skip", "Skip"


#: Labels that express a stance; a skip is excluded from training and agreement.
STANCE_LABELS: tuple[str, ...] = (Label.PRO, Label.CONTRA, Label.NEUTRAL)


class Target(models.Model):
    """What stance is taken toward, with the guidelines annotators follow."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Annotation guidelines, plain text.")
    overlap = models.PositiveSmallIntegerField(
        default=2, help_text="How many different annotators should label each sentence."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    title = models.CharField(max_length=500)
    source = models.CharField(max_length=200, blank=True, db_index=True)
    url = models.URLField(max_length=1000, blank=True)
    published = models.DateField(null=True, blank=True)
    body = models.TextField()
    content_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the normalised body; makes imports idempotent."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Sentence(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentences")
    position = models.PositiveIntegerField(help_text="0-based order within the article.")
    text = models.TextField()
    start = models.PositiveIntegerField(help_text="Offset of the first character in the body.")
    end = models.PositiveIntegerField(help_text="Offset one past the last character in the body.")

    class Meta:
        ordering = ["article_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="sentence_unique_position"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="sentence_span_ordered"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Annotation(models.Model):
    """An annotator's current label for one sentence and target.

    Changes go through annotate.labelling so each one is mirrored in AnnotationEvent.
    """

    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="annotations")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="annotations")
    label = models.CharField(max_length=10, choices=Label.choices)
    spent_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time from showing the sentence to the label, in ms."
    )
    accepted_suggestion = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "sentence", "target"], name="annotation_one_current_per_annotator"
            ),
            models.CheckConstraint(
                condition=Q(label__in=[choice.value for choice in Label]), name="annotation_label_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["target", "sentence"], name="annotation_target_sentence"),
            models.Index(fields=["annotator", "target", "-updated_at"], name="annotation_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} · {self.sentence_id} · {self.label}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The annotation history is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The annotation history is append-only.")


class AnnotationEvent(models.Model):
    """One change to an annotation, kept forever: the audit trail behind every label."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        RELABEL = "relabel", "Relabel"
        SKIP = "skip", "Skip"
        REPEAT = "repeat", "Repeat (same label submitted again)"
        UNDO = "undo", "Undo"

    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotation_events"
    )
    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="annotation_events")
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="annotation_events")
    action = models.CharField(max_length=10, choices=Action.choices)
    old_label = models.CharField(max_length=10, choices=Label.choices, blank=True)
    new_label = models.CharField(max_length=10, choices=Label.choices, blank=True)
    spent_ms = models.PositiveIntegerField(null=True, blank=True)
    accepted_suggestion = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["annotator", "target", "-created_at"], name="event_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} {self.action} {self.old_label or '∅'} → {self.new_label or '∅'}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("The annotation history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The annotation history is append-only.")


class Assignment(models.Model):
    """The sentence an annotator is being shown for a target, held until it expires.

    While it holds, the sentence counts toward the overlap, so two annotators asking at
    once cannot both take the last open slot.
    """

    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="assignments")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="assignments")
    shown_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["annotator", "target"], name="assignment_one_per_annotator"),
        ]
        indexes = [
            models.Index(fields=["target", "sentence", "expires_at"], name="assignment_sentence_live"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} → {self.sentence_id} until {self.expires_at:%H:%M}"


class Suggestion(models.Model):
    """The model's pre-annotation for one sentence and target."""

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="suggestions")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="suggestions")
    label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS])
    confidence = models.FloatField(help_text="Probability of the suggested label.")
    probabilities = models.JSONField(default=dict, help_text="Probability of each label.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sentence", "target"], name="suggestion_one_per_sentence"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} ({self.confidence:.0%})"


class Adjudication(models.Model):
    """A curator's decision on a sentence's gold label; it overrides the annotators' votes."""

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="adjudications")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="adjudications")
    label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS])
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sentence", "target"], name="adjudication_one_per_sentence"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} by {self.curator}"
