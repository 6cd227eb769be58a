"""Shared plumbing: named hooks between layers, and the retry of a transaction after a lock."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from backend.core.db import run_retrying
from backend.core.hooks import Hook


def test_a_hook_calls_every_implementation_in_order():
    hook: Hook = Hook("tests.many")
    try:
        hook.register(lambda x: x + 1)
        hook.register(lambda x: x * 10)
        assert hook.call_all(2) == [3, 20]
        assert hook.call_first(2) == 3
    finally:
        del Hook.registry["tests.many"]


def test_a_single_hook_refuses_a_second_implementation():
    hook: Hook = Hook("tests.single", single=True)
    try:
        hook.register(lambda: 1)
        with pytest.raises(RuntimeError):
            hook.register(lambda: 2)
    finally:
        del Hook.registry["tests.single"]


def test_a_hook_without_implementations_does_nothing():
    hook: Hook = Hook("tests.empty")
    try:
        assert hook.call_all() == [] and hook.call_first() is None and not hook
    finally:
        del Hook.registry["tests.empty"]


def test_a_hook_name_is_declared_once():
    Hook("tests.twice")
    try:
        with pytest.raises(RuntimeError):
            Hook("tests.twice")
    finally:
        del Hook.registry["tests.twice"]


def test_a_transient_lock_is_retried_until_it_passes():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return "done"

    assert run_retrying(flaky, attempts=5, pause=0) == "done"
    assert len(calls) == 3


def test_other_database_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise OperationalError("no such table: x")

    with pytest.raises(OperationalError):
        run_retrying(broken, attempts=5, pause=0)
    assert len(calls) == 1


def test_the_last_lock_error_goes_up_after_the_attempts():
    calls = []

    def locked():
        calls.append(1)
        raise OperationalError("deadlock detected")

    with pytest.raises(OperationalError):
        run_retrying(locked, attempts=3, pause=0)
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_inside_an_outer_transaction_the_error_goes_to_its_owner():
    calls = []

    def locked():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError), transaction.atomic():
        run_retrying(locked, attempts=3, pause=0)
    assert len(calls) == 1
