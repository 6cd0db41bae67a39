"""The data model: what is annotated (Target, Article, Sentence) and the labels."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThan

from annotate import shuffle, uncertainty
from annotate.roles import ROLES


class Label(models.TextChoices):
    PRO = "pro", "Pro"
    CONTRA = "contra", "Contra"
    NEUTRAL = "neutral", "Neutral"
    SKIP = "skip", "Skip"


#: Labels that express a stance; a skip is excluded from training and agreement.
STANCE_LABELS: tuple[str, ...] = (Label.PRO, Label.CONTRA, Label.NEUTRAL)


class QueueOrder(models.TextChoices):
    RANDOM = "random", "Random (one shuffle of the corpus for everyone)"
    IN_ORDER = "in_order", "In order (article, position)"
    UNCERTAINTY = "uncertainty", "Uncertainty first"
    MIX = "mix", "Uncertainty with a share of random picks"


class GoldMethod(models.TextChoices):
    """Which rule makes a target's gold labels (annotate.aggregation); adjudications win under both."""

    MAJORITY = "majority", "Majority (adjudication, else strict majority, else a single label)"
    DAWID_SKENE = "dawid_skene", "Dawid-Skene (EM over each annotator's confusion matrix)"


class SuggestionMode(models.TextChoices):
    """When the labelling card shows the model's suggestion (never in the control set)."""

    SHOWN = "shown", "Shown with the sentence"
    AFTER = "after", "After the first label (then the label may be changed)"
    HIDDEN = "hidden", "Never shown"


class Uncertainty(models.TextChoices):
    """The uncertainty measures; how each ranks is annotate/uncertainty.py's RANKING."""

    LEAST_CONFIDENT = uncertainty.LEAST_CONFIDENT, "Least confident"
    MARGIN = uncertainty.MARGIN, "Smallest margin"
    ENTROPY = uncertainty.ENTROPY, "Highest entropy"


#: The largest id a database column holds (a signed 64-bit integer). Forms and serializers
#: refuse a larger one with a 400, before the database driver fails on it.
MAX_ID = 2**63 - 1

#: The most annotators a sentence may ask for. Beyond that the queue's counts stop meaning
#: anything (and 40,000 overflowed the column); enforced by Target.clean(), not by the
#: database.
MAX_OVERLAP = 50
#: The settings that change which sentences are open: a change drops the search cursors.
#: The posterior threshold is one: a higher one reopens agreed sentences the cursors passed.
OVERLAP_FIELDS = ("overlap", "dynamic_overlap", "max_overlap", "posterior_threshold")


def validate_posterior_threshold(value: float | None) -> None:
    """A probability above 0 and at most 1 (a threshold of 0 would never ask: say empty)."""
    if value is not None and not 0 < value <= 1:
        raise ValidationError(
            "The posterior threshold must be above 0 and at most 1 (leave it empty for off).",
            code="posterior_threshold",
        )


class TargetQuerySet(models.QuerySet["Target"]):
    def in_use(self) -> TargetQuerySet:
        """The targets not archived: the ones the picker and `/` offer."""
        return self.filter(archived_at__isnull=True)


