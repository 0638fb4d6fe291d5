"""Pure ledger and settlement logic: no Flask or SQLAlchemy imports.

Modules, in the order money flows through them:

* :mod:`.money`: ``Diamonds`` (int), ``Rate`` in basis points, ``RateSchedule`` by day.
* :mod:`.fees`: the exchange fee (rounded up), ``gross_up`` and the ``FeePolicy``.
* :mod:`.split`: largest-remainder split by weight, ties rotating with the item id.
* :mod:`.distribution`: one sale: the floored clan-fund cut, then the shares.
* :mod:`.ledger`: accounts and postings that always sum to zero; balances from postings.
* :mod:`.period`: open and closed accounting periods.
* :mod:`.payments`: greedy and north-west-corner payments; components; tree re-flows.
* :mod:`.grouping`: zero-sum groups (exact subset search and a heuristic for big inputs).
* :mod:`.settlement`: the fewest fee-aware transfers, carry-forward, explanations.
* :mod:`.savings`: fees of per-sale payouts against the netted plan.
* :mod:`.explain`: the postings behind a balance; the balances behind a transfer.
* :mod:`.errors`: ``DomainError`` and its subclasses, with messages meant for users.
"""
