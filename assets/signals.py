"""Domain signals of assets: how apps downstream of assets take part in an asset's lifecycle.

`asset_deleting` is sent by `asset_ensure_deletable` (so by `asset_delete`) with the asset about to go,
inside the deleting transaction. A receiver takes `(sender, *, asset, **kwargs)` and raises a
`renderowl.errors.DomainError` to refuse the deletion (renders: `asset_in_use` while a job needs the
asset). Receivers are connected in their app's `ready()`; see docs/ARCHITECTURE.md.
"""

from django.dispatch import Signal

asset_deleting = Signal()
