"""Composes one listing's text, price and contacts from the phrase banks.

Kept apart from the timeline (world.py): this module decides what an ad says, the world
decides when it lives and dies.
"""

from __future__ import annotations

import random
from itertools import accumulate
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from monitor.sandbox import phrases as P
from monitor.sandbox.sites import CNY_PER, SandboxSite

TRICKS = ("plain", "code_word", "pinyin_mix", "separator", "homophone", "traditional", "legal_cover")
TRICK_WEIGHTS = (0.26, 0.2, 0.1, 0.11, 0.1, 0.11, 0.12)
TRICK_CUM = list(accumulate(TRICK_WEIGHTS))
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_FIELD = {"plain": 0.36, "spaced": 0.26, "dashed": 0.26, "missing_digit": 0.08}
_FREE = {**_FIELD, "chinese_numerals": 0.2, "fullwidth": 0.08}
PHONE_VARIANTS_FIELD = (list(_FIELD), list(accumulate(_FIELD.values())))
PHONE_VARIANTS_FREE = (list(_FREE), list(accumulate(_FREE.values())))


@dataclass
class Seller:
    """A dealer (recurring, protected species) or a shop/person selling ordinary goods."""

    seller_id: str
    name: str
    region: str
    city: str
    phone: str
    wechat: str = ""
    qq: str = ""
    species: tuple[str, ...] = ()
    sites: list[str] = field(default_factory=list)
    tricks: tuple[str, ...] = ()
    company: str = ""


@lru_cache(maxsize=4)
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


@lru_cache(maxsize=20000)
def to_traditional(text: str, region: str) -> str:
    """Simplified -> Traditional with the region's wording (塑料 -> 塑膠 as sellers write it)."""
    text = _converter("s2hk" if region == "hk" else "s2tw").convert(text)
    return text.replace("塑料", "塑膠").replace("面議", "面議")


def make_phone(rng: random.Random, region: str) -> str:
    if region == "tw":
        return f"09{rng.randrange(10**8):08d}"
    if region == "hk":
        return f"{rng.choice('569')}{rng.randrange(10**7):07d}"
    return f"{rng.choice(['13', '15', '18', '17', '19'])}{rng.randrange(10**9):09d}"


def make_seller(rng: random.Random, seller_id: str, region: str, dealer: bool) -> Seller:
    if region == "cn":
        city = rng.choice(P.CN_CITIES)
    elif region == "tw":
        city = rng.choice(P.TW_PLACES)
    else:
        city = rng.choice(P.HK_PLACES)
    if rng.random() < 0.5:
        name = rng.choice(P.SURNAMES) + rng.choice(P.GIVEN)
    else:
        name = rng.choice(P.NICKS) + rng.choice(["", "阁", "斋", "轩", "堂", str(rng.randint(1, 99))])
    stem = rng.choice(P.WECHAT_STEMS)
    wechat = f"{stem}{rng.choice(['_', '', '-'])}{rng.randint(10, 9999)}" if (dealer or rng.random() < 0.4) else ""
    qq = str(rng.randint(10000, 3999999999)) if (dealer and rng.random() < 0.6) else ""
    company = f"{city}{rng.choice(P.NICKS)}{rng.choice(['工艺品', '贸易', '饰品', '文化'])}有限公司"
    return Seller(seller_id, name, region, city, make_phone(rng, region), wechat, qq, company=company)


def write_phone(rng: random.Random, phone: str, free_text: bool) -> tuple[str, str]:
    """The phone as a seller writes it, and the name of the variant."""
    names, cum = PHONE_VARIANTS_FREE if free_text else PHONE_VARIANTS_FIELD
    variant = rng.choices(names, cum_weights=cum)[0]
    if variant == "spaced":
        written = f"{phone[:3]} {phone[3:7]} {phone[7:]}" if len(phone) == 11 else f"{phone[:4]} {phone[4:]}"
    elif variant == "dashed":
        written = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}" if len(phone) == 11 else f"{phone[:4]}-{phone[4:]}"
    elif variant == "missing_digit":
        cut = rng.randint(3, len(phone) - 1)
        written = phone[:cut] + phone[cut + 1:]
    elif variant == "chinese_numerals":
        written = "".join(P.CN_DIGITS[int(d)] for d in phone)
    elif variant == "fullwidth":
        written = phone.translate(FULLWIDTH)
    else:
        written = phone
    return written, variant


