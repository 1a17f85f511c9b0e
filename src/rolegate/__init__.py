"""Rolegate: roles, permissions, seats and teams for SaaS products."""
