from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from annotate.models import Article


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("article-list")


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    articles = (
        Article.objects.annotate(sentence_count=Count("sentences"))
        .only("id", "title", "source", "published")
        .order_by("id")
    )
    return render(request, "annotate/article_list.html", {"articles": articles})


@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.defer("body"), pk=article_id)
    sentences = article.sentences.order_by("position").only("id", "position", "text")
    return render(request, "annotate/article_detail.html", {"article": article, "sentences": sentences})
