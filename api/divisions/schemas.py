"""Schemas of the division tree."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Schema


class DivisionOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None = Field(validation_alias="parent_id")


class CommunityIn(Schema):
    code: str = Field(min_length=12, max_length=12)
    name: str = Field(min_length=1, max_length=80)
