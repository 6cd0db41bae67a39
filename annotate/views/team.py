"""The team page (admins): people, roles, deactivation, reset links and invites; and the
invite link's page, where a visitor who is not logged in makes their account."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from annotate.forms import form_errors
from annotate.forms.team import ActiveForm, InviteAcceptForm, InviteForm, RoleForm
from annotate.invites import (
    InviteRefused,
    invite_accept,
    invite_create,
    invite_for_token,
    invite_revoke,
    invites_open,
)
from annotate.models import Invite
from annotate.roles import ROLES, is_admin, require_admin
from annotate.team import (
    TeamRefused,
    person_active_set,
    person_password_reset_send,
    person_role_set,
    team_member,
    team_members,
)
from annotate.views.request import SignedInRequest

NEW_LINK_KEY = "team:new-invite-link"


def _page(request: SignedInRequest, *, status: int = 200, form: InviteForm | None = None) -> HttpResponse:
    context = {
        "people": team_members(),
        "invites": invites_open(),
        "invite_form": form or InviteForm(),
        "new_link": request.session.pop(NEW_LINK_KEY, None),
        "roles": ROLES,
        "expiry_days": settings.INVITE_EXPIRY_DAYS,
        "password_reset_enabled": settings.PASSWORD_RESET_ENABLED,
    }
    return render(request, "annotate/team.html", context, status=status)


@require_GET
def team_page(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, "The team page")
    return _page(request)


def _refused(request: SignedInRequest, message: str) -> HttpResponse:
    """Bad input: nothing was written. htmx shows the text in the page's status line."""
    if request.htmx:
        return HttpResponse(message, status=400, content_type="text/plain")
    messages.error(request, message)
    return _page(request, status=400)


def _changed(request: SignedInRequest, person_id: int, message: str) -> HttpResponse:
    """The person's new row for htmx, with the announcement for the live region; otherwise
    back to the page with the message."""
    if person_id == request.user.pk and not is_admin(request.user):  # they stepped down
        messages.success(request, message)
        return HttpResponseClientRedirect(reverse("home")) if request.htmx else redirect("home")
    if not request.htmx:
        messages.success(request, message)
        return redirect("team")
    context = {"person": team_member(person_id=person_id), "roles": ROLES}
    context["password_reset_enabled"] = settings.PASSWORD_RESET_ENABLED
    response = render(request, "annotate/team.html#person-row", context)
    return trigger_client_event(response, "team-status", {"message": message})


def _person_or_404(person_id: int) -> str:
    username = User.objects.filter(pk=person_id).values_list("username", flat=True).first()
    if username is None:
        raise Http404("No such person.")
    return username


@require_POST
@vary_on_headers("HX-Request")
def team_role(request: SignedInRequest, person_id: int) -> HttpResponse:
    require_admin(request.user, "Changing roles")
    _person_or_404(person_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, f"Unknown role: choose one of {', '.join(ROLES)}.")
    role = form.cleaned_data["role"]
    try:
        person = person_role_set(person_id=person_id, role=role)
    except TeamRefused as refusal:
        return _refused(request, " ".join(refusal.messages))
    return _changed(request, person_id, f"{person.username} is now {role}.")


@require_POST
@vary_on_headers("HX-Request")
def team_active(request: SignedInRequest, person_id: int) -> HttpResponse:
    require_admin(request.user, "Deactivating accounts")
    _person_or_404(person_id)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return _refused(request, "active: must be 1 (reactivate) or 0 (deactivate).")
    active = form.cleaned_data["active"]
    try:
        person = person_active_set(actor=request.user, person_id=person_id, active=active)
    except TeamRefused as refusal:
        return _refused(request, " ".join(refusal.messages))
    if active:
        return _changed(request, person_id, f"{person.username} is active again.")
    return _changed(request, person_id, f"{person.username} is deactivated; their labels are kept.")


@require_POST
@vary_on_headers("HX-Request")
def team_reset(request: SignedInRequest, person_id: int) -> HttpResponse:
    require_admin(request.user, "Sending reset links")
    _person_or_404(person_id)
    if not settings.PASSWORD_RESET_ENABLED:
        return _refused(request, "No e-mail is configured (EMAIL_HOST): no reset link can be sent.")
    try:
        person = person_password_reset_send(
            person_id=person_id, domain=request.get_host(), use_https=request.is_secure()
        )
    except TeamRefused as refusal:
        return _refused(request, " ".join(refusal.messages))
    return _changed(request, person_id, f"A password-reset link is on its way to {person.email}.")


@require_POST
def team_invite(request: SignedInRequest) -> HttpResponse:
    require_admin(request.user, "Inviting people")
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The invite was not made: {form_errors(form)}")
        return _page(request, status=400, form=form)
    made = invite_create(created_by=request.user, **form.cleaned_data)
    # Shown once, on the page this redirects to: the database keeps the token's hash only.
    request.session[NEW_LINK_KEY] = request.build_absolute_uri(reverse("invite", args=[made.token]))
    return redirect("team")


@require_POST
def team_invite_revoke(request: SignedInRequest, invite_id: int) -> HttpResponse:
    require_admin(request.user, "Revoking invites")
    try:
        invite_revoke(invite_id=invite_id)
    except Invite.DoesNotExist:
        raise Http404("No such invite.") from None
    except InviteRefused as refusal:
        return _refused(request, " ".join(refusal.messages))
    messages.success(request, "The invite link no longer works.")
    return redirect("team")


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def invite_page(request: HttpRequest, token: str) -> HttpResponse:
    """Make an account from an invite link: choose a username and a password."""
    try:
        invite = invite_for_token(token=token)
    except InviteRefused as refusal:
        return render(request, "annotate/invite.html", {"refused": " ".join(refusal.messages)}, status=410)
    if request.method == "GET":
        return render(request, "annotate/invite.html", {"form": InviteAcceptForm(), "invite": invite})
    form = InviteAcceptForm(request.POST)
    if not form.is_valid():
        return render(request, "annotate/invite.html", {"form": form, "invite": invite}, status=400)
    try:
        user = invite_accept(
            token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
        )
    except InviteRefused as refusal:
        return render(
            request,
            "annotate/invite.html",
            {"form": form, "invite": invite, "error": " ".join(refusal.messages)},
            status=400,
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome, {user.username}: your account is ready.")
    return redirect("home")
