"""The attack suite's tally: every named attempt counts once, and the run ends by printing how
many attempts were made, by kind (``pytest_terminal_summary`` in tests/conftest.py)."""

from collections import Counter

ATTEMPTS: Counter[str] = Counter()


def attempt(kind: str, name: str = "") -> str:
    """Count one attempt of ``kind`` and give back its name, for the failure message."""
    ATTEMPTS[kind] += 1
    return f"{kind}: {name}" if name else kind