class Target(models.Model):
    """What stance is taken toward, with the guidelines annotators follow."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(
        blank=True, help_text="Annotation guidelines in Markdown (rendered sanitised: no raw HTML)."
    )
    #: Other names the target goes by ("Huawei Technologies", "the Chinese firm"),
    #: highlighted where they occur in the sentences; a list of strings.
    aliases = models.JSONField(default=list, blank=True)
    #: When an admin archived it: read-only from then on (no labels, no settles), its
    #: labels kept. Null: in use.
    archived_at = models.DateTimeField(null=True, blank=True)
    overlap = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="How many different annotators should label each sentence.",
    )
    # Dynamic overlap (annotate/queue/rule.py): a sentence whose `overlap` labels disagree
    # asks for one more annotator at a time, up to `max_overlap`; agreed ones stop there.
    dynamic_overlap = models.BooleanField(
        default=False,
        help_text="Ask for one more annotator while a sentence's labels disagree (up to the maximum below).",
    )
    max_overlap = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="With dynamic overlap: the most annotators a disagreed sentence may get (empty: overlap + 1).",
    )
    # With dynamic overlap, a sentence whose labels agree but whose Dawid-Skene posterior
    # (as the last summary stored it, annotate/review.py) is below this asks for one more
    # annotator too (annotate/queue/rule.py's DISAGREED).
    posterior_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_posterior_threshold],
        help_text="With dynamic overlap: also ask for one more annotator while a sentence's Dawid-Skene "
        "posterior (from the last summary) is below this: above 0, at most 1 (e.g. 0.8; empty: off).",
    )
    queue_order = models.CharField(
        max_length=20,
        choices=QueueOrder.choices,
        # Random: no order beat it in benchmarks/active_learning.py (README, queue order).
        default=QueueOrder.RANDOM,
        help_text="Which sentence comes next; takes effect on the next request.",
    )
    uncertainty_measure = models.CharField(
        max_length=20, choices=Uncertainty.choices, default=Uncertainty.MARGIN
    )
    random_share = models.FloatField(
        default=0.2,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="In the mixed order, the share of sentences picked at random.",
    )
    control_share = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of sentences shown without a suggestion, to measure anchoring.",
    )
    gold_method = models.CharField(
        max_length=20,
        choices=GoldMethod.choices,
        default=GoldMethod.MAJORITY,
        help_text="Which rule makes the exported gold labels; a curator's adjudication wins under both.",
    )
    suggestion_mode = models.CharField(
        max_length=10,
        choices=SuggestionMode.choices,
        default=SuggestionMode.SHOWN,
        help_text="When annotators see the model's suggestion: with the sentence, only after their "
        "first label (which is kept beside the final one), or never.",
    )
    active_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Evaluation items (annotate/evaluation.py): settled sentences mixed into every
    # annotator's stream to measure them against the gold label.
    evaluation_rate = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share of each annotator's sentences that are evaluation items (after onboarding).",
    )
    evaluation_onboarding = models.PositiveIntegerField(
        default=0, help_text="Each annotator's first N sentences are evaluation items (0: none)."
    )
    min_label_ms = models.PositiveIntegerField(
        default=1500, help_text="Labels faster than this many milliseconds are counted as too fast."
    )
    evaluation_threshold = models.FloatField(
        default=0.7,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="An annotator below this accuracy on evaluation items is flagged to curators.",
    )
    evaluation_min_items = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="Evaluation items an annotator must have answered before they can be flagged.",
    )
    evaluation_pause = models.BooleanField(
        default=False, help_text="Pause a flagged annotator's queue until a curator lifts it."
    )
    # Background retraining (annotate/retrain_policy.py): a retrain is queued once this many
    # gold labels are new or changed since the last one, but not sooner than the floor.
    retrain_every = models.PositiveIntegerField(
        default=50,
        help_text="Retrain in the background after this many new or changed gold labels (0: never).",
    )
    retrain_floor_minutes = models.PositiveIntegerField(
        default=10, help_text="Retrain in the background no more often than every this many minutes."
    )
    #: GoldChanges.changes when the last retrain was queued or started: the new labels count from it.
    retrain_gold_mark = models.BigIntegerField(default=0, editable=False)
    retrain_enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # A new overlap may reopen sentences the annotators' cursors have passed.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(OVERLAP_FIELDS) & set(update_fields):
            QueueCursor.objects.filter(target=self).delete()

    def clean(self) -> None:
        super().clean()
        if self.overlap is not None and not 1 <= self.overlap <= MAX_OVERLAP:
            raise ValidationError({"overlap": f"Overlap must be from 1 to {MAX_OVERLAP}."})
        most, overlap = self.max_overlap, self.overlap
        if most is not None and overlap is not None and not overlap <= most <= MAX_OVERLAP:
            message = f"The maximum must be from the overlap ({overlap}) to {MAX_OVERLAP}."
            raise ValidationError({"max_overlap": message})

    @property
    def most_labels(self) -> int:
        """The most stance labels a sentence may get: the overlap, or with dynamic overlap
        the maximum (overlap + 1 when not set). What the queue's rule reads."""
        if not self.dynamic_overlap:
            return self.overlap
        return self.overlap + 1 if self.max_overlap is None else max(self.max_overlap, self.overlap)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def refuse_if_archived(self) -> None:
        """The one rule of an archived target: nothing about its labels changes. Raises
        TargetArchived; called under the target's lock by every path that writes labels,
        gold labels or reservations (annotate/queue/locks.py, annotate/adjudication.py)."""
        if self.archived_at is not None:
            raise TargetArchived(self)


class TargetArchived(ValidationError):
    """A label, settle or reservation for an archived target."""

    def __init__(self, target: Target) -> None:
        super().__init__(
            f"{target.name} is archived: its labels can be read but not changed.", code="archived"
        )


