from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.labelling import shortcuts_for
from annotate.models import Annotation, Article, Label, Target
from annotate.views.my_labels import ROW_LABELS
from annotate.views.request import SignedInRequest


@require_GET
def article_list(request: SignedInRequest) -> HttpResponse:
    articles = (
        Article.objects.annotate(sentence_count=Count("sentences"))
        .only("id", "title", "source", "published")
        .order_by("id")
    )
    return render(request, "annotate/article_list.html", {"articles": articles})


@require_GET
def article_detail(request: SignedInRequest, article_id: int) -> HttpResponse:
    """An article's sentences in order, coloured by the reader's own labels, each of which
    can be changed in place (My labels' change, annotate/views/my_labels.py); sentences the
    reader has not labelled are labelled in the queue, which hands them out."""
    article = get_object_or_404(Article.objects.defer("body"), pk=article_id)
    targets = list(Target.objects.order_by("id"))
    target = next(
        (t for t in targets if str(t.pk) == request.GET.get("target")),
        next((t for t in targets if not t.is_archived), None),  # the first in use
    )
    mine = {
        annotation.sentence_id: annotation
        for annotation in Annotation.objects.filter(
            annotator=request.user, target=target, sentence__article=article
        ).only("id", "sentence_id", "target_id", "label")
    }
    rows = [
        (s, mine.get(s.id)) for s in article.sentences.order_by("position").only("id", "position", "text")
    ]
    for sentence, entry in rows:
        if entry is not None:
            entry.sentence = sentence  # the change buttons name it
    context = {
        "article": article,
        "rows": rows,
        "target": target,
        "targets": targets,
        "labelled": len(mine),  # skips included: a skip is a decision too
        "skipped": sum(1 for entry in mine.values() if entry.label == Label.SKIP),
        "changeable": target is not None and not target.is_archived,
        "row_labels": ROW_LABELS,
        "back": request.get_full_path(),
        "shortcuts": shortcuts_for(user=request.user),
    }
    return render(request, "annotate/article_detail.html", context)
