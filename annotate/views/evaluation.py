"""Curators: each annotator against the evaluation items, and lifting a flag or pause."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate.evaluation import evaluation_lift, evaluations, recent_answers
from annotate.models import STANCE_LABELS, EvaluationItem, Target
from annotate.roles import require_curator
from annotate.summary import summary_for
from annotate.views.request import SignedInRequest

#: Answers listed on an annotator's page, newest first.
ANSWERS_SHOWN = 50


@require_GET
def annotator_page(request: SignedInRequest, target_id: int, annotator_id: int) -> HttpResponse:
    require_curator(request.user, "Annotator evaluation")
    target = get_object_or_404(Target, pk=target_id)
    summary = summary_for(target=target)
    found = evaluations(target=target, annotator_id=annotator_id, summary=summary)
    if not found:
        raise Http404("That annotator has no labels on this target.")
    context = {
        "target": target,
        "evaluation": found[0],
        "answers": recent_answers(target=target, annotator_id=annotator_id, limit=ANSWERS_SHOWN),
        "answers_shown": ANSWERS_SHOWN,
        "items": EvaluationItem.objects.filter(target=target).count(),
        "labels": STANCE_LABELS,
        "summary_at": None if summary is None else summary.computed_at,
        "status": request.GET.get("lifted") and "Lifted: only answers from now on count toward a new flag.",
    }
    return render(request, "annotate/annotator.html", context)


@require_POST
def annotator_lift(request: SignedInRequest, target_id: int, annotator_id: int) -> HttpResponse:
    require_curator(request.user, "Annotator evaluation")
    target = get_object_or_404(Target, pk=target_id)
    annotator = get_object_or_404(get_user_model(), pk=annotator_id)
    evaluation_lift(curator=request.user, annotator=annotator, target=target)
    response = redirect("annotator", target_id=target.pk, annotator_id=annotator.pk)
    response["Location"] += "?lifted=1"
    return response