class TargetExample(models.Model):
    """A sentence that shows a label, and why: written by an admin, or an adjudicated
    sentence a curator promoted (then `sentence` is set, once a target)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="examples")
    label = models.CharField(max_length=10, choices=[(label, label) for label in STANCE_LABELS])
    text = models.TextField()
    why = models.TextField(blank=True)
    sentence = models.ForeignKey(
        "Sentence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "sentence"],
                condition=Q(sentence__isnull=False),
                name="example_sentence_once_a_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"


#: An http(s) URL as a browser reads it: the scheme first (no space or control character
#: before it, which browsers drop before reading the scheme), then a host. Written
#: case-insensitively by hand, as the same pattern goes into the API schema.
HTTP_URL = re.compile(r"^[hH][tT][tT][pP][sS]?://[^\x00-\x20\x7f/?#]+[^\x00-\x20\x7f]*$")

#: The one check of an article's URL, for the API and the import files alike (both strip
#: the value first, so the pattern's $ never meets a trailing newline).
validate_http_url = RegexValidator(HTTP_URL, "Must be an http(s) URL.", code="not_http_url")


def column_size(model: type[models.Model], name: str) -> int:
    """The max_length of a model's text column: what input is checked against before saving."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a text column with a size.")
    return field.max_length


def is_http_url(value: str) -> bool:
    """Whether a link to value opens a web page, not a javascript: or data: URL."""
    return HTTP_URL.fullmatch(value) is not None


#: An article's licence when its import named none, and the longest one stored.
UNKNOWN_LICENCE = "unknown"
LICENCE_MAX_LENGTH = 200


class Unit(models.TextChoices):
    """What an article's sentences (the units annotators label) are, decided at import."""

    SENTENCE = "sentence", "split into sentences"
    #: Posts, headlines, comments: split, a trailing hashtag would become a "sentence".
    #: One Sentence holds the whole body, whitespace normalised (as import_labels matches).
    TEXT = "text", "kept whole, one unit a text"


