"""The admin UI's fixtures (a fresh demo, a logged-in administrator) for the checks
that render its pages (test_customer_copy.py)."""

from tests.web.conftest import admin, demo, demo_template, web

__all__ = ["admin", "demo", "demo_template", "web"]
