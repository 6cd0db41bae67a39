"""Template tags for targets: the header's target picker, guidelines as HTML, aliases marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from annotate.guidelines import alias_pattern, guidelines_html, mark_aliases
from annotate.models import Target

register = template.Library()

#: The pages that show one target, by URL name: the picker links to the same page for
#: another target. The article page takes its target from ?target=.
PER_TARGET_PAGES = frozenset(
    {"label", "my-labels", "adjudicate", "dashboard", "models", "search", "target-edit", "export-form"}
)
BY_QUERY_PAGES = frozenset({"article-detail"})


@dataclass(frozen=True)
class Choice:
    name: str
    url: str
    current: bool
    archived: bool


def picker_choices(*, url_name: str, path: str, current: Target) -> list[Choice]:
    """The targets in use, in id order, each linking to the same page; the current one
    marked, and listed even when it is archived (archived ones are hidden otherwise)."""
    rows = list(Target.objects.in_use().order_by("id").values_list("id", "name"))
    if current.is_archived:
        rows = sorted([*rows, (current.pk, current.name)])
    choices = []
    for pk, name in rows:
        if url_name in BY_QUERY_PAGES:
            url = f"{path}?target={pk}"
        else:
            url = reverse(url_name, kwargs={"target_id": pk})
        choices.append(Choice(name, url, pk == current.pk, pk == current.pk and current.is_archived))
    return choices


@register.inclusion_tag("annotate/_target_picker.html", takes_context=True)
def target_picker(context: template.Context) -> dict[str, Any]:
    """The header's picker on a page about one target (its context's `target`); nothing
    elsewhere, and nothing to pick when there is one target only."""
    request = context.get("request")
    current = context.get("target")
    match = getattr(request, "resolver_match", None)
    if request is None or match is None or not isinstance(current, Target):
        return {"choices": []}
    if match.url_name not in PER_TARGET_PAGES | BY_QUERY_PAGES:
        return {"choices": []}
    choices = picker_choices(url_name=match.url_name, path=request.path, current=current)
    return {"choices": choices, "current": current}


@register.filter
def markdown_guidelines(text: str) -> SafeString:
    return guidelines_html(text)


@register.filter
def aliases_marked(text: str, target: Target | None) -> SafeString:
    """The sentence's text, escaped, with the target's aliases (and its name) marked."""
    names = [] if target is None else [target.name, *target.aliases]
    return mark_aliases(text, alias_pattern(names))