class Article(models.Model):
    title = models.CharField(max_length=500)
    source = models.CharField(max_length=200, blank=True, db_index=True)
    url = models.URLField(max_length=1000, blank=True)
    published = models.DateField(null=True, blank=True)
    body = models.TextField()
    content_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the normalised body; makes imports idempotent."
    )
    # Provenance for the dataset card, set at import: the licence the text was obtained
    # under (free text, an SPDX id such as CC-BY-4.0 where there is one) and what it came
    # from (the file's name, or "API" / "admin").
    licence = models.CharField(
        max_length=LICENCE_MAX_LENGTH,
        default=UNKNOWN_LICENCE,
        help_text="The licence the text was obtained under, set at import.",
    )
    imported_from = models.CharField(
        max_length=300, blank=True, help_text="The file it was imported from, or API / admin."
    )
    unit = models.CharField(
        max_length=10,
        choices=Unit.choices,
        default=Unit.SENTENCE,
        help_text="How the body was cut into units to label, set at import.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title

    @property
    def safe_url(self) -> str:
        """The URL if it is http(s), else "": pages link only to that, so an article stored
        before imports checked URLs cannot run a javascript: link."""
        return self.url if is_http_url(self.url) else ""


#: annotate/shuffle.py's key as a database expression: the id scrambled, then squared.
_SCRAMBLED = (
    models.F("id") % shuffle.SCRAMBLE_MODULUS * shuffle.SCRAMBLE_MULTIPLIER % shuffle.SCRAMBLE_MODULUS
)
_SHUFFLE_SQUARED = _SCRAMBLED * _SCRAMBLED


class Sentence(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentences")
    position = models.PositiveIntegerField(help_text="0-based order within the article.")
    text = models.TextField()
    start = models.PositiveIntegerField(help_text="Offset of the first character in the body.")
    end = models.PositiveIntegerField(help_text="Offset one past the last character in the body.")
    #: A hash of the normalised text (annotate.duplicates.text_key): equal for reprints.
    text_key = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    #: The id of the smallest sentence of this one's duplicate group (exact and near
    #: copies, annotate/duplicate_groups.py); a group never crosses a split. Null until
    #: set (by the import, or the next `find_duplicates` scan): its own group.
    duplicate_group = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    #: The sentence's place in the random order (annotate/shuffle.py): the database computes
    #: it from the id, on every insert, whatever inserts.
    shuffle_key = models.GeneratedField(
        expression=_SHUFFLE_SQUARED % shuffle.SQUARE_MODULUS,
        output_field=models.BigIntegerField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["article_id", "position"]
        indexes = [models.Index(fields=["shuffle_key", "id"], name="sentence_shuffle_order")]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="sentence_unique_position"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="sentence_span_ordered"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class SentenceEmbedding(models.Model):
    """A sentence's vector from the embedding model (annotate.embeddings), computed once by
    the task worker after an import (annotate/embedding_store.py) and read by training and
    suggestions: float16 bytes, 768 for all-MiniLM-L6-v2."""

    sentence = models.OneToOneField(
        Sentence, on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    model_name = models.CharField(max_length=100)
    vector = models.BinaryField()

    def __str__(self) -> str:
        return f"{self.model_name} vector of sentence {self.sentence_id}"


class Annotation(models.Model):
    """An annotator's current label for one sentence and target.

    Changes go through annotate.queue.record so each one is mirrored in AnnotationEvent.
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
    suggestion_shown = models.BooleanField(
        default=False, help_text="Whether a model suggestion was on screen (False in the control set)."
    )
    #: The label given before the suggestion was revealed, when it was revealed after a
    #: first label (the target's "after" suggestion mode); None otherwise. Nullable so that
    #: adding it is an ALTER TABLE on SQLite: rebuilding the table would drop its triggers.
    first_label = models.CharField(
        max_length=10,
        choices=Label.choices,
        null=True,
        blank=True,
        help_text="The label before the suggestion was revealed (suggestion mode 'after').",
    )
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
    """The manager of a history table: rows are added, never changed or removed."""

    def update(self, **kwargs: object) -> int:
        raise TypeError(f"{self.model.__name__} is a history: append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model.__name__} is a history: append-only.")


class AnnotationEvent(models.Model):
    """One change to an annotation, kept forever: the audit trail behind every label."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        RELABEL = "relabel", "Relabel"
        SKIP = "skip", "Skip"
        REPEAT = "repeat", "Repeat (same label submitted again)"
        UNDO = "undo", "Undo"
        #: A curator returned the label to its annotator with a comment (LabelReturn);
        #: the label is unchanged (old and new are the same) until they relabel it.
        RETURN = "return", "Returned by a curator"

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

    def save(self, *args: Any, **kwargs: Any) -> None:
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


class Decision(models.TextChoices):
    ACTIVATED = "activated", "Activated"
    KEPT = "kept", "Kept inactive"


class ModelVersion(models.Model):
    """One training run of the stance classifier for a target, with its metrics and file."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="model_versions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    train_size = models.PositiveIntegerField(default=0)
    label_distribution = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    duration_s = models.FloatField(default=0)
    sentences_predicted = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    #: SHA-256 of the gold labels it was trained on, so a retrain can tell nothing changed.
    gold_fingerprint = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    #: Whether the retrain made it active, set with the comparison it rests on
    #: (annotate/activation.py: Comparison.as_dict) and when it was decided.
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    comparison = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    #: The last time it became the active version, and the admin who chose it (None: the retrain).
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.target} v{self.pk} ({self.status})"

    @property
    def distribution_in_order(self) -> list[tuple[str, int]]:
        """Label counts as pro, contra, neutral (JSON key order differs between databases)."""
        return [
            (label, self.label_distribution[label])
            for label in STANCE_LABELS
            if label in self.label_distribution
        ]


class Suggestion(models.Model):
    """A model version's pre-annotation for one sentence, with its uncertainty."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="suggestions")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="suggestions")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="suggestions")
    label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS])
    confidence = models.FloatField(help_text="Probability of the suggested label.")
    margin = models.FloatField(default=1.0, help_text="Best minus second-best probability.")
    entropy = models.FloatField(default=0.0, help_text="Entropy of the probabilities, in bits.")
    probabilities = models.JSONField(default=dict, help_text="Probability of each label.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "sentence"], name="suggestion_one_per_sentence"),
        ]
        indexes = [
            # In the queue's full order (ties by sentence), so picking the most uncertain
            # open sentence walks the index and stops; without `sentence` SQLite sorted
            # every suggestion of the version (76 ms at 200,000 sentences).
            models.Index(
                fields=["model_version", "confidence", "sentence"], name="suggestion_least_confident"
            ),
            models.Index(fields=["model_version", "margin", "sentence"], name="suggestion_margin"),
            models.Index(fields=["model_version", "-entropy", "sentence"], name="suggestion_entropy"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} ({self.confidence:.0%})"


class CrossValidatedPrediction(models.Model):
    """A training label's out-of-fold prediction in its version's cross-validation: the
    label predicted by the fold model that did not see it (nor its article or duplicate
    group), with that label's probability (annotate.classifier.OutOfFold). One a training
    label, written with the version and deleted with it; the adjudication page's
    "suspicious labels" order reads the active version's, most confident first."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="cross_validated_predictions"
    )
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS])
    confidence = models.FloatField(help_text="The fold model's probability of the label.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "sentence"], name="cross_validated_one_per_sentence"
            ),
        ]
        indexes = [
            # The suspicious order's own: a version's most confident first, ties by the
            # newest sentence, so the page walks it and stops.
            models.Index(
                fields=["model_version", "-confidence", "-sentence"], name="cross_validated_confident"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} ({self.confidence:.0%}, cross-validated)"


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
        indexes = [
            # The adjudication page's "recently settled" panel: the newest, without a sort.
            models.Index(fields=["target", "-updated_at", "-id"], name="adjudication_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} by {self.curator}"


class AdjudicationEvent(models.Model):
    """One change of a sentence's gold label, kept forever: who, when, from what to what.

    Written by annotate.adjudication in the transaction of the change itself. An undo is
    an event too, pointing at the change it took back (`undoes`): the changes no undo
    points at form a stack, and the next undo takes back its top.
    """

    class Action(models.TextChoices):
        SETTLE = "settle", "Settle"
        CHANGE = "change", "Change"
        UNDO = "undo", "Undo"

    sentence = models.ForeignKey(Sentence, on_delete=models.PROTECT, related_name="adjudication_events")
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="adjudication_events")
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudication_events"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    old_label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS], blank=True)
    new_label = models.CharField(max_length=10, choices=[(v, v) for v in STANCE_LABELS], blank=True)
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "gold label change"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["settle", "change", "undo"]), name="adjudication_event_action_valid"
            ),
        ]
        indexes = [
            # A sentence's history, newest first (the undo's stack and the page's panel).
            models.Index(fields=["sentence", "target", "-id"], name="adjudication_event_sentence"),
            # A target's recent gold changes (the admin's list).
            models.Index(fields=["target", "-created_at", "-id"], name="adjudication_event_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.curator} {self.action} {self.old_label or '∅'} → {self.new_label or '∅'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The gold label history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The gold label history is append-only.")


class EvaluationItem(models.Model):
    """A settled sentence a curator chose to test annotators on: its gold label is its
    adjudication's, and it goes when the adjudication does (an undo of the first settle).

    Target and sentence repeat the adjudication's, so the queue finds a sentence's item by
    one index seek (annotate/queue/rule.py).
    """

    adjudication = models.OneToOneField(
        Adjudication, on_delete=models.CASCADE, related_name="evaluation_item"
    )
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="evaluation_items")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="evaluation_items")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target_id", "sentence_id"]
        constraints = [
            models.UniqueConstraint(fields=["target", "sentence"], name="evaluation_item_one_per_sentence"),
        ]

    def __str__(self) -> str:
        return f"{self.target_id}: evaluation item {self.sentence_id}"


class EvaluationPause(models.Model):
    """An annotator's standing against the evaluation items of a target: paused (their
    queue hands out nothing) and when a curator last lifted a flag or pause. Only answers
    given after the last lift count toward a new flag. No row: never paused or lifted."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    paused_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "target"], name="evaluation_pause_one_per_annotator"
            ),
        ]

    def __str__(self) -> str:
        state = "paused" if self.paused_at else "not paused"
        return f"{self.annotator_id} on {self.target_id}: {state}"


