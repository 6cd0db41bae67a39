"""The import pages' upload forms: article files and a label file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from annotate.corpus import LINE
from annotate.models import (
    UNKNOWN_LICENCE,
    Article,
    Target,
    Unit,
    column_size,
)
from annotate.uploads import UploadedText, size_problem


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
