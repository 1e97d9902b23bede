"""Video, audio and image metadata from MediaInfo, which seeks through a file rather than loading it.

Truncation is judged on what MediaInfo reports, with no decoding: an MP4, WebM, MP3, M4A or WAV cut
short carries `IsTruncated: Yes` (an MP4 whose `moov` sat at the end also loses every track), and as a
second signal the tracks' announced stream sizes add up to more than the file holds. MediaInfo does not
flag cut-off images, so PNG, JPEG, GIF and WebP get a structural check of their own: the chunk, segment
or RIFF layout must reach its end marker inside the file.

Codec and container names follow FFmpeg's (`h264`, `hevc`, `vp9`, `aac`, `mp3`, `opus`; `mp4`, `mov`,
`webm`, `mkv`), falling back to MediaInfo's format name in lower case. `rotation` is the clockwise turn,
in degrees, a player applies to display the frames (an upright phone video is 90); `width` and `height`
are the stored frame's, `displayWidth` and `displayHeight` what a viewer sees.
"""

import re
import struct
from pathlib import Path

from pymediainfo import MediaInfo

from assets.extractors import ExtractionError

VIDEO_CODECS = {
    "AVC": "h264",
    "HEVC": "hevc",
    "VP8": "vp8",
    "VP9": "vp9",
    "AV1": "av1",
    "MPEG-4 Visual": "mpeg4",
    "MPEG Video": "mpeg2video",
    "ProRes": "prores",
    "Theora": "theora",
    "JPEG": "mjpeg",
    "VVC": "vvc",
}
AUDIO_CODECS = {
    "AAC": "aac",
    "Opus": "opus",
    "Vorbis": "vorbis",
    "FLAC": "flac",
    "PCM": "pcm",
    "AC-3": "ac3",
    "E-AC-3": "eac3",
    "ALAC": "alac",
    "DTS": "dts",
}
CONTAINERS = {
    "MPEG-4": "mp4",
    "QuickTime": "mov",
    "WebM": "webm",
    "Matroska": "mkv",
    "Ogg": "ogg",
    "Wave": "wav",
    "FLAC": "flac",
    "AVI": "avi",
    "ADTS": "aac",
    "MPEG Audio": "mp3",
    "MPEG-TS": "ts",
    "PNG": "png",
    "JPEG": "jpeg",
    "GIF": "gif",
    "WebP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
    "AVIF": "avif",
}
ANNOUNCED_SIZE_TOLERANCE = 1.01  # MediaInfo's stream sizes are exact for intact files; allow for rounding.
SCAN_CHUNK = 1024 * 1024


def extract_video(path: Path) -> dict:
    """Duration, frame size, rate, rotation and codecs of a file that must carry a video track."""
    info = _parse(path)
    video = _first(info.video_tracks)
    if video is None:
        raise ExtractionError("not_a_video", _wrong_kind(info, wanted="video", hint="an MP4, MOV, WebM or MKV file"))
    audio = _first(info.audio_tracks)
    width, height = _integer(video.width), _integer(video.height)
    if not width or not height:
        raise ExtractionError(
            "unreadable_media", "MediaInfo cannot read the video's frame size; re-encode it to MP4 (H.264)."
        )
    rotation = round(_number(video.rotation) or 0) % 360
    sideways = rotation in (90, 270)
    return {
        "format": _container(info),
        "mimeType": _mime_type(info),
        "durationMs": _duration_ms(info, video),
        "width": width,
        "height": height,
        "displayWidth": height if sideways else width,
        "displayHeight": width if sideways else height,
        "rotation": rotation,
        "fps": _fps(video),
        "videoCodec": _codec(video, VIDEO_CODECS),
        "audioCodec": _codec(audio, AUDIO_CODECS) if audio else None,
        "bitrate": _bitrate(info),
        "hasAudio": audio is not None,
        "sampleRate": _integer(audio.sampling_rate) if audio else None,
        "channels": _integer(audio.channel_s) if audio else None,
    }


