from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from annotate.models import Annotation, Article, Label, Target
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
    """An article's sentences in order, coloured by the reader's own labels."""
    article = get_object_or_404(Article.objects.defer("body"), pk=article_id)
    targets = list(Target.objects.order_by("id"))
    target = next(
        (t for t in targets if str(t.pk) == request.GET.get("target")),
        next((t for t in targets if not t.is_archived), None),  # the first in use
    )
    mine = dict(
        Annotation.objects.filter(
            annotator=request.user, target=target, sentence__article=article
        ).values_list("sentence_id", "label")
    )
    rows = [
        (s, mine.get(s.id, "")) for s in article.sentences.order_by("position").only("id", "position", "text")
    ]
    context = {
        "article": article,
        "rows": rows,
        "target": target,
        "targets": targets,
        "labelled": len(mine),  # skips included: a skip is a decision too
        "skipped": sum(1 for label in mine.values() if label == Label.SKIP),
    }
    return render(request, "annotate/article_detail.html", context)
