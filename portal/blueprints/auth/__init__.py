"""Accounts: registration, sign-in, password reset, the user's own profile."""

from .views import bp

__all__ = ["bp"]
