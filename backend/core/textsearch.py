"""Substring search in Chinese (and any other text) served by an index, the same on PostgreSQL
and SQLite.

Chinese has no spaces and its keywords are often two characters (合唱, 环保). Trigram indexes
(pg_trgm, SQLite FTS5's trigram tokenizer) cannot serve a pattern shorter than three characters,
and ``LIKE '%q%'`` reads every row. So each searchable object keeps its **character bigrams** in
a token table that the owning domain's service maintains (:func:`index_replace`, in the same
transaction as the write), with the primary key ``(token, owner)`` as the index:

- a token is one integer: ``code point of c1 * 0x110000 + code point of c2`` over the casefolded
  text, plus ``(last character, 0)`` at the end of each field, so every character starts a token;
- a query is split on whitespace into terms (all must match). A term of one character is the
  token range ``[c * 0x110000, (c + 1) * 0x110000)``; a longer term needs each of (up to
  ``MAX_BIGRAMS_PER_TERM`` of) its bigrams, one indexed lookup each, intersected as semi-joins;
- the candidates are then verified with ``icontains`` on the real fields, so the answer is exactly
  the substring match (a bigram set is necessary, not sufficient), never an approximation.

Integers rather than strings keep rows small and make the one-character range independent of
the database's collation. Use: subclass :class:`SearchTokenBase` with an ``owner`` foreign key
and ``pk = CompositePrimaryKey("token", "owner")``; call :func:`index_replace` when the text
changes and filter the owner's queryset with :func:`matching_q`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import Q

_PLANE = 0x110000  # one past the largest code point
MAX_TERMS = 5
MAX_TERM_CHARS = 50
MAX_BIGRAMS_PER_TERM = 6


class SearchTokenBase(models.Model):
    """One (token, owner) pair. Concrete tables add ``owner = ForeignKey(<Model>, CASCADE)`` and
    ``pk = models.CompositePrimaryKey("token", "owner")`` (the index every lookup uses)."""

    token = models.BigIntegerField()

    class Meta:
        abstract = True


def _fold(text: str) -> str:
    return text.casefold()


def bigram(first: str, second: str | None) -> int:
    """The token of two characters (``second`` None: the end of a field)."""
    return ord(first) * _PLANE + (ord(second) if second else 0)


def tokens(texts: Iterable[str]) -> set[int]:
    """Every token of the fields ``texts``: the bigrams of each and its last character."""
    found: set[int] = set()
    for raw in texts:
        text = _fold(raw or "")
        for i, char in enumerate(text):
            found.add(bigram(char, text[i + 1] if i + 1 < len(text) else None))
    return found


def query_terms(query: str) -> list[str]:
    """The terms of a query (whitespace-separated, casefolded, at most ``MAX_TERMS`` of at most
    ``MAX_TERM_CHARS`` characters, duplicates dropped)."""
    terms: list[str] = []
    for word in _fold(query or "").split():
        word = word[:MAX_TERM_CHARS]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def term_tokens(term: str) -> list[int]:
    """The bigrams a term's matches must all hold: up to ``MAX_BIGRAMS_PER_TERM`` of them,
    spread over the term (the first and the last always), so a long term costs a bounded number
    of lookups; the verification makes the answer exact anyway."""
    grams = list(dict.fromkeys(bigram(a, b) for a, b in itertools.pairwise(term)))
    if len(grams) <= MAX_BIGRAMS_PER_TERM:
        return grams
    step = (len(grams) - 1) / (MAX_BIGRAMS_PER_TERM - 1)
    return list(dict.fromkeys(grams[round(i * step)] for i in range(MAX_BIGRAMS_PER_TERM)))


def tag_token(tag: str) -> int:
    """The token of a whole tag (a skill, a category): a negative number, so it never meets a
    bigram; exact matches only (casefolded)."""
    digest = hashlib.blake2b(_fold(tag.strip()).encode(), digest_size=7, person=b"linli.tag").digest()
    return -(int.from_bytes(digest, "big") + 1)


def tags_q(tags: Iterable[str], *, token_model: type[SearchTokenBase]) -> Q | None:
    """A filter on the owner model: rows holding at least one of ``tags``; ``None`` for none."""
    wanted = sorted({tag_token(t) for t in tags if t.strip()})
    if not wanted:
        return None
    return Q(pk__in=_owner_ids(token_model, token__in=wanted))


def _owner_ids(token_model: type[SearchTokenBase], **lookup: Any) -> Any:
    return token_model.objects.filter(**lookup).values("owner_id")  # type: ignore[attr-defined]


def matching_q(query: str, *, token_model: type[SearchTokenBase], fields: Sequence[str]) -> Q | None:
    """A filter on the owner model: rows whose ``fields`` contain every term of ``query`` as a
    substring (case-insensitive). ``None`` when the query has no terms (no filter)."""
    terms = query_terms(query)
    if not terms:
        return None
    where = Q()
    for term in terms:
        if len(term) == 1:
            low = ord(term) * _PLANE
            where &= Q(pk__in=_owner_ids(token_model, token__gte=low, token__lt=low + _PLANE))
        else:
            for token in term_tokens(term):
                where &= Q(pk__in=_owner_ids(token_model, token=token))
        verify = Q()
        for field in fields:
            verify |= Q(**{f"{field}__icontains": term})
        where &= verify
    return where


def index_replace(
    *,
    token_model: type[SearchTokenBase],
    owner_id: int,
    texts: Iterable[str],
    tags: Iterable[str] = (),
    created: bool = False,
) -> int:
    """Make ``owner_id``'s tokens those of ``texts`` and ``tags`` (call inside the writing
    transaction). ``created``: the owner is new, nothing to delete. Returns the token count."""
    manager: Any = token_model.objects  # type: ignore[attr-defined]
    wanted = tokens(texts) | {tag_token(t) for t in tags if t.strip()}
    if not created:
        manager.filter(owner_id=owner_id).delete()
    make: Any = token_model
    manager.bulk_create([make(token=t, owner_id=owner_id) for t in sorted(wanted)], batch_size=500)
    return len(wanted)
