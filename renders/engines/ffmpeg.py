"""The built-in engine: draws an ffmpeg template's scene with the ffmpeg binary of the imageio-ffmpeg wheel.

One process per render, one `-filter_complex` graph for the whole scene (`graph`), progress read from
ffmpeg's `-progress` stream and the process group killed on cancel or deadline (`process`). Text is
written to files in the working directory and read by drawtext with `expansion=none`; fonts are linked
(or, from a URL, downloaded) into it, so the graph names only plain relative files. Every URL a customer
wrote is downloaded into the working directory through the outbound guard first (`fetch`): ffmpeg
opens none of them.
"""

import mmap
import os
import time
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
from django.conf import settings
from pymediainfo import MediaInfo

from renders.engines.base import EngineError, ProgressCallback, RenderResult
from renders.engines.fetch import SourceFetcher
from renders.engines.graph import graph_compile
from renders.engines.process import ffmpeg_run
from renders.engines.scene import Scene, scene_resolve
from renders.engines.text import default_font, text_wrap
from renders.inputs import RenderInput


class FFmpegEngine:
    """Renders `engine: ffmpeg` templates; see `renders.engines.base.Engine` for the contract."""

    name = "ffmpeg"

    def __init__(self, *, executable: str | None = None, clock: Callable[[], float] = time.time):
        self.executable = executable or imageio_ffmpeg.get_ffmpeg_exe()
        self.clock = clock

    def render(
        self,
        *,
        input: RenderInput,
        sources: dict[str, str],
        workdir: Path,
        on_progress: ProgressCallback,
        deadline: float | None,
        cancelled: Callable[[], bool],
    ) -> RenderResult:
        workdir = Path(workdir)
        if cancelled():
            raise EngineError("render_cancelled", "The render was cancelled.")
        if deadline is not None and self.clock() >= deadline:
            raise EngineError(
                "render_timeout", "The render's deadline passed before it started (RENDER_TIMEOUT_SECONDS)."
            )
        report = _Monotonic(on_progress)
        report(0.0, "preparing")
        fetcher = SourceFetcher(
            workdir=workdir, deadline=deadline, clock=self.clock, heartbeat=report.beat, cancelled=cancelled
        )
        try:
            scene = scene_resolve(input=input, sources=sources, workdir=workdir, fetch=fetcher.fetch)
        finally:
            fetcher.close()
        fonts, fallback = self._prepare_fonts(scene, workdir)
        scene = _wrapped(scene, fonts, fallback, workdir)
        output_name = f"output.{input.output.format}"
        plan = graph_compile(
            scene,
            input.output,
            fonts=fonts,
            default_font=fallback,
            watermark=not input.livemode and getattr(settings, "RENDER_TEST_WATERMARK", True),
            output_name=output_name,
        )
        for name, content in plan.files.items():
            (workdir / name).write_text(content, encoding="utf-8")
        ffmpeg_run(
            [self.executable, *plan.args],
            cwd=workdir,
            duration=scene.duration if not input.output.is_still else 0,
            on_progress=lambda fraction: report(fraction, "rendering"),
            deadline=deadline,
            cancelled=cancelled,
            clock=self.clock,
            redact=tuple(str(root) for root in (workdir, getattr(settings, "ASSET_STORAGE_ROOT", "")) if str(root)),
        )
        path = workdir / output_name
        if not path.is_file() or path.stat().st_size == 0:
            raise EngineError("render_failed", "ffmpeg finished without writing the output; check the scene's inputs.")
        report(1.0, "rendering")
        duration_ms = 0 if input.output.is_still else _probed_duration_ms(path)
        return RenderResult(path=path, size=path.stat().st_size, duration_ms=duration_ms)

    def _prepare_fonts(self, scene: Scene, workdir: Path):
        """{text layer index: font file name in workdir}, and the default font's name (None: fontconfig's)."""
        fonts = {}
        for layer in scene.layers:
            if layer.type == "text" and layer.font is not None:
                name = f"font_{layer.index}{_suffix(layer.font.location)}"
                _link(layer.font.location, workdir / name)  # a font's URL is already downloaded (scene_resolve)
                fonts[layer.index] = name
        fallback = default_font()
        if fallback is None:
            return fonts, None
        name = f"font_default{_suffix(str(fallback))}"
        _link(fallback, workdir / name)
        return fonts, name


class _Monotonic:
    """Passes progress on only when it grows, so a receiver never sees it go back."""

    def __init__(self, callback):
        self.callback = callback
        self.last = -1.0
        self.stage = "preparing"

    def __call__(self, fraction, stage):
        fraction = round(fraction, 4)
        if fraction > self.last:
            self.last = fraction
            self.stage = stage
            self.callback(fraction, stage)

    def beat(self):
        """The last report again: a long step (downloads) is still alive, which renews the job's lease."""
        if self.last >= 0:
            self.callback(self.last, self.stage)


def _wrapped(scene, fonts, fallback, workdir):
    layers = []
    for layer in scene.layers:
        if layer.type == "text" and layer.max_width:
            font = fonts.get(layer.index, fallback)
            text = text_wrap(
                layer.text, font=workdir / font if font else None, size=layer.size, max_width=layer.max_width
            )
            layer = type(layer)(**{**layer.__dict__, "text": text})
        layers.append(layer)
    return type(scene)(**{**scene.__dict__, "layers": layers})


def _link(target, path):
    """A symlink at `path` to `target`, replacing one a previous attempt in the same workdir left."""
    path.unlink(missing_ok=True)
    os.symlink(target, path)


def _suffix(location):
    suffix = Path(location.split("?", 1)[0]).suffix.lower()
    return suffix if suffix in (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2") else ".ttf"


def _probed_duration_ms(path):
    if path.suffix == ".gif":
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return gif_duration_ms(data)
    info = MediaInfo.parse(path)
    general = info.general_tracks[0] if info.general_tracks else None
    value = getattr(general, "duration", None)
    try:
        return round(float(value))
    except (TypeError, ValueError):
        raise EngineError(
            "render_failed", "The output has no duration ffmpeg's container reports; render it again."
        ) from None


def gif_duration_ms(data) -> int:
    """The sum of a GIF's frame delays (MediaInfo reports none): walks its blocks (GIF89a, section 17 on)."""
    position = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    total = 0
    while position < len(data):
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks; a graphic control extension holds the delay
            if data[position + 1] == 0xF9:
                total += int.from_bytes(data[position + 4 : position + 6], "little")
            position += 2
        elif block == 0x2C:  # image descriptor, optional local colour table, LZW minimum code size
            packed = data[position + 9]
            position += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0) + 1
        else:
            raise EngineError("render_failed", "ffmpeg wrote a GIF that cannot be read; render it again.")
        while position < len(data) and data[position]:  # sub-blocks up to the zero-length terminator
            position += data[position] + 1
        position += 1
    return total * 10
