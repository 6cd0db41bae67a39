"""Importing articles and labels from the browser (annotate.uploads), for admins only."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate.forms.uploads import ArticlesUploadForm, LabelsUploadForm
from annotate.models import Upload
from annotate.roles import require_admin
from annotate.uploads import (
    Preview,
    articles_preview,
    labels_preview,
    preview_of,
    upload_confirm,
    upload_store,
)
from annotate.views.request import SignedInRequest

WHAT = "Importing files"
RECENT = 10


def _page(
    request: SignedInRequest,
    *,
    articles_form: ArticlesUploadForm | None = None,
    labels_form: LabelsUploadForm | None = None,
    refused: Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    articles_form = articles_form or ArticlesUploadForm()
    labels_form = labels_form or LabelsUploadForm(initial={"annotator": request.user.get_username()})
    context = {
        "articles_form": articles_form,
        "labels_form": labels_form,
        "forms": [articles_form, labels_form],
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "refused": refused,
        "recent": Upload.objects.select_related("created_by").defer("preview", "messages")[:RECENT],
    }
    return render(request, "annotate/upload_list.html", context, status=status)


@require_GET
def upload_page(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, WHAT)
    return _page(request)


@require_POST
def upload_articles(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, WHAT)
    form = ArticlesUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, articles_form=form, status=400)
    options = {key: form.cleaned_data[key] for key in ("unit", "source", "licence")}
    preview = articles_preview(files=form.cleaned_data["article_files"], **options)
    if not preview.ok:
        return _page(request, articles_form=form, refused=preview, status=400)
    upload = upload_store(
        preview=preview, files=form.cleaned_data["article_files"], created_by=request.user, **options
    )
    return redirect("upload-detail", upload_id=upload.pk)


@require_POST
def upload_labels(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, WHAT)
    form = LabelsUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, labels_form=form, status=400)
    data = form.cleaned_data
    options = {"target": data["target"], "annotator_name": data["annotator"], "label_map": data["label_map"]}
    preview = labels_preview(file=data["file"], **options)
    if not preview.ok:
        return _page(request, labels_form=form, refused=preview, status=400)
    upload = upload_store(preview=preview, files=[data["file"]], created_by=request.user, **options)
    return redirect("upload-detail", upload_id=upload.pk)


@require_GET
@vary_on_headers("HX-Request")
def upload_detail(request: SignedInRequest, upload_id: int) -> HttpResponse:
    require_admin(request.user, WHAT)
    upload = get_object_or_404(Upload.objects.select_related("target", "created_by"), pk=upload_id)
    context = {"upload": upload, "preview": preview_of(upload)}
    if request.htmx:
        return render(request, "annotate/upload_detail.html#upload-status", context)
    return render(request, "annotate/upload_detail.html", context)


@require_POST
def upload_confirm_view(request: SignedInRequest, upload_id: int) -> HttpResponse:
    require_admin(request.user, WHAT)
    upload = get_object_or_404(Upload, pk=upload_id)
    upload_confirm(upload_id=upload.pk)
    return redirect("upload-detail", upload_id=upload.pk)