class QueueCursor(models.Model):
    """Where an annotator's searches for the next sentence start (in order, random, ranked).

    Every sentence before (article_id, position) is labelled or skipped by the annotator
    or holds its target's full overlap of labels, so the search need not walk them again:
    the next sentence is found in a bounded number of steps however much is labelled.
    Removing a label moves every cursor of the target back to its sentence.
    """

    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="queue_cursors")
    article_id = models.BigIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    # The uncertainty orders' own start: among `ranked_version`'s suggestions in
    # `ranked_measure` order (ties by sentence), everything before (ranked_score,
    # ranked_sentence_id) is the annotator's or full. Empty until the first such search;
    # another version or measure starts from the beginning.
    ranked_version_id = models.BigIntegerField(null=True, blank=True)
    ranked_measure = models.CharField(max_length=20, blank=True)
    ranked_score = models.FloatField(null=True, blank=True)
    ranked_sentence_id = models.BigIntegerField(null=True, blank=True)
    # The random order's start (and the mix order's random picks'): everything before
    # (shuffle_key, shuffle_sentence_id) in (Sentence.shuffle_key, id) order is finished
    # for the annotator, as before (article_id, position) in article order.
    shuffle_key = models.BigIntegerField(default=0)
    shuffle_sentence_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["annotator", "target"], name="queue_cursor_one_per_annotator"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} at article {self.article_id}, position {self.position}"


