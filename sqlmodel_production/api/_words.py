"""The English of the answers' messages."""

from __future__ import annotations

__all__ = ["article"]


def article(word: str) -> str:
    """The article before `word`, by how it is usually spoken: an author, a user, an item."""
    lower = word.lower()
    if lower[:1] in ("a", "e", "i", "o"):
        return "an"
    if lower[:1] == "u":
        # "you" in user, unit, unique, usual; "uh" in update, umbrella, undo.
        return "a" if lower.startswith(_YOU_SOUNDS) else "an"
    return "a"


_YOU_SOUNDS = ("uni", "use", "usu", "uti", "ure", "uro", "ura")
