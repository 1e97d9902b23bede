"""Font metadata from fontTools: names, weight, style and variation axes of every face in the file."""

from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.woff2 import WOFF2Reader

from assets.extractors import ExtractionError

FORMATS = {
    b"\x00\x01\x00\x00": "ttf",
    b"true": "ttf",
    b"OTTO": "otf",
    b"wOFF": "woff",
    b"wOF2": "woff2",
    b"ttcf": "ttc",
}
FS_SELECTION_ITALIC = 1 << 0
FS_SELECTION_OBLIQUE = 1 << 9
MAC_STYLE_ITALIC = 1 << 1


def extract_font(path: Path) -> dict:
    """The first face's fields at the top level, every face (one for a single font) in `variants`.

    Tables are read lazily, so only the directory and the small tables named here are parsed; the
    directory is checked against the file's size, which is how a cut-off upload shows.
    """
    with path.open("rb") as file:
        font_format = FORMATS.get(file.read(4))
    if font_format is None:
        raise _invalid("it is not a TrueType, OpenType, WOFF, WOFF2 or TTC/OTC font", fix="upload one of those")
    size = path.stat().st_size
    try:
        if font_format == "ttc":
            with TTCollection(path, lazy=True) as collection:
                faces = [_face(font, size) for font in collection.fonts]
        else:
            with TTFont(path, lazy=True) as font:
                faces = [_face(font, size)]
    except ExtractionError:
        raise
    except Exception as exc:  # fontTools reports corrupt data with whatever its parser tripped on.
        raise _invalid(f"fontTools cannot read it ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not faces:
        raise _invalid("the collection holds no fonts")
    return {"format": font_format, **faces[0], "variants": faces}


def _face(font, file_size):
    _check_table_bounds(font, file_size)
    for tag in ("name", "head", "cmap"):
        if tag not in font:
            raise _invalid(f"it has no '{tag}' table, which every usable font has")
    names = font["name"]
    family = names.getBestFamilyName()
    if not family:
        raise _invalid("its name table gives no family name")
    head, os2 = font["head"], font.get("OS/2")
    font["cmap"]  # parsed to prove it is readable: text cannot be set without it.
    italic = bool(head.macStyle & MAC_STYLE_ITALIC)
    if os2 is not None:
        italic = italic or bool(os2.fsSelection & (FS_SELECTION_ITALIC | FS_SELECTION_OBLIQUE))
    face = {
        "family": family,
        "subfamily": names.getBestSubFamilyName(),
        "fullName": names.getBestFullName(),
        "postscriptName": names.getDebugName(6),
        "weight": os2.usWeightClass if os2 is not None else (700 if head.macStyle & 1 else 400),
        "italic": italic,
        "isVariable": "fvar" in font,
        "axes": [],
        "namedInstances": [],
    }
    if face["isVariable"]:
        fvar = font["fvar"]
        face["axes"] = [
            {
                "tag": axis.axisTag,
                "name": names.getDebugName(axis.axisNameID),
                "min": axis.minValue,
                "default": axis.defaultValue,
                "max": axis.maxValue,
            }
            for axis in fvar.axes
        ]
        face["namedInstances"] = [
            {"name": names.getDebugName(instance.subfamilyNameID), "coordinates": dict(instance.coordinates)}
            for instance in fvar.instances
        ]
    return face


def _check_table_bounds(font, file_size):
    if isinstance(font.reader, WOFF2Reader):
        return  # WOFF2 is decompressed whole when opened, and brotli refuses a cut-off stream.
    for tag, entry in font.reader.tables.items():
        if entry.offset + entry.length > file_size:
            raise _invalid(
                f"its '{tag}' table runs past the end of the file ({file_size} bytes), so the upload was cut off"
            )


def _invalid(reason, *, fix="upload the complete font file again"):
    return ExtractionError("invalid_font", f"The file is not a usable font: {reason}; {fix}.")