class Shortcuts(models.TextChoices):
    """How the labelling page's keyboard shortcuts work (WCAG 2.1.4: they can be turned off)."""

    KEYS = "keys", "Single keys"
    ALT = "alt", "Only with Alt held"
    OFF = "off", "Off"


class LabellingSettings(models.Model):
    """An annotator's own settings for the labelling page, kept across logins.

    No row means the defaults: the page reads it once, the label loop never.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labelling_settings"
    )
    shortcuts = models.CharField(max_length=8, choices=Shortcuts.choices, default=Shortcuts.KEYS)

    class Meta:
        verbose_name_plural = "labelling settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(shortcuts__in=[choice.value for choice in Shortcuts]),
                name="labelling_settings_shortcuts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: shortcuts {self.shortcuts}"


def _tally_gold() -> models.Case:
    """The gold rule (annotate.gold.decide) as SQL: an adjudication, else a strict majority
    of the non-skipped labels (one label is its own majority), else none (a tie)."""
    votes = models.F("pro") + models.F("contra") + models.F("neutral")
    return models.Case(
        models.When(~Q(adjudicated=""), then=models.F("adjudicated")),
        *(
            models.When(GreaterThan(models.F(label) * 2, votes), then=models.Value(label))
            for label in STANCE_LABELS
        ),
        default=models.Value(""),
        output_field=models.CharField(max_length=10),
    )


def _tally_agreement() -> models.Case:
    """Share of agreeing pairs among the non-skipped labels; NULL below two labels."""
    votes = models.F("pro") + models.F("contra") + models.F("neutral")
    agreeing = sum((models.F(label) * (models.F(label) - 1) for label in STANCE_LABELS), models.Value(0))
    return models.Case(
        models.When(
            GreaterThan(votes, 1),
            then=Cast(agreeing, models.FloatField()) / Cast(votes * (votes - 1), models.FloatField()),
        ),
        default=None,
        output_field=models.FloatField(),
    )


class SentenceTally(models.Model):
    """A sentence's current labels for one target, counted: kept by database triggers.

    Every insert, change and delete of an Annotation or Adjudication row updates its
    sentence's tally in the same statement's transaction (annotate/tally_sql.py), whichever
    path made it: the label loop, history edits, the API, imports, the Django admin or a
    cascade. Curator pages count these rows instead of every label.
    """

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="tallies")
    pro = models.PositiveIntegerField(default=0)
    contra = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    skip = models.PositiveIntegerField(default=0)
    # Of the non-skipped labels, those given with a suggestion on screen.
    pro_shown = models.PositiveIntegerField(default=0)
    contra_shown = models.PositiveIntegerField(default=0)
    neutral_shown = models.PositiveIntegerField(default=0)
    adjudicated = models.CharField(max_length=10, blank=True, default="")
    votes = models.GeneratedField(
        expression=models.F("pro") + models.F("contra") + models.F("neutral"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    agreement = models.GeneratedField(
        expression=_tally_agreement(), output_field=models.FloatField(), db_persist=True
    )
    gold = models.GeneratedField(
        expression=_tally_gold(), output_field=models.CharField(max_length=10), db_persist=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "sentence"], name="tally_one_per_sentence"),
        ]
        indexes = [
            # The adjudication queue, worst first: open disagreements in the order the page
            # shows them, so the first twenty are an index walk however many there are.
            models.Index(
                fields=["target", "agreement", "-votes", "sentence"],
                name="tally_open_disagreements",
                condition=Q(agreement__lt=1, adjudicated=""),
            ),
            # Dynamic overlap's figure on the dashboard: the sentences given more labels than
            # the overlap are a range of it, however many sentences have the overlap.
            models.Index(fields=["target", "votes"], name="tally_votes"),
            # Search's filters (annotate/search.py): each match's tally is read from the
            # index alone, without its row, so a filter that keeps few of a common word's
            # matches reads half as many pages.
            models.Index(fields=["target", "sentence", "gold", "agreement", "votes"], name="tally_search"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.pro}/{self.contra}/{self.neutral} (+{self.skip} skips)"


class AnnotatorTally(models.Model):
    """An annotator's current labels and skips for a target: kept by the same triggers."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    labels = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "annotator"], name="annotator_tally_one_per_target"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} on {self.target_id}: {self.labels} labels, {self.skips} skips"


