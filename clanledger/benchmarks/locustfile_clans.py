"""Locust users of the multi-clan load test (run by ``bench_load.py``, not on its own).

Each Locust user is one member of one clan from the plan file (``CLANLEDGER_LOAD_PLAN``):
it signs in through the web form, then reads its dashboard and statement; a clan's leader
also records loot the way an officer does on a phone: a kill with the whole roster, an item
dropped at it, the item listed, then sold. Once, at a random moment of the window
``CLANLEDGER_LOAD_CLOSE`` ("min,max" seconds after it started), the leader's next action is
the month-end close of the clan's previous month: it opens the close page, submits its form
as a browser does (the hidden plan fields and CSRF token, the tick box ticked), and at
its next action submits that form again, as from a stale tab, which must be refused as
already closed. Every POST answered with the expected redirect (or, for the second close,
the expected refusal) is counted per clan and written, with every 5xx, to
``CLANLEDGER_LOAD_COUNTS`` when the run stops, for the ledger check.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import time
from collections import Counter
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, events, task

PLAN = json.loads(Path(os.environ["CLANLEDGER_LOAD_PLAN"]).read_text())
SEATS = [(clan, seat) for clan in PLAN["clans"] for seat in clan["seats"]]
COUNTS: Counter[str] = Counter()
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CLAN_PATH = re.compile(r"/clans/\d+/(kills|drops)/(\d+)")
SIGNED_IN = re.compile(r"^(?!.*/auth/login)")
KILL_PAGE = re.compile(r"/clans/\d+/kills/\d+$")
ITEM_PAGE = re.compile(r"/clans/\d+/drops/\d+$")
PERIOD_PAGE = re.compile(r"/clans/\d+/periods/\d+$")
# The close's two POSTs, as load_close.py checks them.
CLOSE, CLOSE_AGAIN = "close month", "close month again"
_next_seat = 0


def _take_seat() -> tuple[dict, dict]:
    """Seats in plan order: leaders first, so every clan records loot from the start."""
    global _next_seat
    seat = SEATS[_next_seat % len(SEATS)]
    _next_seat += 1
    return seat


def _think_time() -> tuple[float, float]:
    """Seconds a member waits between two actions: ``CLANLEDGER_LOAD_WAIT`` ("min,max")."""
    low, high = os.environ.get("CLANLEDGER_LOAD_WAIT", "10,30").split(",")
    return float(low), float(high)


def _close_window() -> tuple[float, float]:
    """When a leader closes the previous month: ``CLANLEDGER_LOAD_CLOSE`` ("min,max" s)."""
    low, high = os.environ.get("CLANLEDGER_LOAD_CLOSE", "60,120").split(",")
    return float(low), float(high)


class FormFields(HTMLParser):
    """What a browser submits from the page's form posting to ``action``: its hidden
    inputs and its tick boxes, ticked (``fields`` stays None when no such form is found)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            self.inside = attr.get("action") == self.action
            if self.inside:
                self.fields = {}
        elif tag == "input" and self.inside and self.fields is not None and attr.get("name"):
            kind = attr.get("type")
            if kind in ("hidden", "checkbox"):
                default = "on" if kind == "checkbox" else ""
                self.fields[attr["name"] or ""] = attr.get("value") or default

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(page: str, action: str) -> dict[str, str] | None:
    parser = FormFields(action)
    parser.feed(page)
    parser.close()
    return parser.fields


