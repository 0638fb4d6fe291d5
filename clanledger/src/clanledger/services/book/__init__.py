"""The personal book's use cases. Every function takes the acting ``user_id`` and reaches
only that user's rows: another user's id is :class:`~clanledger.services.errors.NotFound`,
exactly like a row that does not exist."""
