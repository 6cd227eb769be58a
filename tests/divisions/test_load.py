import pytest
from django.core.management import call_command

from backend.divisions.models import Division
from backend.divisions.selectors import division_ancestor_codes, division_children, division_path
from backend.divisions.services import divisions_load
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db


def test_loading_all_divisions_is_complete_and_idempotent():
    first = divisions_load()
    assert first.created == 31 + 342 + 2978 + 41352
    assert Division.objects.filter(level=Division.Level.STREET).count() == 41352
    second = divisions_load()
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created


def test_tree_links_streets_to_their_district_city_and_province():
    divisions_load(prefix="4403")
    assert [d.name for d in division_path("440309002")] == ["广东省", "深圳市", "龙华区", "民治街道"]
    assert {d.code for d in division_children("440309")} >= {"440309001", "440309002", "440309006"}
    assert not Division.objects.filter(code__startswith="11").exists()


def test_renamed_division_is_updated_not_duplicated(tmp_path):
    divisions_load(prefix="4403")
    Division.objects.filter(code="440309002").update(name="旧名")
    result = divisions_load(prefix="4403")
    assert result.updated == 1
    assert Division.objects.get(code="440309002").name == "民治街道"


def test_ancestor_codes_follow_the_code_prefixes():
    assert division_ancestor_codes("440309002001") == ["44", "4403", "440309", "440309002", "440309002001"]


def test_command_and_public_api(capsys):
    call_command("load_divisions", "--prefix", "4403")
    assert "created" in capsys.readouterr().out
    response = ApiClient().get("/divisions", {"parent": "440309"})
    assert response.status_code == 200
    assert {"code": "440309002", "name": "民治街道", "level": 4, "parent_code": "440309"} in response.json()
    assert ApiClient().get("/divisions/440309002").json()["name"] == "民治街道"
    assert ApiClient().get("/divisions/999").status_code == 404


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    call_command("seed_demo")
    from backend.accounts.models import Grant, User

    assert User.objects.filter(phone__startswith="1380000000").count() == 8
    assert Grant.objects.filter(user__phone="13800000001", role="reviewer", scope_id="440309002").count() == 1
