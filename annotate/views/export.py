"""Admins: download a target's dataset (streamed JSONL or CSV) and its dataset card, from
the export form or straight from their URLs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotate.dataset_card import card_of
from annotate.export import CONTENT_TYPES, ExportError, ExportSpec, export_stream, spec_from_query
from annotate.forms.export import ExportForm
from annotate.models import Target
from annotate.roles import require_admin
from annotate.splits import SeedError
from annotate.views.request import SignedInRequest

EXPORTING = "Exporting datasets"


def _download(spec: ExportSpec) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export_stream(spec), content_type=CONTENT_TYPES[spec.format])
    response["Content-Disposition"] = content_disposition_header(True, spec.filename)
    return response


def _card_download(spec: ExportSpec) -> HttpResponse:
    response = HttpResponse(card_of(spec=spec).text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, spec.card_filename)
    return response


def _query_spec(request: HttpRequest, target_id: int) -> ExportSpec | HttpResponse:
    """The export the query string asks for (annotate.export.spec_from_query), or a 400 that says why."""
    require_admin(request.user, EXPORTING)
    target = get_object_or_404(Target, pk=target_id)
    try:
        return spec_from_query(target=target, query=request.GET)
    except (ExportError, SeedError) as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


@require_GET
def export_download(request: HttpRequest, target_id: int) -> HttpResponse | StreamingHttpResponse:
    spec = _query_spec(request, target_id)
    return spec if isinstance(spec, HttpResponse) else _download(spec)


@require_GET
def export_card(request: HttpRequest, target_id: int) -> HttpResponse:
    spec = _query_spec(request, target_id)
    return spec if isinstance(spec, HttpResponse) else _card_download(spec)


@require_GET
@vary_on_headers("HX-Request")
def export_form(request: SignedInRequest, target_id: int) -> HttpResponse | StreamingHttpResponse:
    """The command's options with the card they make. Its buttons (?download=data or card)
    stream what the URLs above stream; htmx asks for the card alone as options change."""
    require_admin(request.user, EXPORTING)
    target = get_object_or_404(Target, pk=target_id)
    form = ExportForm(target=target, query=request.GET)
    valid = form.is_valid()
    download = request.GET.get("download")
    if valid and download == "data":
        return _download(form.spec())
    if valid and download == "card":
        return _card_download(form.spec())
    card = card_of(spec=form.spec()) if valid else None
    context = {"target": target, "form": form, "card": card, "preview": bool(request.htmx)}
    if request.htmx:
        return render(request, "annotate/export_form.html#card-preview", context)
    return render(request, "annotate/export_form.html", context, status=200 if valid else 400)
