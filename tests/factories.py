"""Factories shared by every domain's tests. Domain factories live in tests/<domain>/factories.py."""

from __future__ import annotations

import factory

from backend.accounts.models import Grant, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"139{n:08d}")
    display_name = factory.Sequence(lambda n: f"用户{n}")


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    user = factory.SubFactory(UserFactory)
    role = "reviewer"
    scope_type = "division"
    scope_id = "440309002"


def user_with_role(role: str, scope_type: str = "", scope_id: str = "", **kwargs) -> User:
    user = UserFactory(**kwargs)
    Grant.objects.create(user=user, role=role, scope_type=scope_type, scope_id=str(scope_id))
    return user
