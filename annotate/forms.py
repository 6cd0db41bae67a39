from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from annotate.corpus import LINE
from annotate.export import (
    FORMATS,
    LEVELS,
    OPTION_HELP,
    QUERY_DEFAULTS,
    TRUE,
    ExportError,
    ExportSpec,
    check_choice,
    parse_flag,
)
from annotate.flags import COMMENT_MAX
from annotate.models import (
    MAX_ID,
    MAX_OVERLAP,
    STANCE_LABELS,
    UNKNOWN_LICENCE,
    Article,
    FlagReason,
    Label,
    Shortcuts,
    SuggestionMode,
    Target,
    Unit,
    column_size,
)
from annotate.my_labels import Cursor, Filters
from annotate.queue.record import ACCEPT
from annotate.roles import ANNOTATOR, ROLES
from annotate.search import QUERY_MAX_LENGTH, Agreement
from annotate.splits import SeedError, parse_seed
from annotate.targets import EDITABLE, ExampleInput, clean_aliases
from annotate.uploads import UploadedText, size_problem

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

    def clean_suggestion_mode(self) -> str:
        return self.cleaned_data["suggestion_mode"] or self.instance.suggestion_mode

    class Meta:
        model = Target
        fields = [
            "overlap",
            "dynamic_overlap",
            "max_overlap",
            "queue_order",
            "uncertainty_measure",
            "random_share",
            "control_share",
            "evaluation_rate",
            "evaluation_onboarding",
            "min_label_ms",
            "evaluation_threshold",
            "evaluation_min_items",
            "evaluation_pause",
            "suggestion_mode",
        ]


class RetrainPolicyForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = ["retrain_every", "retrain_floor_minutes"]


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


TARGET_FIELDS = ("name", "description", "guidelines", "aliases")


class TargetForm(ErrorsDescribed, forms.ModelForm):
    """A target's name, description, guidelines, aliases, overlap and queue settings."""

    overlap = QueueSettingsForm.base_fields["overlap"]
    max_overlap = QueueSettingsForm.base_fields["max_overlap"]
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
        return [self[name] for name in TARGET_FIELDS]

    def queue_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in EDITABLE if name not in TARGET_FIELDS]


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


class FlagInput(forms.CheckboxInput):
    """A checkbox that hands the form what was sent, for annotate.export.parse_flag to
    judge: Django's own reads any value but "false" as ticked ("maybe" included)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, check_test=lambda value: value is True or str(value).lower() in TRUE)

    def format_value(self, value: Any) -> str | None:
        return None  # no value attribute: a ticked box sends "on"

    def value_from_datadict(self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str) -> Any:
        return data.get(name, "")


def _choices(values: Sequence[str]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _option(widget: forms.Widget, label: str, name: str) -> forms.CharField:
    """An option as sent (no stripping, never "required"): ExportForm.clean judges it by the
    export's own rule, so the form says what the download and the API say."""
    return forms.CharField(
        required=False, strip=False, widget=widget, label=label, help_text=OPTION_HELP[name]
    )


#: Each option's rule: the export's (annotate.export, annotate.splits), as the command's.
EXPORT_RULES: dict[str, Callable[[str], object]] = {
    "format": partial(check_choice, "format"),
    "level": partial(check_choice, "level"),
    "split": partial(parse_flag, "split"),
    "seed": parse_seed,
    "names": partial(parse_flag, "names"),
}


class ExportForm(forms.Form):
    """manage.py export_dataset's options but --target (the page's) and --output (the
    browser's download); its --card is the form's second download button. An option left
    out of the query takes the download's default (annotate.export.QUERY_DEFAULTS)."""

    format = _option(forms.RadioSelect(choices=_choices(FORMATS)), "Format", "format")
    level = _option(forms.RadioSelect(choices=_choices(LEVELS)), "Level", "level")
    split = _option(FlagInput(), "Add a train/dev/test split", "split")
    seed = _option(
        forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 20}), "Seed", "seed"
    )
    names = _option(FlagInput(), "Usernames instead of pseudonyms", "names")

    def __init__(self, *, target: Target, query: Mapping[str, str]) -> None:
        super().__init__(data={**QUERY_DEFAULTS, **{name: query[name] for name in query}})
        self.target = target
        for name, field in self.fields.items():
            # The error slot is on the page even when empty: a preview fills it in place.
            field.widget.attrs["aria-describedby"] = f"id_{name}_error id_{name}_helptext"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, rule in EXPORT_RULES.items():
            if name in data:
                try:
                    data[name] = rule(data[name])
                except (ExportError, SeedError) as error:
                    self.add_error(name, str(error))
        return data

    def spec(self) -> ExportSpec:
        """The export the valid form asks for."""
        return ExportSpec(target=self.target, **self.cleaned_data)


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


