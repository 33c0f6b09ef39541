"""Hypothesis strategies for hostile input, shared by the REST suite (tests/api/test_hostile_rest.py)
and the socket.io one (tests/media/test_signaling_fuzz.py).

Inputs are generated from the JSON schemas the server itself publishes (the OpenAPI document, the
signaling messages' pydantic models), so a new field or endpoint is fuzzed without editing this
file: mostly valid values that reach the handlers, with hostile values mixed in (wrong types, huge
strings, NUL, lone surrogates, Unicode digits, numbers past every integer range, deep nesting).

hypothesis-jsonschema would build the valid part, but its 0.23 release fails on current hypothesis
(``'many' object has no attribute 'more'``), so `from_schema` below covers the keywords pydantic
emits. Runs are reproducible: the ``ci`` profile (the default) is derandomized and keeps no example
database; ``HYPOTHESIS_PROFILE=explore`` searches ten times longer from random seeds.
"""

from __future__ import annotations

import json
import os
from datetime import UTC
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=False,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("explore", deadline=None, suppress_health_check=list(HealthCheck))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def budget(examples: int, shrink: bool = True) -> settings:
    """The run's settings for ``examples`` examples (ten times as many when exploring). Without
    ``shrink`` the first failing example is reported as found: where each failing example waits
    out a timeout, shrinking would take longer than the suite's time limit."""
    scale = 10 if PROFILE == "explore" else 1
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(settings.get_profile(PROFILE), max_examples=examples * scale, phases=phases)


# -- hostile scalars ----------------------------------------------------------------------------

UNICODE_DIGITS = ["¹", "²", "١", "٣٤", "𝟙", "１２", "߁", "१", "①", "Ⅻ"]
HOSTILE_STRINGS = UNICODE_DIGITS + [
    "", " ", "\x00", "a\x00b", "\n", "\r\n\r\n", "\u202e", "\ufeff", "\ud800", "\udfff",
    "0", "-1", "1.5", "2147483647", "2147483648", "9223372036854775808", "9" * 40, "1e999", "NaN",
    "true", "null", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%ff",
]
HOSTILE_NUMBERS = [0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, 1e308,
                   float("inf"), float("-inf"), float("nan"), -0.0, 0.1]

short_hostile_strings = st.one_of(  # short enough for a URL
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=30),
    st.text(st.characters(categories=["Cc", "Cs", "Nd", "No", "Zs", "Cf"]), max_size=12),
)
hostile_strings = st.one_of(
    short_hostile_strings,
    st.integers(2_000, 400_000).map(lambda n: "长" * n),  # past every length limit, some past the body limit
)
hostile_numbers = st.one_of(st.sampled_from(HOSTILE_NUMBERS), st.integers(), st.floats())