class AnswerTally(models.Model):
    """An annotator's answers to a target's evaluation items with one gold and one given
    label (a skip included), given since their last lift or before it: kept by the
    triggers of annotate/answer_tally.py, so the curators' pages read a few rows an
    annotator instead of joining every item to its labels."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    gold = models.CharField(max_length=10)
    given = models.CharField(max_length=10)
    since_lift = models.BooleanField()
    answers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target", "annotator", "gold", "given", "since_lift"], name="answer_tally_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} on {self.target_id}: {self.answers} x {self.gold} -> {self.given}"


class TargetChanges(models.Model):
    """How many times a target's labels or adjudications were written: a summary computed
    at one count is stale once the count moves. Bumped by the same triggers."""

    target = models.OneToOneField(Target, on_delete=models.CASCADE, primary_key=True, related_name="+")
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.target_id}: {self.changes} changes"


class GoldChanges(models.Model):
    """How many times one of a target's gold labels appeared, changed or went (a sentence
    tally's `gold` moved): what background retraining counts new labels by. Kept by a
    trigger on the sentence tallies, so the label round trip writes it without a query.

    A first label of a sentence counts one; a relabel takes the old label out and puts the
    new one in, so a sentence's only label changed from pro to contra counts two (gone, then
    back): relabels make the policy retrain a little early, never late."""

    target = models.OneToOneField(Target, on_delete=models.CASCADE, primary_key=True, related_name="+")
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.target_id}: {self.changes} gold changes"


class DisagreementCount(models.Model):
    """How many of a target's sentences are open disagreements (the adjudication queue's
    length), kept by a trigger on the sentence tallies so the page never counts them.

    A table of its own, not a column of TargetChanges: the label triggers lock the sentence
    tally, then this row, then the annotator tally, then TargetChanges, one order for every
    path (annotate/tally_sql.py)."""

    target = models.OneToOneField(Target, on_delete=models.CASCADE, primary_key=True, related_name="+")
    open_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.target_id}: {self.open_count} open disagreements"


class TargetSummary(models.Model):
    """A target's expensive figures (agreement, distributions, medians) as computed at one
    moment, with the change count they rest on (annotate/summary.py)."""

    target = models.OneToOneField(Target, on_delete=models.CASCADE, primary_key=True, related_name="+")
    computed_at = models.DateTimeField()
    changes = models.BigIntegerField(help_text="TargetChanges.changes when it was computed.")
    seconds = models.FloatField(default=0, help_text="How long computing it took.")
    figures = models.JSONField(default=dict)
    #: Per-article label counts, for the dataset card's splits: large, read only by the card.
    articles = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.target_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class DuplicateScan(models.Model):
    """The last near-duplicate scan of the corpus (annotate/duplicate_groups.py): what it
    rested on, so an unchanged corpus is not scanned again, and what it found."""

    finished_at = models.DateTimeField()
    sentences = models.BigIntegerField(help_text="Sentences when it ran.")
    last_sentence = models.BigIntegerField(help_text="The largest sentence id when it ran.")
    seconds = models.FloatField(default=0)
    figures = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"scan of {self.sentences} sentences at {self.finished_at:%Y-%m-%d %H:%M}"


class Invite(models.Model):
    """A link an admin hands someone to make their own account with a role
    (annotate/team.py). Only a hash of the link's token is kept: the link is shown once,
    and a copy of the database cannot be used to sign up. It works once, until expires_at."""

    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the link's token, hex.")
    role = models.CharField(max_length=20, choices=[(role, role) for role in ROLES])
    email = models.EmailField(blank=True, help_text="Given to the new account; optional.")
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for, for the admins.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="invite"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=list(ROLES)), name="invite_role_known"),
            # The account is made in the transaction that marks the invite used.
            models.CheckConstraint(
                condition=Q(used_by__isnull=True) | Q(used_at__isnull=False), name="invite_used_by_when_used"
            ),
        ]
        indexes = [models.Index(fields=["used_at", "expires_at"], name="invite_pending")]

    def __str__(self) -> str:
        return f"{self.role} invite {self.note or self.email or self.pk}"


class FlagReason(models.TextChoices):
    UNSURE = "unsure", "Unsure"
    BAD_SPLIT = "bad_split", "Bad sentence split"
    DISCUSS = "discuss", "Needs discussion"


class Flag(models.Model):
    """An annotator's note that a sentence needs a curator's eye (annotate/flags.py). It
    labels nothing and skips nothing; curators see open flags first on the adjudication
    page's "flagged" order and resolve them."""

    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="flags")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="flags")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(max_length=10, choices=FlagReason.choices)
    comment = models.TextField(blank=True, default="", max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Flagging a sentence again while the first flag is open updates that flag.
            models.UniqueConstraint(
                fields=["annotator", "sentence", "target"],
                condition=Q(resolved_at__isnull=True),
                name="flag_one_open_per_annotator",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=[choice.value for choice in FlagReason]), name="flag_reason_valid"
            ),
        ]
        indexes = [
            # The "flagged" order: open flags oldest first, then the newest resolved.
            models.Index(
                fields=["target", "created_at", "id"],
                name="flag_open",
                condition=Q(resolved_at__isnull=True),
            ),
            models.Index(fields=["target", "-resolved_at", "-id"], name="flag_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} flagged {self.sentence_id}: {self.reason}"


class LabelReturn(models.Model):
    """A curator's return of one annotator's label with a comment (annotate/returns.py).

    The annotator gets the sentence first in their queue, with the comment, until they
    label it again (`resolved_at`, `resolved_label`); the label stays counted meanwhile.
    The annotation is named by its key, annotator, sentence and target (as AnnotationEvent
    names it), not a foreign key: an undo deletes the annotation row, and a foreign key
    would cost every undo a query for the returns to unlink; the return outlives the undo,
    and the queue finds it by one index seek.
    """

    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=10, choices=Label.choices, help_text="The label returned.")
    comment = models.TextField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_label = models.CharField(max_length=10, choices=Label.choices, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "sentence", "target"],
                condition=Q(resolved_at__isnull=True),
                name="label_return_one_open",
            ),
        ]
        indexes = [
            # The annotator's queue: their open returns, oldest first (queue/statements.py).
            models.Index(
                fields=["annotator", "target", "created_at", "id"],
                name="label_return_open",
                condition=Q(resolved_at__isnull=True),
            ),
            models.Index(fields=["target", "sentence"], name="label_return_sentence"),
        ]

    def __str__(self) -> str:
        return f"{self.by} returned {self.sentence_id} to {self.annotator}"