def write_wechat(rng: random.Random, wechat: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.25:
        return wechat.upper(), "upper_case"
    return wechat, "plain"


def write_qq(rng: random.Random, qq: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.25 and len(qq) > 6:
        return f"{qq[:3]} {qq[3:6]} {qq[6:]}", "spaced"
    if r < 0.4:
        return "".join(P.CN_DIGITS[int(d)] for d in qq), "chinese_numerals"
    return qq, "plain"


def price_text(rng: random.Random, site: SandboxSite, amount_cny: float | None) -> tuple[str, float | None, float | None]:
    """(price_text, amount in the site's currency, high end of a range) as the site shows it."""
    if amount_cny is None or amount_cny <= 0:
        if site.archetype == "auction":
            return "面議", None, None
        return ("面议" if site.archetype != "forum" else ""), None, None
    if site.archetype == "auction":
        amount = round(amount_cny / CNY_PER[site.currency] / 10) * 10 or 10
        prefix = "NT$" if site.region == "tw" else "HK$"
        sep = " " if site.variant in (0, 2) else ""
        return f"{prefix}{sep}{amount:,}", float(amount), None
    amount = int(round(amount_cny))
    if site.archetype == "b2b":
        low = max(1, int(amount * 0.8))
        return f"¥{low:.2f} - ¥{amount:.2f}", float(low), float(amount)
    if site.archetype == "collectibles":
        if rng.random() < 0.1:
            return "面议", None, None
        if amount >= 10000 and rng.random() < 0.7:
            wan = round(amount / 1000) / 10
            return f"{wan:g}万", wan * 10000, None
        return f"¥{amount}", float(amount), None
    if site.archetype == "classifieds":
        if rng.random() < 0.08:
            return "面议", None, None
        return f"{amount}元", float(amount), None
    if site.archetype == "forum":
        return f"{amount}元", float(amount), None
    return str(amount), float(amount), None


def illegal_text(rng: random.Random, species: str, trick: str) -> tuple[str, str, str, int, int, str]:
    """(title, description, trick used, low CNY, high CNY, product noun) for a protected-species ad."""
    forms = P.SPECIES_FORMS[species]
    if trick not in forms:
        trick = "plain"
    form = rng.choice(forms[trick])
    product, low, high = rng.choice(P.SPECIES_PRODUCTS[species])
    adj = rng.choice(P.ADJECTIVES)
    title = f"{adj}{form}{product}"
    if rng.random() < 0.25:
        title = rng.choice(["【出】", "转让 ", "出 ", "特价 ", "【精品】"]) + title
    if rng.random() < 0.4:
        title += rng.choice([" 包邮", " 保真", " 可议价", " 实物拍摄", " 低价转"])
    desc = rng.choice(P.ILLEGAL_DESC).format(form=form, product=product, detail=rng.choice(P.ILLEGAL_DETAIL))
    if trick in P.ILLEGAL_NOTES:
        desc += rng.choice(P.ILLEGAL_NOTES[trick]) + "。"
    elif trick == "legal_cover":
        desc += rng.choice(P.COVER_GIVEAWAYS[species]) + "。"
    return title, desc, trick, low, high, product


def pick_trick(rng: random.Random, preferred: tuple[str, ...]) -> str:
    if preferred and rng.random() < 0.6:
        return rng.choice(preferred)
    return rng.choices(TRICKS, cum_weights=TRICK_CUM)[0]
