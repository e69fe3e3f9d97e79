"""Administration of accounts: search, roles, deactivation."""

from .views import bp

__all__ = ["bp"]