class SentencePosterior(models.Model):
    """A sentence's Dawid-Skene posterior as the last summary computed it
    (annotate/summary.py): its most probable label and that label's probability, and the
    stance labels it was computed from. The adjudication page's "lowest posterior" order
    walks the index on it; dynamic overlap asks for one more annotator on a low one only
    while the sentence's tally still has that many (annotate/queue/rule.py)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="+")
    sentence = models.ForeignKey(Sentence, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=10, blank=True, help_text="Most probable label; blank: a tie.")
    posterior = models.FloatField(help_text="Probability of the most probable label.")
    votes = models.PositiveIntegerField(
        help_text="Stance labels (skips excluded) it was computed from, as SentenceTally.votes counts them."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "sentence"], name="posterior_one_per_sentence"),
        ]
        indexes = [
            models.Index(fields=["target", "posterior", "sentence"], name="posterior_lowest"),
        ]

    def __str__(self) -> str:
        return f"{self.sentence_id}: {self.label} ({self.posterior:.2f})"


class Upload(models.Model):
    """Files an admin uploaded to import (annotate/uploads.py): previewed, then confirmed,
    imported in the request or by the background worker, with its progress and outcome."""

    class Kind(models.TextChoices):
        ARTICLES = "articles", "Articles"
        LABELS = "labels", "Labels"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"  # checked, waiting for the admin's confirmation
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The import's options, as the commands take them.
    unit = models.CharField(max_length=10, default=Unit.SENTENCE)
    source = models.CharField(max_length=200, blank=True)
    licence = models.CharField(max_length=LICENCE_MAX_LENGTH, default=UNKNOWN_LICENCE)
    target = models.ForeignKey(Target, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    annotator_name = models.CharField(max_length=150, blank=True)
    label_map = models.CharField(max_length=1000, blank=True)
    names = models.JSONField(default=list)  # the files' names, kept once their bytes are dropped
    size = models.PositiveBigIntegerField(default=0)  # bytes, all files together
    #: The preview as the page shows it (annotate.uploads.Preview, as a dict).
    preview = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)  # articles or label rows to go through
    done = models.PositiveIntegerField(default=0)
    #: What the import said when it ended, (level, text) pairs: the command's own lines.
    messages = models.JSONField(default=list)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} upload {self.pk}: {', '.join(self.names)}"

    @property
    def unfinished(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class UploadFile(models.Model):
    """One uploaded file's bytes, until its upload is imported or fails (then deleted)."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=300)
    data = models.BinaryField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
