"""The labelling loop: one page, and one htmx request a label that returns the next card."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate.evaluation import queue_paused
from annotate.flags import NotShown, flag_create
from annotate.forms import ChangeForm, FlagForm, LabelForm, ShortcutsForm, form_errors
from annotate.labelling import shortcuts_for, shortcuts_set
from annotate.models import (
    Annotation,
    FlagReason,
    Label,
    LabelReturn,
    Sentence,
    Shortcuts,
    SuggestionMode,
    Target,
    TargetArchived,
)
from annotate.queue.card import read_card
from annotate.queue.loop import Labelled, label_and_next, undo_and_next
from annotate.queue.record import SentenceFull, annotation_change
from annotate.queue.reservations import first_with_work, next_sentence_id
from annotate.retrain_policy import retrain_if_due
from annotate.roles import is_admin, is_annotator, is_curator
from annotate.views.request import SignedInRequest

P = ParamSpec("P")

HISTORY_LENGTH = 10
CONTEXT_SENTENCES = 2
NOT_AN_ANNOTATOR = "You are not an annotator for this target."
PAUSED = (
    "Your queue is paused: a curator wants to look at your recent labels with you before you "
    "go on. It will start again as soon as they lift the pause."
)
LABEL_KEYS = [(Label.PRO, "1"), (Label.CONTRA, "2"), (Label.NEUTRAL, "3")]
PREVIEW_CHARS = 60
#: Quotation marks a sentence may open with; the status line adds none of its own then.
QUOTES = "\"'\u201c\u201d\u2018\u2019\u201e\u201a\u00ab\u00bb\u2039\u203a"


def sentence_preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The sentence in quotes, cut at a word boundary with an ellipsis when longer than
    `limit`; a sentence that opens with a quotation mark keeps its own, not a second one."""
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:.-\u2013\u2014") + "…"
    if text[:1] in QUOTES:
        return text
    return f"“{text}”"


def card_context(
    request: SignedInRequest,
    target: Target,
    sentence_id: int | None,
    first_label: str | None = None,
    *,
    annotator: bool = True,
) -> dict[str, object]:
    """Everything the sentence card shows, read in one query (annotate/queue/card.py);
    with `first_label`, the card that reveals the suggestion after it ("after" mode)."""
    card = read_card(
        annotator=request.user,
        target=target,
        sentence_id=sentence_id,
        around=CONTEXT_SENTENCES,
        first_label=first_label,
    )
    # Nothing handed out: say so plainly when it is because a curator paused their queue.
    paused = annotator and card.sentence is None and queue_paused(annotator=request.user, target=target)
    return {
        "paused": PAUSED if paused else "",
        "first_label": card.first_label,
        "target": target,
        "sentence": card.sentence,
        "before": card.before,
        "after": card.after,
        "suggestion": card.suggestion,
        "returned": card.returned,
        "progress": card.progress,
        "flag_reasons": FlagReason.choices,
        "label_keys": LABEL_KEYS,
    }


def history_context(request: SignedInRequest, target: Target) -> dict[str, object]:
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


def _conflict(full: SentenceFull | TargetArchived) -> HttpResponse:
    """A refused label: 409 with the reason as text, for the page's error line."""
    return HttpResponse(" ".join(full.messages), status=409, content_type="text/plain")


def archived_message(target: Target) -> str:
    return TargetArchived(target).messages[0]


def _labelled_verb(labelled: Labelled, *, revealed: bool) -> str:
    """What the status line says was done: after a revealed suggestion, whether the first
    label was kept, changed or replaced by the suggestion."""
    annotation = labelled.recorded.annotation
    first = annotation.first_label
    if revealed and first is not None:
        if annotation.accepted_suggestion:
            return f"Accepted {annotation.label} (first {first})"
        return f"Kept {first}" if first == annotation.label else f"Changed {first} to {annotation.label}"
    return "Skipped" if annotation.label == Label.SKIP else f"Labelled {annotation.label}"


