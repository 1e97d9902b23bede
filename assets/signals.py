"""Domain signals of assets: how apps downstream of assets take part in an asset's lifecycle and the store's upkeep.

`asset_deleting` is sent by `asset_ensure_deletable` (so by `asset_delete`) with the asset about to go,
inside the deleting transaction. A receiver takes `(sender, *, asset, **kwargs)` and raises a
`renderowl.errors.DomainError` to refuse the deletion (renders: `asset_in_use` while a job needs the
asset). Receivers are connected in their app's `ready()`; see docs/ARCHITECTURE.md.

`stored_objects_unowned` is sent by the orphan sweep (`assets.cleanup.stored_objects_sweep_orphans`)
inside the operator bypass with `keys`, a batch of stored keys under `org/` that are not an asset's and
are past the grace period. A receiver takes `(sender, *, keys, **kwargs)` and returns those of the keys
that belong to its app and that none of its rows still needs (renders: outputs of a job that is gone,
expired, or of an attempt the job no longer uses); the sweep removes them. It reads, never writes, and
reaches no network. A key no receiver returns is left alone.
"""

from django.dispatch import Signal

asset_deleting = Signal()
stored_objects_unowned = Signal()
