"""Admins: download a target's dataset (streamed JSONL or CSV) and its dataset card."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from annotate.dataset_card import card_counts, dataset_card
from annotate.export import CONTENT_TYPES, ExportError, ExportSpec, export_stream
from annotate.models import Target
from annotate.roles import require_admin
from annotate.splits import DEFAULT_SEED, SeedError, parse_seed
from annotate.summary import fresh_summary, summary_for

TRUE, FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no", ""}


def _flag(request: HttpRequest, name: str) -> bool:
    value = request.GET.get(name, "").lower()
    if value not in TRUE | FALSE:
        raise ExportError(f"{name} must be 1 or 0, not {value!r}.")
    return value in TRUE


def _spec(request: HttpRequest, target: Target) -> ExportSpec:
    """The export asked for in the query string: ?format=jsonl&level=gold&split=1&names=0&seed=13."""
    return ExportSpec(
        target=target,
        level=request.GET.get("level", "gold"),
        format=request.GET.get("format", "jsonl"),
        split=_flag(request, "split"),
        seed=parse_seed(request.GET.get("seed", str(DEFAULT_SEED))),
        names=_flag(request, "names"),
    )


@require_GET
def export_download(request: HttpRequest, target_id: int) -> HttpResponse | StreamingHttpResponse:
    require_admin(request.user, "Exporting datasets")
    target = get_object_or_404(Target, pk=target_id)
    try:
        spec = _spec(request, target)
    except (ExportError, SeedError) as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(export_stream(spec), content_type=CONTENT_TYPES[spec.format])
    response["Content-Disposition"] = content_disposition_header(True, spec.filename)
    return response


@require_GET
def export_card(request: HttpRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Exporting datasets")
    target = get_object_or_404(Target, pk=target_id)
    try:
        spec = _spec(request, target)
    except (ExportError, SeedError) as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    # The target's summary holds the card's counts: the card reads a few numbers however
    # many labels there are. Only a large target's very first card waits for it.
    figures = summary_for(target=target) or fresh_summary(target=target)
    card = dataset_card(spec=spec, summary=card_counts(spec=spec, figures=figures), figures=figures)
    response = HttpResponse(card, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, spec.card_filename)
    return response
