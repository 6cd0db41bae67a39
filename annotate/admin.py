from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

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
from annotate.roles import is_admin


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "overlap", "created_at"]
    search_fields = ["name", "description"]
    actions = ["export_gold_jsonl"]

    def has_export_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    @admin.action(description="Export gold JSONL with splits", permissions=["export"])
    def export_gold_jsonl(self, request: HttpRequest, queryset: QuerySet[Target]) -> HttpResponse | None:
        """Hand over to the streaming export view (annotate.views.export) for one target."""
        targets = list(queryset[:2])
        if len(targets) != 1:
            self.message_user(request, "Select exactly one target to export.", messages.ERROR)
            return None
        query = urlencode({"format": "jsonl", "level": "gold", "split": 1})
        return HttpResponseRedirect(f"{reverse('export', args=[targets[0].pk])}?{query}")


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
