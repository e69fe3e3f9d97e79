"""Core pages: the dashboard and the language switch."""

from .views import bp

__all__ = ["bp"]
