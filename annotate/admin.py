from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from annotate.models import (
    Adjudication,
    Annotation,
    AnnotationEvent,
    Article,
    Assignment,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
)


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "overlap", "created_at"]
    search_fields = ["name", "description"]


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = ["position", "text", "start", "end"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "published", "sentence_count", "created_at"]
    list_filter = ["source", "published"]
    search_fields = ["title", "body", "url"]
    readonly_fields = ["content_hash", "created_at"]
    inlines = [SentenceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).annotate(sentence_count=Count("sentences"))

    @admin.display(ordering="sentence_count")
    def sentence_count(self, article: Article) -> int:
        return article.sentence_count  # type: ignore[attr-defined]


@admin.register(Sentence)
class SentenceAdmin(admin.ModelAdmin):
    list_display = ["id", "article", "position", "text"]
    list_filter = ["article__source", "article"]
    search_fields = ["text", "article__title"]
    list_select_related = ["article"]
    raw_id_fields = ["article"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "annotator",
        "target",
        "sentence",
        "label",
        "spent_ms",
        "accepted_suggestion",
        "updated_at",
    ]
    list_filter = ["label", "target", "accepted_suggestion", "annotator"]
    search_fields = ["sentence__text", "annotator__username"]
    list_select_related = ["annotator", "target", "sentence"]
    raw_id_fields = ["sentence"]
    # Labels change only through annotate.labelling, which writes the history.
    readonly_fields = [f.name for f in Annotation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AnnotationEvent)
class AnnotationEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "annotator",
        "target",
        "sentence",
        "action",
        "old_label",
        "new_label",
        "spent_ms",
    ]
    list_filter = ["action", "target", "annotator"]
    search_fields = ["sentence__text", "annotator__username"]
    list_select_related = ["annotator", "target", "sentence"]
    readonly_fields = [f.name for f in AnnotationEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["annotator", "target", "sentence", "shown_at", "expires_at"]
    list_filter = ["target", "annotator"]
    search_fields = ["sentence__text", "annotator__username"]
    list_select_related = ["annotator", "target", "sentence"]
    raw_id_fields = ["sentence"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "target", "status", "train_size", "created_at", "duration_s", "sentences_predicted"]
    list_filter = ["target", "status"]
    search_fields = ["target__name", "error"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["sentence", "target", "model_version", "label", "confidence", "margin", "entropy"]
    list_filter = ["target", "label", "model_version"]
    search_fields = ["sentence__text"]
    list_select_related = ["sentence", "target", "model_version"]
    raw_id_fields = ["sentence"]


@admin.register(Adjudication)
class AdjudicationAdmin(admin.ModelAdmin):
    list_display = ["sentence", "target", "label", "curator", "updated_at"]
    list_filter = ["target", "label", "curator"]
    search_fields = ["sentence__text", "curator__username"]
    list_select_related = ["sentence", "target", "curator"]
    raw_id_fields = ["sentence"]
