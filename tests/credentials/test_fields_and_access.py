"""The field checks the API and the bulk import share, the practitioner as association admins
see it, and the fetch-and-authorize helpers behind every registry endpoint."""

from __future__ import annotations

from datetime import date

import pytest

from backend.core import permissions as core_permissions
from backend.core.errors import NotFound, PermissionDenied
from backend.core.permissions import rule
from backend.credentials import selectors, services
from backend.credentials.permissions import (
    Action,
    association_access,
    blacklist_entry_access,
    credential_access,
    practitioner_access,
)
from tests.credentials import factories as f


def _codes(errors: list[dict]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in errors]


def test_practitioner_fields_report_every_bad_field_in_form_order():
    fields, errors = services.practitioner_fields(
        name=" ", id_number="440309", mobile="12345", employer="单" * 101, status="retired"
    )
    assert _codes(errors) == [
        ("name", "required"),
        ("id_number", "invalid_id_number"),
        ("mobile", "invalid_phone"),
        ("employer", "too_long"),
        ("status", "invalid_choice"),
    ]
    assert fields == {"name": "", "mobile": "", "employer": "单" * 101}  # no sealed number, no status


def test_practitioner_fields_seal_a_valid_number_and_normalise_the_mobile():
    number = f.id_number()
    fields, errors = services.practitioner_fields(name="张小三", id_number=number, mobile="+86 138-0013-8000")
    assert errors == []
    assert fields["mobile"] == "13800138000" and fields["employer"] == ""
    assert number not in fields["id_number_sealed"] and len(fields["id_number_index"]) > 0


def test_partial_practitioner_fields_check_only_what_is_given():
    fields, errors = services.practitioner_fields(name=None, mobile=None, employer="安心燃气", partial=True)
    assert (fields, errors) == ({"employer": "安心燃气"}, [])
    fields, errors = services.practitioner_fields(
        name=None, id_number="", mobile=None, employer=None, partial=True, status="left"
    )
    assert fields == {"status": "left"}
    assert _codes(errors) == [("id_number", "required")]


def test_credential_fields_keep_an_out_of_range_date_and_report_it():
    fields, errors = services.credential_fields(
        type="燃气安装维修",
        certificate_no=" szrq-1 ",
        qualification="四级",
        valid_from="2020-13-01",
        valid_until=date(1999, 1, 1),
    )
    assert fields["certificate_no"] == "SZRQ-1"
    assert "valid_from" not in fields and fields["valid_until"] == date(1999, 1, 1)
    assert _codes(errors) == [("valid_from", "invalid_date"), ("valid_until", "out_of_range")]


def test_credential_fields_refuse_an_end_before_the_start():
    _, errors = services.credential_fields(
        type="t", certificate_no="n", qualification="q", valid_from="2030-02-01", valid_until="2030-01-31"
    )
    assert _codes(errors) == [("valid_until", "before_valid_from")]


@pytest.mark.django_db
def test_admins_see_names_in_full_and_numbers_masked():
    number = f.id_number()
    person = f.practitioner(f.association(), name="欧阳小明", id_number=number, mobile="13800138000")
    shown = selectors.practitioner_masked(practitioner=person)
    assert (shown.name, shown.name_masked) == ("欧阳小明", "欧**明")
    assert shown.id_number_masked == number[0] + "*" * 16 + number[-1]
    assert shown.mobile_masked == "138****8000"
    assert shown.blacklisted is False  # not annotated: a new practitioner is not listed


@pytest.mark.django_db
def test_access_helpers_hide_what_the_user_does_not_manage():
    credential = f.valid_credential()
    person = credential.practitioner
    entry = services.practitioner_blacklist(
        actor=None, practitioner=person, listed_on=date.today(), reason="冒用证件", basis="公约"
    )
    assoc_id = credential.association_id
    admin = f.association_admin(credential.association)
    outsider = f.association_admin(f.association())

    assert association_access(user=admin, association_id=assoc_id).pk == assoc_id
    found = practitioner_access(user=admin, association_id=assoc_id, practitioner_id=person.pk)
    assert found.pk == person.pk and found.blacklisted is True  # annotated by the selector
    assert credential_access(user=admin, credential_id=credential.pk).practitioner.pk == person.pk
    assert blacklist_entry_access(user=admin, association_id=assoc_id, entry_id=entry.pk).pk == entry.pk

    for call in (
        lambda: association_access(user=outsider, association_id=assoc_id, action=Action.ASSOCIATION_VIEW),
        lambda: practitioner_access(user=outsider, association_id=assoc_id, practitioner_id=person.pk),
        lambda: credential_access(user=outsider, credential_id=credential.pk),
        lambda: blacklist_entry_access(user=outsider, association_id=assoc_id, entry_id=entry.pk),
        lambda: association_access(user=admin, association_id=assoc_id + 1000),
        lambda: practitioner_access(user=admin, association_id=assoc_id, practitioner_id=person.pk + 1000),
    ):
        with pytest.raises(NotFound):
            call()


@pytest.mark.django_db
def test_another_action_on_a_managed_practitioner_is_refused_openly(monkeypatch):
    person = f.practitioner(f.association())
    admin = f.association_admin(person.association)
    monkeypatch.setitem(core_permissions._rules, Action.PRACTITIONER_READ_ID_NUMBER, lambda user, obj: False)
    with pytest.raises(PermissionDenied):  # 403: the admin knows this person is registered
        practitioner_access(
            user=admin,
            association_id=person.association_id,
            practitioner_id=person.pk,
            action=Action.PRACTITIONER_READ_ID_NUMBER,
        )


def test_actions_keep_their_strings():
    assert [a.value for a in Action] == [
        "association.create",
        "association.view",
        "association.manage",
        "practitioner.read_id_number",
    ]
    with pytest.raises(RuntimeError):  # each action has exactly one rule
        rule(Action.ASSOCIATION_MANAGE)(lambda user, obj: True)
