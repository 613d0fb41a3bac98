"""Sellers' contact details found in listing text, normalised so the same seller links up.

Dealers disguise numbers to dodge platform filters: spaces and dashes inside a mobile
number, +86, full-width digits, Chinese numerals (一三八, 幺 for 1, 洞 for 0) and many
spellings of WeChat (微信, V信, vx, 威信, WX, weixin). ``extract_contacts`` undoes these so
that ``Contact.value`` is comparable across ads and sites. Linking a number written with a
missing digit to its full form needs the set of known numbers, so it lives in
``monitor.storage.dealers``, not here.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["Contact", "CONTACT_KINDS", "extract_contacts", "normalize_contact", "phone_deletions"]

CONTACT_KINDS = ("phone", "landline", "wechat", "qq")


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str
    raw: str


_NUMERALS = {
    "〇": "0", "零": "0", "洞": "0", "o": None,
    "一": "1", "幺": "1", "壹": "1", "么": "1",
    "二": "2", "两": "2", "贰": "2", "兩": "2", "貳": "2",
    "三": "3", "叁": "3", "參": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "拐": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "勾": "9", "玖": "9",
}
_NUMERALS = {k: v for k, v in _NUMERALS.items() if v}
_NUMERAL_CLASS = "".join(_NUMERALS)
_SEP = r"[ \t\-\.·_/~()]"
# A run of at least 7 digit-like characters (mixing digits and numerals), separators allowed.
_NUMERAL_RUN = re.compile(rf"[0-9{_NUMERAL_CLASS}](?:{_SEP}?[0-9{_NUMERAL_CLASS}]){{6,}}")
_DIGIT_RUN = re.compile(rf"(?<![0-9a-z])(?:\+?(?:886|852|86){_SEP}?)?[0-9](?:{_SEP}?[0-9])+(?![0-9])")

_WECHAT_CUE = r"(?:微信号?|微\s*信|[vV]\s*信|薇信|威信|维信|徽信|危信|vx|wx|weixin|wechat|加\s*v|\+\s*v|v号)"
_QQ_CUE = r"(?:qq|扣扣|企鹅|q\s*q|扣|q(?=\s*[:：]))"
_CUE_GAP = r"[\s:：号是为=\-]*"
_WECHAT = re.compile(rf"{_WECHAT_CUE}{_CUE_GAP}([a-z][a-z0-9_\-]{{4,19}}|1[3-9][0-9]{{9}})(?![a-z0-9_])")
# QQ numbers run together, or written in short groups ("401 968 845").
_QQ = re.compile(rf"{_QQ_CUE}{_CUE_GAP}([1-9][0-9]{{4,10}}(?![0-9])|[1-9][0-9]{{1,3}}(?:[ \-][0-9]{{2,4}}){{1,3}}(?![0-9]))")
_LINE_PUNCT = " \t:：,，;；。.、"
_NOT_LINE_PUNCT = re.compile(f"[^{re.escape(_LINE_PUNCT)}]")
# Contacts are read in a listing's first this many characters (bounded work on hostile pages).
MAX_TEXT_CHARS = 100_000
_PHONE_CUE = re.compile(r"(?:电话|電話|手机|手機|tel|联系|聯繫|聯絡|致电|致電|call|phone|热线|熱線|号码|號碼|电|電|☎|📞)\D{0,4}$")


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC + lower case + Chinese numerals as digits, with a map back to ``text`` offsets."""
    folded_text = text.lower()
    if unicodedata.is_normalized("NFKC", text) and len(folded_text) == len(text):
        origin = list(range(len(text)))
    else:
        chars: list[str] = []
        origin = []
        for index, char in enumerate(text):
            for folded in unicodedata.normalize("NFKC", char).lower():
                chars.append(folded)
                origin.append(index)
        folded_text = "".join(chars)
    out = list(folded_text)
    for run in _NUMERAL_RUN.finditer(folded_text):
        digits = sum(1 for c in run.group() if c.isdigit() or c in _NUMERALS)
        if digits < 7:
            continue
        for pos in range(run.start(), run.end()):
            out[pos] = _NUMERALS.get(out[pos], out[pos])
    return "".join(out), origin


def _raw(text: str, origin: list[int], start: int, end: int) -> str:
    return text[origin[start]: origin[end - 1] + 1]


def _classify_number(digits: str, cued: bool) -> tuple[str, str] | None:
    """(kind, value) for a separator-free digit string, or None if it is no contact number."""
    if digits.startswith("86") and len(digits) in (12, 13) and digits[2] == "1":
        digits = digits[2:]
    elif digits.startswith("8869") and len(digits) == 12:
        digits = "0" + digits[3:]
    elif digits.startswith("852") and len(digits) == 11 and digits[3] in "5689":
        return "phone", digits[3:]
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "phone", digits
    if len(digits) == 10 and digits[0] == "1" and digits[1] in "3456789" and cued:
        return "phone", digits  # a mainland mobile with a digit missing; see monitor.storage.dealers
    if len(digits) == 10 and digits.startswith("09"):
        return "phone", digits  # Taiwan mobile
    if len(digits) == 8 and digits[0] in "5689" and cued:
        return "phone", digits  # Hong Kong
    if 10 <= len(digits) <= 12 and digits[0] == "0" and digits[1] != "0":
        area_len = 3 if digits[1] in "12" else 4
        number = digits[area_len:]
        if 7 <= len(number) <= 8:
            return "landline", f"{digits[:area_len]}-{number}"
    return None


