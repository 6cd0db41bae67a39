"""Input serializers (what a request may hold) and output serializers (what a response shows)."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from annotate.corpus import LONE_SURROGATE, text_title
from annotate.export import FORMATS, LEVELS
from annotate.models import (
    LICENCE_MAX_LENGTH,
    MAX_ID,
    UNKNOWN_LICENCE,
    Annotation,
    Article,
    Decision,
    Flag,
    FlagReason,
    Label,
    LabelReturn,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
    Unit,
    validate_http_url,
)
from annotate.queue.record import ACCEPT
from annotate.splits import DEFAULT_SEED, SEED_LIMIT, SeedError, parse_seed

# DECLARED: fields named `label` or `source` are declared fields, which the serializer's
# metaclass takes off the class; the stubs see them overwrite Field.label and Field.source.

# Text that PostgreSQL can store (no NUL) and that is more than whitespace; the same
# pattern goes into the schema, so generated clients and fuzzers know the rule too.
NO_NUL = RegexValidator(r"^[^\x00]*$", "Null characters are not allowed.")
NOT_BLANK = RegexValidator(r"^[^\x00]*[^\s\x00][^\x00]*$", "Must hold more than whitespace, and no NUL.")


class QueryBooleanField(serializers.BooleanField):
    """A query parameter that is `true` or `false`, as the schema says; nothing else."""

    def to_internal_value(self, data: object) -> bool:
        if data not in ("true", "false"):
            self.fail("invalid", input=data)
        return data == "true"


class SeedField(serializers.IntegerField):
    """The export's seed, read by the parser the browser's export and card use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=-SEED_LIMIT, max_value=SEED_LIMIT, **kwargs)

    def to_internal_value(self, data: object) -> int:
        try:
            return parse_seed(str(data))
        except SeedError as error:
            raise serializers.ValidationError(str(error)) from None


#: The JSON type each kind of field takes in a request body.
JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.DateField, (str,), "a date string"),
]


class JsonInput(serializers.Serializer):
    """A request body whose values have the JSON types the schema gives them.

    DRF would turn 5 into "5" for a text field and "5" into 5 for a number; a client that
    sends the wrong type has misread the schema, and is told so instead.
    """

    def to_internal_value(self, data: object) -> dict[str, object]:
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if name not in data or (value is None and field.allow_null):
                    continue
                for kind, types, expected in JSON_TYPES:
                    if isinstance(field, kind):
                        if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
                            errors[name] = [f"Must be {expected}."]
                        break
                # Half a UTF-16 pair ("\\ud800" in JSON) parses, but no database driver
                # encodes it: a 500 when stored or even looked up.
                if isinstance(value, str) and LONE_SURROGATE.search(value):
                    errors[name] = ["Must be valid Unicode (no lone surrogate)."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _id(help_text: str, *, required: bool = False) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=required, help_text=help_text)


# Output --------------------------------------------------------------------------------
# Counts and offsets are declared as plain integers: from the model fields, the schema would
# carry the database's column range and so differ between SQLite and PostgreSQL.


def _count(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, **kwargs)


class TargetSerializer(serializers.ModelSerializer):
    overlap = _count(help_text="How many different annotators should label each sentence.")
    dynamic_overlap = serializers.BooleanField(
        read_only=True,
        help_text="Whether a sentence whose overlap of labels disagree asks for one more annotator.",
    )
    most_labels = _count(
        help_text="The most stance labels a sentence may get: the overlap, or with dynamic overlap its "
        "maximum (max_overlap, else overlap + 1), reached only while the labels disagree."
    )
    posterior_threshold = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="With dynamic overlap: a sentence whose labels agree but whose Dawid-Skene posterior (as "
        "the last summary computed it) is below this asks for one more annotator too; null: off.",
    )
    aliases = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Other names the target goes by."
    )
    archived_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was archived (read-only since); null: in use."
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "name",
            "description",
            "guidelines",
            "aliases",
            "overlap",
            "dynamic_overlap",
            "most_labels",
            "posterior_threshold",
            "archived_at",
            "active_version",
        ]


class ArticleSerializer(serializers.ModelSerializer):
    sentence_count = serializers.IntegerField(read_only=True)
    # As stored: imports take only http(s) URLs now, but an older row may hold anything, so
    # a client that links it should check the scheme (the article page does).
    url = serializers.CharField(read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "source",
            "url",
            "published",
            "licence",
            "unit",
            "created_at",
            "sentence_count",
        ]


class ArticleDetailSerializer(ArticleSerializer):
    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body"]


