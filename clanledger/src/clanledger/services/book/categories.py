"""Categories: the defaults a book starts with, and the user's own, two levels deep."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clanledger.domain.book.defaults import DEFAULT_CATEGORIES
from clanledger.domain.book.kinds import CategoryKind
from clanledger.domain.messages import N_
from clanledger.models.book import BookCategory
from clanledger.services.book import audit
from clanledger.services.book.errors import clean_name
from clanledger.services.errors import NotFound, ValidationError, commit_or_conflict

NAME_TAKEN = N_("This category already has that name at this level.")
MAX_CATEGORIES = 500


@dataclass
class CategoryNode:
    category: BookCategory
    children: list[BookCategory] = field(default_factory=list)


def seed_default_categories(session: Session, user_id: int, locale: str | None) -> None:
    """Add the default set (not committed: :func:`ensure_book` commits)."""
    for order, default in enumerate(DEFAULT_CATEGORIES):
        parent = BookCategory(
            user_id=user_id,
            kind=default.kind,
            name=default.name(locale),
            code=default.code,
            sort=order,
        )
        session.add(parent)
        session.flush()
        for child_order, child in enumerate(default.children):
            session.add(
                BookCategory(
                    user_id=user_id,
                    parent_id=parent.id,
                    kind=child.kind,
                    name=child.name(locale),
                    code=child.code,
                    sort=child_order,
                )
            )


def get_category(session: Session, user_id: int, category_id: int) -> BookCategory:
    category = session.get(BookCategory, category_id)
    if category is None or category.user_id != user_id:
        raise NotFound()
    return category


def by_code(session: Session, user_id: int, code: str) -> BookCategory | None:
    """The default category with ``code`` (whatever it is called now), if still there."""
    return session.scalar(
        select(BookCategory).where(BookCategory.user_id == user_id, BookCategory.code == code)
    )


def tree(
    session: Session, user_id: int, kind: CategoryKind | None = None, include_archived=False
) -> list[CategoryNode]:
    """Top-level categories with their children, in display order."""
    query = select(BookCategory).where(BookCategory.user_id == user_id)
    if kind is not None:
        query = query.where(BookCategory.kind == kind)
    if not include_archived:
        query = query.where(BookCategory.archived.is_(False))
    rows = list(session.scalars(query.order_by(BookCategory.sort, BookCategory.id)))
    nodes = {c.id: CategoryNode(c) for c in rows if c.parent_id is None}
    for c in rows:
        if c.parent_id is not None and c.parent_id in nodes:
            nodes[c.parent_id].children.append(c)
    return list(nodes.values())


def full_name(category: BookCategory) -> str:
    """``餐飲 › 午餐`` for a subcategory, the name alone for a top-level one."""
    if category.parent is not None:
        return f"{category.parent.name} › {category.name}"
    return category.name


def create_category(
    session: Session, user_id: int, name: str, kind: CategoryKind | str, parent_id: int | None
) -> BookCategory:
    """Add a category; under ``parent_id`` it is a subcategory of the same kind."""
    name = clean_name(name)
    try:
        kind = CategoryKind(kind)
    except ValueError:
        raise ValidationError(N_("Choose expense or income."), field="kind") from None
    if parent_id is not None:
        parent = get_category(session, user_id, parent_id)
        if parent.parent_id is not None:
            raise ValidationError(
                N_("Categories are two levels deep: choose a top-level parent."), field="parent"
            )
        kind = parent.kind
    count = session.scalar(select(func.count()).where(BookCategory.user_id == user_id)) or 0
    if count >= MAX_CATEGORIES:
        raise ValidationError(
            N_("A book holds at most %(max)d categories."), params={"max": MAX_CATEGORIES}
        )
    _require_free(session, user_id, parent_id, name)
    category = BookCategory(user_id=user_id, parent_id=parent_id, kind=kind, name=name, sort=count)
    session.add(category)
    session.flush()
    audit.record(session, user_id, "create", "category", category.id, name)
    commit_or_conflict(session, NAME_TAKEN)
    return category


def update_category(
    session: Session, user_id: int, category_id: int, name: str, archived: bool = False
) -> BookCategory:
    """Rename or archive a category (archived ones keep their history, leave the pickers)."""
    category = get_category(session, user_id, category_id)
    name = clean_name(name)
    if name != category.name:
        _require_free(session, user_id, category.parent_id, name)
    before = {"name": category.name, "archived": category.archived}
    category.name = name
    category.archived = bool(archived)
    audit.record(
        session,
        user_id,
        "update",
        "category",
        category.id,
        name,
        before,
        {"name": name, "archived": category.archived},
    )
    commit_or_conflict(session, NAME_TAKEN)
    return category


def _require_free(session: Session, user_id: int, parent_id: int | None, name: str) -> None:
    taken = session.scalar(
        select(BookCategory.id).where(
            BookCategory.user_id == user_id,
            BookCategory.parent_id.is_(None)
            if parent_id is None
            else BookCategory.parent_id == parent_id,
            BookCategory.name == name,
        )
    )
    if taken is not None:
        raise ValidationError(NAME_TAKEN, field="name")
