"""Compiles a resolved scene into one ffmpeg command whose single `-filter_complex` graph draws the whole render.

The graph: a `color` source of the background at the output's fps and the composition's length; each
visual layer fitted into its box (`fit`: cover crops, contain letterboxes on transparency, fill
stretches), given its opacity and alpha fades, and overlaid where it is placed between `start` and `end`;
text drawn with `drawtext` from a file in the working directory (`textfile=` with `expansion=none`, so no
prop can inject filter syntax or expand `%{…}`); the sounds of video and audio layers trimmed, delayed to
their start, faded and mixed; then the canvas scaled to the output size, a TEST watermark for test-mode
renders, and the format's encoder.

`quality` → encoder settings:

| quality  | mp4 (libx264)          | webm (libvpx-vp9)                 | gif palette       | jpg     | audio (aac / opus) |
|----------|------------------------|-----------------------------------|-------------------|---------|--------------------|
| draft    | preset veryfast, CRF 28 | deadline realtime, cpu-used 8, CRF 40 | 64 colours, no dither | q:v 8 | 96 / 64 kbit/s  |
| standard | preset faster, CRF 23  | deadline good, cpu-used 4, CRF 33 | 128 colours, bayer | q:v 4 | 128 / 96 kbit/s   |
| high     | preset medium, CRF 18  | deadline good, cpu-used 2, CRF 28 | 256 colours, sierra2_4a | q:v 2 | 192 / 160 kbit/s |

Every file name in the graph (text files, fonts) is a plain relative name in the working directory,
where ffmpeg runs; inputs are command-line arguments, never part of the graph.
"""

from dataclasses import dataclass, field

from renders.engines.base import EngineError
from renders.engines.scene import Layer, Scene
from renders.inputs import OutputSpec

QUALITY = {
    "draft": {
        "x264": ("veryfast", 28),
        "vp9": ("realtime", 8, 40),
        "gif": (64, "none"),
        "jpg": 8,
        "aac": "96k",
        "opus": "64k",
    },
    "standard": {
        "x264": ("faster", 23),
        "vp9": ("good", 4, 33),
        "gif": (128, "bayer:bayer_scale=3"),
        "jpg": 4,
        "aac": "128k",
        "opus": "96k",
    },
    "high": {
        "x264": ("medium", 18),
        "vp9": ("good", 2, 28),
        "gif": (256, "sierra2_4a"),
        "jpg": 2,
        "aac": "192k",
        "opus": "160k",
    },
}
URL_PROTOCOLS = "http,https,tcp,tls,crypto"
URL_TIMEOUT_MICROSECONDS = 30_000_000
WATERMARK_TEXT = "TEST"


@dataclass
class Plan:
    """The ffmpeg arguments (after the executable) and the files to write into the working directory first."""

    args: list[str]
    files: dict[str, str] = field(default_factory=dict)
    has_audio: bool = False


