"""Builds one Listing: text by kind and trick, the site's price style, contacts as written,
dates and lifetime."""

from __future__ import annotations

import random
from itertools import accumulate
from calendar import monthrange
from datetime import date

from monitor.sandbox import generator as G
from monitor.sandbox import phrases as P
from monitor.sandbox.sites import SandboxSite
from monitor.sandbox.world import Listing, Seller

SUBSTITUTE_WORDS = ("猛犸", "象牙果", "水牛角", "牦牛角", "骆驼骨", "树脂")
LIFETIME_CUM = list(accumulate((0.12, 0.18, 0.18, 0.15, 0.12, 0.10, 0.08, 0.07)))
SEPARATORS, SEPARATOR_CUM = ["：", ":", " ", ""], list(accumulate((0.4, 0.25, 0.25, 0.1)))
SPECIES, SPECIES_CUM = list(P.SPECIES_SHARE), list(accumulate(P.SPECIES_SHARE.values()))
FREE_TEXT_ARCHETYPES = ("forum", "c2c")


def _ordinary_bank(spec: SandboxSite) -> list[tuple[str, str, int, int]]:
    if spec.archetype == "collectibles":
        return P.ORDINARY["antique"]
    if spec.archetype == "b2b":
        return P.ORDINARY["wholesale"]
    if spec.archetype == "forum":
        return P.ORDINARY["forum"] + P.ORDINARY["antique"]
    if spec.archetype == "auction":
        return P.ORDINARY["antique"] + P.ORDINARY["general"]
    if spec.archetype == "c2c":
        return P.ORDINARY["general"] + P.ORDINARY["antique"][:6]
    return P.ORDINARY["general"]


def _contacts(rng: random.Random, spec: SandboxSite, seller: Seller, dealer: bool) -> tuple[str, list[str], list[dict[str, str]]]:
    """(contact field text, sentences to append to the description, truth contacts)."""
    truth: list[dict[str, str]] = []
    sentences: list[str] = []
    field_text = ""
    if spec.archetype not in FREE_TEXT_ARCHETYPES:
        written, variant = G.write_phone(rng, seller.phone, free_text=False)
        field_text = written
        truth.append({"kind": "phone", "value": seller.phone, "written": written, "variant": variant, "where": "field"})
    free = spec.archetype in FREE_TEXT_ARCHETYPES
    want_wechat = seller.wechat and (rng.random() < (0.75 if dealer else 0.25) or (free and not seller.qq))
    if want_wechat:
        written, variant = G.write_wechat(rng, seller.wechat)
        sep = rng.choices(SEPARATORS, cum_weights=SEPARATOR_CUM)[0]
        sentences.append(f"{rng.choice(P.CONTACT_INTROS_WECHAT)}{sep}{written}")
        truth.append({"kind": "wechat", "value": seller.wechat.lower(), "written": written, "variant": variant,
                      "where": "description"})
    if seller.qq and rng.random() < (0.5 if free else 0.3):
        written, variant = G.write_qq(rng, seller.qq)
        sentences.append(f"{rng.choice(P.CONTACT_INTROS_QQ)}：{written}")
        truth.append({"kind": "qq", "value": seller.qq, "written": written, "variant": variant, "where": "description"})
    if free and (not sentences or rng.random() < 0.4):
        written, variant = G.write_phone(rng, seller.phone, free_text=True)
        sentences.append(f"{rng.choice(P.CONTACT_INTROS_PHONE)} {written}")
        truth.append({"kind": "phone", "value": seller.phone, "written": written, "variant": variant,
                      "where": "description"})
    return field_text, sentences, truth


