"""The admin app with Linli's admin site as the default one (``admin.site``): see adminsite.py.
Kept apart because INSTALLED_APPS imports it before any model exists."""

from django.contrib.admin.apps import AdminConfig


class LinliAdminConfig(AdminConfig):
    default_site = "backend.accounts.adminsite.LinliAdminSite"
