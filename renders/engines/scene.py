"""A template's scene with a render's props applied: every binding resolved, every source checked, defaults filled.

Bindings use the template checks' own matcher (`assets.extractors.templates.BINDING_PATTERN`). In `text`
each `{{prop}}` becomes the prop's value as text; a colour or source field that is one whole binding
takes the prop's value, and a prop that names an asset resolves to `sources[prop]`. A literal asset id in
the scene resolves to `sources[id]`.

Where inputs may come from (the engine's only file-system and network reach):
- A customer's value (a literal in the scene, or a prop's): an `http` or `https` URL, which `fetch`
  downloads into `workdir` through the outbound guard (`renders.engines.fetch`) before ffmpeg starts;
  anything else (`file:`, `concat:`, `data:`, a path…) is `source_not_allowed`. A downloaded file is
  probed like a local one, so its sound is mixed.
- The platform's `sources` (its assets): a local path, absolute and (after resolving symlinks) inside
  the render's `workdir` or ASSET_STORAGE_ROOT, which ffmpeg opens with only the `file` protocol; or the
  store's signed URL, which ffmpeg opens with a protocol whitelist of http/https/tcp/tls (a font's is
  downloaded, as drawtext reads files only).
"""

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import re2
from django.conf import settings
from pymediainfo import MediaInfo

from assets.extractors.templates import ASSET_MARKER, BINDING_PATTERN
from renders.engines.base import EngineError
from renders.inputs import RenderInput

COLOR = re2.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
VISUAL_TYPES = ("color", "image", "video", "text")
# Words that reach the filter graph: checked here too (the meta-schema already has), so that no template
# that slipped past validation can put filter syntax into the graph.
CHOICES = {
    "fit": ("cover", "contain", "fill"),
    "align": ("left", "center", "right"),
    "motion": (None, "zoom-in", "zoom-out"),
}


# (url, where=field named in errors, trusted=the platform's own URL) -> the downloaded file in the workdir.
Fetch = Callable[..., Path]


@dataclass(frozen=True)
class Source:
    """Where ffmpeg reads an input: the platform's signed URL or an absolute local path, and whether it carries sound."""

    location: str
    is_url: bool
    has_audio: bool = False


@dataclass(frozen=True)
class Layer:
    """One layer, ready to draw: times in seconds on the composition's clock, lengths in template pixels."""

    index: int
    type: str
    start: float
    end: float
    x: float | str = "center"
    y: float | str = "center"
    width: int | None = None
    height: int | None = None
    opacity: float = 1.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    color: str | None = None  # ffmpeg's 0xRRGGBBAA
    source: Source | None = None
    fit: str = "cover"
    motion: str | None = None
    trim_start: float = 0.0
    loop: bool = False
    volume: float = 1.0
    muted: bool = False
    text: str = ""
    font: Source | None = None
    size: float = 48
    align: str = "center"
    max_width: float | None = None
    box_color: str | None = None
    box_padding: int = 0

    @property
    def duration(self):
        return self.end - self.start


@dataclass(frozen=True)
class Scene:
    width: int  # the template's canvas, in which layers are placed
    height: int
    duration: float
    background: str
    layers: list[Layer] = field(default_factory=list)


def scene_resolve(*, input: RenderInput, sources: dict[str, str], workdir: Path, fetch: Fetch) -> Scene:
    """The template's scene for these props and sources; raises EngineError on a value that cannot be drawn.

    `fetch` downloads a URL into `workdir` (`renders.engines.fetch.SourceFetcher.fetch`).
    """
    template = input.template
    scene = template.get("scene")
    if not isinstance(scene, dict):
        raise EngineError(
            "invalid_scene", "The template has no scene; only ffmpeg templates can be drawn by this engine."
        )
    resolver = _Resolver(input=input, sources=sources, roots=_allowed_roots(workdir), fetch=fetch)
    duration = input.duration_seconds
    background = resolver.color(scene.get("background", "#000000"), where="scene.background")
    layers = [resolver.layer(index, layer, duration) for index, layer in enumerate(scene.get("layers", []))]
    return Scene(
        width=template["width"],
        height=template["height"],
        duration=duration,
        background=background,
        layers=[layer for layer in layers if layer is not None],
    )


def source_check(location: str, *, roots: list[Path]) -> Source:
    """A platform source's URL or path as a Source, if the engine may read it; else EngineError `source_not_allowed`."""
    parts = urlsplit(location)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return Source(location=location, is_url=True)
    if parts.scheme and not (len(parts.scheme) == 1 and os.name == "nt"):
        raise EngineError(
            "source_not_allowed",
            f"An input uses the {parts.scheme}: scheme; inputs must be http(s) URLs or platform assets.",
        )
    path = Path(location)
    if not path.is_absolute():
        raise EngineError(
            "source_not_allowed", "An input is a relative path; inputs must be http(s) URLs or platform assets."
        )
    real = Path(os.path.realpath(path))
    if not any(real.is_relative_to(root) for root in roots):
        raise EngineError(
            "source_not_allowed",
            "An input lies outside the render's working directory and asset storage; use a platform asset.",
        )
    if not real.is_file():
        raise EngineError("invalid_scene", "An input file is missing from asset storage; upload the asset again.")
    return Source(location=str(real), is_url=False)


def _allowed_roots(workdir):
    roots = [Path(os.path.realpath(workdir))]
    storage = getattr(settings, "ASSET_STORAGE_ROOT", None)
    if storage:
        roots.append(Path(os.path.realpath(storage)))
    return roots


