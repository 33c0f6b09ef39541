"""Where each tile goes in the output frame: a large area above and a strip of small tiles below
(or the whole frame when only one picture is shown). Sizes are even, as yuv420p needs."""

from __future__ import annotations

from dataclasses import dataclass

STRIP_FRACTION = 4  # the strip is a quarter of the height
TILE_ASPECT = 16 / 9


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def boxes(width: int, height: int, has_large: bool, small_count: int) -> list[Box]:
    """The large box first (if any), then one box per small tile, left to right, centred."""
    if small_count == 0:
        return [Box(0, 0, width, height)] if has_large else []
    if not has_large:  # nobody large (e.g. only screens ended): the small tiles share the frame
        return _row(width, height, 0, small_count, height)
    strip = _even(height / STRIP_FRACTION)
    return [Box(0, 0, width, height - strip), *_row(width, strip, height - strip, small_count, strip)]


def _row(width: int, tile_h: int, y: int, count: int, row_h: int) -> list[Box]:
    tile_w = _even(min(width / count, tile_h * TILE_ASPECT))
    left = (width - tile_w * count) // 2 // 2 * 2
    return [Box(left + i * tile_w, y, tile_w, row_h) for i in range(count)]


def fit(src_w: int, src_h: int, box: Box) -> Box:
    """The picture scaled to fit the box without distortion, centred in it."""
    scale = min(box.w / src_w, box.h / src_h)
    w, h = min(box.w, _even(src_w * scale)), min(box.h, _even(src_h * scale))
    return Box(box.x + (box.w - w) // 2 // 2 * 2, box.y + (box.h - h) // 2 // 2 * 2, w, h)
