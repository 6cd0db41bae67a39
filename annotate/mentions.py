"""A target's mentions in a text: one matcher for the page (aliases highlighted) and the
classifier (aliases marked before vectorising). Pure Python: no Django, no scikit-learn."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

#: The word put around a mention for the classifier: one token to the word n-grams, and a
#: string no news sentence holds, so its n-grams mean "the target is here".
MARK = "stancetargetmark"


def alias_pattern(aliases: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for all of a target's aliases: whole words, any case, the longest
    first (so "Huawei Technologies" is one mark, not "Huawei" and a word)."""
    words = sorted({a.strip() for a in aliases if a.strip()}, key=lambda a: (-len(a), a))
    if not words:
        return None
    joined = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
    return re.compile(rf"(?<!\w)(?:{joined})(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=64)
def _cached_pattern(aliases: tuple[str, ...]) -> re.Pattern[str] | None:
    return alias_pattern(aliases)


def mark_mentions(text: str, aliases: tuple[str, ...]) -> str:
    """The text with each mention of the aliases wrapped in MARK: "stancetargetmark Huawei
    stancetargetmark said". Unchanged when there are no aliases or no mention."""
    pattern = _cached_pattern(aliases)
    if pattern is None:
        return text
    return pattern.sub(lambda found: f"{MARK} {found.group(0)} {MARK}", text)
