"""Ukrainian place names: look-up keys, the official romanisation, telling Ukrainian from
Russian spellings, and choosing names and aliases.

Used at run time by the gazetteer (:func:`name_key`, :func:`oblast_key`, :func:`printable`)
and by the maintainer's build of ``geodata/settlements.csv`` (``tools/build_settlements.py``:
:func:`pick_ukrainian_name`, :func:`romanize_uk`, :func:`merge_aliases`). Pure functions of
text; nothing here reads a file.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

__all__ = [
    "merge_aliases",
    "name_key",
    "normalise_apostrophe",
    "oblast_key",
    "pick_ukrainian_name",
    "printable",
    "romanize_uk",
    "strip_accents",
    "useful_alias",
]

# Letters only Ukrainian / only Russian uses, for telling the two apart.
_UK_ONLY = frozenset("іїєґ")
_UK_ALPHABET = frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя")
_RU_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
# Word endings that mark a Russian form of a place name (Ukrainian: -ськ, -цьк, -ове,
# -еве, -ине, -івка, -ський, -иця, -е, -і, -є).
_RU_ENDINGS = ("ск", "цк", "ое", "ая", "ый", "ие", "ые", "ее", "ье", "ский", "цкий", "ица",
               "ово", "ево", "ино", "овка", "евка")
_APOSTROPHES = "'’ʼ`´‘ʹ”\""
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe",
                       "ß": "ss", "ı": "i", "ħ": "h", "þ": "th"})
#: :data:`_FOLD`, and apostrophes dropped: what a key's letters go through once case-folded.
_FOLD_KEY = {**_FOLD, **dict.fromkeys(map(ord, _APOSTROPHES))}
_NON_ALNUM = re.compile(r"[\W_]+")
_CYRILLIC_NAME = re.compile(r"^[\u0400-\u04FF][\u0400-\u04FF\u0301 '’ʼ`”.\-]*$")
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF][A-Za-z\u00C0-\u024F\u1E00-\u1EFF '’ʼ`´‘”.\-]*$")


#: Up to the end of Cyrillic Supplement: Latin and Cyrillic names, decomposed (NFKD).
_LATIN_CYRILLIC = re.compile("[\x00-\u052f]*")


@lru_cache(maxsize=1)
def _no_marks() -> dict[int, None]:
    """A ``str.translate`` table that drops the combining marks below U+0530 (what a Latin or
    Cyrillic name has once decomposed), as ``unicodedata.combining`` tells them."""
    return {cp: None for cp in range(0x530) if unicodedata.combining(chr(cp))}


def name_key(text: str) -> str:
    """Normalised look-up key: no accents, case, apostrophes or punctuation.

    ``name_key("Pokrovs'k") == name_key("POKROVSK")``; ``Артёмовск`` and ``Артемовск``
    share a key. Cyrillic й/ї lose their marks too (и/і), harmless for matching.
    """
    if text.isascii():  # most names: nothing to decompose
        text = text.casefold().translate(_FOLD_KEY)
    else:
        text = unicodedata.normalize("NFKD", text)
        if _LATIN_CYRILLIC.fullmatch(text):  # the gazetteer's other names: one table look-up a letter
            text = text.translate(_no_marks())
        else:
            text = "".join(c for c in text if not unicodedata.combining(c))
        text = text.casefold().translate(_FOLD_KEY)
    return _NON_ALNUM.sub(" ", text).strip()


def oblast_key(text: str) -> str:
    """The look-up key of an oblast's name without the word for "oblast" (``Donetsk Oblast`` -> ``donetsk``)."""
    words = [w for w in name_key(text).split()
             if w not in {"oblast", "oblast'", "obl", "region", "область", "обл", "oblasti"}]
    return " ".join(words)


def printable(text: str, limit: int = 60) -> str:
    """``text`` fit to quote in a message: control characters blanked, cut to ``limit`` characters."""
    text = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_KMU = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    # Russian letters, so that any Cyrillic name gives something comparable.
    "ё": "e", "ы": "y", "э": "e", "ъ": "",
}
_KMU_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def romanize_uk(text: str) -> str:
    """Ukrainian Cyrillic in the official KMU 2010 romanisation (``Запоріжжя`` -> ``Zaporizhzhia``).

    Apostrophes and soft signs are dropped, є/ї/й/ю/я are ``ye/yi/y/yu/ya`` at the start of a
    word, and ``зг`` is ``zgh`` — the spelling Ukrainian institutions and most news use.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    prev = ""
    for c in text:
        low = c.lower()
        if c in _APOSTROPHES:
            continue
        word_start = not prev.isalpha()
        if low == "г" and prev.lower() == "з":
            latin = "gh"
        elif word_start and low in _KMU_INITIAL:
            latin = _KMU_INITIAL[low]
        else:
            latin = _KMU.get(low, c)
        if c != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        prev = c
    return "".join(out)


def strip_accents(text: str) -> str:
    """Drop stress marks (``Караджи́`` -> ``Караджи``) but keep й, ї, ё."""
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if c not in "\u0301\u0300\u030b")
    return unicodedata.normalize("NFC", text)


def _fold_latin(text: str) -> str:
    return name_key(text).replace(" ", "")


def _is_ukrainian_form(name: str) -> bool:
    """Could ``name`` be Ukrainian? Only Ukrainian letters and no Russian word ending."""
    letters = {c for c in name.lower() if c.isalpha()}
    if not letters or not letters <= _UK_ALPHABET:
        return False
    if letters & _UK_ONLY:
        return True
    # Ukrainian words do not start with и (Russian Ильинка, Ukrainian Іллінка), and
    # never soften ж, ч, ш, щ (Russian Керчь, Ukrainian Керч).
    words = [w for w in re.split(r"[\s\-]+", name.lower()) if w]
    return not any(w.endswith(_RU_ENDINGS) or w.startswith("и") or re.search("[жчшщ]ь", w)
                   for w in words)


def _ukrainian_markers(name: str) -> int:
    """How Ukrainian a spelling looks: і/ї/є/ґ, a well-placed apostrophe, -ськ/-ове endings."""
    low = name.lower()
    words = [w for w in re.split(r"[\s\-]+", low) if w]
    apostrophes = re.findall(r"(.)’(.)", low)
    # Ukrainian writes an apostrophe only before я, ю, є, ї (Мар’їнка, not Мар’інка).
    good = bool(apostrophes) and all(after in "яюєї" for _, after in apostrophes)
    return (bool(set(low) & _UK_ONLY) + good - (bool(apostrophes) and not good)
            + any(w.endswith(("ськ", "цьк", "ове", "еве", "ине", "івка", "ів")) for w in words))


def _skeleton(text: str) -> str:
    """Latin spelling with y/j/i merged and doubled letters collapsed (Izyum ~ Izium)."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[yj]", "i", _fold_latin(text)))