def compose_listing(rng: random.Random, spec: SandboxSite, external_id: str, idx: int, kind: str,
                    seller: Seller, original: Listing | None, progress: float, species_hint: str = "") -> Listing:
    year, mon = idx // 12, idx % 12 + 1
    posted = date(year, mon, rng.randint(1, monthrange(year, mon)[1]))
    posted_time = f"{rng.randint(7, 23):02d}:{rng.randint(0, 59):02d}"
    species: list[str] = []
    tricks: list[str] = []
    resembles: list[str] = []
    if kind == "repost" and original is not None:
        kind = "illegal"
        title, desc = original.title, original.description.split("。")[0] + "。"
        species, tricks = list(original.species), list(original.tricks)
        low, high = int((original.price_cny or 1000) * 0.9), int((original.price_cny or 1000) * 1.1)
        topic = original.topic
        traditional_done = True
    else:
        traditional_done = False
    if kind == "illegal" and original is None:
        sp = species_hint or rng.choices(SPECIES, cum_weights=SPECIES_CUM)[0]
        trick = G.pick_trick(rng, seller.tricks)
        if trick == "legal_cover" and sp not in ("ivory", "rhino_horn"):
            trick = "code_word"
        if trick == "traditional" and spec.script == "traditional":
            trick = "plain"
        title, desc, trick, low, high, product = G.illegal_text(rng, sp, trick)
        species, tricks = [sp], [trick]
        topic = P.PRODUCT_TOPIC[product]
        if spec.archetype == "b2b":
            title += rng.choice([" 厂家直销", " 批发", " 工艺品"])
    elif kind == "lookalike":
        title, desc, resembles, low, high = rng.choice(P.LOOKALIKES)
        topic = P.TITLE_TOPIC[title]
        tricks = ["substitute" if any(w in title for w in SUBSTITUTE_WORDS) else "lookalike"]
    elif kind == "ordinary":
        title, desc, low, high = rng.choice(_ordinary_bank(spec))
        topic = P.TITLE_TOPIC[title]
        if rng.random() < 0.5:
            extras = (["库存{}千件。", "{}天内发货。", "支持{}件混批。"] if spec.archetype == "b2b"
                      else ["成色{}成新。", "尺寸约{}cm。", "用了{}个月。", "{}号前有效。"])
            desc += rng.choice(extras).format(rng.randint(5, 9))
        tricks = []
    dealer = kind == "illegal"
    field_text, sentences, contacts = _contacts(rng, spec, seller, dealer)
    if sentences:
        desc = desc + ("，".join(sentences) if rng.random() < 0.5 else " ".join(sentences)) + "。"
    amount = None if high == 0 else rng.randint(low, high)
    if spec.archetype == "b2b" and kind == "ordinary":
        amount = rng.randint(low, high)
    price_text, price_amount, price_high = G.price_text(rng, spec, amount)
    if spec.archetype == "forum" and price_text:
        desc += rng.choice(["价格{}，", "{}出，", "售价{}，"]).format(price_text) + rng.choice(["不刀。", "可小刀。", "包邮。"])
    replies: list[tuple[str, str]] = []
    if spec.archetype == "forum":
        for _ in range(rng.randint(0, 5)):
            replies.append((rng.choice(P.NICKS) + str(rng.randint(1, 999)), rng.choice(P.REPLIES)))
        if dealer and seller.wechat and rng.random() < 0.5:
            written, variant = G.write_wechat(rng, seller.wechat)
            replies.append((seller.name, f"有意者加{rng.choice(P.CONTACT_INTROS_WECHAT)} {written}"))
            contacts.append({"kind": "wechat", "value": seller.wechat.lower(), "written": written,
                             "variant": variant, "where": "reply"})
    min_order = ""
    if spec.archetype == "b2b":
        min_order = rng.choice(["≥1件", "≥2件", "≥10件", "100件起批", "1件起批", "≥5个"])
    location = seller.city
    name = seller.name
    if spec.script == "traditional":
        title, desc = G.to_traditional(title, spec.region), G.to_traditional(desc, spec.region)
        name = G.to_traditional(name, spec.region)
        location = G.to_traditional(location, spec.region)
        replies = [(G.to_traditional(u, spec.region), G.to_traditional(t, spec.region)) for u, t in replies]
        if kind == "illegal" and "traditional" not in tricks:
            tricks.append("traditional")
    elif tricks == ["traditional"] and not traditional_done:
        title, desc = G.to_traditional(title, "hk"), G.to_traditional(desc, "hk")
    end_reason = "expired"
    if dealer and rng.random() < 0.2 + 0.5 * progress:
        lifetime, end_reason = rng.choice((1, 1, 2)), "platform"
    else:
        lifetime = rng.choices(range(1, 9), cum_weights=LIFETIME_CUM)[0]
    edit_idx, edit_price = None, None
    if lifetime >= 2 and amount and spec.archetype != "forum" and rng.random() < 0.12:
        edit_idx = idx + rng.randint(1, lifetime - 1)
        edit_price = G.price_text(rng, spec, int(amount * rng.choice((0.8, 0.85, 0.9))))
    item = Listing(
        site=spec.name, external_id=external_id, posted=posted, posted_time=posted_time, posted_idx=idx,
        end_idx=idx + lifetime, end_reason=end_reason, kind=kind, species=species, tricks=tricks,
        title=title, description=desc, price_text=price_text, price_amount=price_amount, price_high=price_high,
        currency=spec.currency, location=location, seller=seller, contact_text=field_text, contacts=contacts,
        replies=replies, min_order=min_order, repost_of=original.external_id if original else "",
        edit_idx=edit_idx, edit_price=edit_price, resembles=list(resembles), topic=topic,
    )
    item.seller_name = name
    item.search_text = f"{title} {desc}".lower()
    return item