class SentenceSerializer(serializers.ModelSerializer):
    article_title = serializers.CharField(source="article.title", read_only=True)
    article_source = serializers.CharField(source="article.source", read_only=True)
    position = _count(help_text="0-based order within the article.")
    start = _count(help_text="Offset of the first character in the article's body.")
    end = _count(help_text="Offset one past the last character in the article's body.")

    class Meta:
        model = Sentence
        fields = ["id", "article", "article_title", "article_source", "position", "text", "start", "end"]


class AnnotationSerializer(serializers.ModelSerializer):
    sentence_text = serializers.CharField(source="sentence.text", read_only=True)
    spent_ms = _count(allow_null=True, help_text="Time from showing the sentence to the label, in ms.")

    class Meta:
        model = Annotation
        fields = [
            "id",
            "sentence",
            "sentence_text",
            "target",
            "label",
            "spent_ms",
            "accepted_suggestion",
            "suggestion_shown",
            "first_label",
            "created_at",
            "updated_at",
        ]


class UndoneSerializer(serializers.Serializer):
    sentence = serializers.IntegerField(source="sentence_id")
    target = serializers.IntegerField(source="target_id")
    label = serializers.ChoiceField(choices=Label.choices)  # type: ignore[assignment]  # see DECLARED


class UndoResultSerializer(serializers.Serializer):
    undone = UndoneSerializer(allow_null=True, help_text="The label removed; null when there was none.")
    detail = serializers.CharField()


class SuggestionSerializer(serializers.ModelSerializer):
    probabilities = serializers.DictField(child=serializers.FloatField(), read_only=True)

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "sentence",
            "target",
            "model_version",
            "label",
            "confidence",
            "margin",
            "entropy",
            "probabilities",
        ]


class ModelVersionSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField(
        help_text="Whether this version makes the target's suggestions."
    )
    label_distribution = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    metrics = serializers.DictField(read_only=True, help_text="Cross-validated metrics of the training run.")
    train_size = _count()
    sentences_predicted = _count()
    comparison = serializers.DictField(
        read_only=True,
        help_text="What the activation decision rests on (annotate/activation.py Comparison): "
        "activate, basis (slice, cv or none), figure, new and active values and sizes, against "
        "(the version active then), reason. Empty before the decision.",
    )
    decision = serializers.ChoiceField(
        choices=[("", "Not decided yet"), *Decision.choices],
        read_only=True,
        help_text="Whether the retrain made it active (activated) or kept the active one (kept); "
        "empty before the decision.",
    )
    # Only admins activate a version by hand, and the endpoint is for curators, who see the
    # admins' names on the models page too.
    activated_by = serializers.CharField(
        source="activated_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The admin who made it active by hand; null when the retrain activated it, or never.",
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "target",
            "status",
            "active",
            "created_at",
            "finished_at",
            "train_size",
            "label_distribution",
            "metrics",
            "duration_s",
            "sentences_predicted",
            "error",
            "decision",
            "comparison",
            "decided_at",
            "activated_at",
            "activated_by",
        ]
        read_only_fields = fields

    def get_active(self, version: ModelVersion) -> bool:
        return version.target.active_version_id == version.pk


class PairKappaSerializer(serializers.Serializer):
    annotator_a = serializers.IntegerField()
    annotator_b = serializers.IntegerField()
    kappa = serializers.FloatField(allow_null=True)
    sentences = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha (nominal).")
    alpha_sentences = serializers.IntegerField(help_text="Sentences with two or more labels.")
    fleiss = serializers.FloatField(allow_null=True, help_text="Fleiss' kappa.")
    fleiss_sentences = serializers.IntegerField(
        help_text="Sentences with exactly the target's overlap of labels."
    )
    percent = serializers.FloatField(allow_null=True, help_text="Mean share of agreeing pairs a sentence.")
    labels = serializers.IntegerField()
    annotators = serializers.IntegerField()
    pairs = PairKappaSerializer(many=True, help_text="Cohen's kappa of each pair of annotators.")
    alpha_low = serializers.FloatField(
        allow_null=True,
        help_text="Lower end of alpha's bootstrap 95 % interval (2.5th percentile over alpha_replicates "
        "resamples of the sentences with two or more labels, fixed seed); null where not computed "
        "(by_article) or undefined.",
    )
    alpha_high = serializers.FloatField(
        allow_null=True, help_text="Upper end of the interval (97.5th percentile)."
    )
    alpha_replicates = serializers.IntegerField(
        help_text="Bootstrap resamples behind the interval (0: no interval)."
    )


class LabelAlphaSerializer(serializers.Serializer):
    # A field named like Field.label: DRF's metaclass takes declared fields out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    alpha = serializers.FloatField(allow_null=True, help_text="Alpha of this label against all others.")
    sentences = serializers.IntegerField(help_text="Sentences with two or more labels.")
    labels = serializers.IntegerField(help_text="Of their labels, those with this label.")