class ClanMember(FastHttpUser):
    wait_time = between(*_think_time())

    def on_start(self) -> None:
        self.clan, self.seat = _take_seat()
        self.base = f"/clans/{self.clan['id']}"
        self.token = ""
        self.page = ""
        self.signed_in = False
        month = self.clan.get("previous_month")
        # The leader's close: the period to close, when, and the form it submitted.
        self.closing = month["period_id"] if self.seat["leader"] and month else None
        self.close_due = time.monotonic() + random.uniform(*_close_window())
        self.close_form: dict[str, str] | None = None
        self.sign_in()

    def _read_token(self, text: str) -> None:
        match = CSRF.search(text or "")
        if match:
            self.token = match.group(1)

    def _count(self, kind: str, response, lands_on: re.Pattern) -> bool:
        """Whether the POST redirected where a success does (a refused form answers 4xx; a
        lost session redirects to the sign-in page)."""
        if response.status_code >= 500:
            COUNTS["5xx"] += 1
        if not response.status_code:  # no answer (timeout): the server may have stored it
            COUNTS[f"{self.clan['id']}:{kind}:unknown"] += 1
            return False
        location = (response.headers or {}).get("Location") or ""
        ok = response.status_code == 302 and lands_on.search(location) is not None
        COUNTS[f"{self.clan['id']}:{kind}:{'ok' if ok else 'failed'}"] += 1
        return ok

    def _post(self, path: str, name: str, data: dict, lands_on: re.Pattern) -> str | None:
        """POST a form; the redirect target on success, else None (the failure is recorded)."""
        with self.client.post(
            path,
            data=urlencode({"csrf_token": self.token, **data}, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if self._count(name, response, lands_on):
                response.success()
                return response.headers.get("Location", "")
            response.failure(f"{name}: HTTP {response.status_code}")
            return None

    def _get(self, path: str, name: str) -> bool:
        """GET a page; only a 200 is a success (a redirect to the sign-in page is not)."""
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code >= 500:
                COUNTS["5xx"] += 1
            if response.status_code != 200:
                response.failure(f"{name}: HTTP {response.status_code}")
                return False
            self.page = response.text or ""
            self._read_token(self.page)
            return True

    def sign_in(self) -> None:
        self.signed_in = self._get("/auth/login", "sign-in form") and bool(
            self._post(
                "/auth/login",
                "sign in",
                {"username": self.seat["username"], "password": PLAN["password"]},
                SIGNED_IN,
            )
        )

    def on_page(self, path: str, name: str) -> bool:
        """Sign in first if the last attempt failed (a timeout); then GET the page."""
        if not self.signed_in:
            self.sign_in()
        return self.signed_in and self._get(path, name)

    @task(3)
    def dashboard(self) -> None:
        if not self._month_end_duty():
            self.on_page(f"{self.base}/", "dashboard")

    @task(2)
    def statement(self) -> None:
        if not self._month_end_duty():
            self.on_page(f"{self.base}/statement", "statement")

    @task(2)
    def record_loot(self) -> None:
        if not self.seat["leader"] or self._month_end_duty():
            return
        if not self.on_page(f"{self.base}/kills/new", "kill form"):
            return
        kill = self._new_kill()
        drop = kill and self._new_drop(kill)
        if drop and self._post(
            f"{self.base}/drops/{drop}/list", "list item", {"asking_price": "1000"}, ITEM_PAGE
        ):
            self._post(
                f"{self.base}/drops/{drop}/sell",
                "sell item",
                {"gross_price": "1000", "received": "950", "confirm_amount": "y"},
                ITEM_PAGE,
            )

    def _new_kill(self) -> str | None:
        now = datetime.now(ZoneInfo(self.clan["timezone"])).strftime("%Y-%m-%dT%H:%M")
        data = {
            "boss_id": str(self.clan["boss_id"]),
            "killed_at": now,
            "caller": "0",
            "request_key": secrets.token_urlsafe(12),
            "participants": [str(cid) for cid in self.clan["characters"]],
        }
        data |= {f"w-{cid}": "1" for cid in self.clan["characters"]}
        return _row_id(self._post(f"{self.base}/kills/new", "record kill", data, KILL_PAGE))

    def _new_drop(self, kill: str) -> str | None:
        data = {
            "name": "巴風特的魔杖",
            "holder_character_id": str(self.seat["character_id"]),
            "request_key": secrets.token_urlsafe(12),
        }
        return _row_id(
            self._post(f"{self.base}/kills/{kill}/drops", "record drop", data, ITEM_PAGE)
        )

    def _month_end_duty(self) -> bool:
        """Whether this action goes to the leader's close, which is due: the close first,
        then the same form again."""
        if self.closing is None or time.monotonic() < self.close_due:
            return False
        if self.close_form is None:
            self.close_month()
        else:
            self.close_again()
        return True

    def close_month(self) -> None:
        """Open the close page and confirm its plan (a page that fails to load is tried
        again at the next action)."""
        page = f"{self.base}/periods/{self.closing}"
        if not self.on_page(page, "close page"):
            return
        fields = form_fields(self.page, f"{page}/close")
        if fields is None or "confirmed" not in fields:  # no close form: counted as refused
            COUNTS[f"{self.clan['id']}:{CLOSE}:failed"] += 1
            self.closing = None
            return
        if self._post(f"{page}/close", CLOSE, fields, PERIOD_PAGE) is None:
            self.closing = None  # refused or unanswered: nothing to submit again
            return
        self.close_form = fields

    def close_again(self) -> None:
        """Submit the close form once more: the answer must be the page, refused (409),
        showing the month closed (the leader's reopen form in place of the close form)."""
        page = f"{self.base}/periods/{self.closing}"
        self.closing = None
        with self.client.post(
            f"{page}/close",
            data=urlencode(self.close_form or {}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name=CLOSE_AGAIN,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            text = (response.text or "") if response.status_code else ""
            refused = (
                response.status_code == 409
                and f'action="{page}/reopen"' in text
                and f'action="{page}/close"' not in text
            )
            outcome = "refused" if refused else "failed" if response.status_code else "unknown"
            if response.status_code >= 500:
                COUNTS["5xx"] += 1
            COUNTS[f"{self.clan['id']}:{CLOSE_AGAIN}:{outcome}"] += 1
            if refused:
                response.success()
            else:
                response.failure(f"{CLOSE_AGAIN}: HTTP {response.status_code}")


def _row_id(location: str | None) -> str | None:
    match = CLAN_PATH.search(location or "")
    return match.group(2) if match else None


@events.test_stop.add_listener
def _write_counts(**_kwargs) -> None:
    Path(os.environ["CLANLEDGER_LOAD_COUNTS"]).write_text(json.dumps(COUNTS))
