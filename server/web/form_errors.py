"""Refusals of a form, said to a person: in the page's language, by the field, with the field's label.

Pydantic reports errors in English with the model's attribute names ("Field required", "String should
have at most 256 characters", loc ("title",)); the services refuse with bilingual messages
("结束时间须晚于开始时间 / the end must be after the start"). A person must see neither raw text nor
attribute names, so every page form turns both into catalog messages here (form.error.<kind> with the
field's label), and the template shows each one beside its field (client_web/templates/partials/form.html).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from server.web import i18n

# A field name -> its label in the page language.
Labels = Callable[[str], str]
# Errors by form field; the key GENERAL holds those that belong to no field shown on the form.
FieldErrors = dict[str, str]
GENERAL = ""

# Pydantic error type -> catalog kind (form.error.<kind>). Types not listed read as "invalid".
_KINDS: Mapping[str, str] = {
    "missing": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "too_short": "too_few",
    "too_long": "too_many",
    "int_parsing": "integer", "int_type": "integer", "int_from_float": "integer",
    "greater_than": "out_of_range", "greater_than_equal": "out_of_range",
    "less_than": "out_of_range", "less_than_equal": "out_of_range",
    "decimal_parsing": "number", "decimal_type": "number", "float_parsing": "number", "float_type": "number",
    "decimal_max_digits": "number_digits", "decimal_max_places": "number_digits",
    "decimal_whole_digits": "number_digits",
    "date_parsing": "date", "date_from_datetime_parsing": "date", "date_from_datetime_inexact": "date",
    "date_type": "date",
    "datetime_parsing": "datetime", "datetime_from_date_parsing": "datetime", "datetime_type": "datetime",
    "timezone_aware": "datetime",
    "string_pattern_mismatch": "pattern",
    "enum": "choice", "literal_error": "choice",
    "extra_forbidden": "unknown_field",
    "string_type": "invalid",
}


def in_language(lang: str, message: str) -> str:
    """One language of a bilingual service message ("中文 / English"): the services and validators
    write both halves so that API clients of either language can show them."""
    chinese, separator, english = message.partition(" / ")
    return english if lang == "en" and separator else chinese


def catalog_labels(lang: str, keys: Mapping[str, str] | None = None) -> Labels:
    """Labels from the catalog: the form's own key for the field (`keys`), else `form.field.<field>`,
    else "this field"; never the attribute name, which means nothing to a person."""
    def label(name: str) -> str:
        for key in ((keys or {}).get(name, ""), f"form.field.{name}"):
            text = i18n.translate(lang, key) if key else key
            if key and text != key:
                return text
        return i18n.translate(lang, "form.this_field")
    return label


def message(lang: str, error: ErrorDetails, label: str, chosen: bool = False) -> str:
    """One pydantic error as a sentence naming the field by its label; a `chosen` field (a list, a
    select) that is missing asks to choose rather than to fill in."""
    kind = _KINDS.get(error["type"], "invalid")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in ("too_short", "too_few") and ctx.get("min_length") == 1:
        kind = "required"
    if kind == "required" and (chosen or error["type"] == "too_short"):
        kind = "choose"
    if error["type"] in ("value_error", "assertion_error"):
        reason = str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
        return i18n.translate(lang, "form.error.value_error", field=label, reason=in_language(lang, reason))
    return i18n.translate(lang, f"form.error.{kind}", field=label, min=ctx.get("min_length", ""),
                          max=ctx.get("max_length", ""))


def first_name(loc: tuple[int | str, ...]) -> str:
    """The form field of an error location: its first part (a form is flat)."""
    return str(loc[0]) if loc else GENERAL


def validation_errors(lang: str, exc: ValidationError, labels: Labels,
                      field_of: Callable[[tuple[int | str, ...]], str] = first_name,
                      chosen: frozenset[str] = frozenset()) -> FieldErrors:
    """Each form field's first error as a sentence. `field_of` maps a model location to the form
    field that shows it (a form may split or rename the model's fields); `chosen` names the form
    fields picked from a list rather than typed."""
    errors: FieldErrors = {}
    for error in exc.errors(include_url=False):
        field = field_of(tuple(error["loc"]))
        errors.setdefault(field, message(lang, error, labels(field), chosen=field in chosen))
    return errors


def page_message(lang: str, exc: ValidationError) -> str:
    """All errors in one line, for an error page that has no form to place them on (a bad filter)."""
    errors = validation_errors(lang, exc, catalog_labels(lang))
    return i18n.translate(lang, "form.list_separator").join(errors.values())
