"""Text layout the engine does itself: the default font, and wrapping a text layer's lines to its `maxWidth`.

The default font is RENDER_DEFAULT_FONT when the operator sets it, else DejaVu Sans from Debian's
fonts-dejavu-core (in the Docker image and on CI). No installed wheel ships a text font (imageio-ffmpeg
ships none; Django REST framework's are icon fonts), so on a machine with neither, drawtext gets no
`fontfile` and asks fontconfig for its default sans-serif — which renders nothing legible where no font
is installed at all: install fonts-dejavu-core, or set RENDER_DEFAULT_FONT.
"""

from pathlib import Path

from django.conf import settings
from fontTools.ttLib import TTFont

DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FALLBACK_ADVANCE = 0.6  # of the font size, per character, when the font cannot be measured


def default_font() -> Path | None:
    """The font for text layers that name none, or None to leave the choice to fontconfig."""
    configured = getattr(settings, "RENDER_DEFAULT_FONT", None)
    if configured:
        return Path(configured)
    return DEJAVU_SANS if DEJAVU_SANS.is_file() else None


def text_wrap(text: str, *, font: Path | None, size: float, max_width: float) -> str:
    """`text` with line breaks added so that no line is wider than `max_width` pixels at `size` (greedy, by words)."""
    advance = _advance_function(font, size)
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if advance(candidate) <= max_width or not line and advance(word) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for char in word:  # a word wider than the line is broken between characters
                if line and advance(line + char) > max_width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return "\n".join(lines)


def _advance_function(font, size):
    try:
        ttfont = TTFont(font, fontNumber=0, lazy=True) if font else None
    except Exception:  # any unreadable font is measured by the fallback; ffmpeg reports it if it cannot draw it
        ttfont = None
    if ttfont is None or "hmtx" not in ttfont:
        return lambda line: len(line) * size * FALLBACK_ADVANCE
    cmap = ttfont.getBestCmap() or {}
    metrics = ttfont["hmtx"].metrics
    scale = size / ttfont["head"].unitsPerEm
    fallback = metrics.get(".notdef", (ttfont["head"].unitsPerEm * FALLBACK_ADVANCE, 0))[0]

    def advance(line):
        return sum(metrics.get(cmap.get(ord(char)), (fallback, 0))[0] for char in line) * scale

    return advance
