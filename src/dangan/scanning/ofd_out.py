"""Born-digital pages as OFD content of their own, for the OFD/A export (archive.audit.ofd_export):

- a page of an OFD original is copied as it is: its layers, text, paths, pictures and composite
  objects, the fonts, pictures, draw parameters and colour spaces they use, with every ID
  renumbered into the export's and templates laid into the page (behind or in front, as the
  page places them). A font the original does not embed gets a CJK font cut to its text (OFD/A
  embeds every font); its seals' pictures are drawn on top (the signature itself belongs to the
  original file, which stays the master); actions and annotations are left out.
- a page of a born-digital PDF is converted (scanning.pdf_to_ofd).
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from dangan.archive.audit.ofd_export import VectorPage, mm_text, ofd_element, ofd_name, subset_font
from dangan.scanning.ofd import OfdFile, OfdInvalid, seal_picture
from dangan.scanning.ofd_content import kid, kids, local, numbers, text_of
from dangan.scanning.pdf_to_ofd import pdf_page

NewId = Callable[[], int]
# attributes that name a resource (GB/T 33190 §§ 7.9, 8.2, 13, 15)
REFERENCES = ("Font", "ResourceID", "DrawParam", "ColorSpace", "Relative")
RESOURCE_GROUPS = {
    "Font": "Fonts",
    "MultiMedia": "MultiMedias",
    "DrawParam": "DrawParams",
    "ColorSpace": "ColorSpaces",
    "CompositeGraphicUnit": "CompositeGraphicUnits",
}
LEFT_OUT = ("Actions",)  # links and scripts run on opening: not in an archival file


# --------------------------------------------------------------------------- an OFD page copied


def ofd_page(path: str | Path, number: int, new_id: NewId) -> VectorPage | None:
    """Page NUMBER (1-based) of the OFD at PATH, copied with IDs from NEW_ID; None when the
    file cannot be read (the export writes its rendering instead)."""
    try:
        with OfdFile(path) as ofd:
            return _Copy(ofd, new_id).page(number)
    except (OfdInvalid, IndexError, ValueError):
        return None


class _Copy:
    def __init__(self, ofd: OfdFile, new_id: NewId):
        self.ofd, self.new_id = ofd, new_id
        self.found: dict[str, tuple[ET.Element, str]] = {}  # resource ID → (element, folder of its files)
        self.mapped: dict[str, str] = {}  # resource ID in the original → in the export
        self.out = VectorPage(ET.Element(ofd_name("Area")), [])

    def _read_resources(self, part: str) -> None:
        res = self.ofd.xml(part)
        base = posixpath.join(posixpath.dirname(part), res.get("BaseLoc", "")) + "/"
        for group in res:
            for item in group:
                if local(item.tag) in RESOURCE_GROUPS and item.get("ID"):
                    self.found.setdefault(item.get("ID", ""), (item, base))

    def page(self, number: int) -> VectorPage:
        ofd = self.ofd
        doc = ofd.xml(ofd.document)
        common = kid(doc, "CommonData")
        for res in kids(common, "PublicRes") + kids(common, "DocumentRes"):
            part = ofd._optional(ofd.document, res.text or "")
            if part:
                self._read_resources(part)
        part = ofd.page_parts[number - 1]
        root = ofd.xml(part)
        for res in kids(root, "PageRes"):
            own = ofd._optional(part, text_of(res))
            if own:
                self._read_resources(own)
        box = numbers(text_of(kid(kid(root, "Area"), "PhysicalBox")))
        if len(box) != 4:
            box = list(ofd.page_area)
        ofd_element(self.out.area, "PhysicalBox", " ".join(mm_text(v) for v in box))
        behind = [t for t in kids(root, "Template") if t.get("ZOrder", "Background") == "Background"]
        front = [t for t in kids(root, "Template") if t not in behind]
        for template in behind:
            self._layers(template)
        for layer in kids(kid(root, "Content"), "Layer"):
            self.out.layers.append(self._copy(layer))
        for template in front:
            self._layers(template)
        self._seals(number, box)
        return self.out

    def _layers(self, template: ET.Element) -> None:
        tpart = self.ofd.templates.get(template.get("TemplateID", ""))
        if tpart:
            for layer in kids(kid(self.ofd.xml(tpart), "Content"), "Layer"):
                self.out.layers.append(self._copy(layer))

    def _copy(self, element: ET.Element) -> ET.Element:
        """ELEMENT in the export's namespace, its IDs renumbered and its references followed."""
        out = ET.Element(ofd_name(local(element.tag)))
        out.text, out.tail = element.text, None
        for name, value in element.attrib.items():
            name = local(name)
            if name == "ID":
                value = str(self.new_id())
            elif name in REFERENCES and value.strip():
                value = self._resource(value.strip())
            out.set(name, value)
        for child in element:
            if local(child.tag) not in LEFT_OUT:
                out.append(self._copy(child))
        return out

    def _resource(self, rid: str) -> str:
        if rid in self.mapped:
            return self.mapped[rid]
        if rid not in self.found:
            return rid  # names nothing in the original either: left as it was
        self.mapped[rid] = "pending"  # a resource that refers to itself stops here
        element, base = self.found[rid]
        copied = self._copy(element)
        self.mapped[rid] = copied.get("ID", rid)
        kind = local(element.tag)
        for file_tag in ("FontFile", "MediaFile"):
            loc = kid(copied, file_tag)
            if loc is None or not text_of(loc):
                continue
            try:
                data = self.ofd.read(self.ofd.resolve(base, text_of(loc)))
            except OfdInvalid:
                data = b""
            if data:
                name = f"o{copied.get('ID')}{posixpath.splitext(text_of(loc))[1].lower()}"
                self.out.files[name] = data
                loc.text = name
            else:
                copied.remove(loc)
        if kind == "Font" and kid(copied, "FontFile") is None:
            self._embed(copied, rid)
        self.out.resources.setdefault(RESOURCE_GROUPS[kind], []).append(copied)
        return self.mapped[rid]

    def _embed(self, font: ET.Element, rid: str) -> None:
        """A font the original names but does not embed: a CJK font cut to the text set in it."""
        text = "".join(
            code.text or ""
            for obj in self._all_text_objects()
            if obj.get("Font", "").strip() == rid
            for code in kids(obj, "TextCode")
        )
        name, data = subset_font(text, (font.get("FamilyName") or font.get("FontName") or "").strip())
        file_name = f"o{font.get('ID')}.ttf"
        font.set("FontName", name)
        ofd_element(font, "FontFile", file_name)
        self.out.files[file_name] = data

    def _all_text_objects(self) -> list[ET.Element]:
        ofd = self.ofd
        parts = list(ofd.page_parts) + list(ofd.templates.values())
        found = []
        for part in parts:
            found += [e for e in ofd.xml(part).iter() if local(e.tag) == "TextObject"]
        for element, _base in self.found.values():
            found += [e for e in element.iter() if local(e.tag) == "TextObject"]
        return found

    def _seals(self, number: int, box: list[float]) -> None:
        """Each seal stamped on the page, its picture as an image on top."""
        page = self.ofd.page(number)
        layer = None
        for seal in page.seals:
            try:
                picture = seal_picture(self.ofd.read(seal.part))
            except OfdInvalid:
                picture = None
            if picture is None:
                continue
            buf = io.BytesIO()
            picture.convert("RGBA").save(buf, format="PNG")
            rid = str(self.new_id())
            media = ET.Element(ofd_name("MultiMedia"), {"ID": rid, "Type": "Image", "Format": "PNG"})
            ofd_element(media, "MediaFile", f"o{rid}.png")
            self.out.files[f"o{rid}.png"] = buf.getvalue()
            self.out.resources.setdefault("MultiMedias", []).append(media)
            if layer is None:
                layer = ET.Element(ofd_name("Layer"), {"ID": str(self.new_id()), "Type": "Foreground"})
                self.out.layers.append(layer)
            left, top, right, bottom = seal.box
            w, h = right - left, bottom - top
            ET.SubElement(
                layer,
                ofd_name("ImageObject"),
                {
                    "ID": str(self.new_id()),
                    "ResourceID": rid,
                    "Boundary": " ".join(mm_text(v) for v in (left - box[0], top - box[1], w, h)),
                    "CTM": f"{mm_text(w)} 0 0 {mm_text(h)} 0 0",
                },
            )


# --------------------------------------------------------------------------- either


def born_digital_page(source: Path, master_format: str, number: int, new_id: NewId) -> VectorPage | None:
    """The page's own content when its master is a born-digital file (an OFD or a PDF page
    with text of its own), else None."""
    if master_format == "ofd":
        return ofd_page(source, number, new_id)
    if master_format == "pdf":
        return pdf_page(source, number, new_id)
    return None
