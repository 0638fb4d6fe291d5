"""The permission sweep's registry: how each route is reached and what each visitor gets.

``test_permissions.py`` requests every route in ``app.url_map`` (each method) as five
visitors and checks the status:

=============  =============================================================
visitor        expected on a clan route (``@clan_view(min_role)``)
=============  =============================================================
anonymous      302 to the sign-in page
outsider       404 (the leader of *another* clan: nothing leaks)
member         403 below ``min_role``, else "ok"
officer        403 below ``min_role``, else "ok"
leader         "ok"
=============  =============================================================

"ok" is 200 for GET and any of :data:`POST_OK` for POST (an empty form is re-shown, or the
action redirects with a message). It also checks that the leader of the clan gets 404 when
the URL's other ids (``kill_id``, ``membership_id``...) belong to another clan.

How a blueprint declares what the sweep needs (LOOT and CLOSE: in
``tests/integration/test_loot_sweep.py`` / ``test_close_sweep.py``; every module named
``test_*_sweep.py`` in this folder is imported by the sweep)::

    from sweep import ClanSide, expect, sample

    @sample("kill_id")
    def a_kill(side: ClanSide) -> int:
        '''A row of ``side.clan``; called once for the clan and once for another clan.'''
        ...create it with db.session, commit, return its id

    @sample("drop_id", endpoints=("drops.sell",))   # a more specific builder wins
    def a_listed_drop(side: ClanSide) -> int: ...

    expect("statements.character", member=403)  # the service refuses other members' pages
    expect("exports.csv", ok=200)               # what "ok" means for this route
    expect("dashboard.index", method="GET", ok=302)

A route that is not a clan view must be declared with every visitor's status, e.g.
``expect("main.index", anonymous=200, user=200)`` (``user`` sets the four signed-in
visitors; "login" means a redirect to the sign-in page). A route with a URL parameter
nobody builds, or with no expectation at all, fails the sweep with a message saying what
to add and where.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from clanledger.extensions import db
from clanledger.models import (
    Character,
    Clan,
    ClanRate,
    Membership,
    PasswordResetToken,
    RateKind,
    Role,
    User,
)
from clanledger.models.types import utcnow
from clanledger.services.accounts import hash_token

LOGIN = "login"
POST_OK = frozenset({200, 302, 303, 400, 409})
VISITORS = ("anonymous", "outsider", "member", "officer", "leader")


@dataclass
class ClanSide:
    """One clan with a leader, an officer and a member, each with a character."""

    clan: Clan
    leader: User
    officer: User
    member: User
    characters: dict[str, Character] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)  # builders may cache rows here


@dataclass
class World:
    home: ClanSide  # the clan whose URLs are requested
    away: ClanSide  # another clan: its leader is the "outsider", its rows the foreign ids

    def user_for(self, visitor: str) -> User | None:
        return {
            "anonymous": None,
            "outsider": self.away.leader,
            "member": self.home.member,
            "officer": self.home.officer,
            "leader": self.home.leader,
        }[visitor]


Builder = Callable[[ClanSide], "int | str"]


@dataclass(frozen=True)
class Expectation:
    ok: int | None = None
    statuses: dict[str, int | str] = field(default_factory=dict)


SAMPLES: dict[tuple[str, str | None], Builder] = {}
EXPECTATIONS: dict[tuple[str, str | None], Expectation] = {}
SKIPPED: dict[str, str] = {}


def sample(param: str, endpoints: tuple[str, ...] = ()) -> Callable[[Builder], Builder]:
    """Register the builder of URL parameter ``param`` (for ``endpoints`` only, if given)."""

    def register(builder: Builder) -> Builder:
        for endpoint in endpoints or (None,):
            SAMPLES[(param, endpoint)] = builder
        return builder

    return register


def expect(
    endpoint: str,
    method: str | None = None,
    ok: int | None = None,
    user: int | str | None = None,
    **statuses: int | str,
) -> None:
    """Declare the statuses of ``endpoint`` (all methods, or ``method``)."""
    unknown = set(statuses) - set(VISITORS)
    if unknown:
        raise ValueError(f"expect({endpoint!r}): unknown visitors {sorted(unknown)}")
    if user is not None:
        for visitor in VISITORS[1:]:
            statuses.setdefault(visitor, user)
    EXPECTATIONS[(endpoint, method)] = Expectation(ok, statuses)


def skip(endpoint: str, reason: str) -> None:
    """Leave a route out of the sweep (only for routes that serve no clan data)."""
    SKIPPED[endpoint] = reason


def builder_for(param: str, endpoint: str) -> Builder | None:
    return SAMPLES.get((param, endpoint)) or SAMPLES.get((param, None))


def expectation_for(endpoint: str, method: str) -> Expectation | None:
    return EXPECTATIONS.get((endpoint, method)) or EXPECTATIONS.get((endpoint, None))


# --------------------------------------------------------------------------- world


def build_side(tag: str) -> ClanSide:
    """A fresh clan (unique names, so several worlds can share one database)."""
    suffix = secrets.token_hex(4)
    users = {}
    for role in ("leader", "officer", "member"):
        users[role] = User(
            username=f"{tag}-{role}-{suffix}", display_name=f"{tag} {role}", password_hash="x"
        )
    db.session.add_all(users.values())
    clan = Clan(name=f"{tag}-clan-{suffix}", server="肯特01", invite_code=f"{tag}{suffix}".upper())
    db.session.add(clan)
    db.session.flush()
    side = ClanSide(clan, users["leader"], users["officer"], users["member"])
    for role, user in users.items():
        membership = Membership(clan_id=clan.id, user_id=user.id, role=Role(role), status="active")
        character = Character(clan_id=clan.id, user_id=user.id, name=f"{tag}{role}{suffix}")
        db.session.add_all([membership, character])
        side.memberships[role], side.characters[role] = membership, character
    for kind, bps in ((RateKind.EXCHANGE_FEE, 500), (RateKind.FUND_CUT, 1000)):
        db.session.add(
            ClanRate(clan_id=clan.id, kind=kind, bps=bps, effective_from=utcnow().date())
        )
    db.session.commit()
    return side


def build_world() -> World:
    return World(home=build_side("home"), away=build_side("away"))


# ------------------------------------------------- WEB's routes: samples and expectations


def _extra_member(side: ClanSide, status: str) -> Membership:
    user = User(username=f"target-{secrets.token_hex(4)}", display_name="target", password_hash="x")
    db.session.add(user)
    db.session.flush()
    membership = Membership(clan_id=side.clan.id, user_id=user.id, role=Role.MEMBER, status=status)
    db.session.add(membership)
    db.session.commit()
    return membership


@sample("membership_id")
def an_active_member(side: ClanSide) -> int:
    """Another plain member: the target of role changes, removal and reset links."""
    return _extra_member(side, "active").id


@sample("membership_id", endpoints=("clans.approve", "clans.reject"))
def a_join_request(side: ClanSide) -> int:
    return _extra_member(side, "pending").id


@sample("character_id")
def a_roster_character(side: ClanSide) -> int:
    """An unclaimed roster character (an officer may make its claim link)."""
    character = Character(clan_id=side.clan.id, user_id=None, name=f"roster{secrets.token_hex(3)}")
    db.session.add(character)
    db.session.commit()
    return character.id


@sample("code")
def the_invite_code(side: ClanSide) -> str:
    return side.clan.invite_code


@sample("token", endpoints=("auth.reset_password",))
def a_reset_token(side: ClanSide) -> str:
    token = secrets.token_urlsafe(16)
    db.session.add(
        PasswordResetToken(
            user_id=side.member.id,
            clan_id=side.clan.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(hours=1),
            created_by_id=side.leader.id,
        )
    )
    db.session.commit()
    return token


@sample("token", endpoints=("characters.claim",))
def a_claim_token(side: ClanSide) -> str:
    token = secrets.token_urlsafe(16)
    character = Character(
        clan_id=side.clan.id,
        name=f"claim{secrets.token_hex(3)}",
        claim_token_hash=hash_token(token),
    )
    db.session.add(character)
    db.session.commit()
    return token


@sample("filename", endpoints=("static",))
def the_stylesheet(side: ClanSide) -> str:
    return "app.css"


@sample("filename", endpoints=("bootstrap.static",))
def bootstraps_stylesheet(side: ClanSide) -> str:
    return "css/bootstrap.min.css"


expect("static", anonymous=200, user=200)
expect("bootstrap.static", anonymous=200, user=200)
expect("main.healthz", anonymous=200, user=200)
expect("main.index", anonymous=200, user=200)
expect("main.set_language", anonymous=302, user=302)
expect("auth.login", "GET", anonymous=200, user=302)
# Empty forms are shown again with their errors: 400 (web/forms.py).
expect("auth.login", "POST", anonymous=400, user=302)
expect("auth.register", "GET", anonymous=200, user=302)
expect("auth.register", "POST", anonymous=400, user=302)
expect("auth.logout", anonymous=302, user=302)
expect("auth.change_password", "GET", anonymous=LOGIN, user=200)
expect("auth.change_password", "POST", anonymous=LOGIN, user=400)
# The token is the credential: anyone holding a valid link may use it.
expect("auth.reset_password", "GET", anonymous=200, user=200)
expect("auth.reset_password", "POST", anonymous=400, user=400)
expect("clans.create", "GET", anonymous=LOGIN, user=200)
# An empty form is shown again with its errors: 400, as every invalid form (web/forms.py).
expect("clans.create", "POST", anonymous=LOGIN, user=400)
expect("clans.join_with_code", "GET", anonymous=LOGIN, user=200)
expect("clans.join_with_code", "POST", anonymous=LOGIN, user=400)
expect("clans.join", "GET", anonymous=LOGIN, user=200)
# Members of the clan are told they already are; the outsider's request waits (302 both).
expect("clans.join", "POST", anonymous=LOGIN, user=302)
# The sample is a roster character: a plain member may not edit someone else's character.
expect("characters.edit", member=403)
expect("characters.claim", "GET", anonymous=LOGIN, user=200)
# Claiming needs membership of the character's clan: the outsider is told to join first.
expect(
    "characters.claim", "POST", anonymous=LOGIN, outsider=403, member=302, officer=302, leader=302
)
