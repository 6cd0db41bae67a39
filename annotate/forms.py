from __future__ import annotations

from django import forms

from annotate.models import MAX_ID, MAX_OVERLAP, STANCE_LABELS, Label, Shortcuts, Target
from annotate.queue.record import ACCEPT


class LabelForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    label = forms.ChoiceField(choices=[*Label.choices, (ACCEPT, "Accept suggestion")])
    spent_ms = forms.IntegerField(required=False)


class ChangeForm(forms.Form):
    label = forms.ChoiceField(choices=Label.choices)


def form_errors(form: forms.Form) -> str:
    """All errors of a form on one line, for a 400 response."""
    return "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items())


class QueueSettingsForm(forms.ModelForm):
    # The bound is the model's clean() too (for the admin); declared here as well so the
    # number input carries min and max.
    overlap = forms.IntegerField(
        min_value=1, max_value=MAX_OVERLAP, help_text=Target._meta.get_field("overlap").help_text
    )

    class Meta:
        model = Target
        fields = ["overlap", "queue_order", "uncertainty_measure", "random_share", "control_share"]


class RetrainPolicyForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["retrain_every", "retrain_floor_minutes"]


class ActivateForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=MAX_ID)


class AdjudicateForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    label = forms.ChoiceField(choices=[(label, label) for label in STANCE_LABELS])


class AdjudicationUndoForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    # The newest history event the page showed for the sentence: a newer one refuses.
    seen_event = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class ShortcutsForm(forms.Form):
    shortcuts = forms.ChoiceField(choices=Shortcuts.choices)
    next = forms.CharField(required=False)