class SearchForm(ErrorsDescribed, forms.Form):
    """The search page's GET form: a query, the filters, and where the page starts."""

    q = forms.CharField(
        label="Search sentences",
        required=False,
        max_length=QUERY_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text='Words find sentences with all of them; "quoted words" a phrase; -word leaves sentences out.',
    )
    label = forms.ChoiceField(
        label="Gold label",
        required=False,
        choices=[("", "any"), *((label, label) for label in STANCE_LABELS)],
        help_text="A curator's label, else the annotators' strict majority.",
    )
    agreement = forms.ChoiceField(
        label="Agreement", required=False, choices=[("", "any"), *Agreement.choices]
    )
    source = forms.CharField(
        label="Source",
        required=False,
        max_length=Article._meta.get_field("source").max_length,
        widget=forms.TextInput(attrs={"list": "source-list"}),
    )
    article = forms.IntegerField(label="Article id", required=False, min_value=1, max_value=MAX_ID)
    flag = forms.ChoiceField(
        label="Flag",
        required=False,
        choices=[("", "any"), ("open", "an open flag")],
        help_text="Sentences an annotator flagged (f) and no curator has resolved yet.",
    )
    after = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern): a list of them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def uploaded_texts(files: list[UploadedFile]) -> list[UploadedText]:
    """The files' names (without folders) and bytes; a file over the size limit is refused
    before it is read."""
    texts = []
    for file in files:
        name = Path(file.name or "upload").name[:300]
        problem = size_problem(name=name, size=file.size or 0)
        if problem is not None:
            raise forms.ValidationError(problem)
        texts.append(UploadedText(name=name, data=file.read()))
    return texts


class ArticlesUploadForm(forms.Form):
    article_files = MultipleFileField(
        label="Article files",
        help_text=".txt (a headline, then paragraphs) or .jsonl (one article a line); several at once.",
        widget=MultipleFileInput(attrs={"accept": ".txt,.jsonl"}),
    )
    unit = forms.ChoiceField(
        choices=[
            (Unit.SENTENCE.value, "Sentences: split each text (news articles)"),
            (Unit.TEXT.value, "Texts kept whole: each record, or each .txt file, one unit"),
            (LINE, "Lines: each non-empty line of a .txt file a text kept whole"),
        ],
        initial=Unit.SENTENCE.value,
    )
    source = forms.CharField(
        max_length=column_size(Article, "source"),
        required=False,
        help_text="The outlet, for articles whose record names none.",
    )
    licence = forms.CharField(
        max_length=column_size(Article, "licence"),
        required=False,
        initial=UNKNOWN_LICENCE,
        help_text="The licence the texts were obtained under (e.g. CC-BY-4.0), for records that name none; "
        "left empty, unknown.",
    )

    def clean_article_files(self) -> list[UploadedText]:
        return uploaded_texts(self.cleaned_data["article_files"])

    def clean_licence(self) -> str:
        return self.cleaned_data.get("licence", "").strip() or UNKNOWN_LICENCE


class LabelsUploadForm(forms.Form):
    file = forms.FileField(
        label="Label file",
        help_text=".csv or .jsonl with a text and a label column (pro, contra, neutral, or mapped).",
        widget=forms.FileInput(attrs={"accept": ".csv,.jsonl"}),
    )
    target = forms.ModelChoiceField(queryset=Target.objects.in_use().order_by("id"), empty_label=None)
    annotator = forms.CharField(
        max_length=150, help_text="The username the labels are recorded under (made if it is new)."
    )
    label_map = forms.CharField(
        label="Label mapping",
        max_length=1000,
        required=False,
        help_text="Optional, e.g. FAVOR=pro,AGAINST=contra,NONE=neutral.",
    )

    def clean_file(self) -> UploadedText:
        return uploaded_texts([self.cleaned_data["file"]])[0]
