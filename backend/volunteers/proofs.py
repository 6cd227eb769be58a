"""The signed proof of service (志愿服务记录证明) a certificate's QR code carries.

The QR holds ``https://<host>/c/<TOKEN>``. TOKEN is a signed document
(``backend.core.signed_tokens.sign_document``, purpose ``service_proof``, domain tag
``linli/service-proof/v1``) whose body is compact UTF-8 JSON with the fields the 2015 rules
(志愿服务记录与证明出具办法) put on a certificate, as printed:

=======  ===================================================
key      field
=======  ===================================================
``no``   证明编号 proof number (the certificate number)
``name`` 姓名 name, masked (张*三): the QR is public
``idt``  证件类型 ID type (居民身份证)
``idn``  证件号码 ID number, masked (first and last character)
``vno``  志愿者编号 volunteer number
``h``    服务时数 hours (decimal string, one decimal)
``c``    服务内容 service content (at most 60 characters, "…" when cut)
``org``  出具组织 issuing organisation
``hdl``  经办人 handler
``d``    出具日期 date of issue (YYYY-MM-DD, Beijing time)
=======  ===================================================

Anyone with the published keys (``/api/v1/verify/keys``, ``purpose`` ``service_proof``) checks
it offline with any Ed25519 library; only revocation needs the server (the page ``/c/<TOKEN>``).
The server checks the signature before it reads the database: a forged token costs no query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from backend.core import keys
from backend.core.signed_tokens import TokenError
from backend.volunteers import conf
from backend.volunteers.models import Certificate

PURPOSE = "service_proof"
PROOF_PATH = "/c/"
CONTENT_MAX = 60
FIELDS = ("no", "name", "idt", "idn", "vno", "h", "c", "org", "hdl", "d")


def _content(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= CONTENT_MAX else text[: CONTENT_MAX - 1] + "…"


def proof_fields(cert: Certificate) -> dict[str, str]:
    """What the proof says, in the order of the rules (see the module docstring)."""
    return {
        "no": cert.number,
        "name": cert.holder_name_masked,
        "idt": cert.id_type,
        "idn": cert.id_number_masked,
        "vno": cert.volunteer_no,
        "h": f"{cert.hours:.1f}",
        "c": _content(cert.content),
        "org": cert.organisation.name,
        "hdl": cert.handler,
        "d": timezone.localdate(cert.issued_at).isoformat(),
    }


def proof_sign(cert: Certificate) -> str:
    body = json.dumps(proof_fields(cert), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return keys.document_sign(purpose=PURPOSE, body=body)


def proof_url(token: str) -> str:
    return f"{conf.public_base_url()}{PROOF_PATH}{token}"


@dataclass(frozen=True)
class ProofRead:
    """A token whose signature verified, with its fields; ``fields`` is what was signed."""

    token: str
    fields: dict[str, str]


def proof_read(token: str) -> ProofRead | None:
    """The fields of a genuine-looking token, or None (malformed, unknown or revoked key, bad
    signature, a body that is not the proof's object). No database access between key refreshes."""
    try:
        document = keys.document_verify(purpose=PURPOSE, token=token)
        data: Any = json.loads(document.body.decode("utf-8"))
    except (TokenError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or set(data) != set(FIELDS):
        return None
    if not all(isinstance(v, str) for v in data.values()):
        return None
    return ProofRead(token=token.upper(), fields={k: data[k] for k in FIELDS})
