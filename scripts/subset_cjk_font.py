"""Make the CJK font Linli ships (``media/fonts/``) from Noto Sans CJK SC.

Badges and certificates need Chinese glyphs on machines without any CJK font. The shipped font
is Noto Sans CJK SC Regular (SIL Open Font License 1.1, licence in ``media/fonts/OFL.txt``)
(its names unchanged: the licence reserves no font name of Noto CJK but "Source", which it does not
use) reduced to the characters Linli prints: GB 2312 (6,763 hanzi and its symbols), printable ASCII
and Latin-1, common punctuation, and every character of the division names in
``backend/divisions/data`` (place names use a few characters outside GB 2312).

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/noto
    python scripts/subset_cjk_font.py /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

fontTools ships with fpdf2, so this needs nothing beyond Linli's own dependencies.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "media" / "fonts" / "NotoSansSC-Regular-GB2312.ttf"


def gb2312() -> set[str]:
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def extras() -> set[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    chars |= set("—–‘’“”…·•※〇〔〕〖〗『』「」【】《》〈〉、。，．；：？！（）～￥€→←↑↓√×÷±≤≥℃№①②③④⑤⑥⑦⑧⑨⑩")
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width forms
    for name in ("provinces", "cities", "areas", "streets"):
        with open(ROOT / "backend" / "divisions" / "data" / f"{name}.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                chars |= set(row["name"])
    return chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="NotoSansCJK-Regular.ttc (or NotoSansCJKsc-Regular.otf)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    if args.source.endswith(".ttc"):
        collection = TTCollection(args.source)
        font = next(f for f in collection.fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    else:
        font = TTFont(args.source)
    text = "".join(sorted(gb2312() | extras()))
    options = subset.Options()
    options.layout_features = ["kern", "vert", "vrt2", "locl", "fwid", "halt", "palt"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        to_truetype(font)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    font.save(args.out)
    print(f"{args.out}: {len(text)} characters, {Path(args.out).stat().st_size / 1e6:.1f} MB")


def to_truetype(font: TTFont) -> None:
    """CFF outlines to TrueType (quadratic) ones: PDF readers and text extraction handle a
    TrueType-based CID font (fpdf2 embeds it as CIDFontType2 with Identity-H) everywhere."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.compile(font)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: the CID names would only add size
    post.extraNames = []
    post.mapping = {}
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


if __name__ == "__main__":
    main()
