"""Selector normalisation: two spellings of one identifier become one string.

Deconfliction compares (kind, normalized) across agencies, so this is where
"+377 44 123 456" and "044 123 456", or "KRASNIQI Agim" and "Agim Krasniqi", meet.
"""

import re
import unicodedata

import phonenumbers

from ocpo_coord.models.enums import SelectorKind

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_NOT_ALNUM_UPPER = re.compile(r"[^0-9A-Z]+")

# Serbian Cyrillic to Latin, so that names written in either script meet.
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "ђ": "dj",
    "е": "e",
    "ж": "z",
    "з": "z",
    "и": "i",
    "ј": "j",
    "к": "k",
    "л": "l",
    "љ": "lj",
    "м": "m",
    "н": "n",
    "њ": "nj",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ћ": "c",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "c",
    "џ": "dz",
    "ш": "s",
    # Latin letters that Unicode decomposition leaves alone.
    "đ": "dj",
    "ł": "l",
    "ø": "o",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ı": "i",
}

# Kosovo numbers kept their subscriber digits when +383 replaced the borrowed
# codes (Vala on Monaco's +377, IPKO on Slovenia's +386, fixed lines on Serbia's
# +381), so records from 2007 and from today name the same phone.
_KOSOVO_LEGACY = (
    (re.compile(r"^\+377(4[4-9])"), "+383\\1"),
    (re.compile(r"^\+386(4[3-9])"), "+383\\1"),
    (re.compile(r"^\+381(28|29|38|39)"), "+383\\1"),
)


def _fold(text: str) -> str:
    lowered = "".join(_CYRILLIC.get(ch, ch) for ch in text.casefold())
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(value: str) -> str:
    """Case, diacritics, script and word order do not matter."""
    tokens = [t for t in _NOT_ALNUM.split(_fold(value)) if t]
    return " ".join(sorted(tokens))


def normalize_phone(value: str, default_region: str | None = "XK") -> str:
    """E.164 when the number parses; digits only otherwise."""
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        # "(509) 3712-4488" written in a Kosovo record is a Haitian number without its
        # "+": when the digits make a valid international number, that is the reading.
        international = _as_international(value)
        if international is not None:
            parsed = international
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return re.sub(r"\D", "", value)
    e164: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    for pattern, replacement in _KOSOVO_LEGACY:
        e164 = pattern.sub(replacement, e164)
    return e164


def _as_international(value: str) -> phonenumbers.PhoneNumber | None:
    digits = re.sub(r"\D", "", value).removeprefix("00")
    if not digits or digits.startswith("0"):
        return None
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def normalize_code(value: str) -> str:
    return _NOT_ALNUM_UPPER.sub("", _fold(value).upper())


def normalize_imo(value: str) -> str:
    return re.sub(r"\D", "", value)


def normalize(kind: SelectorKind, value: str, *, default_region: str | None = "XK") -> str:
    if kind is SelectorKind.NAME:
        return normalize_name(value)
    if kind is SelectorKind.PHONE:
        return normalize_phone(value, default_region)
    if kind in (SelectorKind.VESSEL_IMO, SelectorKind.VESSEL_MMSI):
        return normalize_imo(value)
    if kind is SelectorKind.EMAIL:
        return value.strip().casefold()
    return normalize_code(value)
