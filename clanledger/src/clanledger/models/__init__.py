"""SQLAlchemy 2 typed tables. No business math lives here: that is in ``domain``.

Every clan-owned table carries ``clan_id``: tenant isolation starts at the schema.
"""

from clanledger.models.accounts import (
    AuditLog,
    Character,
    Clan,
    ClanRate,
    Membership,
    MembershipStatus,
    PasswordResetToken,
    RateKind,
    Role,
    User,
)
from clanledger.models.api import ApiToken, IdempotentResponse, TokenScope
from clanledger.models.auction import Auction, AuctionStatus, Bid
from clanledger.models.ledger import (
    Attendance,
    Boss,
    Drop,
    DropStatus,
    EntryKind,
    JournalEntry,
    Kill,
    Period,
    PeriodStatus,
    Posting,
    Sale,
    SaleKind,
    Transfer,
    TransferStatus,
)
from clanledger.models.notify import OutboxMessage, OutboxStatus, Webhook
from clanledger.models.types import FractionType, utcnow

__all__ = [
    "ApiToken",
    "Attendance",
    "Auction",
    "AuctionStatus",
    "AuditLog",
    "Bid",
    "Boss",
    "Character",
    "Clan",
    "ClanRate",
    "Drop",
    "DropStatus",
    "EntryKind",
    "FractionType",
    "IdempotentResponse",
    "JournalEntry",
    "Kill",
    "Membership",
    "MembershipStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordResetToken",
    "Period",
    "PeriodStatus",
    "Posting",
    "RateKind",
    "Role",
    "Sale",
    "SaleKind",
    "TokenScope",
    "Transfer",
    "TransferStatus",
    "User",
    "Webhook",
    "utcnow",
]
