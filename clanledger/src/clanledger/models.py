"""SQLAlchemy 2 typed tables. No business math lives here: that is in ``domain``."""

from __future__ import annotations
