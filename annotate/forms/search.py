"""The search page's GET form."""

from __future__ import annotations

from django import forms

from annotate.forms import ErrorsDescribed
from annotate.models import (
    MAX_ID,
    STANCE_LABELS,
    Article,
)
from annotate.search import QUERY_MAX_LENGTH, Agreement


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
