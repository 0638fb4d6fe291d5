"""The clan's editable list of boss names. Renaming or taking a boss off the list never
changes past kills; a boss no longer on the list cannot be picked for a new kill."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from clanledger.domain.collation import by_name
from clanledger.domain.messages import N_
from clanledger.domain.names import InvalidName, clean_name, name_key
from clanledger.models import Boss, Role
from clanledger.services import audit, authz
from clanledger.services.errors import NotFound, ValidationError, commit_or_conflict

BOSS_TAKEN = N_("This boss is already on the list.")
CATALOGUE_FILE = "bosses_lineage_w.json"
BOSS_KINDS = ("world", "field")


@dataclass(frozen=True)
class CatalogueBoss:
    """A boss of the built-in Lineage W list: its usual names and respawn note."""

    key: str
    kind: str
    zh_hant: str
    en: str = ""
    respawn: str = ""

    def name_in(self, locale: str) -> str:
        """The name to put on a clan's list for a reader of ``locale``."""
        return self.en if locale.startswith("en") and self.en else self.zh_hant

    @property
    def keys(self) -> set[str]:
        return {name_key(name) for name in (self.zh_hant, self.en) if name}


@dataclass(frozen=True)
class CatalogueChoice:
    boss: CatalogueBoss
    present: bool  # the clan has it already (by either name, active or not)


def list_bosses(
    session: Session, actor_id: int, clan_id: int, include_inactive: bool = False
) -> list[Boss]:
    """The clan's bosses by name in the reader's order (inactive ones only when asked)."""
    authz.active_membership(session, actor_id, clan_id)
    query = select(Boss).where(Boss.clan_id == clan_id)
    if not include_inactive:
        query = query.where(Boss.active.is_(True))
    return by_name(session.execute(query).scalars(), lambda boss: boss.name)


def _boss_name(name: str) -> str:
    try:
        return clean_name(name)
    except InvalidName as exc:
        raise ValidationError(
            N_("A boss name is 1 to 64 characters, without invisible characters."), field="name"
        ) from exc


def add_boss(session: Session, actor_id: int, clan_id: int, name: str) -> Boss:
    """Add a boss name to the clan's list (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    name = _boss_name(name)
    audit.set_actor(session, actor_id)
    boss = Boss(clan_id=clan_id, name=name, active=True)
    session.add(boss)
    commit_or_conflict(session, BOSS_TAKEN)
    return boss


def update_boss(
    session: Session, actor_id: int, clan_id: int, boss_id: int, name: str, active: bool
) -> Boss:
    """Rename a boss or take it off the list (officer). Past kills keep their boss."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    boss = boss_of(session, clan_id, boss_id)
    name = _boss_name(name)
    audit.set_actor(session, actor_id)
    boss.name, boss.active = name, active
    commit_or_conflict(session, BOSS_TAKEN)
    return boss


def get_boss(session: Session, actor_id: int, clan_id: int, boss_id: int) -> Boss:
    """One boss of the clan (404 for another clan's)."""
    authz.active_membership(session, actor_id, clan_id)
    return boss_of(session, clan_id, boss_id)


def boss_of(session: Session, clan_id: int, boss_id: int) -> Boss:
    """A boss of the clan, or :class:`NotFound`."""
    boss = session.get(Boss, boss_id)
    if boss is None or boss.clan_id != clan_id:
        raise NotFound()
    return boss


def _catalogue_entry(raw: dict) -> CatalogueBoss:
    boss = CatalogueBoss(
        key=str(raw["key"]),
        kind=str(raw["kind"]),
        zh_hant=clean_name(str(raw["zh_Hant"])),
        en=clean_name(str(raw["en"])) if raw.get("en") else "",
        respawn=str(raw.get("respawn", "")),
    )
    if boss.kind not in BOSS_KINDS:
        raise ValueError(f"{CATALOGUE_FILE}: boss {boss.key!r} has unknown kind {boss.kind!r}")
    return boss


@cache
def boss_catalogue() -> tuple[CatalogueBoss, ...]:
    """The built-in Lineage W boss list (``data/bosses_lineage_w.json``), world bosses first.

    Raises:
        ValueError: the file repeats a key or a name, or an entry is malformed.
    """
    path = resources.files("clanledger") / "data" / CATALOGUE_FILE
    entries = [_catalogue_entry(raw) for raw in json.loads(path.read_text("utf-8"))["bosses"]]
    keys = [entry.key for entry in entries]
    names = [key for entry in entries for key in entry.keys]
    if len(set(keys)) != len(keys) or len(set(names)) != len(names):
        raise ValueError(f"{CATALOGUE_FILE}: a key or a name appears twice")
    return tuple(sorted(entries, key=lambda e: BOSS_KINDS.index(e.kind)))


def _present_keys(session: Session, clan_id: int) -> set[str]:
    names = session.execute(select(Boss.name).where(Boss.clan_id == clan_id)).scalars()
    return {name_key(name) for name in names}


def catalogue_choices(session: Session, actor_id: int, clan_id: int) -> list[CatalogueChoice]:
    """The built-in list, each boss marked when the clan has it already (officer)."""
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    present = _present_keys(session, clan_id)
    return [CatalogueChoice(boss, bool(boss.keys & present)) for boss in boss_catalogue()]


def add_from_catalogue(
    session: Session, actor_id: int, clan_id: int, keys: list[str], locale: str = "zh_Hant"
) -> int:
    """Add the picked built-in bosses the clan does not have yet (officer); returns how many
    were added. A boss already on the list, by either of its names, is not added twice.

    Raises:
        ValidationError: a key is not on the built-in list.
    """
    authz.require_role(session, actor_id, clan_id, Role.OFFICER)
    by_key = {boss.key: boss for boss in boss_catalogue()}
    if any(key not in by_key for key in keys):
        raise ValidationError(N_("Pick bosses from the list."), field="bosses")
    present = _present_keys(session, clan_id)
    audit.set_actor(session, actor_id)
    added = 0
    for key in dict.fromkeys(keys):
        boss = by_key[key]
        if boss.keys & present:
            continue
        session.add(Boss(clan_id=clan_id, name=boss.name_in(locale), active=True))
        present |= boss.keys
        added += 1
    commit_or_conflict(session, BOSS_TAKEN)
    return added
