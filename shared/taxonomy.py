"""The aspiration category taxonomy, read from the routing rules file (one source of truth).

Besides its labels, a category may ask for extra answers (`attributes` in the rules file):
tawuran asks when the clash is expected and where, street lighting how many lamps are out.
They are GeoReport v2 service-definition attributes (datatypes string, number, datetime,
text, singlevaluelist, multivaluelist); `validate_attributes` checks submitted answers
against them, with a message per attribute code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import yaml
from marshmallow import Schema, ValidationError, fields, validate

from shared.fields import CleanText, Instant
from shared.timeutil import utc_iso

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
STRING_MAX_LENGTH = 200  # one line, unless the attribute says otherwise
TEXT_MAX_LENGTH = 4000  # as the spec limits a request's description
_CODE = re.compile(r"[a-z][a-z0-9_]{0,49}")


class TaxonomyError(ValueError):
    """The rules file describes a category or attribute the code cannot use."""


@dataclass(frozen=True)
class Label:
    """A text in Bahasa Indonesia (first) and English."""

    id: str
    en: str

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.id


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: Label


@dataclass(frozen=True)
class Attribute:
    """One extra answer a category asks for (a GeoReport v2 service-definition attribute).

    `variable` false marks a notice shown to the reporter that takes no answer. The
    limits (`minimum`, `maximum`, `whole`, `max_length`, `format`) are ours: GeoReport has
    no field for them, so `datatype_description` says them in words.
    """

    code: str
    datatype: str
    order: int
    description: Label
    required: bool = False
    variable: bool = True
    datatype_description: Label | None = None
    values: tuple[AttributeValue, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False
    max_length: int | None = None
    format: str | None = None  # "url": an http(s) address


@dataclass(frozen=True)
class Category:
    id: str
    label_id: str
    label_en: str
    sensitive: bool
    attributes: tuple[Attribute, ...] = ()


@lru_cache(maxsize=8)
def load_categories(path: str) -> dict[str, Category]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {
        cid: Category(
            id=cid,
            label_id=spec.get("label", {}).get("id", cid),
            label_en=spec.get("label", {}).get("en", cid),
            sensitive=bool(spec.get("sensitive", False)),
            attributes=_attributes(cid, spec.get("attributes") or []),
        )
        for cid, spec in data["categories"].items()
    }


def _attributes(category: str, raw: list) -> tuple[Attribute, ...]:
    """The category's attributes in the file's order (which is their `order`), checked."""
    found: list[Attribute] = []
    for order, spec in enumerate(raw, start=1):
        where = f"category {category!r}, attribute {order}"
        try:
            attribute = _attribute(order, spec)
        except (KeyError, TypeError, ValueError) as error:
            raise TaxonomyError(f"{where}: malformed ({error!r})") from error
        problem = _attribute_problem(attribute)
        if problem is None and attribute.code in {a.code for a in found}:
            problem = "code used twice"
        if problem:
            raise TaxonomyError(f"{where} ({attribute.code}): {problem}")
        found.append(attribute)
    return tuple(found)


def _attribute(order: int, spec: Mapping) -> Attribute:
    def label(raw) -> Label | None:
        return None if raw is None else Label(id=str(raw["id"]), en=str(raw["en"]))

    def number(raw) -> float | None:
        return None if raw is None else float(raw)

    return Attribute(
        code=str(spec["code"]),
        datatype=str(spec["datatype"]),
        order=order,
        description=label(spec["description"]),
        required=bool(spec.get("required", False)),
        variable=bool(spec.get("variable", True)),
        datatype_description=label(spec.get("datatype_description")),
        values=tuple(
            AttributeValue(key=str(value["key"]), name=label(value["name"]))
            for value in spec.get("values") or []
        ),
        minimum=number(spec.get("minimum")),
        maximum=number(spec.get("maximum")),
        whole=bool(spec.get("whole", False)),
        max_length=None if spec.get("max_length") is None else int(spec["max_length"]),
        format=spec.get("format"),
    )


def _attribute_problem(attribute: Attribute) -> str | None:
    if not _CODE.fullmatch(attribute.code):
        return "code must be lower-case letters, digits and _ (at most 50)"
    if attribute.datatype not in DATATYPES:
        return f"datatype must be one of {', '.join(DATATYPES)}"
    keys = [value.key for value in attribute.values]
    if (attribute.datatype in LIST_DATATYPES) != bool(keys):
        return "values are needed by (and only by) singlevaluelist and multivaluelist"
    if len(set(keys)) != len(keys):
        return "value keys must be unique"
    if not attribute.variable and attribute.required:
        return "a notice (variable: false) cannot be required"
    if attribute.format not in (None, "url"):
        return "format can only be url"
    return None


def validate_attributes(
    attributes: tuple[Attribute, ...], submitted: Mapping[str, object]
) -> dict[str, object]:
    """The answers in `submitted` (attribute code -> value), checked and cleaned.

    Empty answers ("", None, []) count as not given. A number comes back as int or float,
    a datetime as UTC ISO 8601, a multivaluelist as a list of keys (a single key is
    accepted too, as a form sends it). Raises marshmallow's ValidationError with the
    messages per code: a required answer missing, a value of the wrong datatype or out of
    range, a key not in the list, a code the category does not have.
    """
    given = {code: value for code, value in submitted.items() if not _empty(value)}
    notices = {a.code for a in attributes if not a.variable}
    problems: dict[str, list[str]] = {
        code: ["Information only: it takes no answer."] for code in given if code in notices
    }
    answers = {code: value for code, value in given.items() if code not in notices}
    for attribute in attributes:
        value = answers.get(attribute.code)
        if attribute.datatype == "multivaluelist" and isinstance(value, str):
            answers[attribute.code] = [value]
    try:
        cleaned = _schema(attributes)().load(answers)
    except ValidationError as error:
        problems.update(error.messages)
        cleaned = {}
    if problems:
        raise ValidationError(problems)
    by_code = {attribute.code: attribute for attribute in attributes}
    return {code: _clean(by_code[code], value) for code, value in cleaned.items()}


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _clean(attribute: Attribute, value):
    if attribute.datatype == "number" and attribute.whole:
        return int(value)
    if attribute.datatype == "datetime":
        return utc_iso(value)
    if attribute.datatype == "multivaluelist":
        return list(dict.fromkeys(value))  # each key once, in the order given
    return value


@cache
def _schema(attributes: tuple[Attribute, ...]) -> type[Schema]:
    return Schema.from_dict(
        {a.code: _field(a) for a in attributes if a.variable}, name="AttributeAnswers"
    )


def _field(attribute: Attribute) -> fields.Field:
    required = {"required": attribute.required}
    datatype = attribute.datatype
    if datatype == "number":
        checks = [validate.Range(min=attribute.minimum, max=attribute.maximum)]
        if attribute.whole:
            checks.append(_whole)
        return fields.Float(allow_nan=False, validate=checks, **required)
    if datatype == "datetime":
        return Instant(**required)
    if datatype in ("string", "text"):
        longest = attribute.max_length or (
            STRING_MAX_LENGTH if datatype == "string" else TEXT_MAX_LENGTH
        )
        checks = [validate.Length(max=longest)]
        if datatype == "string":
            checks.append(_one_line)
        if attribute.format == "url":
            checks.append(validate.URL(schemes={"http", "https"}))
        return CleanText(validate=checks, **required)
    keys = validate.OneOf([value.key for value in attribute.values])
    if datatype == "singlevaluelist":
        return fields.String(validate=keys, **required)
    return fields.List(fields.String(validate=keys), validate=validate.Length(min=1), **required)


def _whole(value: float) -> None:
    if value != int(value):
        raise ValidationError("Must be a whole number.")


def _one_line(value: str) -> None:
    if "\n" in value:
        raise ValidationError("Must be one line (no line breaks).")
