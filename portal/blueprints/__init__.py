"""Blueprints: the always-on core areas and the four built-in modules."""
