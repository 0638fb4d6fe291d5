"""Pure ledger and settlement logic: no Flask or SQLAlchemy imports.

Modules, in the order money flows through them:

* :mod:`.money`: ``Diamonds`` (int), ``Rate`` in basis points, ``RateSchedule`` by day,
  the price limits.
* :mod:`.fees`: the exchange fee (rounded up), ``gross_up``, the ``FeePolicy`` and the
  fee and fund-cut limits.
* :mod:`.attendance`: the attendance weights of a kill (``kill_weights``).
* :mod:`.split`: largest-remainder split by weight, ties rotating with the item id.
* :mod:`.distribution`: one sale: the floored clan-fund cut, then the shares.
* :mod:`.ledger`: accounts and postings that always sum to zero; balances from postings;
  reversals; ``account_label``.
* :mod:`.auction`: internal auctions: least bid, winner (ties to the earlier bid), late-bid
  extension, eligibility, the bidding limit.
* :mod:`.period`: the closed-period rule (``AccountingPeriod.require_open``).
* :mod:`.payments`: greedy and north-west-corner payments; components; tree re-flows.
* :mod:`.grouping`: zero-sum groups (exact subset search and a heuristic for big inputs).
* :mod:`.settlement`: the fewest fee-aware transfers, carry-forward, explanations.
* :mod:`.savings`: fees of per-sale payouts against the netted plan.
* :mod:`.wallets`: characters sharing one purse: balances per wallet, the character that
  trades for each, the fee-free netting inside it, what wallets save.
* :mod:`.explain`: the postings behind a balance (running totals); the balances behind a
  transfer.
* :mod:`.errors`: ``DomainError`` and its subclasses, with messages meant for users.
* :mod:`.messages`: the ``N_`` marker for user-facing messages.
"""
