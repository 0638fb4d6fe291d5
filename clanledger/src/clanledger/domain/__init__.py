"""Pure ledger and settlement logic: no Flask or SQLAlchemy imports."""