def _reveal_context(request: SignedInRequest, target: Target) -> dict[str, object] | None:
    """The card that reveals the suggestion after a first label given without JavaScript
    (or before a reload): `?reveal=<sentence id>`, if that label is the annotator's, was
    given without a suggestion in the "after" mode, and the sentence has one to reveal."""
    sentence_id = request.GET.get("reveal", "")
    if target.suggestion_mode != SuggestionMode.AFTER or not sentence_id.isdigit() or len(sentence_id) > 18:
        return None
    first = (
        Annotation.objects.filter(
            annotator_id=request.user.pk,
            target=target,
            sentence_id=int(sentence_id),
            suggestion_shown=False,
            first_label__isnull=True,
        )
        .exclude(label=Label.SKIP)
        .values_list("label", flat=True)
        .first()
    )
    if first is None:
        return None
    context = card_context(request, target, int(sentence_id), first_label=first)
    return context if context["first_label"] else None


@require_GET
def label_home(request: SignedInRequest) -> HttpResponse:
    """Where each role works: an annotator's first target with a sentence open to them
    (else the first one, which says there is nothing left), a curator's or admin's first
    dashboard; a page saying what to do when no target is in use."""
    targets = list(Target.objects.in_use().order_by("id"))
    if not targets:
        return render(request, "annotate/no_target.html", {"can_create": is_admin(request.user)})
    if is_annotator(request.user):
        target = first_with_work(annotator=request.user, targets=targets) or targets[0]
        return redirect("label", target_id=target.pk)
    if is_curator(request.user):
        return redirect("dashboard", target_id=targets[0].pk)
    return render(request, "annotate/no_target.html", {"no_role": True})


@require_GET
@vary_on_headers("HX-Request")
def label_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    target = get_object_or_404(Target, pk=target_id)
    working = is_annotator(request.user) and not target.is_archived
    revealing = _reveal_context(request, target) if working else None
    if revealing is not None:
        context = {**revealing, **history_context(request, target)}
    elif working:
        target, sentence_id = next_sentence_id(annotator=request.user, target=target)
        context = {**card_context(request, target, sentence_id), **history_context(request, target)}
    else:  # only annotators reserve sentences, and none on an archived target
        context = {
            **card_context(request, target, None, annotator=False),
            **history_context(request, target),
            "read_only": archived_message(target) if target.is_archived else NOT_AN_ANNOTATOR,
        }
    if request.htmx:
        return render(request, "annotate/label.html#sentence-card", context)
    context["shortcuts"] = shortcuts_for(user=request.user)
    context["shortcut_choices"] = Shortcuts.choices
    return render(request, "annotate/label.html", context)


