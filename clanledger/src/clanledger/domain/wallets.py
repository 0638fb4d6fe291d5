"""Wallets: characters whose diamonds are one purse (one game account), settled as one.

The ledger stays per character; the month plan nets per wallet. A wallet is named by one of
its keys (its *anchor*); ``wallets`` maps every other member key to its anchor, and a key
that is not in it is a wallet of its own. Nothing here knows about characters or the
database: keys are any hashable accounts.

How a wallet settles:

1. :func:`wallet_balances` adds up the balances of each wallet; the planner
   (:func:`~clanledger.domain.settlement.plan_settlement`) plans transfers between wallets,
   so no transfer ever runs inside one.
2. :func:`traders` picks, for each wallet with a non-zero total, the character that lists
   (a receiving wallet) or buys (a paying wallet): the one whose own balance goes furthest
   the wallet's way, ties to the first key. A wallet only receives or only pays.
3. :func:`wallet_netting` moves, without any fee, each other character's balance onto the
   trader, so the trader holds the wallet's total and everyone else 0. Once the wallet's
   transfers are paid, every character's balance is settled (or carried, on the trader).
4. :func:`wallet_saving` compares the per-character plan with the per-wallet plan.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from clanledger.domain.errors import NestedWallet
from clanledger.domain.fees import FeePolicy
from clanledger.domain.messages import N_
from clanledger.domain.money import Rate
from clanledger.domain.ordering import canonical_order
from clanledger.domain.savings import carried_fees
from clanledger.domain.settlement import PlannedTransfer, SettlementPlan

K = TypeVar("K", bound=Hashable)


def wallet_of(key: K, wallets: Mapping[K, K]) -> K:
    """The wallet (anchor key) ``key`` belongs to: itself unless grouped."""
    return wallets.get(key, key)


def check_wallets(wallets: Mapping[K, K]) -> None:
    """A wallet is one level deep: an anchor is never itself grouped under another key.

    Raises:
        NestedWallet: a key points to a key that points elsewhere.
    """
    for key, anchor in wallets.items():
        if anchor in wallets and wallets[anchor] != anchor:
            raise NestedWallet(f"{key} is grouped under {anchor}, which is grouped itself")


def members_of(keys: Iterable[K], wallets: Mapping[K, K]) -> dict[K, list[K]]:
    """Each wallet's keys among ``keys`` (in canonical order), by anchor."""
    found: dict[K, list[K]] = {}
    for key in canonical_order(keys):
        found.setdefault(wallet_of(key, wallets), []).append(key)
    return found


def wallet_balances(balances: Mapping[K, int], wallets: Mapping[K, K]) -> dict[K, int]:
    """The balances added up per wallet (wallets whose total is 0 left out)."""
    check_wallets(wallets)
    totals: dict[K, int] = {}
    for key, value in balances.items():
        anchor = wallet_of(key, wallets)
        totals[anchor] = totals.get(anchor, 0) + value
    return {k: v for k, v in totals.items() if v}


def traders(balances: Mapping[K, int], wallets: Mapping[K, K]) -> dict[K, K]:
    """Wallet -> the key that lists or buys for it (wallets with a zero total have none).

    The trader is the member whose own balance goes furthest the way the wallet's total
    goes (the most owed for a receiving wallet, the most owing for a paying one), so the
    netting moves as little as it can; ties go to the first key in canonical order.
    """
    chosen: dict[K, K] = {}
    totals = wallet_balances(balances, wallets)
    for anchor, keys in members_of(balances, wallets).items():
        total = totals.get(anchor, 0)
        if total:
            sign = 1 if total > 0 else -1
            chosen[anchor] = max(keys, key=lambda k: (sign * balances[k], -keys.index(k)))
    return chosen


def wallet_netting(balances: Mapping[K, int], wallets: Mapping[K, K]) -> dict[K, int]:
    """The fee-free moves inside each wallet (key -> signed diamonds, each wallet summing
    to 0): every member's balance goes onto the wallet's trader; in a wallet whose total is
    0, every member ends at 0. Keys that do not move are left out."""
    chosen = traders(balances, wallets)
    moves: dict[K, int] = {}
    for anchor, keys in members_of(balances, wallets).items():
        trader = chosen.get(anchor)
        for key in keys:
            if key != trader and balances[key]:
                moves[key] = moves.get(key, 0) - balances[key]
                if trader is not None:
                    moves[trader] = moves.get(trader, 0) + balances[key]
    return {k: v for k, v in moves.items() if v}


def trader_transfers(
    plan: SettlementPlan[K], chosen: Mapping[K, K]
) -> tuple[PlannedTransfer[K], ...]:
    """The plan's wallet-to-wallet transfers with each wallet replaced by its trader."""
    return tuple(
        replace(t, payer=chosen.get(t.payer, t.payer), receiver=chosen.get(t.receiver, t.receiver))
        for t in plan.transfers
    )


@dataclass(frozen=True)
class WalletSaving:
    """What netting per wallet saves on top of netting per character.

    Attributes:
        character_fees, character_transfers: the plan netted per character (each character
            its own wallet), with the fees of settling what it carries forward.
        wallet_fees, wallet_transfers: the plan netted per wallet, likewise.
    """

    character_fees: int
    character_transfers: int
    wallet_fees: int
    wallet_transfers: int

    @property
    def saved_fees(self) -> int:
        return self.character_fees - self.wallet_fees

    @property
    def saved_transfers(self) -> int:
        return self.character_transfers - self.wallet_transfers


WALLET_SAVING_DEFINITION = N_(
    "Wallets save = the fees and transfers of the plan netted per character, minus those of "
    "the plan netted per wallet (characters sharing one purse never pay each other). "
    "Balances carried forward are priced as one transfer each on both sides."
)


def wallet_saving(
    per_character: SettlementPlan[K],
    per_wallet: SettlementPlan[K],
    rate: Rate,
    policy: FeePolicy,
    priced: Callable[[K], bool] = lambda key: True,
) -> WalletSaving:
    """Compare the plan netted per character with the plan netted per wallet.

    ``priced``: which carried keys cost a transfer to settle later (the members; the clan
    fund kept by the members who hold it costs none).
    """

    def carried(plan: SettlementPlan[K]) -> int:
        kept = {k: v for k, v in plan.carried.items() if priced(k)}
        return carried_fees(kept, rate, policy)

    return WalletSaving(
        character_fees=per_character.total_fees + carried(per_character),
        character_transfers=len(per_character.transfers),
        wallet_fees=per_wallet.total_fees + carried(per_wallet),
        wallet_transfers=len(per_wallet.transfers),
    )
