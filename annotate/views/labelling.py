"""The labelling loop: one page, and one htmx request a label that returns the next card."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate import queue
from annotate.card import read_card
from annotate.forms import ChangeForm, LabelForm, form_errors
from annotate.labelling import SentenceFull, annotation_change, label_and_next, undo_and_next
from annotate.models import Annotation, Label, Target
from annotate.suggestions import suggestion_to_show

HISTORY_LENGTH = 10
CONTEXT_SENTENCES = 2
LABEL_KEYS = [(Label.PRO, "1"), (Label.CONTRA, "2"), (Label.NEUTRAL, "3")]


def card_context(
    request: HttpRequest, target: Target, sentence_id: int | None, message: str = ""
) -> dict[str, object]:
    """Everything the sentence card shows, read in one query (annotate/card.py)."""
    card = read_card(annotator=request.user, target=target, sentence_id=sentence_id, around=CONTEXT_SENTENCES)
    suggestion = None if card.sentence is None else suggestion_to_show(target=target, sentence=card.sentence)
    return {
        "target": target,
        "sentence": card.sentence,
        "before": card.before,
        "after": card.after,
        "suggestion": suggestion,
        "progress": card.progress,
        "label_keys": LABEL_KEYS,
        "message": message,
    }


def history_context(request: HttpRequest, target: Target) -> dict[str, object]:
    recent = (
        Annotation.objects.filter(annotator=request.user, target=target)
        .select_related("sentence")
        .order_by("-updated_at", "-id")[:HISTORY_LENGTH]
    )
    return {
        "target": target,
        "history": recent,
        "change_labels": Label.choices,
        "history_length": HISTORY_LENGTH,
    }


def _conflict(full: SentenceFull) -> HttpResponse:
    """A refused label: 409 with the reason as text, for the page's error line."""
    return HttpResponse(" ".join(full.messages), status=409, content_type="text/plain")


@require_GET
def label_home(request: HttpRequest) -> HttpResponse:
    target = Target.objects.order_by("id").first()
    if target is None:
        return redirect("article-list")
    return redirect("label", target_id=target.pk)


@require_GET
@vary_on_headers("HX-Request")
def label_page(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(Target, pk=target_id)
    target, sentence_id = queue.next_sentence_id(annotator=request.user, target=target)
    context = {**card_context(request, target, sentence_id), **history_context(request, target)}
    if request.htmx:
        return render(request, "annotate/label.html#sentence-card", context)
    return render(request, "annotate/label.html", context)


@require_POST
def label_submit(request: HttpRequest, target_id: int) -> HttpResponse:
    form = LabelForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        annotation, following, target = label_and_next(
            annotator=request.user,
            target_id=target_id,
            sentence_id=form.cleaned_data["sentence"],
            label=form.cleaned_data["label"],
            spent_ms=form.cleaned_data["spent_ms"],
        )
    except Target.DoesNotExist as missing:
        raise Http404("No such target or sentence.") from missing
    except SentenceFull as full:
        return _conflict(full)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    if not request.htmx:
        return redirect("label", target_id=target.pk)
    verb = "Skipped" if annotation.label == Label.SKIP else f"Labelled {annotation.label}"
    message = f"{verb}: “{annotation.sentence.text[:60]}”"
    # The history panel gets the one changed row on top (its old place removed), not a
    # re-render of the whole panel.
    context = {
        **card_context(request, target, following, message),
        "entry": annotation,
        "change_labels": Label.choices,
        "moved": annotation.event.old_label != "",
    }
    return render(request, "annotate/label.html#label-response", context)


@require_POST
def label_undo(request: HttpRequest, target_id: int) -> HttpResponse:
    try:
        undone, following, target = undo_and_next(annotator=request.user, target_id=target_id)
    except Target.DoesNotExist as missing:
        raise Http404("No such target.") from missing
    if not request.htmx:
        return redirect("label", target_id=target.pk)
    if undone is None:
        message = "Nothing to undo."
    elif following == undone.sentence_id:
        message = f"Undid {undone.label}; the sentence is back."
    else:  # others filled it meanwhile (queue.reserve_again)
        message = f"Undid {undone.label}; that sentence already has its labels, so here is the next one."
    # A row leaves the history, so the whole panel comes back, out of band.
    context = {**card_context(request, target, following, message), **history_context(request, target)}
    return render(request, "annotate/label.html#undo-response", {**context, "oob": True})


@require_POST
def annotation_relabel(request: HttpRequest, annotation_id: int) -> HttpResponse:
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        annotation = annotation_change(
            annotator=request.user, annotation_id=annotation_id, label=form.cleaned_data["label"]
        )
    except SentenceFull as full:
        return _conflict(full)
    if not request.htmx:
        return redirect("label", target_id=annotation.target_id)
    context = {"entry": annotation, "change_labels": Label.choices}
    return render(request, "annotate/label.html#history-row", context)
