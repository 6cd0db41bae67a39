"""The team page's forms: roles, deactivation, invites and accepting one."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from annotate.roles import ANNOTATOR, ROLES

ROLE_CHOICES = [(role, role) for role in ROLES]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class ActiveForm(forms.Form):
    active = forms.TypedChoiceField(
        choices=[("1", "reactivate"), ("0", "deactivate")], coerce=lambda v: v == "1"
    )


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=ANNOTATOR)
    email = forms.EmailField(required=False, label="E-mail (optional)", help_text="Given to the new account.")
    note = forms.CharField(
        required=False,
        max_length=200,
        label="Note (optional)",
        help_text="Who it is for; only admins see it.",
    )


class InviteAcceptForm(UserCreationForm):
    """Username and password, checked by Django: the username free (in any case), the two
    passwords the same and passing AUTH_PASSWORD_VALIDATORS."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