class _Resolver:
    def __init__(self, *, input, sources, roots, fetch):
        self.props = input.props
        self.assets = input.assets
        self.sources = sources
        self.roots = roots
        self.fetch = fetch

    def layer(self, index, layer, duration):
        kind = layer["type"]
        where = f"scene.layers[{index}]"
        start = float(layer.get("start", 0))
        end = min(float(layer.get("end", duration)), duration)
        if start >= end:
            return None  # never visible within the composition
        fields = {
            "index": index,
            "type": kind,
            "start": start,
            "end": end,
            "fade_in": float(layer.get("fadeIn", 0)),
            "fade_out": float(layer.get("fadeOut", 0)),
        }
        if kind in VISUAL_TYPES:
            fields.update(
                x=_position(layer.get("x", "center")),
                y=_position(layer.get("y", "center")),
                opacity=float(layer.get("opacity", 1)),
            )
        if kind in ("color", "image", "video"):
            fields.update(width=_length(layer.get("width")), height=_length(layer.get("height")))
        if kind == "color":
            fields["color"] = self.color(layer["color"], where=f"{where}.color")
        elif kind in ("image", "video", "audio"):
            fields["source"] = self.source(layer["src"], where=f"{where}.src", want_audio=kind != "image")
            fields.update(fit=layer.get("fit", "cover"), motion=layer.get("motion"))
            fields.update(trim_start=float(layer.get("trimStart", 0)), loop=bool(layer.get("loop", False)))
            fields.update(volume=float(layer.get("volume", 1)), muted=bool(layer.get("muted", False)))
        elif kind == "text":
            fields["text"] = self.text(layer["text"])
            if not fields["text"].strip():
                return None
            if "font" in layer:
                fields["font"] = self.source(layer["font"], where=f"{where}.font", want_audio=False, local=True)
            box = layer.get("box")
            if box:
                fields["box_color"] = self.color(box.get("color", "#00000080"), where=f"{where}.box.color")
                fields["box_padding"] = round(box.get("padding", 0))
            fields.update(
                size=float(layer.get("size", 48)),
                color=self.color(layer.get("color", "#ffffff"), where=f"{where}.color"),
                align=layer.get("align", "center"),
                max_width=layer.get("maxWidth"),
            )
        for name, allowed in CHOICES.items():
            if name in fields and fields[name] not in allowed:
                raise EngineError(
                    "invalid_scene",
                    f"{where}.{name} is {fields[name]!r}; use one of {', '.join(filter(None, allowed))}.",
                )
        return Layer(**fields)

    def text(self, value):
        return BINDING_PATTERN.sub(lambda match: _as_text(self.props.get(match.group(1))), value)

    def color(self, value, *, where):
        bound = BINDING_PATTERN.fullmatch(value)
        if bound:
            value = self.props.get(bound.group(1))
        if not isinstance(value, str) or not COLOR.fullmatch(value):
            raise EngineError(
                "invalid_scene", f"{where} is {_as_text(value)[:40]!r}, not a colour; use #rgb, #rrggbb or #rrggbbaa."
            )
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 6:
            digits += "ff"
        return "0x" + digits.lower()

    def source(self, value, *, where, want_audio, local=False):
        """The input a source field names: a platform source, or a customer's URL fetched into the workdir.

        `local`: the platform's URL is downloaded too (drawtext reads only files).
        """
        bound = BINDING_PATTERN.fullmatch(value)
        key = bound.group(1) if bound else value
        if key in self.sources:
            source = self._platform(self.sources[key], where=where, local=local)
        elif bound and isinstance(self.props.get(key), str) and self.props[key] in self.sources:
            source = self._platform(self.sources[self.props[key]], where=where, local=local)
        elif bound and isinstance(self.props.get(key), str):
            source = self._customer(self.props[key], where=f"{_prop_field(key)} (bound at {where})")
        elif not bound:
            source = self._customer(value, where=where)
        else:
            raise EngineError(
                "invalid_scene", f"{where} binds {{{{{key}}}}}, which has no value; pass it in inputProps."
            )
        if want_audio:
            source = Source(source.location, source.is_url, self._has_audio(key, source))
        return source

    def _platform(self, location, *, where, local):
        source = source_check(location, roots=self.roots)
        if source.is_url and local:
            return source_check(str(self.fetch(location, where=where, trusted=True)), roots=self.roots)
        return source

    def _customer(self, value, *, where):
        """A URL the customer wrote: downloaded through the outbound guard; never a path or another scheme."""
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise EngineError(
                "source_not_allowed",
                f"{where} is not an http(s) URL; inputs must be http(s) URLs or the project's assets "
                f"(a prop marked {ASSET_MARKER}).",
            )
        return source_check(str(self.fetch(value, where=where, trusted=False)), roots=self.roots)

    def _has_audio(self, key, source):
        asset = self.assets.get(key)
        if asset is not None and "hasAudio" in asset.metadata:
            return bool(asset.metadata["hasAudio"])
        if asset is not None and asset.type == "audio":
            return True
        if source.is_url:
            return False  # an asset in a remote store that processing did not probe: its sound is not mixed
        return bool(MediaInfo.parse(source.location).audio_tracks)


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _position(value):
    return value if value == "center" else float(value)


def _length(value):
    return None if value is None else max(2, math.ceil(float(value)))


def _prop_field(name):
    """`inputProps.name`, or `inputProps['my name']` where the name must be quoted, as the API names a prop."""
    if re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", name):
        return f"inputProps.{name}"
    return "inputProps['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"