class AnnotatorLeftOutSerializer(serializers.Serializer):
    annotator = serializers.IntegerField(help_text="User id.")
    alpha = serializers.FloatField(allow_null=True, help_text="Alpha over every label but this annotator's.")
    sentences = serializers.IntegerField(help_text="Sentences left with two or more labels.")
    labels = serializers.IntegerField(help_text="Labels left on them.")
    own_labels = serializers.IntegerField(help_text="This annotator's labels taken out.")


class ReliabilitySerializer(serializers.Serializer):
    per_label = LabelAlphaSerializer(many=True)
    left_out = AnnotatorLeftOutSerializer(many=True)
    annotators = serializers.IntegerField(help_text="Annotators with a label on a shared sentence.")
    left_out_limit = serializers.IntegerField(
        help_text="left_out covers at most this many annotators, those with the most labels."
    )
    replicates = serializers.IntegerField(help_text="Bootstrap resamples behind each interval.")
    seed = serializers.IntegerField(help_text="The bootstrap's fixed seed.")
    level = serializers.FloatField(help_text="The intervals' confidence level.")
    method = serializers.CharField(help_text="How the intervals are drawn, in words.")


class AgreementSerializer(serializers.Serializer):
    target = serializers.IntegerField()
    computed_at = serializers.DateTimeField(
        help_text="When overall, by_source and by_suggestion were computed."
    )
    changes_since = serializers.IntegerField(
        help_text="Label and adjudication writes since then that those figures do not include (0: fresh)."
    )
    recomputing = serializers.BooleanField(help_text="Whether a recompute is queued or running.")
    overall = FiguresSerializer()
    by_source = serializers.DictField(child=FiguresSerializer(), help_text="Keyed by source name.")
    by_suggestion = serializers.DictField(
        child=FiguresSerializer(), help_text='"with suggestion" and "without suggestion" (the control set).'
    )
    reliability = ReliabilitySerializer(
        allow_null=True,
        help_text="Alpha per label and with each annotator left out, over every label, with how the "
        "intervals were drawn; null in a summary stored before it had them (being recomputed).",
    )
    by_article = serializers.DictField(
        child=FiguresSerializer(),
        help_text="Keyed by article id: a page of articles in id order, counted now (always fresh).",
    )
    next_articles = serializers.CharField(
        allow_null=True, help_text="The URL of the next page of by_article, or null on the last."
    )


class AgreementQuerySerializer(serializers.Serializer):
    articles_after = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, help_text="by_article starts after this article id."
    )


class TokenSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    token = serializers.CharField(source="key", help_text="Send it as `Authorization: Token <token>`.")


# Input ---------------------------------------------------------------------------------


class AnnotationCreateSerializer(JsonInput):
    sentence = _id("The sentence to label.", required=True)
    label = serializers.ChoiceField(  # type: ignore[assignment]  # see DECLARED
        choices=[*Label.choices, (ACCEPT, "Accept the suggestion")],
        help_text="pro, contra, neutral, skip, or accept (take the model's suggestion, as Enter does).",
    )
    target = _id("Required only when there is more than one target.")
    spent_ms = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="Time from showing the sentence to the label (clamped to 10 min).",
    )
    suggestion_shown = serializers.BooleanField(
        default=False,
        help_text="Set when your tool showed the model's suggestion; recorded only if the model has one "
        "to show for this sentence (not for the control set).",
    )


class AnnotationChangeSerializer(JsonInput):
    label = serializers.ChoiceField(choices=Label.choices)  # type: ignore[assignment]  # see DECLARED


class UndoSerializer(JsonInput):
    target = _id("Required only when there is more than one target.")


