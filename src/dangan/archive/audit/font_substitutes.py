"""The installed font that stands in for a font an OFD names but does not embed (宋体, 楷体, 黑体,
仿宋, Courier New …), chosen by its family: one mapping, used both where a page is drawn for
viewing (scanning.ofd_render) and where the OFD export embeds a substitute cut to the text
(ofd_export.subset_font), so the two draw the same shapes.

A family name is sorted into a style by words in it (楷/Kai → kai; 仿宋/宋/Song/SimSun/Ming/
Times/serif → serif; Courier/Mono → mono; 黑/Hei/YaHei/Arial/sans → sans; anything else → sans),
and each style lists installed faces closest first. Every list ends in the sans faces, so a
character the closest face lacks still finds one that has it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

NOTO = "/usr/share/fonts/opentype/noto"
TRUETYPE = "/usr/share/fonts/truetype"

# (words in the family name, lower case), checked in this order: 仿宋 before 宋, Sans Mono before Sans
STYLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kai", ("楷", "kai")),
    ("mono", ("courier", "mono", "consolas", "等宽", "fixed")),
    ("sans", ("黑", "hei", "雅黑", "yahei", "等线", "dengxian", "arial", "helvetica", "sans", "gothic", "圆")),
    ("serif", ("宋", "song", "simsun", "明", "ming", "times", "roman", "serif", "georgia", "仿", "fang")),
)

SANS = (
    (f"{NOTO}/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    (f"{TRUETYPE}/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
)
FACES: dict[str, tuple[tuple[str, str], ...]] = {  # style → (file, family of the face in it), closest first
    "serif": (
        (f"{NOTO}/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
        (f"{TRUETYPE}/arphic/uming.ttc", "AR PL UMing CN"),
        *SANS,
    ),
    "kai": (
        (f"{TRUETYPE}/arphic/ukai.ttc", "AR PL UKai CN"),
        (f"{NOTO}/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
        *SANS,
    ),
    "mono": (
        (f"{TRUETYPE}/liberation/LiberationMono-Regular.ttf", "Liberation Mono"),  # Courier New's metrics
        (f"{TRUETYPE}/dejavu/DejaVuSansMono.ttf", "DejaVu Sans Mono"),
        (f"{NOTO}/NotoSansCJK-Regular.ttc", "Noto Sans Mono CJK SC"),
        (f"{TRUETYPE}/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei Mono"),
        *SANS,
    ),
    "sans": SANS,
}


@dataclass(frozen=True)
class Face:
    path: str
    index: int  # the face within a collection (.ttc)
    name: str


def style(family: str) -> str:
    name = family.lower()
    for kind, words in STYLES:
        if any(w in name for w in words):
            return kind
    return "sans"


@cache
def faces(family: str) -> tuple[Face, ...]:
    """The installed faces for FAMILY, closest first (none when no listed font is installed)."""
    found = []
    for path, name in FACES[style(family)]:
        index = _index(path, name)
        if index is not None:
            found.append(Face(path, index, name))
    return tuple(dict.fromkeys(found))


def face_for(family: str, text: str) -> Face | None:
    """The closest face for FAMILY that has every character of TEXT, else the one that has the
    most of them; None when no listed font is installed."""
    wanted = {ord(c) for c in text if not c.isspace()}
    best, best_missing = None, None
    for face in faces(family):
        missing = len(wanted - _characters(face))
        if missing == 0:
            return face
        if best_missing is None or missing < best_missing:
            best, best_missing = face, missing
    return best


@cache
def _index(path: str, name: str) -> int | None:
    if not os.path.exists(path):
        return None
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if not path.endswith((".ttc", ".otc")):
            return 0 if TTFont(path, lazy=True)["name"].getDebugName(1) == name else None
        collection = TTCollection(path, lazy=True)
        return next((i for i, f in enumerate(collection.fonts) if f["name"].getDebugName(1) == name), None)
    except Exception:  # noqa: BLE001 - a damaged font file is as good as none
        return None


@cache
def _characters(face: Face) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        return frozenset(TTFont(face.path, fontNumber=face.index, lazy=True).getBestCmap() or {})
    except Exception:  # noqa: BLE001
        return frozenset()