def _similarity(cyrillic: str, names: Sequence[str]) -> tuple[float, float]:
    """How close the KMU romanisation of ``cyrillic`` is to any of ``names`` (0-100):
    (spelling, max of spelling and y/i skeleton)."""
    from rapidfuzz import fuzz

    latin = romanize_uk(cyrillic)
    plain = max(fuzz.ratio(_fold_latin(latin), _fold_latin(n)) for n in names)
    loose = max(fuzz.ratio(_skeleton(latin), _skeleton(n)) for n in names)
    return plain, max(plain, loose)


def pick_ukrainian_name(names: str | Sequence[str], alternates: Iterable[str]) -> str:
    """Choose the Ukrainian Cyrillic name of a place among GeoNames' alternate names.

    GeoNames' alternate names carry no language tags, and Russian forms are often there
    (Курахово beside Курахове). A candidate must be written in the Ukrainian alphabet
    and not end like a Russian place name (-ск, -ово, -овка, -ое …), and its KMU
    romanisation must be close to the English name(s) ``names``: rapidfuzz ratio >= 70
    when it has a letter only Ukrainian uses (і ї є ґ), >= 85 otherwise, comparing
    both the spellings and their y/i-merged skeletons (Hulyaypole ~ Huliaipole). That
    rules out former names (Артемівськ for Bakhmut). A candidate that romanises to the
    English name exactly wins (Донецьк, not the Belarusian-looking Дінецьк); otherwise
    the closest, a spelling with і/ї/є/ґ counting 10 points closer (Білоглинка beats
    Белоглинка for GeoNames' Russian-style "Beloglinka"); ties go to the more
    Ukrainian-looking (see :func:`_ukrainian_markers`). "" when none qualifies.
    """
    names = (names,) if isinstance(names, str) else tuple(n for n in names if n)
    best: tuple | None = None
    for alt in sorted({normalise_apostrophe(strip_accents(a).strip()) for a in alternates}):
        if not _is_ukrainian_form(alt):
            continue
        exact, score = _similarity(alt, names)
        strong = bool(set(alt.lower()) & _UK_ONLY)
        if score < (70 if strong else 85):
            continue
        # Last tie-break: the longer spelling (Севастополь over the Serbian-style Севастопол:
        # ь and ’ vanish in romanisation, so a shorter twin is usually a foreign spelling).
        cand = (exact >= 99, round(score) + 10 * strong, _ukrainian_markers(alt), len(alt), alt)
        if best is None or cand[:4] > best[:4]:
            best = cand
    return best[4] if best else ""


def normalise_apostrophe(text: str) -> str:
    """Ukrainian apostrophe variants (' ʼ ` ”) as ’ (U+2019)."""
    return re.sub(r"(?<=\w)['ʼ`”’](?=\w)", "’", text)


def useful_alias(alt: str) -> bool:
    """Keep Latin-script and Ukrainian/Russian Cyrillic alternate names a user could type.

    Drops other scripts, airport codes (``KRQ``), lower-case machine transliterations of
    Chinese/Arabic names (``ku la huo wei``) and one- or two-letter fragments.
    """
    if len(alt) < 3 or len(alt) > 60 or any(c.isdigit() for c in alt):
        return False
    if _LATIN_NAME.match(alt):
        return alt[0].isupper() and not (alt.isupper() and len(alt) <= 4)
    if not _CYRILLIC_NAME.match(alt):
        return False
    letters = {c for c in alt.lower() if c.isalpha()}
    return (letters <= _UK_ALPHABET or letters <= _RU_CYRILLIC) and alt[0].isupper()


def merge_aliases(name: str, name_uk: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """Unique aliases (one per :func:`name_key`), not repeating ``name``/``name_uk``, sorted.

    Of several spellings with one key the plain-ASCII, then shortest, one is kept.
    """
    taken = {name_key(name), name_key(name_uk)}
    chosen: dict[str, str] = {}
    for alt in sorted({normalise_apostrophe(strip_accents(a).strip()) for a in candidates if a},
                      key=lambda a: (not a.isascii(), len(a), a)):
        key = name_key(alt)
        if key and key not in taken and key not in chosen and "|" not in alt:
            chosen[key] = alt
    return tuple(sorted(chosen.values(), key=lambda a: (name_key(a), a)))
