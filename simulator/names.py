"""Text that reads like a Chinese CRM's: people, companies, e-mail addresses and mobile numbers."""

from __future__ import annotations

import numpy as np

from simulator.catalogue import BRANDS, GIVEN_NAMES, MOBILE_PREFIXES, SURNAMES
from simulator.draws import Draws


def _texts(values: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def pick(values: tuple[str, ...] | list[str], indexes: np.ndarray) -> np.ndarray:
    """Texts by index, as an object array ready for the writer."""
    return _texts(values)[indexes]


def id_texts(ids: np.ndarray, width: int = 0) -> np.ndarray:
    texts = ids.astype(str)
    if width and texts.size:
        texts = np.char.zfill(texts, width)
    return texts.astype(object)


def people(draws: Draws, purpose: str, ids: np.ndarray, domain: str) -> tuple[np.ndarray, np.ndarray]:
    """Names ('Wang Fang') and work e-mails ('fang.wang.123@domain'); the id keeps addresses unique."""
    surname = draws.integers(f"{purpose}.surname", ids, 0, len(SURNAMES))
    given = draws.integers(f"{purpose}.given", ids, 0, len(GIVEN_NAMES))
    names = pick(SURNAMES, surname) + " " + pick(GIVEN_NAMES, given)
    lower_surnames = [s.lower() for s in SURNAMES]
    lower_given = [g.lower() for g in GIVEN_NAMES]
    emails = pick(lower_given, given) + "." + pick(lower_surnames, surname) + "." + id_texts(ids) + f"@{domain}"
    return names, emails


def companies(draws: Draws, ids: np.ndarray, cities: np.ndarray, industry_words: np.ndarray) -> np.ndarray:
    """'Hangzhou Jinghua Technology Co., Ltd.': city, brand and trade, as Chinese company names are built."""
    brands = pick(BRANDS, draws.integers("company.brand", ids, 0, len(BRANDS)))
    return cities + " " + brands + " " + industry_words + " Co., Ltd."


def mobile_numbers(draws: Draws, ids: np.ndarray) -> np.ndarray:
    prefixes = pick(MOBILE_PREFIXES, draws.integers("mobile.prefix", ids, 0, len(MOBILE_PREFIXES)))
    return prefixes + id_texts(draws.integers("mobile.number", ids, 0, 100_000_000), 8)
