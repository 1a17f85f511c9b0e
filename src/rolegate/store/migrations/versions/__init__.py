"""Revisions, oldest first by `down_revision`; a package so they ship with the wheel."""
