"""The export form (/export/<t>/form/): manage.py export_dataset's options."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from django import forms
from django.utils.datastructures import MultiValueDict

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
from annotate.models import (
    Target,
)
from annotate.splits import SeedError, parse_seed


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
