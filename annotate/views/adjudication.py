"""Curators settle disagreements: one key a sentence, as in the labelling view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate.adjudication import (
    GoldChange,
    adjudication_record,
    adjudication_undo,
    gold_histories,
    open_count,
)
from annotate.corpus import sentence_neighbours
from annotate.evaluation_items import NotSettled, evaluation_item_toggle
from annotate.flags import flag_resolve
from annotate.forms import (
    AdjudicateForm,
    AdjudicationUndoForm,
    EvaluationToggleForm,
    FlagResolveForm,
    OpenSentenceForm,
    PromoteForm,
    ReturnForm,
    form_errors,
)
from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    AdjudicationEvent,
    Annotation,
    EvaluationItem,
    Flag,
    Label,
    Sentence,
    Suggestion,
    Target,
    TargetArchived,
    TargetSummary,
)
from annotate.retrain_policy import retrain_if_due
from annotate.returns import AlreadyReturned, label_return, returns_of
from annotate.review import (
    SUSPICIOUS_CONFIDENCE,
    ReviewItem,
    ReviewOrder,
    flags_of,
    open_flag_count,
    review_item_of,
    review_items,
    suspicion_basis,
)
from annotate.roles import require_curator
from annotate.targets import example_promote
from annotate.views.request import SignedInRequest

SETTLED_SHOWN = 15
QUEUE_SHOWN = 20
#: History lines shown per sentence on the page (the admin shows all of them).
HISTORY_SHOWN = 5


def _with_texts(items: list[ReviewItem]) -> list[tuple[ReviewItem, str]]:
    texts = dict(Sentence.objects.filter(pk__in=[d.sentence_id for d in items]).values_list("pk", "text"))
    return [(item, texts.get(item.sentence_id, "")) for item in items]


def _order(data: QueryDict) -> str | None:
    """The review order asked for (the default without one); None for an unknown one."""
    order = data.get("order") or ReviewOrder.DISAGREEMENTS
    return order if order in ReviewOrder.values else None


def _no_such_order() -> HttpResponse:
    """An unknown review order: 400 with the choices, before anything is read or written."""
    message = f"Unknown review order; expected one of {', '.join(ReviewOrder.values)}."
    return HttpResponseBadRequest(message, content_type="text/plain")


def _remaining(target: Target, order: str, items: list[ReviewItem]) -> dict[str, object]:
    """What the card's first line says about the order: one query at most."""
    if order == ReviewOrder.DISAGREEMENTS:
        return {"remaining": open_count(target=target) if items else 0}
    if order == ReviewOrder.FLAGGED:
        return {"remaining": open_flag_count(target=target) if items else 0}
    if order == ReviewOrder.POSTERIOR:
        computed = TargetSummary.objects.filter(target=target).values_list("computed_at", flat=True).first()
        return {"posteriors_at": computed}
    return {"suspicious_confidence": SUSPICIOUS_CONFIDENCE, "basis": suspicion_basis(target=target)}


def _card(
    target: Target, order: str = ReviewOrder.DISAGREEMENTS, opened: Sentence | None = None
) -> dict[str, object]:
    """The first sentence of the review order, the next QUEUE_SHOWN and what the order
    says of them: each order read through its index, so a settle costs the same at any
    number of labels. In the flagged order the card is the first open flag's. `opened`: a
    sentence asked for by id (a search result's link), shown first whatever its labels."""
    items = review_items(target=target, order=order, limit=QUEUE_SHOWN + 1)
    first = items[0] if items else None
    if (
        order == ReviewOrder.FLAGGED
        and first is not None
        and first.flag is not None
        and first.flag.resolved_at
    ):
        first = None  # open flags first: with none left, the list shows the resolved ones
    upcoming = items[1:] if first is not None else items
    if opened is not None:
        first = review_item_of(target=target, sentence_id=opened.pk)
        upcoming = [item for item in items if item.sentence_id != opened.pk]
    context: dict[str, object] = {
        "target": target,
        "order": order,
        "orders": ReviewOrder.choices,
        "current": first,
        "opened": opened is not None,
        "upcoming": _with_texts(upcoming[:QUEUE_SHOWN]),
        "label_keys": [("pro", "1"), ("contra", "2"), ("neutral", "3")],
        **_remaining(target, order, items),
    }
    if first is not None:
        sentence = opened or Sentence.objects.select_related("article").get(pk=first.sentence_id)
        votes = (
            Annotation.objects.filter(target=target, sentence=sentence)
            .exclude(label=Label.SKIP)
            .order_by("annotator_id")
            .values_list("id", "annotator_id", "annotator__username", "label")
        )
        returns = returns_of(target=target, sentence_id=sentence.pk, limit=HISTORY_SHOWN)
        waiting = {r.annotator_id for r in returns if r.resolved_at is None}
        suspicious = {annotator for annotator, _ in first.suspicious}
        context["sentence"] = sentence
        context["before"], context["after"] = sentence_neighbours(sentence)
        context["votes"] = [
            Vote(annotation_id=i, name=name, label=label, suspicious=a in suspicious, returned=a in waiting)
            for i, a, name, label in votes
        ]
        context["suggestion"] = Suggestion.objects.filter(
            model_version_id=target.active_version_id, sentence=sentence
        ).first()
        # A sentence settled once and undone comes back with what was decided on it.
        history = gold_histories(target=target, sentence_ids=[sentence.pk], per_sentence=HISTORY_SHOWN)
        context["history"] = history.get(sentence.pk, [])
        context["returns"] = returns
        context["flags"] = flags_of(target=target, sentence_id=sentence.pk, limit=HISTORY_SHOWN)
    return context


@dataclass(frozen=True)
class Vote:
    """One annotator's label on the card, with whether the order finds it suspicious and
    whether it is returned to them now."""

    annotation_id: int
    name: str
    label: str
    suspicious: bool
    returned: bool


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


