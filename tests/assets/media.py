"""Real media, fonts and templates for tests and benchmarks, made with the bundled ffmpeg and fontTools.

Every generator writes to the `path` it is given and returns it. The container and codec follow the
file's suffix (.mp4 / .mov / .mkv are H.264 + AAC, .webm is VP9 + Opus; audio .m4a, .mp3, .opus,
.wav, .flac; images .png, .jpg, .gif, .webp), so a caller picks a format by naming the file.
"""

import copy
import json
import subprocess
from pathlib import Path

import imageio_ffmpeg
from fontTools import subset
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.tables.TupleVariation import TupleVariation

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
VIDEO_CODECS = {
    ".mp4": ["-c:v", "libx264", "-preset", "ultrafast"],
    ".mov": ["-c:v", "libx264", "-preset", "ultrafast"],
    ".mkv": ["-c:v", "libx264", "-preset", "ultrafast"],
    ".webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
}
AUDIO_CODECS = {
    ".mp4": ["-c:a", "aac", "-b:a", "64k"],
    ".mov": ["-c:a", "aac", "-b:a", "64k"],
    ".mkv": ["-c:a", "aac", "-b:a", "64k"],
    ".m4a": ["-c:a", "aac", "-b:a", "64k"],
    ".webm": ["-c:a", "libopus"],
    ".opus": ["-c:a", "libopus"],
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
}
IMAGE_CODECS = {".png": [], ".jpg": ["-q:v", "3"], ".jpeg": ["-q:v", "3"], ".gif": [], ".webp": ["-c:v", "libwebp"]}


def ffmpeg(*args):
    """Runs the ffmpeg that the imageio-ffmpeg wheel bundles (the render engine's own), failing loudly."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({result.returncode}): {result.stderr.strip()}\n{' '.join(command)}")


def make_video(path, *, seconds=1, size=(320, 240), audio=True, rotate=None, fps=25):
    """A test pattern with a 440 Hz tone; `rotate` is the clockwise display rotation (90 for an upright phone clip).

    Odd sizes are encoded 4:4:4, since 4:2:0 H.264 needs even ones.
    """
    path = Path(path)
    width, height = size
    # -display_rotation is counter-clockwise and tags the input, so the encoder must not apply it to the frames.
    rotation = ["-noautorotate", "-display_rotation", (360 - rotate) % 360] if rotate else []
    pixel_format = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"] if audio else []
    ffmpeg(
        *rotation,
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=320x240:rate={fps}",
        *tone,
        "-t",
        seconds,
        "-vf",
        f"scale={width}:{height}",
        "-pix_fmt",
        pixel_format,
        *VIDEO_CODECS[path.suffix],
        *(AUDIO_CODECS[path.suffix] if audio else []),
        path,
    )
    return path


def make_audio(path, *, seconds=1, sample_rate=48000, channels=1):
    """A 440 Hz tone with no picture."""
    path = Path(path)
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate={sample_rate}",
        "-t",
        seconds,
        "-ac",
        channels,
        *AUDIO_CODECS[path.suffix],
        path,
    )
    return path


def make_image(path, *, size=(64, 48), color="red"):
    """A single frame of one colour."""
    path = Path(path)
    width, height = size
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c={color}:size={width}x{height}", "-frames:v", 1, *IMAGE_CODECS[path.suffix], path
    )
    return path


def make_truncated(source, path, *, keep=0.5):
    """The first `keep` fraction of `source`: an upload cut off half-way."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def make_text_file(path, text="This is a text file, not media.\n"):
    Path(path).write_text(text)
    return Path(path)


def dejavu(name="DejaVuSans.ttf"):
    """A font from Debian's fonts-dejavu-core."""
    return DEJAVU / name


