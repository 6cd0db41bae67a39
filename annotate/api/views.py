"""API views. Each one parses the request with an input serializer, calls the service the
browser and the commands call, and presents the result with an output serializer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import MethodMapper, action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.adjudication import open_disagreements
from annotate.api import serializers as io
from annotate.api.docs import documented, documented_view
from annotate.api.errors import ErrorSerializer
from annotate.api.pagination import IdCursorPagination
from annotate.api.permissions import IsAdmin, IsCurator, signed_in
from annotate.api.tokens import token_issue
from annotate.corpus import ONLINE_BODY_MAX_CHARS, ParsedArticle, article_import_one, content_hash
from annotate.export import CONTENT_TYPES, ExportError, ExportSpec, export_stream
from annotate.flags import NotShown, flag_create, flag_resolve
from annotate.models import (
    Annotation,
    Article,
    EvaluationItem,
    Flag,
    LabelReturn,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
)
from annotate.queue.card import Suggested, held_back, suggestion_to_show
from annotate.queue.record import (
    NoSuggestionToAccept,
    SentenceFull,
    annotation_change,
    annotation_submit,
    annotation_undo,
)
from annotate.retrain_policy import BUSY, activation_enqueue, retrain_if_due
from annotate.returns import AlreadyReturned, label_return
from annotate.roles import is_curator
from annotate.summary import summary_for
from annotate.tasks import import_article

#: Articles in one page of the agreement API's by_article.
AGREEMENT_ARTICLES = 100


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The validated query parameters (a 400 for a malformed one)."""
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def target_for(target_id: int | None) -> Target:
    """The target asked for; without one, the only target there is (a 400 when there are more)."""
    if target_id is not None:
        target = Target.objects.filter(pk=target_id).first()
        if target is None:
            raise NotFound(f"No target with id {target_id}.")
        return target
    targets = list(Target.objects.order_by("id")[:2])
    if len(targets) != 1:
        reason = "there is more than one target" if targets else "there is no target yet"
        raise ValidationError({"target": [f"This field is required: {reason}."]})
    return targets[0]


class IntLookup:
    """Object ids in paths are whole numbers; anything else falls through to a JSON 404."""

    lookup_value_converter = "int"


class ActionsFound(viewsets.ViewSetMixin):
    """Finds a viewset's @action methods without reading its `schema`.

    DRF's get_extra_actions reads every member with inspect.getmembers, and reading
    `schema` imports DEFAULT_SCHEMA_CLASS: drf-spectacular's generator, with django.test
    and unittest, in every web process when the router builds its URLs. Only the schema
    generator needs the schema; the actions are the same.
    """

    @classmethod
    def get_extra_actions(cls) -> list[Any]:
        found = []
        for name in dir(cls):
            if name == "schema":
                continue
            member = getattr(cls, name)
            if hasattr(member, "mapping") and isinstance(member.mapping, MethodMapper):
                found.append(member)
        return found


@documented_view(
    list=dict(summary="Targets", description="Everything annotated is annotated toward a target."),
    retrieve=dict(summary="One target, with its guidelines"),
)
class TargetViewSet(IntLookup, ActionsFound, viewsets.ReadOnlyModelViewSet):
    queryset = Target.objects.order_by("id")
    serializer_class = io.TargetSerializer

    @documented(
        summary="Agreement figures (curators)",
        description="Krippendorff's alpha with its bootstrap 95 % interval, Fleiss' and Cohen's kappa "
        "and percent agreement over the non-skipped labels: overall, by source, and with versus "
        "without a suggestion shown; alpha per label and with each annotator left out "
        "(`reliability`); from the "
        "target's summary (`computed_at`, `changes_since`: a stale one is recomputed in the background); "
        f"and by article, counted now, {AGREEMENT_ARTICLES} articles a page (`next_articles`). "
        "202 while the first summary of a large target is being computed.",
        parameters=[io.AgreementQuerySerializer],
        responses={200: io.AgreementSerializer, 202: OpenApiTypes.OBJECT},
    )
    @action(detail=True, permission_classes=[IsCurator])
    def agreement(self, request: Request, pk: int) -> Response:
        target = self.get_object()
        after = _query(io.AgreementQuerySerializer, request).get("articles_after", 0)
        summary = summary_for(target=target)
        if summary is None:
            return Response(
                {"target": target.pk, "detail": "The first summary is being computed; ask again shortly."},
                status=status.HTTP_202_ACCEPTED,
            )
        page = list(
            Article.objects.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:AGREEMENT_ARTICLES]
        )
        following = None
        if len(page) == AGREEMENT_ARTICLES:
            following = request.build_absolute_uri(
                f"{request.path}?{urlencode({'articles_after': page[-1]})}"
            )

        # Imported here: the per-article figures are computed now, with numpy, which a
        # web process loads only for the requests that need it.
        from annotate.agreement_data import agreement_by_article

        def keyed(figures: dict[Any, Any]) -> dict[str, Any]:
            return {str(key): value.as_dict() for key, value in figures.items()}

        data = {
            "target": target.pk,
            "computed_at": summary.computed_at,
            "changes_since": summary.changes_since,
            "recomputing": summary.recomputing,
            "overall": summary.agreement.as_dict(),
            "by_source": keyed(summary.agreement_by_source),
            "by_suggestion": keyed(summary.agreement_by_suggestion),
            "reliability": None if summary.reliability is None else summary.reliability.as_dict(),
            "by_article": keyed(agreement_by_article(target=target, articles=page)),
            "next_articles": following,
        }
        return Response(io.AgreementSerializer(data).data)


