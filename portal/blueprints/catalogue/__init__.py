"""Partner clinics and the conferences catalogue."""

from .views import bp

__all__ = ["bp"]