def make_variable_font(
    path, *, family="Renderowl Test", axis=("wght", 100, 400, 900), instances=(("Thin", 100), ("Black", 900))
):
    """A small TrueType variable font: one glyph whose stem widens along the weight axis, and named instances."""
    tag, minimum, default, maximum = axis
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "I"])
    builder.setupCharacterMap({ord("I"): "I"})
    glyphs = {".notdef": _rectangle(0, 0, 500, 700), "I": _rectangle(200, 0, 300, 700)}
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (500, glyph.xMin) for name, glyph in glyphs.items()})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable(
        {
            "familyName": family,
            "styleName": "Regular",
            "fullName": f"{family} Regular",
            "psName": f"{family.replace(' ', '')}-Regular",
        }
    )
    builder.setupOS2(usWeightClass=default)
    builder.setupPost()
    builder.setupFvar(
        axes=[(tag, minimum, default, maximum, "Weight")],
        instances=[{"stylename": name, "location": {tag: value}} for name, value in instances],
    )
    # At the axis maximum the stem is 100 units wider; the four phantom points stay put.
    stem_deltas = [(-50, 0), (-50, 0), (50, 0), (50, 0)] + [(0, 0)] * 4
    builder.setupGvar({"I": [TupleVariation({tag: (0, 1.0, 1.0)}, stem_deltas)], ".notdef": []})
    builder.save(str(path))
    return Path(path)


def _rectangle(x_min, y_min, x_max, y_max):
    pen = TTGlyphPen(None)
    pen.moveTo((x_min, y_min))
    pen.lineTo((x_min, y_max))
    pen.lineTo((x_max, y_max))
    pen.lineTo((x_max, y_min))
    pen.closePath()
    return pen.glyph()


def make_collection(path, *faces):
    """A TTC holding the given font files, in order."""
    collection = TTCollection()
    collection.fonts = [TTFont(face) for face in faces]
    collection.save(str(path))
    return Path(path)


def make_webfont(path, source, *, flavor, text=None):
    """`source` as WOFF or WOFF2; `text` first subsets it to those characters (brotli is slow on whole fonts)."""
    font = TTFont(source)
    if text is not None:
        options = subset.Options(name_IDs=["*"], name_languages=["*"], notdef_outline=True)
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
    font.flavor = flavor
    font.save(str(path))
    return Path(path)


TITLE_CARD = {
    "engine": "ffmpeg",
    "composition": "title-card",
    "width": 1280,
    "height": 720,
    "fps": 30,
    "durationInFrames": 150,
    "inputSchema": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 80},
            "clip": {"type": "string", "x-renderowl-asset": "video"},
            "music": {"type": "string", "x-renderowl-asset": "audio"},
            "font": {"type": "string", "x-renderowl-asset": "font"},
        },
    },
    "defaultProps": {"title": "Hello"},
    "scene": {
        "background": "#101820",
        "layers": [
            {"type": "video", "src": "{{clip}}", "fit": "cover", "start": 0, "end": 5},
            {
                "type": "text",
                "text": "{{title}}",
                "font": "{{font}}",
                "size": 64,
                "color": "#ffffff",
                "x": "center",
                "y": "center",
                "start": 0.5,
                "end": 4.5,
            },
            {"type": "audio", "src": "{{music}}", "volume": 0.8},
        ],
    },
}

REMOTION_PROMO = {
    "engine": "remotion",
    "composition": "Promo",
    "serveUrl": "https://bundles.example.com/promo/index.html",
    "width": 1080,
    "height": 1920,
    "fps": 29.97,
    "durationInFrames": 300,
    "inputSchema": {
        "type": "object",
        "properties": {"headline": {"type": "string"}, "logo": {"type": "string", "x-renderowl-asset": "image"}},
    },
    "defaultProps": {"headline": "Spring sale"},
}


def title_card_template():
    """The ffmpeg template of DESIGN.md's Template section, as a fresh dict to modify."""
    return copy.deepcopy(TITLE_CARD)


def remotion_template():
    return copy.deepcopy(REMOTION_PROMO)


def write_template(path, document):
    Path(path).write_text(json.dumps(document))
    return Path(path)