def graph_compile(
    scene: Scene,
    output: OutputSpec,
    *,
    fonts: dict[int, str],
    default_font: str | None,
    watermark: bool,
    output_name: str,
) -> Plan:
    """The command for `scene` rendered to `output_name`; `fonts` maps a text layer's index to its font file's name."""
    fps = _number(output.fps)
    duration = _number(scene.duration)
    inputs: list[list[str]] = []
    files: dict[str, str] = {}
    chains = [f"color=c={scene.background}:s={scene.width}x{scene.height}:r={fps}:d={duration}[bg]"]
    audio_labels = []
    wants_audio = output.format in ("mp4", "webm")
    current = "bg"

    def add_input(source, *pre):
        access = (
            ["-protocol_whitelist", URL_PROTOCOLS, "-rw_timeout", str(URL_TIMEOUT_MICROSECONDS)]
            if source.is_url
            else ["-protocol_whitelist", "file"]
        )
        location = source.location if source.is_url else "file:" + source.location
        inputs.append([*access, *pre, "-i", location])
        return len(inputs) - 1

    for layer in scene.layers:
        label = f"l{layer.index}"
        if layer.type == "text":
            name = f"text_{layer.index}.txt"
            files[name] = layer.text
            font = fonts.get(layer.index, default_font)
            chains.append(f"[{current}]{_drawtext(layer, name, font)}[v{layer.index}]")
            current = f"v{layer.index}"
            continue
        if layer.type == "audio":
            pre = _seek_args(layer)
            if wants_audio and layer.source.has_audio and layer.volume > 0:
                index = add_input(layer.source, *pre)
                chains.append(f"[{index}:a]{_audio_chain(layer)}[a{layer.index}]")
                audio_labels.append(f"a{layer.index}")
            continue
        width = layer.width or scene.width
        height = layer.height or scene.height
        if layer.type == "color":
            chains.append(
                f"color=c={layer.color}:s={width}x{height}:r={fps}:d={duration}{_alpha(layer, translucent=not layer.color.endswith('ff'))}[{label}]"
            )
        elif layer.type == "image":
            index = add_input(layer.source)
            steps = [
                _fit(layer.fit, width, height),
                f"loop=loop=-1:size=1,setpts=N/({fps})/TB,trim=duration={duration}",
            ]
            if layer.motion:
                steps.append(_zoom(layer, width, height, fps))
            chains.append(f"[{index}:v]{','.join(steps)}{_alpha(layer)}[{label}]")
        elif layer.type == "video":
            index = add_input(layer.source, *_seek_args(layer))
            chains.append(
                f"[{index}:v]setpts=PTS-STARTPTS,fps={fps},trim=duration={_number(layer.duration)},"
                f"{_fit(layer.fit, width, height)},setpts=PTS+{_number(layer.start)}/TB{_alpha(layer)}[{label}]"
            )
            if wants_audio and layer.source.has_audio and not layer.muted and layer.volume > 0:
                chains.append(f"[{index}:a]{_audio_chain(layer)}[a{layer.index}]")
                audio_labels.append(f"a{layer.index}")
        x = _number((scene.width - width) / 2) if layer.x == "center" else _number(round(layer.x))
        y = _number((scene.height - height) / 2) if layer.y == "center" else _number(round(layer.y))
        chains.append(
            f"[{current}][{label}]overlay=x={x}:y={y}:eof_action=pass:enable='{_window(layer)}'[v{layer.index}]"
        )
        current = f"v{layer.index}"

    final = []
    if (output.width, output.height) != (scene.width, scene.height):
        final.append(f"scale={output.width}:{output.height}:flags=bicubic,setsar=1")
    if watermark:
        final.append(_watermark(output, default_font))
    if output.is_still:
        frame = output.frame or 0
        total = round(scene.duration * output.fps)
        if frame >= total:
            raise EngineError(
                "invalid_scene",
                f"output.frame {frame} is past the last frame ({total - 1}); pick a frame from 0 to {total - 1}.",
            )
        final.append(f"trim=start_frame={frame}:end_frame={frame + 1},setpts=PTS-STARTPTS")
    quality = QUALITY.get(output.quality, QUALITY["standard"])
    video_args = _video_encoder(output, quality, final)
    chains.append(f"[{current}]{','.join(final) or 'null'}[vout]")
    if output.format == "gif":
        colors, dither = quality["gif"]
        chains[-1] = chains[-1][: -len("[vout]")] + "[gifsrc]"
        chains.append(
            f"[gifsrc]split[g1][g2];[g1]palettegen=max_colors={colors}:stats_mode=full[pal];"
            f"[g2][pal]paletteuse=dither={dither}[vout]"
        )
    has_audio = bool(audio_labels)
    maps = ["-map", "[vout]"]
    if has_audio:
        mixed = (
            f"{''.join(f'[{label}]' for label in audio_labels)}amix=inputs={len(audio_labels)}:normalize=0:duration=longest,"
            if len(audio_labels) > 1
            else f"[{audio_labels[0]}]"
        )
        chains.append(f"{mixed}apad=whole_dur={duration},atrim=duration={duration}[aout]")
        maps += ["-map", "[aout]", *_audio_encoder(output, quality)]
    args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]
    for input_args in inputs:
        args += input_args
    args += ["-filter_complex", ";".join(chains), *maps, *video_args]
    if not output.is_still:
        args += ["-t", duration]
    args.append(output_name)
    return Plan(args=args, files=files, has_audio=has_audio)


def _video_encoder(output, quality, final):
    if output.format == "mp4":
        if output.width % 2 or output.height % 2:
            raise EngineError(
                "invalid_scene", "mp4 (H.264, yuv420p) needs an even width and height; round them to even."
            )
        preset, crf = quality["x264"]
        final.append("format=yuv420p")
        return [
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-r",
            _number(output.fps),
            "-movflags",
            "+faststart",
        ]
    if output.format == "webm":
        deadline, cpu_used, crf = quality["vp9"]
        final.append("format=yuv420p")
        return [
            "-c:v", "libvpx-vp9", "-deadline", deadline, "-cpu-used", str(cpu_used), "-crf", str(crf), "-b:v", "0",
            "-row-mt", "1", "-r", _number(output.fps),
        ]  # fmt: skip
    if output.format == "gif":
        return ["-r", _number(output.fps), "-loop", "0", "-f", "gif"]
    if output.format == "png":
        final.append("format=rgb24")
        return ["-frames:v", "1", "-update", "1", "-c:v", "png", "-f", "image2"]
    if output.format == "jpg":
        final.append("format=yuvj420p")
        return ["-frames:v", "1", "-update", "1", "-c:v", "mjpeg", "-q:v", str(quality["jpg"]), "-f", "image2"]
    raise EngineError("invalid_scene", f"output.format {output.format!r} is not one of mp4, webm, gif, png, jpg.")


