"""Roster import and export: many characters in one step (officers).

The text is parsed by :mod:`clanledger.domain.roster`; each line is then checked against the
clan as a single roster character would be: a name that collides with one of the clan's
characters (active or not), or that is active in another clan on the same server, is
refused. A player, when given, must be an active member of the clan (by display name or
username); the character is then theirs, else it is an unclaimed roster character.

Nothing is written when any line is refused, unless the officer asks to import the valid
lines only. The preview and the import run the same checks, so what the preview showed is
what is written (a name taken in between is refused as a whole, never half-written).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.messages import N_
from clanledger.domain.names import name_key
from clanledger.domain.roster import (
    COLUMNS,
    LineError,
    RosterLine,
    RosterRefused,
    parse_roster,
)
from clanledger.models import Character, Clan, Membership, MembershipStatus, Role, User
from clanledger.services import audit, authz
from clanledger.services.characters import NAME_TAKEN
from clanledger.services.errors import ValidationError, commit_or_conflict
from clanledger.services.exports import Table


@dataclass(frozen=True)
class PreviewLine:
    """A line that will be imported, with the member it goes to (``None``: unclaimed)."""

    line: RosterLine
    user_id: int | None = None
    player_name: str = ""


@dataclass
class RosterPreview:
    lines: list[PreviewLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.lines) + len(self.errors)


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int


def _members_by_name(session: Session, clan_id: int) -> dict[str, list[User]]:
    """Active members of the clan by the key of their display name and of their username
    (a key two members share lists both: the line is then ambiguous)."""
    users = session.execute(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.clan_id == clan_id, Membership.status == MembershipStatus.ACTIVE)
        .order_by(User.id)
    ).scalars()
    found: dict[str, list[User]] = {}
    for user in users:
        for key in {name_key(user.username), name_key(user.display_name)}:
            found.setdefault(key, []).append(user)
    return found


def _names_elsewhere(session: Session, clan: Clan) -> set[str]:
    """Lower-cased names active in another clan of the same server."""
    rows = session.execute(
        select(func.lower(Character.name))
        .join(Clan, Clan.id == Character.clan_id)
        .where(Clan.server == clan.server, Clan.id != clan.id, Character.active.is_(True))
    ).scalars()
    return set(rows)


def _check_line(
    line: RosterLine, taken: set[str], elsewhere: set[str], members: dict[str, list[User]]
) -> PreviewLine | LineError:
    params = {"line": line.number, "name": line.name}
    if name_key(line.name) in taken:
        return LineError(line.number, N_("Line %(line)s: %(name)s is already in the clan."), params)
    if line.name.lower() in elsewhere:
        return LineError(
            line.number,
            N_("Line %(line)s: %(name)s is in another clan on this server; it must leave first."),
            params,
        )
    if not line.player:
        return PreviewLine(line)
    players = members.get(name_key(line.player), [])
    if len(players) != 1:
        message = (
            N_("Line %(line)s: no active member of the clan is called %(player)s.")
            if not players
            else N_("Line %(line)s: several members are called %(player)s; give the username.")
        )
        return LineError(line.number, message, {"line": line.number, "player": line.player})
    return PreviewLine(line, players[0].id, players[0].display_name)


def preview_roster(session: Session, actor_id: int, clan_id: int, text: str) -> RosterPreview:
    """Every line of ``text`` checked against the clan, nothing written (officer).

    Raises:
        ValidationError: the roster as a whole is refused (too large, not text).
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    try:
        parsed = parse_roster(text)
    except RosterRefused as exc:
        raise ValidationError(exc.message, "roster", exc.params) from exc
    clan = session.get(Clan, clan_id)
    assert clan is not None
    taken = {
        name_key(name)
        for name in session.execute(
            select(Character.name).where(Character.clan_id == clan_id)
        ).scalars()
    }
    elsewhere, members = _names_elsewhere(session, clan), _members_by_name(session, clan_id)
    preview = RosterPreview(errors=list(parsed.errors))
    for line in parsed.lines:
        checked = _check_line(line, taken, elsewhere, members)
        if isinstance(checked, LineError):
            preview.errors.append(checked)
        else:
            preview.lines.append(checked)
    preview.errors.sort(key=lambda error: error.number)
    return preview


def import_roster(
    session: Session, actor_id: int, clan_id: int, text: str, valid_only: bool = False
) -> ImportResult:
    """Add every line of ``text`` as a character (officer), in one transaction.

    Raises:
        ValidationError: a line is refused and ``valid_only`` is false, or no line is valid.
        Conflict: a name was taken between the checks and the commit; nothing is written.
    """
    preview = preview_roster(session, actor_id, clan_id, text)
    if preview.errors and not valid_only:
        raise ValidationError(
            N_("%(count)s lines were refused; nothing was imported."),
            "roster",
            {"count": len(preview.errors)},
        )
    if not preview.lines:
        raise ValidationError(N_("The roster has no character to import."), "roster")
    audit.set_actor(session, actor_id)
    session.add_all(
        Character(
            clan_id=clan_id, user_id=row.user_id, name=row.line.name, char_class=row.line.char_class
        )
        for row in preview.lines
    )
    commit_or_conflict(session, NAME_TAKEN)
    return ImportResult(created=len(preview.lines), skipped=len(preview.errors))


def roster_table(session: Session, actor_id: int, clan_id: int) -> Table:
    """The clan's characters in the import format: name, class, player (active ones first)."""
    authz.active_membership(session, actor_id, clan_id)
    rows = session.execute(
        select(Character.name, Character.char_class, User.display_name)
        .outerjoin(User, User.id == Character.user_id)
        .where(Character.clan_id == clan_id)
        .order_by(Character.active.desc(), Character.name)
    ).all()
    return Table(
        N_("Roster"), list(COLUMNS), [[name, cls, player or ""] for name, cls, player in rows]
    )
