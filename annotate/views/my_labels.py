"""My labels: an annotator's own labels for a target, each changeable in place.

The list is annotate/my_labels.py's read; a change is the history panel's service
(annotate.queue.record.annotation_change), so it obeys the same rules and writes the same
history. The article page's rows change through the same view.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from annotate.forms import ChangeForm, MyLabelsForm, form_errors
from annotate.labelling import shortcuts_for
from annotate.models import Label, Target, TargetArchived
from annotate.my_labels import MyLabelsPage, my_labels_page
from annotate.queue.record import SentenceFull, annotation_change
from annotate.views.labelling import _conflict, archived_message, sentence_preview
from annotate.views.request import SignedInRequest

#: The row's choices: the labelling page's keys (1, 2, 3, s) on a focused row.
ROW_LABELS = [
    (Label.PRO, "Pro", "1"),
    (Label.CONTRA, "Contra", "2"),
    (Label.NEUTRAL, "Neutral", "3"),
    (Label.SKIP, "Skip", "s"),
]

FILTERS = ("q", "label", "since", "until")


def _filter_query(query: QueryDict) -> str:
    """The filters as a query string (no cursor), for the Newer and Older links."""
    kept = QueryDict(mutable=True)
    for name in FILTERS:
        value = query.get(name, "")
        if isinstance(value, str) and value:
            kept[name] = value
    return kept.urlencode()


@require_GET
def my_labels(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Every label the signed-in user gave for the target (whatever their role), newest
    first, filtered and paged by cursor."""
    target = get_object_or_404(Target, pk=target_id)
    form = MyLabelsForm(request.GET)
    page = MyLabelsPage(rows=[], newer=None, older=None)
    valid = form.is_valid()
    if valid:
        page = my_labels_page(
            annotator=request.user,
            target=target,
            filters=form.filters(),
            older_than=form.cleaned_data["older"],
            newer_than=form.cleaned_data["newer"],
        )
    context = {
        "target": target,
        "form": form,
        "page": page,
        "filters_query": _filter_query(request.GET),
        "filtered": valid and any(form.cleaned_data[name] for name in FILTERS),
        "row_labels": ROW_LABELS,
        "read_only": archived_message(target) if target.is_archived else "",
        "back": request.get_full_path(),
        "shortcuts": shortcuts_for(user=request.user),
    }
    return render(request, "annotate/my_labels.html", context, status=200 if valid else 400)


@require_POST
def my_label_change(request: SignedInRequest, target_id: int, annotation_id: int) -> HttpResponse:
    """Change one of the user's labels in place: My labels' row or the article page's."""
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        recorded = annotation_change(
            annotator=request.user,
            annotation_id=annotation_id,
            label=form.cleaned_data["label"],
            target_id=target_id,
        )
    except PermissionDenied as missing:
        # Another user's label, or one of another target, is a missing one.
        raise Http404("No such label of yours.") from missing
    except (SentenceFull, TargetArchived) as refused:
        return _conflict(refused)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("my-labels", args=[target_id])
    if not request.htmx:
        return redirect(back)
    annotation = recorded.annotation
    context = {
        "entry": annotation,
        "row_labels": ROW_LABELS,
        "back": back,
        "status": f"Changed to {annotation.label}: {sentence_preview(annotation.sentence.text)}",
    }
    if request.POST.get("row") == "article":
        context.update(sentence=annotation.sentence, changeable=True)
        return render(request, "annotate/article_detail.html#article-change-response", context)
    return render(request, "annotate/my_labels.html#change-response", context)
