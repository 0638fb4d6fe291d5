"""The marker for user-facing messages raised below the web layer.

Services and the domain mark a message with :func:`N_` so that ``pybabel extract`` finds it;
the view translates it when it is shown. Keeping the marker here means no service has to
import Flask-Babel (or Flask) to raise an error meant for a user.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; return it untranslated."""
    return message