@documented_view(
    list=dict(summary="Articles (without their bodies)"),
    retrieve=dict(summary="One article, with its body"),
)
class ArticleViewSet(IntLookup, ActionsFound, viewsets.ReadOnlyModelViewSet):
    def get_queryset(self) -> QuerySet[Article]:
        articles = Article.objects.annotate(sentence_count=Count("sentences")).order_by("id")
        return articles.defer("body") if self.action == "list" else articles

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return io.ArticleSerializer if self.action == "list" else io.ArticleDetailSerializer

    def get_permissions(self) -> Sequence[Any]:
        return [IsAdmin()] if self.action == "create" else super().get_permissions()

    @documented(
        summary="Import an article (admins)",
        description="Stored and split into sentences as `manage.py import_articles` does, or kept "
        "whole as one unit to label with `unit: text` (as `import_articles --unit text`). An article "
        "whose body (whitespace aside) is already stored is not imported again: the answer is then 200 "
        "with the stored article, so posting the same article twice is harmless. A body longer than "
        f"{ONLINE_BODY_MAX_CHARS:,} characters would take too long to split inside the request: it is "
        "queued as a background task (202, run by `manage.py db_worker`); follow its `url` until it "
        "is done.",
        request=io.ArticleCreateSerializer,
        responses={
            201: OpenApiResponse(io.ArticleDetailSerializer, description="Imported."),
            200: OpenApiResponse(io.ArticleDetailSerializer, description="Already stored; nothing changed."),
            202: OpenApiResponse(
                io.ImportTaskSerializer, description="Queued: too long to split in a request."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = io.ArticleCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        stored = Article.objects.filter(content_hash=content_hash(data["body"])).first()
        if stored is None and len(data["body"]) > ONLINE_BODY_MAX_CHARS:
            published = data.get("published")
            queued = import_article.enqueue(
                title=data["title"],
                body=data["body"],
                source=data.get("source", ""),
                url=data.get("url", ""),
                published=published.isoformat() if published else None,
                licence=data.get("licence", ""),
                unit=data["unit"],
            )
            return Response(import_task_state(queued.id), status=status.HTTP_202_ACCEPTED)
        parsed = ParsedArticle(
            title=data["title"],
            body=data["body"],
            source=data.get("source", ""),
            url=data.get("url", ""),
            published=data.get("published"),
            origin="API",
            licence=data.get("licence", ""),
            unit=data["unit"],
        )
        stored, created = article_import_one(parsed=parsed)
        article = self.get_queryset().get(pk=stored.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(io.ArticleDetailSerializer(article).data, status=code)


def import_task_state(task_id: str) -> dict[str, object]:
    """What became of a queued article import, as the API shows it; NotFound for another id."""
    try:
        result = import_article.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValidationError, ValueError):
        raise NotFound("No such import task.") from None
    state: dict[str, object] = {
        "task": str(result.id),
        "status": IMPORT_STATES.get(result.status, "queued"),
        "url": reverse("api:import-task", args=[result.id]),
        "article": None,
        "created": False,
        "sentences": 0,
        "error": "",
    }
    if result.status == TaskResultStatus.SUCCESSFUL:
        state.update(result.return_value or {})
        if state["error"]:
            state["status"] = "failed"
    elif result.status == TaskResultStatus.FAILED:
        last = result.errors[-1].traceback.strip().splitlines()[-1] if result.errors else ""
        state["error"] = last or "The import failed."
    return state


#: django-tasks' states as the API names them for an import.
IMPORT_STATES = {
    TaskResultStatus.READY: "queued",
    TaskResultStatus.RUNNING: "running",
    TaskResultStatus.SUCCESSFUL: "done",
    TaskResultStatus.FAILED: "failed",
}


class ImportTaskView(APIView):
    permission_classes = [IsAdmin]

    @documented(
        summary="An article import queued by POST /api/articles/ (admins)",
        responses={200: io.ImportTaskSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, task_id: str) -> Response:
        return Response(import_task_state(task_id))


@documented_view(
    list=dict(
        summary="Sentences, a cursor page at a time",
        description="In id order (an article's sentences in their order). Follow `next` for the "
        "following page; a cursor page costs the same however deep it is.",
        parameters=[io.SentenceQuerySerializer],
    ),
    retrieve=dict(summary="One sentence"),
)
class SentenceViewSet(IntLookup, ActionsFound, viewsets.ReadOnlyModelViewSet):
    serializer_class = io.SentenceSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self) -> QuerySet[Sentence]:
        sentences = Sentence.objects.select_related("article").defer("article__body").order_by("id")
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return sentences
        return self._filter(sentences, _query(io.SentenceQuerySerializer, self.request))

    def _filter(self, sentences: QuerySet[Sentence], query: dict[str, Any]) -> QuerySet[Sentence]:
        if query.get("article") is not None:
            sentences = sentences.filter(article_id=query["article"])
        labelled, disagreement = query["labelled"], query["disagreement"]
        if labelled is None and disagreement is None and query.get("target") is None:
            return sentences
        target = target_for(query.get("target"))
        if labelled is not None:
            mine = Annotation.objects.filter(
                annotator_id=self.request.user.pk, target=target, sentence=OuterRef("pk")
            )
            sentences = sentences.filter(Exists(mine) if labelled else ~Exists(mine))
        if disagreement is not None:
            if not is_curator(self.request.user):
                raise PermissionDenied("Only curators and admins filter by disagreement.")
            disputed = Exists(open_disagreements(target=target).filter(sentence_id=OuterRef("pk")))
            sentences = sentences.filter(disputed if disagreement else ~disputed)
        return sentences


@documented_view(
    list=dict(
        summary="Your labels",
        description="Only your own, most recently changed first.",
        parameters=[io.AnnotationQuerySerializer],
    ),
    retrieve=dict(summary="One of your labels"),
)
class AnnotationViewSet(
    IntLookup, ActionsFound, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your labels. Every write goes through annotate.labelling, as a key press in the browser
    does, and so writes the same history."""

    serializer_class = io.AnnotationSerializer

    def get_queryset(self) -> QuerySet[Annotation]:
        mine = (
            Annotation.objects.filter(annotator_id=self.request.user.pk)
            .select_related("sentence")
            .order_by("-updated_at", "-id")
        )
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return mine
        query = _query(io.AnnotationQuerySerializer, self.request)
        if query.get("target") is not None:
            mine = mine.filter(target_id=query["target"])
        if query.get("sentence") is not None:
            mine = mine.filter(sentence_id=query["sentence"])
        if query.get("label"):
            mine = mine.filter(label=query["label"])
        return mine

    @documented(
        summary="Label a sentence",
        description="Create, relabel, skip, or repeat your label for a sentence, with its history "
        "row, exactly as a key in the browser does. `accept` takes the model's suggestion (a 409 "
        "when there is none to show). A stance label on a sentence that already has its overlap of "
        "labels from others (counting the annotators it is being shown to) is a 409, unless you hold "
        "a stance label on it already; with the target's dynamic overlap, a sentence whose labels "
        "disagree takes one more at a time, up to the target's `most_labels`. An unknown sentence or target is a 404, and nothing is written.",
        request=io.AnnotationCreateSerializer,
        responses={
            201: OpenApiResponse(io.AnnotationSerializer, description="Your first label of the sentence."),
            200: OpenApiResponse(io.AnnotationSerializer, description="Your label, changed or repeated."),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`accept` without a suggestion to accept, or the sentence already has its "
                "labels.",
            ),
        },
    )
    def create(self, request: Request) -> Response:
        given = io.AnnotationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        sentence = Sentence.objects.filter(pk=data["sentence"]).first()
        if sentence is None:
            raise NotFound(f"No sentence with id {data['sentence']}.")
        target = target_for(data.get("target"))
        existed = Annotation.objects.filter(
            annotator_id=request.user.pk, sentence=sentence, target=target
        ).exists()
        try:
            annotation = annotation_submit(
                annotator=signed_in(request),
                sentence=sentence,
                target=target,
                label=data["label"],
                spent_ms=data.get("spent_ms"),
                suggestion_shown=data["suggestion_shown"],
            ).annotation
        except (NoSuggestionToAccept, SentenceFull) as error:
            raise Conflict(" ".join(error.messages)) from None
        retrain_if_due(target=target)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(io.AnnotationSerializer(annotation).data, status=code)

    @documented(
        summary="Change one of your labels",
        description="As the history panel in the browser does. Another user's label is a 404. "
        "Changing a skip to a stance label on a sentence that already has its labels is a 409.",
        request=io.AnnotationChangeSerializer,
        responses={
            200: io.AnnotationSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The sentence already has its labels."),
        },
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        given = io.AnnotationChangeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            annotation = annotation_change(
                annotator=signed_in(request), annotation_id=pk, label=given.validated_data["label"]
            ).annotation
        except DjangoPermissionDenied:
            raise NotFound("No such annotation of yours.") from None
        except SentenceFull as full:
            raise Conflict(" ".join(full.messages)) from None
        return Response(io.AnnotationSerializer(annotation).data)

    @documented(
        summary="Undo your last label",
        description="Your most recent label for the target leaves the current labels and stays in the "
        "history, as `z` does in the browser.",
        request=io.UndoSerializer,
        responses=io.UndoResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def undo(self, request: Request) -> Response:
        given = io.UndoSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        target = target_for(given.validated_data.get("target"))
        undone = annotation_undo(annotator=signed_in(request), target=target)
        detail = "Nothing to undo." if undone is None else f"Undid {undone.label}."
        return Response(io.UndoResultSerializer({"undone": undone, "detail": detail}).data)


@documented_view(
    list=dict(
        summary="The active models' suggestions",
        description="Curators and admins list them all. Annotators ask for one sentence's "
        "(`?sentence=`), and, as in the browser, get none for the control set.",
        parameters=[io.SuggestionQuerySerializer],
    ),
    retrieve=dict(summary="One suggestion of an active model"),
)
class SuggestionViewSet(IntLookup, ActionsFound, viewsets.ReadOnlyModelViewSet):
    serializer_class = io.SuggestionSerializer

    def get_queryset(self) -> QuerySet[Suggestion]:
        active = (
            Suggestion.objects.filter(model_version_id=F("target__active_version_id"))
            .select_related("target")
            .order_by("id")
        )
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return active
        query = _query(io.SuggestionQuerySerializer, self.request)
        if query.get("target") is not None:
            active = active.filter(target_id=query["target"])
        if query.get("sentence") is not None:
            active = active.filter(sentence_id=query["sentence"])
        if is_curator(self.request.user):
            return active
        if query.get("sentence") is None:
            raise PermissionDenied("Annotators see one sentence's suggestions at a time: add ?sentence=<id>.")
        items = set(
            EvaluationItem.objects.filter(sentence_id=query["sentence"]).values_list("target_id", flat=True)
        )
        shown = [s.pk for s in active if self._shown_to_annotator(s, evaluation=s.target_id in items)]
        return active.filter(pk__in=shown)

    def _shown_to_annotator(self, suggestion: Suggestion, *, evaluation: bool) -> bool:
        """As in the browser (card.suggestion_to_show): never for the control set, an
        evaluation item or a target that hides them, and in the "after" mode only once the
        annotator has labelled the sentence."""
        target = suggestion.target
        suggested = Suggested(label=suggestion.label, confidence=suggestion.confidence)
        shown = suggestion_to_show(
            target=target, sentence_id=suggestion.sentence_id, suggested=suggested, evaluation=evaluation
        )
        if shown is None:
            return False
        if held_back(target=target, revealed=False):
            mine = Annotation.objects.filter(annotator_id=self.request.user.pk, target=target)
            return mine.filter(sentence_id=suggestion.sentence_id).exists()
        return True

    def get_object(self) -> Suggestion:
        suggestion = super().get_object()
        if is_curator(self.request.user):
            return suggestion
        evaluation = EvaluationItem.objects.filter(
            target_id=suggestion.target_id, sentence_id=suggestion.sentence_id
        ).exists()
        if not self._shown_to_annotator(suggestion, evaluation=evaluation):
            raise NotFound("No suggestion is shown for this sentence.")
        return suggestion


@documented_view(
    list=dict(summary="Model versions (curators)", parameters=[io.ModelVersionQuerySerializer]),
    retrieve=dict(summary="One model version (curators)"),
)
class ModelVersionViewSet(IntLookup, ActionsFound, viewsets.ReadOnlyModelViewSet):
    serializer_class = io.ModelVersionSerializer
    permission_classes = [IsCurator]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        versions = ModelVersion.objects.select_related("target", "activated_by").order_by(
            "-created_at", "-id"
        )
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return versions
        query = _query(io.ModelVersionQuerySerializer, self.request)
        if query.get("target") is not None:
            versions = versions.filter(target_id=query["target"])
        return versions

    @documented(
        summary="Activate or roll back to a ready version (admins)",
        description="Queues making this ready version its target's active one, as the models page's "
        "button does (annotate.activation): an older version is a rollback. Its suggestions are "
        "written again by the worker (`manage.py db_worker`) before it becomes active; until then "
        "the active version stays. 202 when queued; 400 when the version is not a trained (ready) "
        "one or is already active; 409 when a retrain or an activation of the target is already "
        "queued or running.",
        request=None,
        responses={202: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAdmin])
    def activate(self, request: Request, pk: int) -> Response:
        version = self.get_object()
        queued = activation_enqueue(version=version, by_id=signed_in(request).pk)
        if not queued.queued:
            code = status.HTTP_409_CONFLICT if queued.reason == BUSY else status.HTTP_400_BAD_REQUEST
            return Response({"detail": f"v{version.pk} was not activated: {queued.reason}."}, status=code)
        return Response(
            {"version": version.pk, "target": version.target_id, "detail": "Activation queued."},
            status=status.HTTP_202_ACCEPTED,
        )


class IgnoreAccept(BaseContentNegotiation):
    """The export's format is a query parameter; errors are JSON whatever the Accept header."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ExportView(APIView):
    permission_classes = [IsAdmin]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAccept

    @documented(
        summary="Export a dataset (admins)",
        description="Streamed JSON Lines or CSV, as `manage.py export_dataset` writes: `gold` gives a "
        "row a sentence with a resolved gold label, `annotations` a row a current label. Skips are "
        "left out.",
        parameters=[io.ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = _query(io.ExportQuerySerializer, request)
        target = target_for(query.pop("target", None))
        try:
            spec = ExportSpec(target=target, **query)
        except ExportError as error:
            raise ValidationError(str(error)) from None
        response = StreamingHttpResponse(export_stream(spec), content_type=CONTENT_TYPES[spec.format])
        response["Content-Disposition"] = content_disposition_header(True, spec.filename)
        return response


class TokenView(APIView):
    permission_classes = [IsAdmin]

    @documented(
        summary="Issue a user's API token (admins)",
        description="The user's token: their existing one (200) or a new one (201). A superuser's "
        "token is handed to superusers only (403 for other admins). To replace a token, run "
        "`manage.py issue_token USERNAME --rotate` or delete it in the Django admin.",
        request=io.TokenCreateSerializer,
        responses={
            201: OpenApiResponse(io.TokenSerializer, description="A new token."),
            200: OpenApiResponse(io.TokenSerializer, description="The user's existing token."),
        },
    )
    def post(self, request: Request) -> Response:
        given = io.TokenCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        username = given.validated_data["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise NotFound(f"No user named {username!r}.")
        token, created = token_issue(user=user, by=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(io.TokenSerializer(token).data, status=code)


def _open_filter(rows: QuerySet[Any], query: dict[str, Any]) -> QuerySet[Any]:
    if query.get("target") is not None:
        rows = rows.filter(target_id=query["target"])
    if query.get("open") is not None:
        rows = rows.filter(resolved_at__isnull=query["open"])
    return rows


@documented_view(
    list=dict(
        summary="Flags, a cursor page at a time",
        description="Annotators see only their own flags; curators and admins see everyone's.",
        parameters=[io.FlagQuerySerializer],
    ),
)
class FlagViewSet(IntLookup, ActionsFound, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Flags (annotate/flags.py), as the `f` key and the adjudication page write them."""

    serializer_class = io.FlagSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self) -> QuerySet[Flag]:
        flags = Flag.objects.select_related("annotator").order_by("id")
        if not is_curator(self.request.user):
            flags = flags.filter(annotator_id=self.request.user.pk)
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return flags
        return _open_filter(flags, _query(io.FlagQuerySerializer, self.request))

    @documented(
        summary="Flag a sentence",
        description="As `f` on the labelling card: a sentence you were shown, with a reason "
        "(unsure, bad_split, discuss) and an optional comment. Flagging it again while the flag "
        "is open updates it.",
        request=io.FlagCreateSerializer,
        responses={
            201: io.FlagSerializer,
            409: OpenApiResponse(ErrorSerializer, description="You were never shown the sentence."),
        },
    )
    def create(self, request: Request) -> Response:
        given = io.FlagCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        target = target_for(given.validated_data.get("target"))
        try:
            flag = flag_create(
                annotator=signed_in(request),
                target=target,
                sentence_id=given.validated_data["sentence"],
                reason=given.validated_data["reason"],
                comment=given.validated_data["comment"],
            )
        except NotShown as refused:
            # Well-formed, but the sentence is not one of theirs yet: a conflict with the
            # state, as a full sentence is for a label.
            raise Conflict(" ".join(refused.messages)) from None
        flag = Flag.objects.select_related("annotator").get(pk=flag.pk)
        return Response(io.FlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    @documented(
        summary="Resolve a flag",
        description="Curators and admins, as on the adjudication page; a resolved flag stays as it is.",
        request=None,
        responses=io.FlagSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def resolve(self, request: Request, pk: int) -> Response:
        found = Flag.objects.filter(pk=pk).select_related("target").first()
        if found is None:
            raise NotFound("No such flag.")
        flag = flag_resolve(curator=signed_in(request), target=found.target, flag_id=found.pk)
        flag = Flag.objects.select_related("annotator").get(pk=flag.pk)
        return Response(io.FlagSerializer(flag).data)


@documented_view(
    list=dict(
        summary="Returned labels, a cursor page at a time",
        description="Annotators see only the returns of their own labels, with the curator's "
        "comment; curators and admins see everyone's.",
        parameters=[io.LabelReturnQuerySerializer],
    ),
)
class LabelReturnViewSet(IntLookup, ActionsFound, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Returned labels (annotate/returns.py)."""

    serializer_class = io.LabelReturnSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self) -> QuerySet[LabelReturn]:
        returns = LabelReturn.objects.select_related("annotator").order_by("id")
        if not is_curator(self.request.user):
            returns = returns.filter(annotator_id=self.request.user.pk)
        if self.action != "list" or getattr(self, "swagger_fake_view", False):
            return returns
        return _open_filter(returns, _query(io.LabelReturnQuerySerializer, self.request))

    @documented(
        summary="Return a label to its annotator",
        description="Curators and admins, as on the adjudication page: the sentence comes first "
        "in the annotator's queue with the comment (required, at most 1000 characters) until "
        "they label it again. A label returned and not yet relabelled is a 409.",
        request=io.LabelReturnCreateSerializer,
        responses={201: io.LabelReturnSerializer, 409: OpenApiTypes.OBJECT},
    )
    def create(self, request: Request) -> Response:
        if not is_curator(request.user):
            raise PermissionDenied(IsCurator.message)
        given = io.LabelReturnCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        found = (
            Annotation.objects.filter(pk=given.validated_data["annotation"]).select_related("target").first()
        )
        if found is None:
            raise NotFound("No such annotation.")
        try:
            returned = label_return(
                curator=signed_in(request),
                target=found.target,
                annotation_id=found.pk,
                comment=given.validated_data["comment"],
            )
        except Annotation.DoesNotExist:
            raise NotFound("No such annotation.") from None
        except AlreadyReturned as twice:  # a 409, as on the adjudication page
            raise Conflict(" ".join(twice.messages)) from None
        returned = LabelReturn.objects.select_related("annotator").get(pk=returned.pk)
        return Response(io.LabelReturnSerializer(returned).data, status=status.HTTP_201_CREATED)
