"""The asset lifecycle's event types (registered in AssetsConfig.ready)."""

from events.registry import EventType

SERIALIZER = "assets.serializers.AssetSerializer"

ASSET_EVENT_TYPES = [
    EventType("asset.uploaded", "The upload finished and metadata extraction began.", "Asset", SERIALIZER),
    EventType("asset.ready", "Metadata is extracted; the asset can be used in renders.", "Asset", SERIALIZER),
    EventType(
        "asset.failed",
        "The file is not what its type claims, processing gave up, or the upload never came; `error` says why.",
        "Asset",
        SERIALIZER,
    ),
]