def extract_contacts(text: str) -> list[Contact]:
    """Every phone, landline, WeChat and QQ contact in ``text``, in order, without repeats.

    Scraped text is hostile: only its first ``MAX_TEXT_CHARS`` are read, and the work grows in
    proportion to their length (a page of "1 1 1 ..." made an earlier version quadratic)."""
    if not text:
        return []
    norm, origin = _normalise(text[:MAX_TEXT_CHARS])
    found: list[tuple[int, Contact]] = []
    starts: list[int] = []  # the spans taken, which never overlap: sorted by start and by end
    ends: list[int] = []

    def overlaps(start: int, end: int) -> bool:
        i = bisect_left(starts, end)
        return i > 0 and ends[i - 1] > start

    def take(start: int, end: int) -> None:
        i = bisect_left(starts, start)
        starts.insert(i, start)
        ends.insert(i, end)

    for pattern, kind in ((_WECHAT, "wechat"), (_QQ, "qq")):
        for m in pattern.finditer(norm):
            if overlaps(m.start(1), m.end(1)):
                continue
            value = re.sub(r"[ \-]", "", m.group(1)) if kind == "qq" else m.group(1)
            if kind == "qq" and not 5 <= len(value) <= 11:
                continue
            raw = _raw(text, origin, m.start(), m.end())
            take(m.start(1), m.end(1))
            found.append((m.start(), Contact(kind, value, raw)))
            if kind == "wechat" and value.isdigit():
                found.append((m.start(1), Contact("phone", value, _raw(text, origin, m.start(1), m.end(1)))))

    for m in _DIGIT_RUN.finditer(norm):
        if overlaps(m.start(), m.end()):
            continue
        for start, end, kind, value in _split_numbers(norm, m.start(), m.end()):
            found.append((start, Contact(kind, value, _raw(text, origin, start, end))))

    found.sort(key=lambda pair: pair[0])
    seen: set[tuple[str, str]] = set()
    result: list[Contact] = []
    for _, contact in found:
        key = (contact.kind, contact.value)
        if key not in seen:
            seen.add(key)
            result.append(contact)
    return result


def _split_numbers(norm: str, start: int, end: int) -> list[tuple[int, int, str, str]]:
    """Numbers inside one digit run, which may hold several numbers separated by spaces."""
    groups = [(m.start() + start, m.end() + start) for m in re.finditer(r"\+?[0-9]+", norm[start:end])]
    out: list[tuple[int, int, str, str]] = []
    i = 0
    while i < len(groups):
        best: tuple[int, str, str] | None = None
        digits = ""
        for j in range(i, len(groups)):
            digits += norm[groups[j][0]:groups[j][1]].lstrip("+")
            if len(digits) > 13:
                break
            cued = bool(_PHONE_CUE.search(norm[max(0, groups[i][0] - 12):groups[i][0]])) or _alone_on_line(
                norm, groups[i][0], groups[j][1])
            hit = _classify_number(digits, cued)
            if hit:
                best = (j, hit[0], hit[1])
        if best is None:
            i += 1
            continue
        j, kind, value = best
        out.append((groups[i][0], groups[j][1], kind, value))
        i = j + 1
    return out


def _alone_on_line(norm: str, start: int, end: int) -> bool:
    """The number is all its line holds (a contact field), so it is a phone number. Both sides
    are read only up to their first character that is not punctuation, so each call costs what
    lies between the number and its neighbours, not the whole line."""
    i = start - 1
    while i >= 0 and norm[i] in _LINE_PUNCT:
        i -= 1
    if i >= 0 and norm[i] != "\n":
        return False
    after = _NOT_LINE_PUNCT.search(norm, end)
    return after is None or after.group() == "\n"


def normalize_contact(kind: str, raw: str) -> str:
    """The comparable form of a contact given as ``kind`` and raw text; "" if none is in it.

    Phones become 11 digits (10 when written with a digit missing), landlines
    ``area-number``, WeChat ids lower case, QQ numbers digits only.
    """
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind!r}; expected one of {', '.join(CONTACT_KINDS)}")
    norm, _ = _normalise(raw or "")
    norm = norm.strip()
    if kind == "wechat":
        m = re.search(r"[a-z0-9][a-z0-9_\-]{4,19}", re.sub(rf"^{_WECHAT_CUE}{_CUE_GAP}", "", norm))
        return m.group() if m else ""
    digits = re.sub(r"[^0-9]", "", norm.replace("+86", "", 1) if norm.startswith("+86") else norm)
    if kind == "qq":
        return digits if 5 <= len(digits) <= 11 else ""
    hit = _classify_number(digits, cued=True)
    if hit and hit[0] == kind:
        return hit[1]
    return ""


def phone_deletions(value: str) -> set[str]:
    """The 10-digit forms of an 11-digit mobile with one digit missing."""
    return {value[:i] + value[i + 1:] for i in range(len(value))}


def phone_insertions(value: str) -> set[str]:
    """The 11-digit mobiles a 10-digit one could be with its missing digit restored."""
    return {
        candidate
        for i in range(len(value) + 1)
        for d in "0123456789"
        if (candidate := value[:i] + d + value[i:])[:2] in {"13", "14", "15", "16", "17", "18", "19"}
    }
