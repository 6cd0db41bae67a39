"""The labelling loop: one page, and one htmx request a label that returns the next card."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate import queue
from annotate.corpus import sentence_neighbours
from annotate.forms import ChangeForm, LabelForm, form_errors
from annotate.labelling import annotation_change, annotation_submit, annotation_undo
from annotate.models import Annotation, Label, Sentence, Target
from annotate.suggestions import suggestion_to_show

HISTORY_LENGTH = 10
CONTEXT_SENTENCES = 2
LABEL_KEYS = [(Label.PRO, "1"), (Label.CONTRA, "2"), (Label.NEUTRAL, "3")]


def card_context(request: HttpRequest, target: Target, message: str = "") -> dict[str, object]:
    """Everything the sentence card shows, in a fixed number of queries."""
    sentence = queue.next_sentence(annotator=request.user, target=target)
    before: list[Sentence] = []
    after: list[Sentence] = []
    suggestion = None
    if sentence is not None:
        before, after = sentence_neighbours(sentence, around=CONTEXT_SENTENCES)
        suggestion = suggestion_to_show(target=target, sentence=sentence)
    return {
        "target": target,
        "sentence": sentence,
        "before": before,
        "after": after,
        "suggestion": suggestion,
        "progress": queue.progress_for(annotator=request.user, target=target),
        "label_keys": LABEL_KEYS,
        "message": message,
    }


def history_context(request: HttpRequest, target: Target) -> dict[str, object]:
    recent = (
        Annotation.objects.filter(annotator=request.user, target=target)
        .select_related("sentence")
        .order_by("-updated_at", "-id")[:HISTORY_LENGTH]
    )
    return {"target": target, "history": recent, "change_labels": Label.choices}


def _respond(request: HttpRequest, target: Target, message: str) -> HttpResponse:
    """The next card and the refreshed history panel for htmx; a redirect otherwise."""
    if not request.htmx:
        return redirect("label", target_id=target.pk)
    card = render_to_string(
        "annotate/label.html#sentence-card", card_context(request, target, message), request
    )
    history = render_to_string(
        "annotate/label.html#history-panel", {**history_context(request, target), "oob": True}, request
    )
    return HttpResponse(card + history)


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
    context = {**card_context(request, target), **history_context(request, target)}
    if request.htmx:
        return render(request, "annotate/label.html#sentence-card", context)
    return render(request, "annotate/label.html", context)


@require_POST
def label_submit(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(Target, pk=target_id)
    form = LabelForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    try:
        annotation = annotation_submit(
            annotator=request.user,
            sentence=sentence,
            target=target,
            label=form.cleaned_data["label"],
            spent_ms=form.cleaned_data["spent_ms"],
        )
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    label = annotation.label
    verb = "Skipped" if label == Label.SKIP else f"Labelled {label}"
    return _respond(request, target, f"{verb}: “{sentence.text[:60]}”")


@require_POST
def label_undo(request: HttpRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(Target, pk=target_id)
    undone = annotation_undo(annotator=request.user, target=target)
    if undone is None:
        return _respond(request, target, "Nothing to undo.")
    queue.assign(annotator=request.user, target=target, sentence=undone.sentence)
    return _respond(request, target, f"Undid {undone.label}; the sentence is back.")


@require_POST
def annotation_relabel(request: HttpRequest, annotation_id: int) -> HttpResponse:
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    annotation = annotation_change(
        annotator=request.user, annotation_id=annotation_id, label=form.cleaned_data["label"]
    )
    if not request.htmx:
        return redirect("label", target_id=annotation.target_id)
    context = {"entry": annotation, "change_labels": Label.choices}
    return render(request, "annotate/label.html#history-row", context)
