"""The upload pipeline, on real bytes made with Pillow in each test."""

from __future__ import annotations

import hashlib
import io
import resource
import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from media.images import (
    CORRUPT_FILE,
    CORRUPT_IMAGE,
    FILE_TOO_LARGE,
    IMAGE_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    MediaError,
    ProcessedFile,
    ProcessedImage,
    process_image,
    process_pdf,
    process_upload,
    sniff,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112
# 深圳湾 (Shenzhen Bay): 22°30'36" N, 113°56'24" E.
SHENZHEN_BAY = {"lat": 22.51, "lon": 113.94}

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _picture(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A gradient, so that encoders have something to chew on."""
    w, h = size
    im = Image.linear_gradient("L").resize(size)
    if mode == "RGB":
        mirrored = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return Image.merge("RGB", (im, mirrored, Image.new("L", size, 90)))
    if mode == "RGBA":
        alpha = Image.new("L", size, 255)
        alpha.paste(0, (0, 0, w // 2, h // 2))
        return Image.merge("RGBA", (im, im, im, alpha))
    return im.convert(mode)


def _encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (IFDRational(22, 1), IFDRational(30, 1), IFDRational(36, 1))
    gps[3] = "E"
    gps[4] = (IFDRational(113, 1), IFDRational(56, 1), IFDRational(24, 1))
    return exif


def _jpeg_with_gps() -> bytes:
    data = _encode(_picture(), "JPEG", exif=_gps_exif())
    # Guard against a test that cannot fail: the input really carries the GPS IFD.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return data


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width`` x ``height`` but whose data holds one pixel."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00\x00")  # one row: filter byte + one pixel
    chunks = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _code(excinfo: pytest.ExceptionInfo[MediaError]) -> str:
    return excinfo.value.code


# -- sniffing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a\x01\x00", "gif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "heic"),
        (b"%PDF-1.7\n", "pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_type_from_magic_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


# -- metadata stripping ------------------------------------------------------------------------


def test_jpeg_with_gps_is_stored_without_any_exif() -> None:
    result = process_image(_jpeg_with_gps())

    stored = Image.open(io.BytesIO(result.content))
    assert stored.format == "JPEG"
    assert "exif" not in stored.info
    assert len(stored.getexif()) == 0
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert b"Exif\x00\x00" not in result.content
    assert b"PhoneModel" not in result.content and b"PhoneModel" not in result.thumbnail


def test_gps_is_not_returned_unless_asked_for() -> None:
    assert process_image(_jpeg_with_gps()).gps is None


def test_gps_is_returned_as_decimal_degrees_when_kept() -> None:
    gps = process_image(_jpeg_with_gps(), keep_gps=True).gps

    assert gps == pytest.approx(SHENZHEN_BAY)


def test_southern_and_western_refs_give_negative_degrees() -> None:
    exif = _gps_exif()
    gps_ifd = exif.get_ifd(GPS_IFD)
    gps_ifd[1], gps_ifd[3] = "S", "W"

    gps = process_image(_encode(_picture(), "JPEG", exif=exif), keep_gps=True).gps

    assert gps == pytest.approx({"lat": -22.51, "lon": -113.94})


def test_kept_gps_is_none_when_the_photo_has_none() -> None:
    assert process_image(_encode(_picture(), "JPEG"), keep_gps=True).gps is None


def test_png_text_chunks_exif_and_icc_profile_are_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-comment")
    info.add_itxt("Author", "secret-author")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(_picture(mode="RGBA"), "PNG", pnginfo=info, exif=_gps_exif(), icc_profile=icc)
    source = Image.open(io.BytesIO(data))
    assert source.text and source.getexif() and source.info.get("icc_profile")

    result = process_image(data)

    stored = Image.open(io.BytesIO(result.content))
    assert stored.format == "PNG"
    assert stored.text == {}
    assert len(stored.getexif()) == 0
    assert "icc_profile" not in stored.info
    assert b"secret" not in result.content and b"secret" not in result.thumbnail


def test_data_after_the_image_is_not_stored() -> None:
    polyglot = _encode(_picture(), "JPEG") + b"<html><script>alert(document.cookie)</script></html>"

    result = process_image(polyglot)

    assert b"<script>" not in result.content


# -- orientation and formats -------------------------------------------------------------------


def test_exif_orientation_is_applied_to_the_pixels() -> None:
    im = Image.new("RGB", (80, 40), (255, 0, 0))
    im.paste((0, 0, 255), (40, 0, 80, 40))  # left red, right blue
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # viewer must rotate 90° clockwise

    result = process_image(_encode(im, "JPEG", exif=exif))

    assert (result.width, result.height) == (40, 80)
    stored = Image.open(io.BytesIO(result.content)).convert("RGB")
    top, bottom = stored.getpixel((20, 10)), stored.getpixel((20, 70))
    assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    assert len(stored.getexif()) == 0


def test_opaque_png_is_stored_as_jpeg() -> None:
    result = process_image(_encode(_picture(mode="RGB"), "PNG"))

    assert (result.content_type, result.ext) == ("image/jpeg", "jpg")
    assert Image.open(io.BytesIO(result.content)).mode == "RGB"


def test_png_with_used_alpha_stays_png_with_alpha() -> None:
    result = process_image(_encode(_picture(mode="RGBA"), "PNG"))

    assert (result.content_type, result.ext) == ("image/png", "png")
    stored = Image.open(io.BytesIO(result.content))
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0
    assert Image.open(io.BytesIO(result.thumbnail)).format == "PNG"


def test_png_with_fully_opaque_alpha_channel_is_stored_as_jpeg() -> None:
    im = _picture(mode="RGB").convert("RGBA")

    assert process_image(_encode(im, "PNG")).content_type == "image/jpeg"


def test_webp_is_accepted_and_stored_as_jpeg() -> None:
    result = process_image(_encode(_picture(), "WEBP"))

    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (64, 48)


def test_cmyk_jpeg_is_stored_as_rgb() -> None:
    result = process_image(_encode(_picture().convert("CMYK"), "JPEG"))

    assert Image.open(io.BytesIO(result.content)).mode == "RGB"


def test_sixteen_bit_greyscale_png_keeps_its_contrast() -> None:
    im = Image.linear_gradient("L").resize((64, 64)).convert("I").point(lambda v: v * 257).convert("I;16")

    result = process_image(_encode(im, "PNG"))

    stored = Image.open(io.BytesIO(result.content)).convert("L")
    low, high = stored.getextrema()
    assert low < 20 and high > 235


def test_sha256_is_of_the_stored_content() -> None:
    result = process_image(_encode(_picture(), "PNG"))

    assert result.sha256 == hashlib.sha256(result.content).hexdigest()


def test_large_photo_is_scaled_to_max_side_and_thumbnail_to_thumb_side() -> None:
    result = process_image(_encode(_picture((1200, 900)), "JPEG"), max_side=800, thumb_side=100)

    assert (result.width, result.height) == (800, 600)
    assert (result.thumb_width, result.thumb_height) == (100, 75)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (100, 75)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(1, 700),
    height=st.integers(1, 700),
    mode=st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"]),
    fmt=st.sampled_from(["PNG", "JPEG", "WEBP", "GIF"]),
)
def test_any_decodable_image_fits_its_bounds(width: int, height: int, mode: str, fmt: str) -> None:
    im = _picture((width, height), mode)
    try:
        data = _encode(im, fmt)
    except (OSError, ValueError, KeyError):
        return  # Pillow cannot write this mode in this format; nothing to upload

    result = process_image(data, max_side=300, thumb_side=64)

    assert 1 <= result.width <= 300 and 1 <= result.height <= 300
    assert 1 <= result.thumb_width <= 64 and 1 <= result.thumb_height <= 64
    stored = Image.open(io.BytesIO(result.content))
    assert stored.size == (result.width, result.height)
    assert stored.mode in ("RGB", "RGBA")
    assert stored.format == {"image/jpeg": "JPEG", "image/png": "PNG"}[result.content_type]
    # The aspect ratio survives scaling, to within one pixel of rounding on either side.
    assert abs(result.width * height - result.height * width) <= max(width, height)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,  # a .exe named photo.jpg
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"BM" + b"\x00" * 100,  # BMP is not on the list
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    ],
)
def test_bytes_that_are_not_an_allowed_image_are_unsupported(data: bytes) -> None:
    with pytest.raises(MediaError) as excinfo:
        process_image(data)

    assert _code(excinfo) == UNSUPPORTED_MEDIA_TYPE


def test_empty_upload_is_unsupported() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_upload(b"", allow_pdf=True)

    assert _code(excinfo) == UNSUPPORTED_MEDIA_TYPE


def test_truncated_jpeg_is_corrupt() -> None:
    data = _encode(_picture((400, 300)), "JPEG")

    with pytest.raises(MediaError) as excinfo:
        process_image(data[: len(data) // 2])

    assert _code(excinfo) == CORRUPT_IMAGE


def test_jpeg_magic_followed_by_garbage_is_corrupt() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_image(b"\xff\xd8\xff" + b"not really a jpeg" * 20)

    assert _code(excinfo) == CORRUPT_IMAGE


def test_upload_over_max_bytes_is_too_large_before_anything_else() -> None:
    data = b"MZ" + b"\x00" * 2000  # not even an image: the size is checked first

    with pytest.raises(MediaError) as excinfo:
        process_upload(data, allow_pdf=True, max_bytes=1000)

    assert _code(excinfo) == FILE_TOO_LARGE
    assert excinfo.value.limit == 1000
    assert excinfo.value.details == {"limit": 1000, "size": 2002}


def test_png_claiming_fifty_thousand_square_is_refused_without_decoding() -> None:
    bomb = _png_claiming(50_000, 50_000)  # 2.5 gigapixels, 7.5 GB once decoded
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()

    with pytest.raises(MediaError) as excinfo:
        process_image(bomb)

    assert _code(excinfo) == IMAGE_TOO_LARGE
    assert time.perf_counter() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50_000  # KiB


def test_pixel_limit_is_checked_from_the_header_before_decoding() -> None:
    # 7000 x 7000 is below Pillow's own bomb threshold but above ours; the data holds one pixel,
    # so decoding would fail as corrupt: image_too_large proves that nothing was decoded.
    with pytest.raises(MediaError) as excinfo:
        process_image(_png_claiming(7000, 7000))

    assert _code(excinfo) == IMAGE_TOO_LARGE
    assert excinfo.value.details == {"limit": 40_000_000, "width": 7000, "height": 7000}


def test_real_image_over_a_lower_pixel_limit_is_too_large() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_image(_encode(_picture((200, 100)), "PNG"), max_pixels=19_999)

    assert _code(excinfo) == IMAGE_TOO_LARGE


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_images_raise_only_media_errors(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(["JPEG", "PNG", "WEBP", "GIF"]))
    original = bytearray(_encode(_picture((32, 24)), fmt))
    for _ in range(data.draw(st.integers(1, 8))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(8, len(original)))

    try:
        result = process_upload(bytes(original[:cut]), allow_pdf=False)
    except MediaError as exc:
        assert exc.code in {UNSUPPORTED_MEDIA_TYPE, CORRUPT_IMAGE, IMAGE_TOO_LARGE}
    else:
        assert isinstance(result, ProcessedImage)


# -- PDF ---------------------------------------------------------------------------------------


def test_pdf_is_accepted_as_is_when_allowed() -> None:
    result = process_upload(PDF, allow_pdf=True)

    assert isinstance(result, ProcessedFile)
    assert (result.content, result.content_type, result.ext) == (PDF, "application/pdf", "pdf")
    assert result.thumbnail is None
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()


def test_pdf_is_refused_where_only_images_are_allowed() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_upload(PDF, allow_pdf=False)

    assert _code(excinfo) == UNSUPPORTED_MEDIA_TYPE
    assert excinfo.value.details == {"detected": "pdf"}


def test_pdf_without_eof_trailer_is_corrupt() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_pdf(PDF[: len(PDF) // 2])

    assert _code(excinfo) == CORRUPT_FILE


def test_pdf_with_malformed_header_is_corrupt() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_pdf(b"%PDF-x" + PDF[6:])

    assert _code(excinfo) == CORRUPT_FILE


def test_image_is_not_accepted_as_pdf() -> None:
    with pytest.raises(MediaError) as excinfo:
        process_pdf(_encode(_picture(), "PNG"))

    assert _code(excinfo) == UNSUPPORTED_MEDIA_TYPE


def test_upload_of_an_image_dispatches_to_the_image_pipeline() -> None:
    result = process_upload(_jpeg_with_gps(), allow_pdf=True, keep_gps=True, thumb_side=16)

    assert isinstance(result, ProcessedImage)
    assert result.gps == pytest.approx(SHENZHEN_BAY)
    assert max(result.thumb_width, result.thumb_height) == 16
