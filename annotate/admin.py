from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from annotate.adjudication import adjudication_record
from annotate.corpus import (
    ONLINE_BODY_MAX_CHARS,
    ONLINE_BODY_TOO_LONG,
    ParsedArticle,
    article_import_one,
    content_hash,
)
from annotate.evaluation_items import evaluation_items_mark, evaluation_items_unmark
from annotate.models import (
    UNKNOWN_LICENCE,
    Adjudication,
    AdjudicationEvent,
    Annotation,
    AnnotationEvent,
    Article,
    Assignment,
    Flag,
    Invite,
    LabelReturn,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
    Unit,
    column_size,
)
from annotate.queue.locks import lock_target
from annotate.roles import is_admin
from annotate.summary import queue_recompute


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["name", "overlap", "retrain_every", "archived_at", "created_at"]
    # Aliases (cleaned one a line) and archiving (which releases reservations under the
    # lock) are the app's target form's: /targets/<id>/edit/.
    readonly_fields = ["archived_at"]
    exclude = ["aliases"]
    search_fields = ["name", "description"]
    actions = ["export_gold_jsonl"]
    # Background retraining's bookkeeping (annotate/retrain_policy.py): shown, not edited.
    readonly_fields = ["retrain_gold_mark", "retrain_enqueued_at"]

    def save_model(self, request: HttpRequest, obj: Target, form: forms.ModelForm, change: bool) -> None:
        """An edit takes the target's lock first, as the app's form (annotate/targets.py):
        a new overlap must not race a label in the one lock order."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            before = lock_target(obj.pk, archived_ok=True)
            super().save_model(request, obj, form, change)
            if obj.posterior_threshold not in (None, before.posterior_threshold):
                # As the app's form: the stored posteriors need a summary at the new threshold.
                transaction.on_commit(lambda: queue_recompute(target=obj))

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
    fields = readonly_fields = ("position", "text", "start", "end")
    extra = 0
    can_delete = False
    show_change_link = True


class ArticleAddForm(forms.ModelForm):
    """An article typed or pasted in: refused when its body is stored or too long to split here."""

    url = forms.URLField(max_length=1000, required=False, assume_scheme="https")
    licence = forms.CharField(
        max_length=column_size(Article, "licence"),
        required=False,
        initial=UNKNOWN_LICENCE,
        help_text="The licence the text was obtained under; left empty, unknown.",
    )
    unit = forms.ChoiceField(
        choices=Unit.choices,
        initial=Unit.SENTENCE,
        required=False,
        help_text="Split into sentences (news), or kept whole as one unit (a post, a headline, a comment).",
    )

    class Meta:
        model = Article
        fields = ["title", "source", "url", "published", "licence", "unit", "body"]
        help_texts = {"body": "One paragraph a line. Split into sentences when saved, unless kept whole."}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n").strip()
        if len(body) > ONLINE_BODY_MAX_CHARS:
            raise forms.ValidationError(
                ONLINE_BODY_TOO_LONG.format(length=len(body), limit=ONLINE_BODY_MAX_CHARS)
            )
        stored = Article.objects.filter(content_hash=content_hash(body)).first()
        if stored is not None:
            raise forms.ValidationError(
                f"This body (whitespace aside) is already stored: “{stored}” (id {stored.pk})."
            )
        return body

    def clean_unit(self) -> str:
        # Left out (a form posted by a script), the body is split, as before units were chosen.
        return self.cleaned_data.get("unit") or Unit.SENTENCE

    def clean_licence(self) -> str:
        # Left empty, as the import command leaves it unnamed: the licence is unknown.
        return self.cleaned_data.get("licence", "").strip() or UNKNOWN_LICENCE


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "published", "licence", "sentence_count", "created_at"]
    list_filter = ["source", "published", "licence", "unit"]
    search_fields = ["title", "body", "url"]
    readonly_fields = ["content_hash", "imported_from", "created_at"]
    inlines = [SentenceInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).annotate(sentence_count=Count("sentences"))

    def get_form(
        self, request: HttpRequest, obj: Article | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ArticleAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> list[str]:
        # The sentences' offsets point into the body: neither it nor its unit changes once split.
        return [*self.readonly_fields, "body", "unit"] if obj is not None else list(self.readonly_fields)

    def get_inlines(
        self, request: HttpRequest, obj: Article | None = None
    ) -> list[type[InlineModelAdmin[Any, Any]]]:
        return list(self.inlines) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the import service, as the command and the API: split into sentences,
        # with the annotators' queue cursors rewound.
        stored, _ = article_import_one(
            parsed=ParsedArticle(
                title=obj.title,
                body=obj.body,
                source=obj.source,
                url=obj.url,
                published=obj.published,
                origin="admin",
                licence=obj.licence,
                unit=obj.unit,
            )
        )
        obj.pk, obj.content_hash, obj.created_at = stored.pk, stored.content_hash, stored.created_at
        obj._state.adding, obj._state.db = False, stored._state.db
        done = (
            f"Split into {stored.sentences.count()} sentences."
            if stored.unit == Unit.SENTENCE
            else "Kept whole."
        )
        self.message_user(request, done, messages.SUCCESS)

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Sentences come from splitting an article's body (offsets into it), never one by one.
        return False


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
    # Labels change only through annotate.queue.record, which writes the history.
    readonly_fields = [f.name for f in Annotation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class HistoryAdmin(admin.ModelAdmin):
    """An append-only history (label and gold events): listed and read, never added,
    changed or deleted here."""

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AnnotationEvent)
class AnnotationEventAdmin(HistoryAdmin):
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


@admin.register(Flag)
class FlagAdmin(HistoryAdmin):
    """Read here; raised on the labelling page and resolved on the adjudication page
    (annotate/flags.py)."""

    list_display = ["created_at", "annotator", "target", "sentence", "reason", "resolved_at", "resolved_by"]
    list_filter = ["reason", "target"]
    search_fields = ["sentence__text", "annotator__username", "comment"]
    list_select_related = ["annotator", "target", "sentence", "resolved_by"]


@admin.register(LabelReturn)
class LabelReturnAdmin(HistoryAdmin):
    """Read here; written by the adjudication page and the annotator's relabel
    (annotate/returns.py)."""

    list_display = [
        "created_at",
        "by",
        "annotator",
        "target",
        "sentence",
        "label",
        "resolved_label",
        "resolved_at",
    ]
    list_filter = ["target"]
    search_fields = ["sentence__text", "annotator__username", "comment"]
    list_select_related = ["by", "annotator", "target", "sentence"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["annotator", "target", "sentence", "shown_at", "expires_at"]
    list_filter = ["target", "annotator"]
    search_fields = ["sentence__text", "annotator__username"]
    list_select_related = ["annotator", "target", "sentence"]
    raw_id_fields = ["sentence"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Read-only: invites are made on the team page (/team/), which shows the link once;
    the database holds only its token's hash, so one made here could not be handed out."""

    list_display = ["role", "note", "email", "created_by", "created_at", "expires_at", "used_at", "used_by"]
    list_filter = ["role"]
    search_fields = ["note", "email", "used_by__username"]
    list_select_related = ["created_by", "used_by"]
    readonly_fields = [f.name for f in Invite._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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


#: Gold history lines shown on an adjudication's admin page (the full list is the
#: "gold label changes" admin, filtered by sentence).
ADMIN_HISTORY_SHOWN = 50


@admin.register(Adjudication)
class AdjudicationAdmin(admin.ModelAdmin):
    """Gold labels are written through annotate.adjudication, which keeps their history:
    saving here settles or changes one as the curator signed in, and none is deleted here
    (the adjudication page's undo takes one back, with its event)."""

    list_display = ["sentence", "target", "label", "curator", "updated_at", "is_evaluation_item"]
    list_filter = ["target", "label", "curator"]
    search_fields = ["sentence__text", "curator__username"]
    list_select_related = ["sentence", "target", "curator"]
    raw_id_fields = ["sentence"]
    fields = ["sentence", "target", "label", "curator", "created_at", "updated_at", "history"]
    readonly_fields = ["curator", "created_at", "updated_at", "history"]
    actions = ["mark_evaluation_items", "unmark_evaluation_items"]

    @admin.action(description="Mark as evaluation items")
    def mark_evaluation_items(self, request: HttpRequest, queryset: QuerySet[Adjudication]) -> None:
        if not isinstance(request.user, User):
            raise PermissionDenied
        marked = already = 0
        by_target: dict[int, list[int]] = {}
        for target_id, sentence_id in queryset.values_list("target_id", "sentence_id"):
            by_target.setdefault(target_id, []).append(sentence_id)
        for target in Target.objects.filter(pk__in=list(by_target)).order_by("pk"):  # the lock order
            done = evaluation_items_mark(
                curator=request.user, target=target, sentence_ids=by_target[target.pk]
            )
            marked, already = marked + done.marked, already + done.already
        self.message_user(request, f"Marked {marked} evaluation items ({already} were already).")

    @admin.action(description="Unmark as evaluation items")
    def unmark_evaluation_items(self, request: HttpRequest, queryset: QuerySet[Adjudication]) -> None:
        unmarked = 0
        by_target: dict[int, list[int]] = {}
        for target_id, sentence_id in queryset.values_list("target_id", "sentence_id"):
            by_target.setdefault(target_id, []).append(sentence_id)
        for target in Target.objects.filter(pk__in=list(by_target)).order_by("pk"):
            unmarked += evaluation_items_unmark(target=target, sentence_ids=by_target[target.pk]).unmarked
        self.message_user(request, f"Unmarked {unmarked} evaluation items.")

    def get_readonly_fields(self, request: HttpRequest, obj: Adjudication | None = None) -> list[str]:
        # A gold label belongs to its sentence and target: only the label changes.
        fixed = ["sentence", "target"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Adjudication, form: forms.ModelForm, change: bool
    ) -> None:
        if not isinstance(request.user, User):  # the admin lets none but signed-in staff this far
            raise PermissionDenied
        saved = adjudication_record(
            curator=request.user,
            sentence=obj.sentence,
            target=obj.target,
            label=obj.label,
        ).adjudication
        assert saved is not None  # a settle or a change always leaves one
        obj.pk, obj.curator_id = saved.pk, saved.curator_id
        obj.created_at, obj.updated_at = saved.created_at, saved.updated_at
        obj._state.adding, obj._state.db = False, saved._state.db

    @admin.display(description="Evaluation item", boolean=True)
    def is_evaluation_item(self, adjudication: Adjudication) -> bool:
        return getattr(adjudication, "evaluation_item_id", None) is not None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Adjudication]:
        # Whether each row is an evaluation item, in the list's one query.
        return super().get_queryset(request).annotate(evaluation_item_id=models.F("evaluation_item__id"))

    @admin.display(description="Gold history (newest first)")
    def history(self, adjudication: Adjudication) -> SafeString:
        if adjudication.pk is None:
            return format_html("{}", "—")
        events = (
            AdjudicationEvent.objects.filter(
                sentence_id=adjudication.sentence_id, target_id=adjudication.target_id
            )
            .select_related("curator")
            .order_by("-id")[:ADMIN_HISTORY_SHOWN]
        )
        rows = format_html_join(
            "",
            "<li>{}, {}: {}, {} → {}</li>",
            (
                (
                    event.curator.get_username(),
                    f"{event.created_at:%Y-%m-%d %H:%M}",
                    event.action,
                    event.old_label or "none",
                    event.new_label or "none",
                )
                for event in events
            ),
        )
        return format_html("<ol>{}</ol>", rows)


@admin.register(AdjudicationEvent)
class AdjudicationEventAdmin(HistoryAdmin):
    """The gold history: append-only, so it is only ever read here."""

    list_display = ["created_at", "curator", "target", "sentence", "action", "old_label", "new_label"]
    list_filter = ["action", "target", "curator"]
    search_fields = ["sentence__text", "curator__username"]
    list_select_related = ["curator", "target", "sentence"]