def _audio_encoder(output, quality):
    if output.format == "mp4":
        return ["-c:a", "aac", "-b:a", quality["aac"], "-ar", "48000", "-ac", "2"]
    return ["-c:a", "libopus", "-b:a", quality["opus"], "-ar", "48000", "-ac", "2"]


def _seek_args(layer):
    args = []
    if layer.loop:
        args += ["-stream_loop", "-1"]
    if layer.trim_start > 0:
        args += ["-ss", _number(layer.trim_start)]
    return args


def _fit(fit, width, height):
    """Scaling that keeps the picture's own format (and alpha, if it has one): opaque layers overlay cheapest."""
    if fit == "fill":
        return f"scale={width}:{height},setsar=1"
    if fit == "contain":  # 4:4:4, as pad rounds an odd box down in 4:2:0 and then refuses the picture
        return (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease,setsar=1,format=yuva444p,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=0x00000000"
        )
    return f"scale={width}:{height}:force_original_aspect_ratio=increase,setsar=1,crop={width}:{height}"


def _zoom(layer, width, height, fps):
    """A slow 1.0 → 1.2 (zoom-in) or 1.2 → 1.0 (zoom-out) zoom about the centre over the layer's time."""
    progress = f"clip((it-{_number(layer.start)})/{_number(layer.duration)},0,1)"
    zoom = f"1+0.2*{progress}" if layer.motion == "zoom-in" else f"1.2-0.2*{progress}"
    return f"zoompan=z='{zoom}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={width}x{height}:fps={fps}"


def _alpha(layer, *, translucent=False):
    """Opacity and fades as alpha filters (times on the composition's clock); none, and no alpha plane, when opaque."""
    steps = []
    if layer.opacity < 1:
        steps += ["format=rgba", f"colorchannelmixer=aa={_number(layer.opacity)}"]
    elif translucent or layer.fade_in > 0 or layer.fade_out > 0:
        steps.append("format=yuva420p")
    if layer.fade_in > 0:
        steps.append(f"fade=t=in:st={_number(layer.start)}:d={_number(layer.fade_in)}:alpha=1")
    if layer.fade_out > 0:
        steps.append(f"fade=t=out:st={_number(layer.end - layer.fade_out)}:d={_number(layer.fade_out)}:alpha=1")
    return "".join("," + step for step in steps)


def _alpha_expression(layer):
    factors = [_number(layer.opacity)]
    if layer.fade_in > 0:
        factors.append(f"clip((t-{_number(layer.start)})/{_number(layer.fade_in)},0,1)")
    if layer.fade_out > 0:
        factors.append(f"clip(({_number(layer.end)}-t)/{_number(layer.fade_out)},0,1)")
    return "*".join(factors)


def _window(layer: Layer):
    return f"gte(t,{_number(layer.start)})*lt(t,{_number(layer.end)})"


def _drawtext(layer, textfile, font):
    x = "(w-text_w)/2" if layer.x == "center" else _number(round(layer.x))
    y = "(h-text_h)/2" if layer.y == "center" else _number(round(layer.y))
    options = [
        *([f"fontfile={font}"] if font else []),
        f"textfile={textfile}",
        "expansion=none",
        f"fontsize={_number(layer.size)}",
        f"fontcolor={layer.color}",
        f"text_align={layer.align[0].upper()}",
        "y_align=font",
        f"x={x}",
        f"y={y}",
        f"alpha='{_alpha_expression(layer)}'",
        f"enable='{_window(layer)}'",
    ]
    if layer.box_color:
        options += ["box=1", f"boxcolor={layer.box_color}", f"boxborderw={layer.box_padding}"]
    return "drawtext=" + ":".join(options)


def _watermark(output, font):
    size = max(12, round(min(output.width, output.height) / 24))  # 45 px on 1080p, 12 px on 180p
    margin = max(4, size // 3)
    return (
        f"drawtext={f'fontfile={font}:' if font else ''}text={WATERMARK_TEXT}:expansion=none:fontsize={size}:"
        f"fontcolor=0xffffffe0:box=1:boxcolor=0x000000a0:boxborderw={margin // 2}:"
        f"x=w-text_w-{margin}:y=h-text_h-{margin}"
    )


def _audio_chain(layer):
    steps = [
        "asetpts=PTS-STARTPTS",
        f"atrim=duration={_number(layer.duration)}",
        "aformat=sample_rates=48000:channel_layouts=stereo",
    ]
    if layer.volume != 1:
        steps.append(f"volume={_number(layer.volume)}")
    if layer.fade_in > 0:
        steps.append(f"afade=t=in:st=0:d={_number(layer.fade_in)}")
    if layer.fade_out > 0:
        steps.append(f"afade=t=out:st={_number(layer.duration - layer.fade_out)}:d={_number(layer.fade_out)}")
    if layer.start > 0:
        steps.append(f"adelay=delays={round(layer.start * 1000)}:all=1")
    return ",".join(steps)


def _number(value):
    """A number as ffmpeg reads it: plain decimal, no exponent, at most six decimals."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
