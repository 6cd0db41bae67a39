"""The API under /api/.

DRF marks its views exempt from the login middleware: DRF authenticates (session or token)
and answers 401/403 in JSON instead of redirecting a script to the login form. Swagger UI is
a page for people, so a stranger is sent to the login form instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from annotate.api import evaluation, views
from annotate.api.errors import not_found

app_name = "api"

router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False
router.register("targets", views.TargetViewSet, basename="target")
router.register("articles", views.ArticleViewSet, basename="article")
router.register("sentences", views.SentenceViewSet, basename="sentence")
router.register("annotations", views.AnnotationViewSet, basename="annotation")
router.register("flags", views.FlagViewSet, basename="flag")
router.register("returns", views.LabelReturnViewSet, basename="label-return")
router.register("suggestions", views.SuggestionViewSet, basename="suggestion")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")


@cache
def _schema_views() -> tuple[Callable[..., HttpResponse], Callable[..., HttpResponse]]:
    """drf-spectacular's schema and Swagger views, imported on the first request for one of
    them, not with the URLconf: its generator pulls in django.test and unittest (through
    rest_framework.test), several MB in every web process that never serves the schema."""
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

    return SpectacularAPIView.as_view(), SpectacularSwaggerSplitView.as_view(url_name="api:schema")


@csrf_exempt
def schema(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """The OpenAPI schema."""
    return _schema_views()[0](request, *args, **kwargs)


# drf-spectacular's Swagger template has one inline <style> block; the script comes from
# its own URL (the split view), so script-src stays 'self'.
@csp_update({"style-src": [UNSAFE_INLINE]})
def swagger(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Swagger UI."""
    return _schema_views()[1](request, *args, **kwargs)


urlpatterns = [
    *router.urls,
    # Ids of at most 18 digits, so they fit a 64-bit column (a longer one is a 404).
    re_path(
        r"^targets/(?P<target_id>[0-9]{1,18})/annotators/$",
        evaluation.AnnotatorEvaluationsView.as_view(),
        name="target-annotators",
    ),
    re_path(
        r"^targets/(?P<target_id>[0-9]{1,18})/annotators/(?P<annotator_id>[0-9]{1,18})/$",
        evaluation.AnnotatorEvaluationView.as_view(),
        name="target-annotator",
    ),
    re_path(
        r"^targets/(?P<target_id>[0-9]{1,18})/annotators/(?P<annotator_id>[0-9]{1,18})/lift/$",
        evaluation.AnnotatorLiftView.as_view(),
        name="target-annotator-lift",
    ),
    path("export/", views.ExportView.as_view(), name="export"),
    path("tokens/", views.TokenView.as_view(), name="tokens"),
    path("import-tasks/<str:task_id>/", views.ImportTaskView.as_view(), name="import-task"),
    path("schema/", login_not_required(schema), name="schema"),
    path("docs/", login_required(swagger), name="docs"),
    re_path(r"^", login_not_required(not_found)),
]
