"""What a render is made of once its submission is validated: the seam between the API side and the engines.

The API side (`renders.validation`) turns a submission into a `RenderInput`; an engine
(`renders.engines`) turns a `RenderInput` and the local paths or signed URLs of its assets into a
file. Neither knows how the other works.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutputSpec:
    """The file to produce: `format` is mp4, webm, gif (moving) or png, jpg (one still at `frame`)."""

    format: str
    width: int
    height: int
    fps: float
    quality: str = "standard"  # draft | standard | high: the engine's preset and CRF
    frame: int | None = None  # stills only: the frame to render, 0-based

    @property
    def is_still(self):
        return self.format in ("png", "jpg")


@dataclass(frozen=True)
class AssetRef:
    """An asset a prop names, as the engine needs it: where its bytes are and what they are."""

    id: str
    type: str  # video | image | audio | font
    content_type: str
    storage_key: str
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RenderInput:
    """A validated render: the template's document, the merged props, the assets they name, the output."""

    engine: str  # ffmpeg | remotion
    template_id: str
    template: dict  # the template document (scene, size, fps, durationInFrames, …)
    props: dict  # defaultProps merged under the submitted inputProps, validated against inputSchema
    assets: dict[str, AssetRef]  # prop name -> the asset it names (only x-renderowl-asset props)
    output: OutputSpec
    livemode: bool = True  # False for test keys: the built-in engine draws a TEST watermark

    @property
    def duration_seconds(self):
        return self.template["durationInFrames"] / self.template["fps"]
