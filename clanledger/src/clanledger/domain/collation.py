"""The order people expect names in, from ICU's collation (PyICU).

Traditional Chinese sorts by stroke count, then by radical (``zh_Hant_TW``, Taiwan's default:
一 丁 三 王 夜 星), with Chinese names before Latin ones; English sorts Latin letters without
regard to case or accents first (``alan``, ``Alice``, ``bob``, ``Émile``). In both, digits
inside a name count as numbers, so ``Knight2`` comes before ``Knight10``.

Every list sorted by a name uses :func:`sort_key` (or :func:`by_name`): code-point order
(``ORDER BY name`` in SQL) would put 王 (U+738B) after 星 (U+661F) and ``bob`` after ``Zed``.
The reader's language is set once per request (:func:`use_locale`, called by
:mod:`clanledger.i18n`); outside a request it is Traditional Chinese.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TypeVar

import icu

DEFAULT_LOCALE = "zh_Hant"
ICU_LOCALES = {"zh_Hant": "zh_Hant_TW", "en": "en"}  # the app's languages -> ICU locales

T = TypeVar("T")
_reader_locale: ContextVar[str] = ContextVar("collation_locale", default=DEFAULT_LOCALE)
_collators = threading.local()  # an ICU collator is not shared between threads


def use_locale(locale: str) -> None:
    """Sort names for a reader of ``locale`` (an app language; others sort as the default)."""
    _reader_locale.set(locale if locale in ICU_LOCALES else DEFAULT_LOCALE)


def current_locale() -> str:
    return _reader_locale.get()


def _collator(locale: str) -> icu.Collator:
    cache = _collators.__dict__
    if locale not in cache:
        collator = icu.Collator.createInstance(icu.Locale(ICU_LOCALES[locale]))
        collator.setAttribute(icu.UCollAttribute.NUMERIC_COLLATION, icu.UCollAttributeValue.ON)
        cache[locale] = collator
    return cache[locale]


def sort_key(name: str, locale: str | None = None) -> bytes:
    """What ``name`` sorts by for a reader of ``locale`` (default: the current reader)."""
    chosen = locale if locale in ICU_LOCALES else current_locale()
    return _collator(chosen).getSortKey(name)


def by_name(
    items: Iterable[T], name: Callable[[T], str] = str, locale: str | None = None
) -> list[T]:
    """``items`` sorted by ``name(item)`` in the reader's order (stable for equal names)."""
    return sorted(items, key=lambda item: sort_key(name(item), locale))
