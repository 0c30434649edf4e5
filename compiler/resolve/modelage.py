"""Stage 2d: the age of the models an environment chose, as of its catalog's date. Pure.

A chosen model that retires within the environment's `retire_warning_days` of the catalog date
is warning PC211 (with the date; `--strict` makes it an error); one released fewer than
FRESH_DAYS before it, where no `min_age_days` applies, is warning PC213 (`sort: newest` would
otherwise put a model released that very day into production without a word). One warning per
model, naming every chain that uses it. The wall clock is never read.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..diagnostics import Diagnostic, Span, warning
from ..load.catalog import Offer
from .constraints import age_days, age_text

FRESH_DAYS = 7
SHOWN = 8


@dataclass(frozen=True, slots=True)
class User:
    """One chain that uses a model: an agent id, `@tier:<name>` or `agents.defaults.<key>`;
    where it is defined; and whether a min_age_days applies to it."""

    key: str
    span: Span | None
    aged: bool


def retirement(offer: Offer) -> date | None:
    """The earlier of the offer's deprecation and expiry dates."""
    dates = [d for d in (offer.deprecation_date, offer.expiry_date) if d is not None]
    return min(dates) if dates else None


def retires_within(offer: Offer, days: int, today: date | None = None) -> str | None:
    """`retires on 2026-12-11 (in 21 days)` when the offer retires within `days` of `today`
    (default: its catalog's date), else None.

    Example:
        >>> from compiler.load.catalog import Offer
        >>> o = Offer("p", "v/m", "m", "v", None, None, ("text",), {}, {}, None,
        ...           date(2026, 12, 11), None, False, date(2026, 11, 20))
        >>> retires_within(o, 30), retires_within(o, 7)
        ('retires on 2026-12-11 (in 21 days)', None)
    """
    retires = retirement(offer)
    today = today or offer.as_of
    if retires is None or (retires - today).days > days:
        return None
    return f"retires on {retires.isoformat()} (in {(retires - today).days} days)"


def _some(names: list[str]) -> str:
    more = f" ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def users_text(keys: Iterable[str]) -> str:
    """`agents a, b; tier fast (alias); agents.defaults.model` from User keys (agent ids,
    `@tier:<name>`, `agents.defaults.<key>`).

    Example:
        >>> users_text(["b", "a", "@tier:fast", "agents.defaults.model", "a"])
        'agents a, b; tier fast (alias); agents.defaults.model'
    """
    unique = sorted(set(keys))
    slots = [k for k in unique if k.startswith("agents.defaults.")]
    tiers = [k.removeprefix("@tier:") for k in unique if k.startswith("@tier:")]
    agents = [k for k in unique if k not in slots and not k.startswith("@tier:")]
    parts = [f"agent{'s' * (len(agents) > 1)} {_some(agents)}"] if agents else []
    parts += [f"tier{'s' * (len(tiers) > 1)} {_some(tiers)} (alias)"] if tiers else []
    return "; ".join(parts + slots)


def notices(
    env_name: str, days: int, used: Iterable[tuple[Offer, User]], days_span: Span | None
) -> list[Diagnostic]:
    """PC211 and PC213 for the chosen models of one environment.

    Args:
        env_name: the environment.
        days: its `retire_warning_days`.
        used: (offer, chain that uses it) for every member of every chain.
        days_span: where `retire_warning_days` is set, if it is.
    """
    users: dict[str, list[User]] = {}
    offers: dict[str, Offer] = {}
    for offer, user in used:
        users.setdefault(offer.ref, []).append(user)
        offers[offer.ref] = offer
    found = []
    for ref in sorted(users):
        offer, using = offers[ref], users[ref]
        span = next((u.span for u in using if u.span is not None), None)
        soon = retires_within(offer, days)
        if soon is not None:
            window = f"retire_warning_days {days}" + (f" at {days_span}" if days_span else "")
            found.append(
                warning(
                    "PC211",
                    f"environment '{env_name}' chooses {ref}, which {soon}",
                    span,
                    f"note: used by {users_text(u.key for u in using)}",
                    f"note: the window is {window} (days from the catalog's date)",
                    "hint: avoid it or pin another model, or refresh the catalog and "
                    "compile --upgrade once a successor is listed",
                )
            )
        fresh = [u.key for u in using if not u.aged]
        age = age_days(offer)
        if fresh and age is not None and age < FRESH_DAYS:
            found.append(
                warning(
                    "PC213",
                    f"environment '{env_name}' chooses {ref}, released {offer.release_date}: "
                    + age_text(age),
                    span,
                    f"note: used by {users_text(fresh)}",
                    "hint: set min_age_days (like 14) to let new models soak first, or "
                    "min_age_days: 0 to accept them",
                )
            )
    return found