def annotator_required(
    view: Callable[Concatenate[SignedInRequest, P], HttpResponse],
) -> Callable[Concatenate[SignedInRequest, P], HttpResponse]:
    """Only annotators label and take reservations (label_page shows others the queue
    without a sentence): a crafted post from anyone else is refused with a 403 in plain
    text, for the page's error line, before the view reads or writes anything."""

    @wraps(view)
    def annotator_only(request: SignedInRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not is_annotator(request.user):
            return HttpResponseForbidden(NOT_AN_ANNOTATOR, content_type="text/plain")
        return view(request, *args, **kwargs)

    return annotator_only


@require_POST
@annotator_required
def label_submit(request: SignedInRequest, target_id: int) -> HttpResponse:
    form = LabelForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        labelled = label_and_next(
            annotator=request.user,
            target_id=target_id,
            sentence_id=form.cleaned_data["sentence"],
            label=form.cleaned_data["label"],
            spent_ms=form.cleaned_data["spent_ms"],
            revealed=form.cleaned_data["revealed"],
            returned=form.cleaned_data["returned"],
        )
    except (Target.DoesNotExist, LabelReturn.DoesNotExist) as missing:
        raise Http404("No such target, sentence or returned label.") from missing
    except (SentenceFull, TargetArchived) as refused:
        return _conflict(refused)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    # After the commit: at most one query (the gold counter), and the training runs elsewhere.
    retrain_if_due(target=labelled.target)
    annotation = labelled.recorded.annotation
    if not request.htmx:
        query = f"?reveal={annotation.sentence_id}" if labelled.reveal else ""
        return redirect(reverse("label", args=[labelled.target.pk]) + query)
    verb = _labelled_verb(labelled, revealed=form.cleaned_data["revealed"])
    if form.cleaned_data["returned"] is not None:
        verb = f"Relabelled the returned sentence: {verb}"
    # The "after" mode's first step: the same sentence again, its suggestion revealed.
    first_label = annotation.label if labelled.reveal else None
    card = card_context(request, labelled.target, labelled.next_sentence_id, first_label=first_label)
    # The status line (outside the card, so it is not swapped away) and the history
    # panel's one changed row on top (its old place removed) come out of band.
    context = {
        **card,
        "status": f"{verb}: {sentence_preview(annotation.sentence.text)}",
        "announce_next": True,
        "entry": annotation,
        "change_labels": Label.choices,
        "moved": labelled.recorded.old_label != "",
    }
    return render(request, "annotate/label.html#label-response", context)


@require_POST
@annotator_required  # an undo reserves the next sentence
def label_undo(request: SignedInRequest, target_id: int) -> HttpResponse:
    try:
        result = undo_and_next(annotator=request.user, target_id=target_id)
    except Target.DoesNotExist as missing:
        raise Http404("No such target.") from missing
    except TargetArchived as refused:
        return _conflict(refused)
    undone, following, target = result.annotation, result.next_sentence_id, result.target
    if not request.htmx:
        return redirect("label", target_id=target.pk)
    if undone is None:
        message = "Nothing to undo."
    elif following == undone.sentence_id:
        message = f"Undid {undone.label}; the sentence is back."
    else:  # others filled it meanwhile (reservations.reserve_again_locked)
        message = f"Undid {undone.label}; that sentence already has its labels, so here is the next one."
    card = card_context(request, target, following)
    # A row leaves the history, so the whole panel comes back, out of band.
    context = {**card, **history_context(request, target), "status": message, "announce_next": True}
    return render(request, "annotate/label.html#undo-response", {**context, "oob": True})


@require_POST
def annotation_relabel(request: SignedInRequest, annotation_id: int) -> HttpResponse:
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        annotation = annotation_change(
            annotator=request.user, annotation_id=annotation_id, label=form.cleaned_data["label"]
        ).annotation
    except (SentenceFull, TargetArchived) as refused:
        return _conflict(refused)
    if not request.htmx:
        return redirect("label", target_id=annotation.target_id)
    status = f"Changed to {annotation.label}: {sentence_preview(annotation.sentence.text)}"
    context = {"entry": annotation, "change_labels": Label.choices, "status": status}
    return render(request, "annotate/label.html#relabel-response", context)


@require_POST
def shortcuts_save(request: SignedInRequest) -> HttpResponse:
    """The labelling keys: single keys, only with Alt held, or off. A plain form post."""
    form = ShortcutsForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    shortcuts_set(user=request.user, shortcuts=form.cleaned_data["shortcuts"])
    back = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect("home")
    return redirect(back)


@require_POST
@annotator_required
def flag_submit(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Flag the shown sentence (key `f`): it stays on screen, to be labelled as before."""
    target = get_object_or_404(Target, pk=target_id)
    form = FlagForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        flag = flag_create(
            annotator=request.user,
            target=target,
            sentence_id=form.cleaned_data["sentence"],
            reason=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
        )
    except NotShown as missing:
        raise Http404(missing.messages[0]) from missing
    except TargetArchived as refused:
        return _conflict(refused)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    if not request.htmx:
        return redirect("label", target_id=target.pk)
    status = f"Flagged as {flag.get_reason_display().lower()}; the sentence is still yours to label."
    context = {
        "status": status,
        "flag": flag,
        "target": target,
        "sentence": Sentence(pk=flag.sentence_id),  # the panel names its sentence by id
        "flag_reasons": FlagReason.choices,
    }
    return render(request, "annotate/label.html#flag-response", context)
