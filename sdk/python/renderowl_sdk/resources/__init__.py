"""The API's resources, one class each, reached as attributes of the client (`client.projects`, …)."""

from .assets import Assets
from .automations import Automations
from .projects import Projects
from .renders import Renders
from .webhooks import Webhooks

__all__ = ["Assets", "Automations", "Projects", "Renders", "Webhooks"]
