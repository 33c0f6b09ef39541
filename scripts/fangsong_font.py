"""Derive "Lianshen FangSong", the body face of the printed minutes, from Debian's cwTeX 仿宋.

cwTeX 仿宋 (fonts-cwtex-fs, GPL-2+ with the font-embedding exception) is the only freely licensed
仿宋 a registry reachable from a fresh machine offers, but it was drawn for traditional-character
typesetting: its ideographs are 0.92 em wide and drawn about a fifth smaller than a simplified face
of the same point size, and its punctuation sits in the middle of the cell (the Taiwan convention).
Set as it is, a 28-character GB/T 9704 line holds 30 characters, and the simplified characters it
lacks (filled glyph by glyph from Noto Serif CJK SC) stand out a size larger. So this keeps its
ideographs only (the punctuation, digits and the missing characters come from Noto Serif CJK SC,
which the style sheet names next), scales them to Noto's ideograph height and centres each in a
full 1 em cell. The result is a modified version of cwTeX 仿宋 under the same licence, renamed as
the licence's spirit asks of a changed font.

Run by scripts/setup.sh; idempotent (skips when the output is newer than the source):
    python scripts/fangsong_font.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SOURCE = Path("/usr/share/fonts/truetype/cwtex/cwfs.ttf")
FAMILY = "Lianshen FangSong"
FILE_NAME = "LianshenFangSong.ttf"
VERSION = "1.1"
"""Raised whenever the derivation changes, so setup rebuilds an installed older font."""
SCALE = 1.12  # cwTeX ideographs -0.07..0.75 em high, Noto Serif CJK SC -0.08..0.84
NOTO_ASCENT, NOTO_DESCENT = 1151, 286  # Noto Serif CJK SC, units of a 1000-unit em
BASE_FEA = """table BASE {
  HorizAxis.BaseTagList icfb icft ideo romn;
  HorizAxis.BaseScriptList DFLT ideo -76 836 -120 0, hani ideo -76 836 -120 0, latn romn -76 836 -120 0;
} BASE;
"""  # Noto Serif CJK SC's BASE table, in feature-file syntax
IDEOGRAPHS = [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *range(0xF900, 0xFB00)]
SPACES = {0x20: 258, 0x3000: 1000}
"""Space and ideographic space at Noto Serif CJK SC's widths: without them in the font, HarfBuzz
synthesises a space from .notdef, which prints as a box-shaped blank and garbles text extraction."""


def default_dir() -> Path:
    """A font directory fontconfig reads: the system's when writable (setup runs as root), else
    the user's."""
    system = Path("/usr/local/share/fonts")
    if os.access(system if system.exists() else system.parent, os.W_OK):
        return system / "lianshen"
    return Path.home() / ".local" / "share" / "fonts" / "lianshen"


def derive(source: Path, out: Path) -> None:
    from fontTools import subset
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont

    font = TTFont(source)
    options = subset.Options()
    options.hinting = False  # scaled outlines would be hinted wrongly
    options.drop_tables += ["mort", "fpgm", "prep", "cvt ", "gasp"]
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[*IDEOGRAPHS, *SPACES])
    subsetter.subset(font)

    upem = font["head"].unitsPerEm
    glyphs = font.getGlyphSet()
    glyf, hmtx = font["glyf"], font["hmtx"]
    for name in font.getGlyphOrder():
        advance, _lsb = hmtx[name]
        if name == ".notdef" or not advance:
            continue
        pen = TTGlyphPen(None)
        shift = (upem - advance * SCALE) / 2
        glyphs[name].draw(TransformPen(pen, (SCALE, 0, 0, SCALE, shift, 0)))
        glyph = pen.glyph()
        glyph.recalcBounds(glyf)
        glyf[name] = glyph
        hmtx[name] = (upem, glyph.xMin if glyph.numberOfContours else 0)
    cmap = font.getBestCmap()
    for code, width in SPACES.items():
        hmtx[cmap[code]] = (width * upem // 1000, 0)
    font["hhea"].advanceWidthMax = upem
    _match_noto_metrics(font)
    _rename(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)


def _match_noto_metrics(font) -> None:  # type: ignore[no-untyped-def]
    """Noto Serif CJK SC's vertical metrics: a line holding glyphs of both faces then sits on one
    baseline and is exactly the line height (different ascents would make it taller and push the
    22nd line of a page over); weight 400 so CSS picks it as the regular face."""
    hhea, os2 = font["hhea"], font["OS/2"]
    hhea.ascent, hhea.descent, hhea.lineGap = NOTO_ASCENT, -NOTO_DESCENT, 0
    os2.usWinAscent, os2.usWinDescent = NOTO_ASCENT, NOTO_DESCENT
    os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap = 880, -120, 0
    os2.usWeightClass = 400
    # Pango aligns runs of different fonts on their BASE baselines, and synthesises them for a font
    # without the table: without Noto's values each line mixing the two faces grows by 1.4 px.
    from fontTools.feaLib.builder import addOpenTypeFeaturesFromString

    addOpenTypeFeaturesFromString(font, BASE_FEA)


def _rename(font) -> None:  # type: ignore[no-untyped-def]
    names = font["name"]
    original = names.getDebugName(0) or ""
    for name_id, text in ((1, FAMILY), (2, "Regular"), (3, f"{FAMILY};derived from cwTeXFangSong 1.0"),
                          (4, FAMILY), (6, FAMILY.replace(" ", "")),
                          (5, f"Version {VERSION}; ideographs of cwTeX FangSong scaled to 1 em cells"),
                          (0, f"{original} Modified for Lianshen (scaled, ideographs only).")):
        names.removeNames(nameID=name_id)
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)


def _version(path: Path) -> str | None:
    """The VERSION an installed font was derived with (None for one from before versions)."""
    from fontTools.ttLib import TTFont

    text = TTFont(path, lazy=True)["name"].getDebugName(5) or ""
    return text.removeprefix("Version ").split(";")[0] if text.startswith("Version ") else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="font directory (default: see default_dir)")
    args = parser.parse_args()
    if not SOURCE.is_file():
        print(f"fangsong_font: {SOURCE} missing: install fonts-cwtex-fs", file=sys.stderr)
        return 1
    out = (args.out or default_dir()) / FILE_NAME
    if out.is_file() and out.stat().st_mtime >= SOURCE.stat().st_mtime and _version(out) == VERSION:
        return 0
    derive(SOURCE, out)
    print(f"fangsong_font: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
