"""Domain signals of projects: how apps downstream of projects follow a project's lifecycle.

`project_deleted` is sent by `project_delete` inside the deleting transaction, with the project row
locked: a receiver's writes commit (or roll back) with the soft delete. Receivers take
`(sender, *, project, now, **kwargs)`, are connected in their app's `ready()`, and do their own
app's part of the cascade only (orphan assets, cancel queued renders, disable automations).
See docs/ARCHITECTURE.md.
"""

from django.dispatch import Signal

project_deleted = Signal()