def extract_audio(path: Path) -> dict:
    """Duration, codec, rate and channels of a file that must carry audio and no video (cover art is fine)."""
    info = _parse(path)
    audio = _first(info.audio_tracks)
    if audio is None or info.video_tracks:
        raise ExtractionError(
            "not_audio", _wrong_kind(info, wanted="audio", hint="an M4A, MP3, WAV, Opus or FLAC file")
        )
    return {
        "format": _container(info),
        "mimeType": _mime_type(info),
        "durationMs": _duration_ms(info, audio),
        "audioCodec": _codec(audio, AUDIO_CODECS),
        "bitrate": _bitrate(info),
        "sampleRate": _integer(audio.sampling_rate),
        "channels": _integer(audio.channel_s),
    }


def extract_image(path: Path) -> dict:
    """Pixel size and format of a still image (PNG, JPEG, GIF, WebP, ...)."""
    info = _parse(path)
    image = _first(info.image_tracks)
    if image is None or info.video_tracks or info.audio_tracks:
        raise ExtractionError("not_an_image", _wrong_kind(info, wanted="image", hint="a PNG, JPEG, GIF or WebP file"))
    image_format = _container(info)
    with path.open("rb") as file:
        size = path.stat().st_size
        complete = IMAGE_END_CHECKS.get(image_format, lambda file, size: True)(file, size)
        width, height = _integer(image.width), _integer(image.height)
        if (not width or not height) and image_format == "webp":
            width, height = _webp_size(file)
    if not complete:
        raise _truncated(f"its {image_format.upper()} structure continues past the end of the file")
    if not width or not height:
        raise ExtractionError("unreadable_media", "MediaInfo cannot read the image's size; re-save it as PNG or JPEG.")
    return {"format": image_format, "mimeType": _mime_type(info), "width": width, "height": height}


def _parse(path):
    try:
        info = MediaInfo.parse(path)
    except RuntimeError as exc:  # libmediainfo could not open the file; a missing library is OSError and propagates.
        raise ExtractionError("unreadable_media", f"MediaInfo cannot open the file ({exc}); upload it again.") from exc
    general = info.general_tracks[0]
    if general.istruncated == "Yes":
        raise _truncated(
            f"its {general.format or 'container'} structure announces more data than the file's "
            f"{general.file_size} bytes"
        )
    # General's own stream size already counts an attached cover, which also appears as an Image track.
    announced = sum(track.stream_size for track in info.tracks[1:] if isinstance(track.stream_size, int))
    if general.file_size and announced > general.file_size * ANNOUNCED_SIZE_TOLERANCE:
        raise _truncated(f"its tracks announce {announced} bytes but the file holds {general.file_size}")
    return info


def _truncated(detail):
    return ExtractionError(
        "truncated_media",
        f"The file ends early ({detail}); it was probably cut off during upload or export. Upload the complete file.",
    )


def _wrong_kind(info, *, wanted, hint):
    article = {"video": "a ", "image": "an ", "audio": ""}[wanted]
    name = _container(info)
    if info.video_tracks:
        found, fix = (
            f"a video ({name}, {_codec(info.video_tracks[0], VIDEO_CODECS)})",
            "upload it as an asset of type video",
        )
        if wanted == "audio" and info.audio_tracks:
            fix += ", or keep only its sound (ffmpeg -i in.mp4 -vn -c:a copy out.m4a)"
    elif info.audio_tracks:
        found, fix = f"audio ({name}) with no video track", "upload it as an asset of type audio"
    elif info.image_tracks:
        found, fix = f"an image ({name})", "upload it as an asset of type image"
    else:
        container = info.general_tracks[0].format
        if container:
            return f"The file is a {container} file with no {wanted} in it; upload {hint}."
        return f"MediaInfo recognises no media format in the file, so it is not {article}{wanted}; upload {hint}."
    return f"The file is {found}, not {article}{wanted}; {fix}."


def _first(tracks):
    return tracks[0] if tracks else None


def _number(value):
    """MediaInfo's numbers arrive as int, or as strings like '25.000' or '2 / 1' (first value wins)."""
    if isinstance(value, (int, float)):
        return value
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", value or "")
    return float(match.group(1)) if match else None


def _integer(value):
    number = _number(value)
    return round(number) if number is not None else None