def json_values(strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, its strings drawn from ``strings``."""
    scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, strings)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(strings, inner, max_size=4), max_leaves=12)


hostile_json = json_values(hostile_strings)


def nested(depth: int) -> str:
    """JSON text nested ``depth`` levels: built as text, as no encoder would write it."""
    return '{"a":' * (depth // 2) + "[" * (depth - depth // 2) + "1" + "]" * (depth - depth // 2) + "}" * (depth // 2)


# Payloads that are not (decodable) JSON at all, sent as raw bytes.
hostile_raw = st.one_of(
    st.sampled_from([b"", b"null", b"{", b'{"a":', b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b"[]" * 3,
                     b'{"a": 1, "a": 2}', b"9" * 5_000, b'"\\ud800"']),
    st.sampled_from([40_000, 100_000]).map(lambda d: nested(d).encode()),  # the decoder's recursion
    st.integers(100, 900).map(lambda d: nested(d).encode()),  # decodes: reaches the validation
    st.binary(max_size=64),
)


# -- values from a JSON schema -----------------------------------------------------------------

Hints = dict[str, st.SearchStrategy[Any]]


def from_schema(schema: dict[str, Any], definitions: dict[str, Any], hints: Hints | None = None) -> st.SearchStrategy[Any]:
    """Values that (mostly) satisfy a schema as pydantic writes them; ``$ref``s name ``definitions``.
    ``hints`` offer values for properties by name (real ids, so requests get past "not found")."""
    hints = hints or {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: from_schema(definitions[name], definitions, hints))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(option, definitions, hints) for option in schema[key]])
    if "allOf" in schema:
        return from_schema(schema["allOf"][0], definitions, hints)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": one}, definitions, hints) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else schema.get("minimum")
        high = schema["exclusiveMaximum"] - 1 if "exclusiveMaximum" in schema else schema.get("maximum")
        if high is not None:
            return st.integers(low, high)
        # no upper bound declared: the extremes are valid too, and where ids break databases
        extremes = st.sampled_from([2**31, 2**63, 10**30]).filter(lambda n: low is None or n >= low)
        return st.one_of(st.integers(low, high), extremes)
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}), definitions, hints)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 4), 4)))
    if kind == "object" or "properties" in schema:
        return _object(schema, definitions, hints)
    return hostile_json  # no type: anything goes


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    match schema.get("format"):
        case "date":
            return st.dates().map(lambda d: d.isoformat())
        case "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low = schema.get("minLength", 0)
    return st.text(min_size=low, max_size=max(low, min(schema.get("maxLength", 40), 40)))


def _object(schema: dict[str, Any], definitions: dict[str, Any], hints: Hints) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {name: from_schema(sub, definitions, hints) for name, sub in properties.items()}
    fields = {name: st.one_of(hints[name], hints[name], field) if name in hints else field
              for name, field in fields.items()}
    fixed = st.fixed_dictionaries({n: s for n, s in fields.items() if n in required},
                                  optional={n: s for n, s in fields.items() if n not in required})
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not properties:
        return st.dictionaries(st.text(max_size=12), from_schema(extra, definitions, hints), max_size=3)
    return fixed


def hostile_variants(schema: dict[str, Any], definitions: dict[str, Any], hints: Hints | None = None,
                     values: st.SearchStrategy[Any] = hostile_json) -> st.SearchStrategy[Any]:
    """What a schema's hostile sender writes: valid values, valid objects with one field replaced
    or added from ``values``, or any of ``values`` instead."""
    valid = from_schema(schema, definitions, hints)

    def spoil(value: Any, data: st.DataObject) -> Any:
        if not isinstance(value, dict):
            return data.draw(values)
        keys = sorted(value) + ["unexpected"]
        return {**value, data.draw(st.sampled_from(keys)): data.draw(values)}

    spoiled = st.tuples(valid, st.data()).map(lambda pair: spoil(*pair))
    return st.one_of(valid, spoiled, values)


# -- wire encodings -------------------------------------------------------------------------

def json_bytes(value: Any, ascii_only: bool) -> bytes:
    """JSON text of ``value``: ASCII escapes carry lone surrogates as ``\\ud800``; the UTF-8 form
    carries them as invalid UTF-8 (surrogatepass)."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", errors="surrogatepass")


def url_quote(value: str) -> str:
    """Percent-encode a path segment or query value, lone surrogates as invalid UTF-8."""
    return quote(value, safe="", errors="surrogatepass")


path_segments = st.one_of(
    st.sampled_from(UNICODE_DIGITS + ["0", "-1", "00", "2147483647", "2147483648", "99999999999999999999",
                                      "1.0", "1e3", " 1", "0x1f", "\x00", "%", "..", "/", "\\", "~"]).map(url_quote),
    st.sampled_from(["%ff", "%00", "%ED%A0%80", "%C0%AF", "%2e%2e", "%252F", ".", ".."]),  # raw, pre-encoded
    st.text(max_size=12).map(url_quote),
    st.integers(0, 2**40).map(str),
)