def _answer(request: SignedInRequest, target: Target, status: str, order: str) -> HttpResponse:
    """An htmx answer to a gold change: the next card, the status line, the settled panel."""
    template = "annotate/adjudicate.html"
    card = render_to_string(f"{template}#adjudication-card", _card(target, order), request)
    line = render_to_string(f"{template}#status", {"status": status, "oob": True}, request)
    settled = render_to_string(
        f"{template}#settled-panel", {**_settled(target), "order": order, "oob": True}, request
    )
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
    """The review order's first sentence, or with ?sentence=<id> that sentence first."""
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    order = _order(request.GET)
    if order is None:
        return _no_such_order()
    opened = None
    if "sentence" in request.GET:
        form = OpenSentenceForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
        opened = get_object_or_404(
            Sentence.objects.select_related("article"), pk=form.cleaned_data["sentence"]
        )
    card = _card(target, order, opened)
    if request.htmx:
        return render(request, "annotate/adjudicate.html#adjudication-card", card)
    return render(request, "annotate/adjudicate.html", {**card, **_settled(target)})


def _back(target: Target, order: str) -> HttpResponse:
    """A plain form post's answer: the page again, in its order."""
    query = "" if order == ReviewOrder.DISAGREEMENTS else f"?order={order}"
    return redirect(reverse("adjudicate", args=[target.pk]) + query)


@dataclass(frozen=True)
class _Posted:
    target: Target
    order: str
    form: Any


def _posted(
    request: SignedInRequest, target_id: int, form_class: type[forms.Form], what: str
) -> _Posted | HttpResponse:
    """What every post on the page begins with: a curator, the target, the review order it
    came from (400 for an unknown one) and its valid form (400 with the form's errors)."""
    require_curator(request.user, what)
    target = get_object_or_404(Target, pk=target_id)
    order = _order(request.POST)
    if order is None:
        return _no_such_order()
    form = form_class(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    return _Posted(target=target, order=order, form=form)


@require_POST
def adjudicate_settle(request: SignedInRequest, target_id: int) -> HttpResponse:
    posted = _posted(request, target_id, AdjudicateForm, "Adjudication")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    label = form.cleaned_data["label"]
    try:
        change = adjudication_record(curator=request.user, sentence=sentence, target=target, label=label)
    except TargetArchived as refused:
        return _refused(refused.messages)
    retrain_if_due(target=target)
    if not request.htmx:
        return _back(target, order)
    return _answer(request, target, _said(change, sentence, label), order)


@require_POST
def adjudicate_undo(request: SignedInRequest, target_id: int) -> HttpResponse:
    posted = _posted(request, target_id, AdjudicationUndoForm, "Adjudication")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    try:
        change = adjudication_undo(
            curator=request.user, sentence=sentence, target=target, seen_event=form.cleaned_data["seen_event"]
        )
    except ValidationError as refused:
        return _refused(refused.messages)
    if not request.htmx:
        return _back(target, order)
    quoted = _quoted(sentence.text)
    if change.adjudication is None:
        status = f"Undone: {quoted} is unsettled again, back among the disagreements."
    else:
        status = f"Undone: {quoted} is {change.adjudication.label} again."
    return _answer(request, target, status, order)


@require_POST
def adjudicate_example(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Promote a settled sentence to an example of its gold label (key `x`: the newest)."""
    posted = _posted(request, target_id, PromoteForm, "Adjudication")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    try:
        promoted = example_promote(target=target, sentence_id=form.cleaned_data["sentence"])
    except Adjudication.DoesNotExist:
        return _refused(["Only a settled sentence can be an example."])
    if not request.htmx:
        return _back(target, order)
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
    posted = _posted(request, target_id, EvaluationToggleForm, "Adjudication")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    try:
        item = evaluation_item_toggle(curator=request.user, target=target, sentence=sentence)
    except NotSettled as refused:
        return _refused(refused.messages)
    if not request.htmx:
        return _back(target, order)
    quoted = _quoted(sentence.text)
    status = f"Evaluation item: {quoted}" if item else f"No longer an evaluation item: {quoted}"
    return _answer(request, target, status, order)


@require_POST
def adjudicate_return(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Return one annotator's label on a sentence to them with a comment."""
    posted = _posted(request, target_id, ReturnForm, "Returning labels")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    try:
        returned = label_return(
            curator=request.user,
            target=target,
            annotation_id=form.cleaned_data["annotation"],
            comment=form.cleaned_data["comment"],
        )
    except Annotation.DoesNotExist as missing:
        raise Http404("No such label on this target.") from missing
    except (AlreadyReturned, TargetArchived) as refused:
        return _refused(refused.messages)
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
    if not request.htmx:
        return _back(target, order)
    name = returned.annotator.get_username()
    status = f"Returned {name}'s label {returned.label} with your comment: {_quoted(returned.sentence.text)}"
    return _answer(request, target, status, order)


@require_POST
def adjudicate_flag_resolve(request: SignedInRequest, target_id: int) -> HttpResponse:
    """Mark an annotator's flag resolved: it leaves the open flags."""
    posted = _posted(request, target_id, FlagResolveForm, "Resolving flags")
    if isinstance(posted, HttpResponse):
        return posted
    target, order, form = posted.target, posted.order, posted.form
    try:
        flag = flag_resolve(curator=request.user, target=target, flag_id=form.cleaned_data["flag"])
    except Flag.DoesNotExist as missing:
        raise Http404("No such flag on this target.") from missing
    if not request.htmx:
        return _back(target, order)
    status = f"Resolved {flag.annotator.get_username()}'s flag ({flag.get_reason_display().lower()})."
    return _answer(request, target, status, order)
