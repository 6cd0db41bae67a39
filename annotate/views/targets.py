"""Targets: the list for everyone; creating, editing and archiving for admins."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotate.forms import ArchiveForm, ExampleFormSet, TargetForm, examples_of
from annotate.models import Target
from annotate.roles import require_admin
from annotate.targets import target_archive, target_create, target_update
from annotate.views.request import SignedInRequest


@require_GET
def target_list(request: SignedInRequest) -> HttpResponse:
    targets = Target.objects.order_by("id").only("id", "name", "description", "archived_at")
    in_use = [t for t in targets if not t.is_archived]
    archived = [t for t in targets if t.is_archived]
    return render(request, "annotate/target_list.html", {"in_use": in_use, "archived": archived})


def _written_examples(target: Target) -> list[dict[str, str]]:
    return [
        {"label": e.label, "text": e.text, "why": e.why}
        for e in target.examples.filter(sentence__isnull=True).order_by("id")
    ]


def _form_page(
    request: SignedInRequest,
    form: TargetForm,
    examples: forms.BaseFormSet,
    target: Target | None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, object] = {"form": form, "examples": examples, "target": target}
    if target is not None:
        context["promoted"] = list(target.examples.filter(sentence__isnull=False).order_by("id"))
    return render(request, "annotate/target_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def target_new(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, "Creating targets")
    if request.method == "GET":
        return _form_page(request, TargetForm(), ExampleFormSet(prefix="examples"), None)
    form = TargetForm(request.POST)
    examples = ExampleFormSet(request.POST, prefix="examples")
    if not (form.is_valid() and examples.is_valid()):
        return _form_page(request, form, examples, None, status=400)
    target = target_create(values=form.values(), examples=examples_of(examples))
    messages.success(request, f"Target {target.name} created.")
    return redirect("target-edit", target_id=target.pk)


@require_http_methods(["GET", "POST"])
def target_edit(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Editing targets")
    target = get_object_or_404(Target, pk=target_id)
    if request.method == "GET":
        examples = ExampleFormSet(prefix="examples", initial=_written_examples(target))
        return _form_page(request, TargetForm(instance=target), examples, target)
    form = TargetForm(request.POST, instance=target)
    examples = ExampleFormSet(request.POST, prefix="examples")
    if not (form.is_valid() and examples.is_valid()):
        # form.is_valid() wrote the bad values onto `target`: read it again for the page.
        return _form_page(request, form, examples, Target.objects.get(pk=target_id), status=400)
    target = target_update(target_id=target.pk, values=form.values(), examples=examples_of(examples))
    messages.success(request, f"Target {target.name} saved.")
    return redirect("target-edit", target_id=target.pk)


@require_POST
def target_archive_set(request: SignedInRequest, target_id: int) -> HttpResponse:
    require_admin(request.user, "Archiving targets")
    target = get_object_or_404(Target, pk=target_id)
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        return HttpResponse("archived: must be 1 or 0.", status=400, content_type="text/plain")
    target = target_archive(target_id=target.pk, archived=form.cleaned_data["archived"])
    if target.is_archived:
        messages.success(request, f"{target.name} is archived: read-only, its labels kept.")
    else:
        messages.success(request, f"{target.name} is in use again.")
    return redirect("target-edit", target_id=target.pk)
