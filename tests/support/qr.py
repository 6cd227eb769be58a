"""Reading Linli's QR codes back with a real reader (zxing-cpp), as a phone's scanner would."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr_symbols(image: bytes | Image.Image) -> list[zxingcpp.Barcode]:
    """Every QR symbol in ``image``: PNG bytes or a Pillow image.

    Only QR is looked for. Every code Linli draws is a QR, and a reader told to try every format
    now and then takes a run of a QR's modules for a linear barcode: about one random badge in
    3,300 read as its URL plus a four-digit ITF code.
    """
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def read_qr(image: bytes | Image.Image) -> list[str]:
    """The text of every QR symbol in ``image``."""
    return [symbol.text for symbol in read_qr_symbols(image)]
