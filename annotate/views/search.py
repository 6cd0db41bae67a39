"""Curators search the sentences of the corpus (annotate/search.py), with a target's labels."""

from __future__ import annotations

from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotate.forms.search import SearchForm
from annotate.models import Article, Target
from annotate.roles import require_curator
from annotate.search import BadQuery, Cursor, Filters, SearchPage, sentences_search
from annotate.views.request import SignedInRequest

#: Sources offered as suggestions in the source field (any other can be typed).
SOURCES_SHOWN = 200


def _results(form: SearchForm, target: Target) -> dict[str, object]:
    """The page of hits the form asks for, or why there is none."""
    if not form.is_bound:
        return {"page": SearchPage(), "searched": False}
    if not form.is_valid():
        problems = [
            f"{form[name].label}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()
        ]
        return {"page": SearchPage(), "searched": False, "refused": "Check the search. " + " ".join(problems)}
    data = form.cleaned_data
    filters = Filters(
        label=data["label"],
        agreement=data["agreement"],
        article_id=data["article"],
        source=data["source"] or None,
        flagged=data["flag"] == "open",
    )
    try:
        after = Cursor.parse(data["after"]) if data["after"] else None
        page = sentences_search(target=target, query=data["q"], filters=filters, after=after)
    except BadQuery as refused:
        return {"page": SearchPage(), "searched": False, "refused": str(refused)}
    following = QueryDict(mutable=True)
    following.update({name: str(value) for name, value in data.items() if value not in ("", None)})
    if page.next_cursor is not None:
        following["after"] = str(page.next_cursor)
    return {
        "page": page,
        "searched": bool(data["q"].strip()),
        "continued": after is not None,
        "next_query": following.urlencode() if page.next_cursor else "",
    }


@require_GET
@vary_on_headers("HX-Request")
def search_page(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "Search")
    target = get_object_or_404(Target, pk=target_id)
    form = SearchForm(request.GET if request.GET else None)
    context = {"target": target, "form": form, **_results(form, target)}
    if request.htmx:
        return render(request, "annotate/search.html#search-results", {**context, "oob": True})
    sources = Article.objects.exclude(source="").order_by("source").values_list("source", flat=True)
    context["sources"] = sources.distinct()[:SOURCES_SHOWN]
    return render(request, "annotate/search.html", context)