class ArticleCreateSerializer(JsonInput):
    title = serializers.CharField(
        max_length=500,
        required=False,
        validators=[NOT_BLANK],
        help_text="Left out, the opening words of the body's first line (as for a .txt file "
        "without a headline): a post or a comment has no title of its own.",
    )
    body = serializers.CharField(validators=[NOT_BLANK], help_text="Paragraphs one a line.")
    unit = serializers.ChoiceField(
        choices=Unit.choices,
        default=Unit.SENTENCE.value,
        help_text="What annotators label: `sentence` splits the body into sentences (news articles); "
        "`text` keeps the whole body as one unit, whitespace normalised (posts, headlines, comments). "
        "An article already stored keeps its own unit.",
        error_messages={
            "invalid_choice": '"{input}" is not a unit: write sentence (split into sentences, the '
            "default) or text (the whole body one unit)."
        },
    )
    source = serializers.CharField(max_length=200, required=False, allow_blank=True, validators=[NO_NUL])  # type: ignore[assignment]  # see DECLARED
    url = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        validators=[validate_http_url],
        help_text="An http(s) URL: the article page links to it.",
    )
    published = serializers.DateField(required=False, allow_null=True)
    licence = serializers.CharField(
        max_length=LICENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        validators=[NO_NUL],
        help_text=f"The licence the text was obtained under (e.g. CC-BY-4.0), shown in the dataset "
        f"card; {UNKNOWN_LICENCE!r} when left out. An article already stored keeps its own.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "title" not in data:
            data["title"] = text_title(data["body"])
        return data


class ImportTaskSerializer(serializers.Serializer):
    task = serializers.CharField(help_text="The task's id.")
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    url = serializers.CharField(help_text="Where to follow it: GET this until it is done or failed.")
    article = serializers.IntegerField(allow_null=True, help_text="The stored article, once done.")
    created = serializers.BooleanField(help_text="False when the body was already stored.")
    sentences = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True, help_text="Why it failed.")


class TokenCreateSerializer(JsonInput):
    username = serializers.CharField(max_length=150, validators=[NOT_BLANK])


# Query parameters ----------------------------------------------------------------------


class SentenceQuerySerializer(serializers.Serializer):
    article = _id("Only this article's sentences.")
    target = _id("The target for `labelled` and `disagreement`; may be left out while there is only one.")
    labelled = QueryBooleanField(
        allow_null=True,
        default=None,
        help_text="true: sentences you have labelled or skipped for the target; false: the others.",
    )
    disagreement = QueryBooleanField(
        allow_null=True,
        default=None,
        help_text="Curators: true for sentences whose annotators disagree and no curator has settled; "
        "false for the others.",
    )


class AnnotationQuerySerializer(serializers.Serializer):
    target = _id("Only labels for this target.")
    sentence = _id("Only labels of this sentence.")
    label = serializers.ChoiceField(choices=Label.choices, required=False, help_text="Only this label.")  # type: ignore[assignment]  # see DECLARED


class SuggestionQuerySerializer(serializers.Serializer):
    sentence = _id("Only this sentence's suggestions (annotators must give it).")
    target = _id("Only this target's suggestions.")


class ModelVersionQuerySerializer(serializers.Serializer):
    target = _id("Only this target's versions.")


class ExportQuerySerializer(serializers.Serializer):
    target = _id("The target to export; may be left out while there is only one.")
    level = serializers.ChoiceField(
        choices=LEVELS, default="gold", help_text="gold: a row a sentence; annotations: a row a label."
    )
    format = serializers.ChoiceField(choices=FORMATS, default="jsonl")
    split = QueryBooleanField(default=False, help_text="Add train/dev/test by article.")
    seed = SeedField(default=DEFAULT_SEED, help_text="Seed of the split.")
    names = QueryBooleanField(default=False, help_text="Usernames instead of stable pseudonyms.")


class FlagSerializer(serializers.ModelSerializer):
    annotator_name = serializers.CharField(source="annotator.username", read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "target",
            "sentence",
            "annotator",
            "annotator_name",
            "reason",
            "comment",
            "created_at",
            "resolved_at",
            "resolved_by",
        ]


class FlagCreateSerializer(serializers.Serializer):
    target = _id("The target the flag is for (may be left out while there is one).")
    sentence = _id("A sentence you were shown or labelled.", required=True)
    # The service's own message (flags.flag_create) for a reason it does not know.
    reason = serializers.ChoiceField(
        choices=FlagReason.choices,
        error_messages={
            "invalid_choice": "Unknown reason '{input}'; expected one of "
            + ", ".join(FlagReason.values)
            + "."
        },
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class FlagQuerySerializer(serializers.Serializer):
    target = _id("Only this target's flags.")
    open = QueryBooleanField(
        required=False, allow_null=True, default=None, help_text="Only open (true) or resolved (false) flags."
    )


class LabelReturnSerializer(serializers.ModelSerializer):
    annotator_name = serializers.CharField(source="annotator.username", read_only=True)

    class Meta:
        model = LabelReturn
        fields = [
            "id",
            "target",
            "sentence",
            "annotator",
            "annotator_name",
            "by",
            "label",
            "comment",
            "created_at",
            "resolved_at",
            "resolved_label",
        ]


class LabelReturnCreateSerializer(serializers.Serializer):
    annotation = _id("The annotator's label to return.", required=True)
    comment = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="Why, for the annotator (required)."
    )


class LabelReturnQuerySerializer(serializers.Serializer):
    target = _id("Only this target's returns.")
    open = QueryBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Only open (true) or resolved (false) returns.",
    )
