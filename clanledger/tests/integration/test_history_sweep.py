"""What the permission sweep expects of the history pages (see ``sweep.py``)."""

from __future__ import annotations

from sweep import expect

# The sample is a roster character: a plain member reads only their own history.
expect("trends.member", member=403)
expect("exports.history", member=403)
