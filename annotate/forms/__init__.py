"""The forms of the labelling, adjudication, models and targets pages, and the
helpers every form module shares (form_errors, ErrorsDescribed). The other pages' forms
are in this package's modules named for them."""

from __future__ import annotations

from django import forms

from annotate.flags import COMMENT_MAX
from annotate.models import (
    MAX_ID,
    MAX_OVERLAP,
    STANCE_LABELS,
    FlagReason,
    Label,
    Shortcuts,
    SuggestionMode,
    Target,
)
from annotate.my_labels import Cursor, Filters
from annotate.queue.record import ACCEPT
from annotate.targets import (
    DESCRIPTION_FIELDS,
    EDITABLE,
    EVALUATION_FIELDS,
    QUEUE_FIELDS,
    RETRAIN_FIELDS,
    ExampleInput,
    clean_aliases,
)

MAX_ALIASES = 50
ALIAS_MAX_LENGTH = 200


class LabelForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    label = forms.ChoiceField(choices=[*Label.choices, (ACCEPT, "Accept suggestion")])
    spent_ms = forms.IntegerField(required=False)
    # Sent by the card that revealed the suggestion after a first label ("after" mode).
    revealed = forms.BooleanField(required=False)
    # Sent by the card of a label a curator returned (annotate/returns.py).
    returned = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class FlagForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    reason = forms.ChoiceField(choices=FlagReason.choices)
    comment = forms.CharField(required=False, max_length=COMMENT_MAX, strip=True)


class ReturnForm(forms.Form):
    annotation = forms.IntegerField(min_value=1, max_value=MAX_ID)
    comment = forms.CharField(max_length=COMMENT_MAX, strip=True)


class FlagResolveForm(forms.Form):
    flag = forms.IntegerField(min_value=1, max_value=MAX_ID)


class ChangeForm(forms.Form):
    label = forms.ChoiceField(choices=Label.choices)


class MyLabelsForm(forms.Form):
    """My labels' filters and cursor, from the query string; every field may be empty."""

    q = forms.CharField(required=False, max_length=200, label="Text contains")
    label = forms.ChoiceField(required=False, choices=[("", "Any label"), *Label.choices], label="Label")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    older = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    newer = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean_older(self) -> Cursor | None:
        token = self.cleaned_data["older"]
        return Cursor.parse(token) if token else None

    def clean_newer(self) -> Cursor | None:
        token = self.cleaned_data["newer"]
        return Cursor.parse(token) if token else None

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        if data.get("older") and data.get("newer"):
            self.add_error(None, "Give either an older or a newer cursor, not both.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(text=data["q"], label=data["label"], since=data["since"], until=data["until"])


def form_errors(form: forms.Form) -> str:
    """All errors of a form on one line, for a 400 response."""
    return "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items())


class QueueSettingsForm(forms.ModelForm):
    # The bound is the model's clean() too (for the admin); declared here as well so the
    # number input carries min and max.
    overlap = forms.IntegerField(
        min_value=1, max_value=MAX_OVERLAP, help_text=Target._meta.get_field("overlap").help_text
    )
    # Optional: a post from before the setting existed keeps the target's mode.
    suggestion_mode = forms.ChoiceField(
        choices=SuggestionMode.choices,
        required=False,
        help_text=Target._meta.get_field("suggestion_mode").help_text,
    )

    max_overlap = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_OVERLAP,
        help_text=Target._meta.get_field("max_overlap").help_text,
    )

    # The bound (above 0, at most 1) is the model field's validator, one message for the
    # form and the admin; the widget only suggests it.
    posterior_threshold = forms.FloatField(
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 1, "step": "any"}),
        help_text=Target._meta.get_field("posterior_threshold").help_text,
    )

    def clean_suggestion_mode(self) -> str:
        return self.cleaned_data["suggestion_mode"] or self.instance.suggestion_mode

    class Meta:
        model = Target
        fields = [*QUEUE_FIELDS, *EVALUATION_FIELDS]


class RetrainPolicyForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = list(RETRAIN_FIELDS)


class ActivateForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=MAX_ID)


class AdjudicateForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    label = forms.ChoiceField(choices=[(label, label) for label in STANCE_LABELS])


class OpenSentenceForm(forms.Form):
    """?sentence=<id> on the adjudication page: open that sentence first."""

    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)


class PromoteForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)


class AdjudicationUndoForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)
    # The newest history event the page showed for the sentence: a newer one refuses.
    seen_event = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class EvaluationToggleForm(forms.Form):
    sentence = forms.IntegerField(min_value=1, max_value=MAX_ID)


class ShortcutsForm(forms.Form):
    shortcuts = forms.ChoiceField(choices=Shortcuts.choices)
    next = forms.CharField(required=False)


class ErrorsDescribed:
    """After validation, each field in error names its message (and its help text) in
    aria-describedby, so a screen reader reads why when the field is focused."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        form: forms.BaseForm = self  # type: ignore[assignment]
        for name in form.errors:
            if name not in form.fields:
                continue
            bound = form[name]
            described = [f"{bound.auto_id}_error"]
            if form.fields[name].help_text:
                described.append(f"{bound.auto_id}_helptext")
            form.fields[name].widget.attrs["aria-describedby"] = " ".join(described)


class TargetForm(ErrorsDescribed, forms.ModelForm):
    """A target's name, description, guidelines, aliases, overlap and queue settings."""

    overlap = QueueSettingsForm.base_fields["overlap"]
    max_overlap = QueueSettingsForm.base_fields["max_overlap"]
    posterior_threshold = QueueSettingsForm.base_fields["posterior_threshold"]
    suggestion_mode = QueueSettingsForm.base_fields["suggestion_mode"]
    clean_suggestion_mode = QueueSettingsForm.clean_suggestion_mode
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Other names the target goes by, one a line (e.g. Huawei Technologies, the Chinese firm): "
        "highlighted in the sentences, whole words, any case.",
    )

    class Meta:
        model = Target
        fields = list(EDITABLE)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "guidelines": forms.Textarea(attrs={"rows": 14}),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound and self.instance.pk is not None:
            self.initial["aliases"] = "\n".join(self.instance.aliases)

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        if not name:
            raise forms.ValidationError("A target needs a name.")
        return name

    def clean_aliases(self) -> list[str]:
        aliases = clean_aliases(str(self.cleaned_data.get("aliases") or "").splitlines())
        if len(aliases) > MAX_ALIASES:
            raise forms.ValidationError(f"At most {MAX_ALIASES} aliases, not {len(aliases)}.")
        long = [a for a in aliases if len(a) > ALIAS_MAX_LENGTH]
        if long:
            raise forms.ValidationError(
                f"An alias has at most {ALIAS_MAX_LENGTH} characters: {long[0][:40]}…"
            )
        return aliases

    def values(self) -> dict[str, object]:
        return {name: self.cleaned_data[name] for name in EDITABLE}

    def target_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DESCRIPTION_FIELDS]

    def queue_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in QUEUE_FIELDS]


class ExampleForm(ErrorsDescribed, forms.Form):
    """One example of a label: a sentence and why it has that label. A row left empty is
    ignored; one with a sentence needs its label."""

    label = forms.ChoiceField(
        choices=[("", "—"), *[(label, label) for label in STANCE_LABELS]], required=False
    )
    text = forms.CharField(
        label="Sentence", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    why = forms.CharField(
        label="Why", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        text, label, why = (str(data.get(k) or "").strip() for k in ("text", "label", "why"))
        if (label or why) and not text:
            self.add_error("text", "Write the example sentence, or clear this row.")
        if text and not label:
            self.add_error("label", "Choose the label this sentence shows.")
        return data

    def example(self) -> ExampleInput | None:
        text = str(self.cleaned_data.get("text") or "").strip()
        if not text or self.cleaned_data.get("DELETE"):
            return None
        return ExampleInput(
            label=self.cleaned_data["label"], text=text, why=str(self.cleaned_data.get("why") or "").strip()
        )


ExampleFormSet = forms.formset_factory(ExampleForm, extra=2, can_delete=True, max_num=60, validate_max=True)


def examples_of(formset: forms.BaseFormSet) -> list[ExampleInput]:
    """The filled, kept rows of a valid examples formset."""
    rows = [form.example() for form in formset.forms if isinstance(form, ExampleForm)]
    return [example for example in rows if example is not None]


class ArchiveForm(forms.Form):
    archived = forms.TypedChoiceField(choices=[("1", "archive"), ("0", "restore")], coerce=lambda v: v == "1")
