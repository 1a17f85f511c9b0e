"""The admin web UI: server-rendered Jinja2 pages, improved by htmx (a static file of
the package, no build step). Thin: pages call services and the engine, and render
their answers and refusals; no rule lives here."""

from rolegate.web.app import WebUI, mount_ui

__all__ = ["WebUI", "mount_ui"]
