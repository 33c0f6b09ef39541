"""Pydantic base classes for API bodies: unknown fields are errors, not silently dropped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """A request body or query: strict about unknown fields so typos are reported."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """A response object, built from ORM rows or dicts."""

    model_config = ConfigDict(from_attributes=True)
