"""Attachments through the media pipeline: type from bytes, limits, EXIF stripped, private files."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from backend.core.errors import InvalidTransition
from backend.filings import services
from backend.filings.models import Filing, FilingAttachment
from tests.factories import UserFactory
from tests.filings.conftest import PDF, filing_payload, jpeg
from tests.helpers import assert_error
from tests.support import signed_media

GPS_IFD = 0x8825


def png_with_gps() -> bytes:
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[3] = "N", "E"
    gps[2] = (IFDRational(22, 1), IFDRational(30, 1), IFDRational(36, 1))
    gps[4] = (IFDRational(113, 1), IFDRational(56, 1), IFDRational(24, 1))
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 120, 200)).save(out, "PNG", exif=exif)
    data = out.getvalue()
    original = Image.open(io.BytesIO(data))
    original.load()  # a PNG's eXIf chunk may come after the pixels
    assert original.getexif().get_ifd(GPS_IFD)  # the upload really carries GPS
    assert b"eXIf" in data
    return data


def draft(api, rep) -> int:
    return api.as_user(rep).post("/filings", filing_payload()).json()["id"]


def upload(api, user, fid, content, name="photo.jpg", ctype="image/jpeg", kind="charter"):
    return api.as_user(user).upload(
        f"/filings/{fid}/attachments", {"file": (name, content, ctype)}, {"kind": kind}
    )


def test_png_with_gps_exif_is_stored_without_it(api, rep):
    fid = draft(api, rep)
    r = upload(api, rep, fid, png_with_gps(), name="venue.png", ctype="image/png", kind="venue_proof")
    assert r.status_code == 201, r.json()
    row = FilingAttachment.objects.get(pk=r.json()["id"])
    with default_storage.open(row.file, "rb") as handle:
        stored = handle.read()
    image = Image.open(io.BytesIO(stored))
    image.load()
    assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in stored
    # The file endpoint serves the cleaned copy, privately.
    served = api.as_user(rep).get(r.json()["url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == stored
    assert served["Cache-Control"] == "private, no-store"
    thumb = api.as_user(rep).get(r.json()["thumbnail_url"])
    assert max(Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size) <= 320


def test_the_mini_program_loads_an_attachment_by_its_signed_urls(api, rep):
    fid = draft(api, rep)
    r = upload(api, rep, fid, png_with_gps(), name="venue.png", ctype="image/png", kind="venue_proof")
    row = FilingAttachment.objects.get(pk=r.json()["id"])
    with default_storage.open(row.file, "rb") as handle:
        assert signed_media.fetch_ok(r.json()["signed_url"]) == handle.read()
    thumb = signed_media.fetch_ok(r.json()["signed_thumbnail_url"])
    assert max(Image.open(io.BytesIO(thumb)).size) <= 320
    signed_media.assert_refused_when_altered(r.json()["signed_thumbnail_url"])
    # The filing as the representative reads it carries the same.
    (shown,) = api.as_user(rep).get(f"/filings/{fid}").json()["attachments"]
    assert signed_media.fetch_ok(shown["signed_thumbnail_url"]) == thumb


def test_a_pdf_has_a_signed_url_and_no_thumbnail(api, rep):
    fid = draft(api, rep)
    r = upload(api, rep, fid, PDF, name="charter.pdf", ctype="application/pdf")
    assert r.json()["signed_thumbnail_url"] is None
    status, body, content_type = signed_media.fetch(r.json()["signed_url"])
    assert status == 200 and body == PDF and content_type == "application/pdf"


def test_fake_image_is_refused_by_its_bytes(api, rep):
    fid = draft(api, rep)
    assert_error(upload(api, rep, fid, b"<html>not an image</html>" * 10), 415, "unsupported_media_type")
    assert not FilingAttachment.objects.exists()


def test_oversized_file_is_refused(api, rep, settings):
    settings.LINLI_FILING_ATTACHMENT_MAX_BYTES = 2000
    fid = draft(api, rep)
    big = jpeg(size=(400, 400))
    assert len(big) > 2000
    body = assert_error(upload(api, rep, fid, big), 413, "file_too_large")
    assert body["details"]["limit"] == 2000


def test_too_many_pixels_is_refused(api, rep, settings):
    settings.LINLI_FILING_ATTACHMENT_MAX_PIXELS = 1000
    fid = draft(api, rep)
    assert_error(upload(api, rep, fid, jpeg(size=(64, 48))), 413, "image_too_large")


def test_pdf_is_accepted_as_is(api, rep):
    fid = draft(api, rep)
    r = upload(api, rep, fid, PDF, name="charter.pdf", ctype="application/pdf")
    assert r.status_code == 201, r.json()
    assert r.json()["content_type"] == "application/pdf" and r.json()["thumbnail_url"] is None


def test_unknown_kind_is_a_validation_error(api, rep):
    fid = draft(api, rep)
    assert_error(upload(api, rep, fid, jpeg(), kind="selfie"), 422, "validation_error")


def test_others_cannot_upload_or_download(api, rep):
    fid = draft(api, rep)
    r = upload(api, rep, fid, jpeg())
    stranger = UserFactory()
    assert_error(upload(api, stranger, fid, jpeg()), 404, "not_found")
    assert_error(api.as_user(stranger).get(r.json()["url"]), 404, "not_found")


def test_removed_attachment_is_superseded_not_deleted(api, rep):
    fid = draft(api, rep)
    aid = upload(api, rep, fid, jpeg()).json()["id"]
    assert api.as_user(rep).delete(f"/filings/{fid}/attachments/{aid}").status_code == 200
    assert FilingAttachment.objects.get(pk=aid).superseded_at is not None
    assert api.as_user(rep).get(f"/filings/{fid}").json()["attachments"] == []


def test_no_uploads_after_submission(api, rep, submitted_filing):
    assert_error(upload(api, rep, submitted_filing, jpeg()), 409, "invalid_transition")


def test_upload_to_a_filing_that_moved_on_leaves_no_stray_files(api, rep):
    fid = draft(api, rep)
    stale = Filing.objects.get(pk=fid)  # still a draft in memory…
    Filing.objects.filter(pk=fid).update(status="submitted")  # …submitted meanwhile
    with pytest.raises(InvalidTransition):
        services.filing_attachment_add(filing=stale, actor=rep, kind="charter", content=jpeg())
    assert not FilingAttachment.objects.filter(filing_id=fid).exists()
    folder = f"filings/{fid}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder) == ([], [])