def _duration_ms(info, track):
    duration = _number(info.general_tracks[0].duration) or _number(track.duration)
    if not duration:
        raise ExtractionError(
            "unreadable_media",
            "MediaInfo finds no duration in the file (a raw stream?); remux it into MP4: ffmpeg -i in -c copy out.mp4.",
        )
    return round(duration)


def _fps(video):
    if video.framerate_num and video.framerate_den and _number(video.framerate_den):
        return round(_number(video.framerate_num) / _number(video.framerate_den), 3)
    rate = _number(video.frame_rate) or _number(video.frame_rate_original)
    if rate is None and _number(video.frame_count) and _number(video.duration):
        rate = _number(video.frame_count) * 1000 / _number(video.duration)
    return round(rate, 3) if rate else None


def _codec(track, names):
    if track.format == "MPEG Audio":
        return {"Layer 3": "mp3", "Layer 2": "mp2"}.get(track.format_profile, "mp3")
    return names.get(track.format) or (track.format or "unknown").lower()


def _container(info):
    general = info.general_tracks[0]
    if general.format == "MPEG-4" and general.format_profile == "QuickTime":
        return "mov"
    return CONTAINERS.get(general.format) or (general.format or "unknown").lower()


def _mime_type(info):
    general = info.general_tracks[0]
    # MediaInfo calls QuickTime files video/mp4 and names no type for WebP.
    return {"mov": "video/quicktime", "webp": "image/webp"}.get(_container(info)) or general.internet_media_type


def _bitrate(info):
    return _integer(info.general_tracks[0].overall_bit_rate)


def _png_complete(file, size):
    """Walks the chunks (seeking over their data) until IEND; a cut-off file runs out first."""
    offset = 8
    while offset + 8 <= size:
        file.seek(offset)
        length, chunk_type = struct.unpack(">I4s", file.read(8))
        if chunk_type == b"IEND":
            return True
        offset += 12 + length
    return False


def _jpeg_complete(file, size):
    """Walks the segments up to the first scan, then looks for End Of Image in the entropy-coded data.

    Markers inside the scan data are escaped (0xFF is followed by 0x00 or a restart marker), so the
    first FFD9 after the scan begins is the image's own end, and an EXIF thumbnail's FFD9 (inside APP1,
    before the scan) is never mistaken for it. Bytes after FFD9 (a motion photo's video) are allowed.
    """
    offset = 2
    while True:
        file.seek(offset)
        header = file.read(4)
        if len(header) < 4 or header[0] != 0xFF:
            return False
        marker, length = header[1], struct.unpack(">H", header[2:])[0]
        if marker == 0xD9:
            return True
        if 0xD0 <= marker <= 0xD8 or marker in (0x01, 0xFF):  # standalone markers and fill bytes
            offset += 2 if marker != 0xFF else 1
            continue
        offset += 2 + length
        if marker == 0xDA:
            break
    file.seek(offset)
    previous = b""
    while chunk := file.read(SCAN_CHUNK):
        if b"\xff\xd9" in previous[-1:] + chunk:
            return True
        previous = chunk
    return False


def _gif_complete(file, size):
    """A GIF's data stream ends with the one-byte trailer ';' (0x3B)."""
    file.seek(size - 1)
    return file.read(1) == b";"


def _webp_complete(file, size):
    """The RIFF header announces the file's length; a cut-off file is shorter than announced."""
    file.seek(4)
    header = file.read(4)
    return len(header) == 4 and size >= struct.unpack("<I", header)[0] + 8


def _webp_size(file):
    """MediaInfo names WebP but does not read its size, so read the VP8 / VP8L / VP8X header (RFC 9649)."""
    file.seek(12)
    header = file.read(18)
    if len(header) < 18:
        return None, None
    kind, data = header[:4], header[8:]
    if kind == b"VP8 " and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        return int.from_bytes(data[4:7], "little") + 1, int.from_bytes(data[7:10], "little") + 1
    return None, None


IMAGE_END_CHECKS = {"png": _png_complete, "jpeg": _jpeg_complete, "gif": _gif_complete, "webp": _webp_complete}
