"""Writes of the credentials domain, one module per sub-domain. Every change is audited inside
its transaction.

* ``associations``  industry associations
* ``practitioners`` practitioners: registration, changes, the audited ID number read, the photo
* ``credentials``   credentials and their signed badge tokens: issue, renew, re-issue, status
* ``credit``        credit records and the blacklist
* ``imports``       bulk import of practitioners and credentials from CSV or Excel

Everything public is re-exported here: ``from backend.credentials import services`` then
``services.credential_issue(...)``.
"""

from backend.credentials.models import ID_PURPOSE
from backend.credentials.services._common import clean_text
from backend.credentials.services.associations import association_create, association_update
from backend.credentials.services.credentials import (
    credential_fields,
    credential_issue,
    credential_issue_for,
    credential_reinstate,
    credential_reissue_badge,
    credential_renew,
    credential_revoke,
    credential_suspend,
)
from backend.credentials.services.credit import blacklist_lift, credit_record_add, practitioner_blacklist
from backend.credentials.services.imports import credentials_import, credentials_import_upload, read_table
from backend.credentials.services.practitioners import (
    practitioner_create,
    practitioner_fields,
    practitioner_id_number_read,
    practitioner_photo_set,
    practitioner_photo_upload,
    practitioner_update,
)

__all__ = [
    "ID_PURPOSE",
    "association_create",
    "association_update",
    "blacklist_lift",
    "clean_text",
    "credential_fields",
    "credential_issue",
    "credential_issue_for",
    "credential_reinstate",
    "credential_reissue_badge",
    "credential_renew",
    "credential_revoke",
    "credential_suspend",
    "credentials_import",
    "credentials_import_upload",
    "credit_record_add",
    "practitioner_blacklist",
    "practitioner_create",
    "practitioner_fields",
    "practitioner_id_number_read",
    "practitioner_photo_set",
    "practitioner_photo_upload",
    "practitioner_update",
    "read_table",
]
