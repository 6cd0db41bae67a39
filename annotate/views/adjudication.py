"""Curators settle disagreements: one key a sentence, as in the labelling view."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate.adjudication import (
    Disagreement,
    GoldChange,
    adjudication_record,
    adjudication_undo,
    disagreement_of,
    disagreements,
    gold_histories,
    open_count,
)
from annotate.corpus import sentence_neighbours
from annotate.evaluation_items import NotSettled, evaluation_item_toggle
from annotate.forms import (
    AdjudicateForm,
    AdjudicationUndoForm,
    EvaluationToggleForm,
    OpenSentenceForm,
    PromoteForm,
    form_errors,
)
from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    AdjudicationEvent,
    EvaluationItem,
    Sentence,
    Suggestion,
    Target,
    TargetArchived,
)
from annotate.retrain_policy import retrain_if_due
from annotate.roles import require_curator
from annotate.targets import example_promote
from annotate.views.request import SignedInRequest

SETTLED_SHOWN = 15
QUEUE_SHOWN = 20
#: History lines shown per sentence on the page (the admin shows all of them).
HISTORY_SHOWN = 5


def _with_texts(items: list[Disagreement]) -> list[tuple[Disagreement, str]]:
    texts = dict(Sentence.objects.filter(pk__in=[d.sentence_id for d in items]).values_list("pk", "text"))
    return [(item, texts.get(item.sentence_id, "")) for item in items]


def _card(target: Target, opened: Sentence | None = None) -> dict[str, object]:
    """The worst open disagreement, the next QUEUE_SHOWN and how many there are: read from
    the sentence tallies' index, so a settle costs the same at any number of labels.
    `opened`: a sentence asked for by id (a search result's link), shown first instead."""
    open_items = disagreements(target=target, limit=QUEUE_SHOWN + 1)
    current = open_items[0] if open_items else None
    upcoming = open_items[1 : QUEUE_SHOWN + 1]
    if opened is not None:
        current = disagreement_of(target=target, sentence=opened)
        upcoming = [item for item in open_items if item.sentence_id != opened.pk][:QUEUE_SHOWN]
    context: dict[str, object] = {
        "target": target,
        "current": current,
        "opened": opened is not None,
        "remaining": open_count(target=target) if open_items else 0,
        "upcoming": _with_texts(upcoming),
        "label_keys": [("pro", "1"), ("contra", "2"), ("neutral", "3")],
    }
    if current is not None:
        sentence = opened or Sentence.objects.select_related("article").get(pk=current.sentence_id)
        names = dict(
            get_user_model()
            .objects.filter(pk__in=[a for a, _ in current.votes])
            .values_list("pk", "username")
        )
        context["sentence"] = sentence
        context["before"], context["after"] = sentence_neighbours(sentence)
        context["votes"] = [(names.get(a, a), label) for a, label in current.votes]
        context["suggestion"] = Suggestion.objects.filter(
            model_version_id=target.active_version_id, sentence=sentence
        ).first()
        # A sentence settled once and undone comes back with what was decided on it.
        history = gold_histories(target=target, sentence_ids=[sentence.pk], per_sentence=HISTORY_SHOWN)
        context["history"] = history.get(sentence.pk, [])
    return context


def _settled(target: Target) -> dict[str, object]:
    """The newest adjudications, each with its newest history lines: two queries."""
    recent = list(
        Adjudication.objects.filter(target=target)
        .select_related("sentence", "curator")
        .annotate(evaluation=Exists(EvaluationItem.objects.filter(adjudication=OuterRef("pk"))))
        .order_by("-updated_at", "-id")[:SETTLED_SHOWN]
    )
    histories = gold_histories(
        target=target, sentence_ids=[a.sentence_id for a in recent], per_sentence=HISTORY_SHOWN
    )
    rows = [
        (adjudication, histories.get(adjudication.sentence_id, []), adjudication.evaluation)
        for adjudication in recent
    ]
    return {"target": target, "settled": rows, "change_labels": STANCE_LABELS}


def _answer(request: SignedInRequest, target: Target, status: str) -> HttpResponse:
    """An htmx answer to a gold change: the next card, the status line, the settled panel."""
    template = "annotate/adjudicate.html"
    card = render_to_string(f"{template}#adjudication-card", _card(target), request)
    line = render_to_string(f"{template}#status", {"status": status, "oob": True}, request)
    settled = render_to_string(f"{template}#settled-panel", {**_settled(target), "oob": True}, request)
    return HttpResponse(card + line + settled)


def _quoted(text: str) -> str:
    """A sentence as the status line quotes it."""
    return f"“{text[:60]}”"


def _refused(messages: list[str]) -> HttpResponse:
    """A gold change the rules refused (archived target, history moved, not settled): 409."""
    return HttpResponse(" ".join(messages), status=409, content_type="text/plain")


def _said(change: GoldChange, sentence: Sentence, label: str) -> str:
    quoted = _quoted(sentence.text)
    event = change.event
    if event is not None and event.action == AdjudicationEvent.Action.CHANGE:
        return f"Changed from {event.old_label} to {label}: {quoted}"
    return f"Settled as {label}: {quoted}"


@require_GET
@vary_on_headers("HX-Request")
def adjudicate_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    """The queue's worst disagreement, or with ?sentence=<id> that sentence first."""
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    opened = None
    if "sentence" in request.GET:
        form = OpenSentenceForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
        opened = get_object_or_404(
            Sentence.objects.select_related("article"), pk=form.cleaned_data["sentence"]
        )
    if request.htmx:
        return render(request, "annotate/adjudicate.html#adjudication-card", _card(target, opened))
    return render(request, "annotate/adjudicate.html", {**_card(target, opened), **_settled(target)})


@require_POST
def adjudicate_settle(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    form = AdjudicateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    label = form.cleaned_data["label"]
    try:
        change = adjudication_record(curator=request.user, sentence=sentence, target=target, label=label)
    except TargetArchived as refused:
        return _refused(refused.messages)
    retrain_if_due(target=target)
    if not request.htmx:
        return redirect("adjudicate", target_id=target.pk)
    return _answer(request, target, _said(change, sentence, label))


@require_POST
def adjudicate_undo(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    form = AdjudicationUndoForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    try:
        change = adjudication_undo(
            curator=request.user, sentence=sentence, target=target, seen_event=form.cleaned_data["seen_event"]
        )
    except ValidationError as refused:
        return _refused(refused.messages)
    if not request.htmx:
        return redirect("adjudicate", target_id=target.pk)
    quoted = _quoted(sentence.text)
    if change.adjudication is None:
        status = f"Undone: {quoted} is unsettled again, back among the disagreements."
    else:
        status = f"Undone: {quoted} is {change.adjudication.label} again."
    return _answer(request, target, status)


@require_POST
def adjudicate_example(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Promote a settled sentence to an example of its gold label (key `x`: the newest)."""
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    form = PromoteForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    try:
        promoted = example_promote(target=target, sentence_id=form.cleaned_data["sentence"])
    except Adjudication.DoesNotExist:
        return _refused(["Only a settled sentence can be an example."])
    if not request.htmx:
        return redirect("adjudicate", target_id=target.pk)
    example = promoted.example
    quoted = _quoted(example.text)
    if promoted.created:
        status = f"Now an example of {example.label} in the guidelines: {quoted}"
    else:
        status = f"Already an example of {example.label}: {quoted}"
    return render(request, "annotate/adjudicate.html#status", {"status": status, "oob": True})


@require_POST
def adjudicate_evaluation(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Mark a settled sentence as an evaluation item, or unmark it (`e`: the newest settled)."""
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    form = EvaluationToggleForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    try:
        item = evaluation_item_toggle(curator=request.user, target=target, sentence=sentence)
    except NotSettled as refused:
        return _refused(refused.messages)
    if not request.htmx:
        return redirect("adjudicate", target_id=target.pk)
    quoted = _quoted(sentence.text)
    status = f"Evaluation item: {quoted}" if item else f"No longer an evaluation item: {quoted}"
    return _answer(request, target, status)
