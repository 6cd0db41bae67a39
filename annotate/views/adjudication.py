"""Curators settle disagreements: one key a sentence, as in the labelling view."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from annotate.adjudication import Disagreement, adjudication_record, disagreements, open_count
from annotate.corpus import sentence_neighbours
from annotate.forms import AdjudicateForm, form_errors
from annotate.models import STANCE_LABELS, Adjudication, Sentence, Suggestion, Target
from annotate.roles import require_curator
from annotate.views.request import SignedInRequest

SETTLED_SHOWN = 15
QUEUE_SHOWN = 20


def _with_texts(items: list[Disagreement]) -> list[tuple[Disagreement, str]]:
    texts = dict(Sentence.objects.filter(pk__in=[d.sentence_id for d in items]).values_list("pk", "text"))
    return [(item, texts.get(item.sentence_id, "")) for item in items]


def _card(target: Target, message: str = "") -> dict[str, object]:
    """The worst open disagreement, the next QUEUE_SHOWN and how many there are: read from
    the sentence tallies' index, so a settle costs the same at any number of labels."""
    open_items = disagreements(target=target, limit=QUEUE_SHOWN + 1)
    current = open_items[0] if open_items else None
    context: dict[str, object] = {
        "target": target,
        "current": current,
        "remaining": open_count(target=target) if open_items else 0,
        "upcoming": _with_texts(open_items[1 : QUEUE_SHOWN + 1]),
        "message": message,
        "label_keys": [("pro", "1"), ("contra", "2"), ("neutral", "3")],
    }
    if current is not None:
        sentence = Sentence.objects.select_related("article").get(pk=current.sentence_id)
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
    return context


def _settled(target: Target) -> dict[str, object]:
    recent = (
        Adjudication.objects.filter(target=target)
        .select_related("sentence", "curator")
        .order_by("-updated_at", "-id")[:SETTLED_SHOWN]
    )
    return {"target": target, "settled": recent, "change_labels": STANCE_LABELS}


@require_GET
@vary_on_headers("HX-Request")
def adjudicate_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    if request.htmx:
        return render(request, "annotate/adjudicate.html#adjudication-card", _card(target))
    return render(request, "annotate/adjudicate.html", {**_card(target), **_settled(target)})


@require_POST
def adjudicate_settle(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "Adjudication")
    target = get_object_or_404(Target, pk=target_id)
    form = AdjudicateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain")
    sentence = get_object_or_404(Sentence, pk=form.cleaned_data["sentence"])
    label = form.cleaned_data["label"]
    adjudication_record(curator=request.user, sentence=sentence, target=target, label=label)
    if not request.htmx:
        return redirect("adjudicate", target_id=target.pk)
    message = f"Settled as {label}: “{sentence.text[:60]}”"
    card = render_to_string("annotate/adjudicate.html#adjudication-card", _card(target, message), request)
    settled = render_to_string(
        "annotate/adjudicate.html#settled-panel", {**_settled(target), "oob": True}, request
    )
    return HttpResponse(card + settled)
