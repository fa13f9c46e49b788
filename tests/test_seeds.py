"""The reference data the page's codes are read with (dbt_project/seeds; sources in
seeds/SOURCES.md), pinned: a swapped code would put a commander in another country or another
rank without any page test noticing, since the page names only some of them."""

from __future__ import annotations

import csv

from orchestration.core.layout import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"

# NATO's two-letter code (STANAG 1059 digraphs: FIPS 10-4, but GE for Germany) -> ISO 3166-1
# alpha-3 and the date the accession took effect (rule A1; empty for a partner).
NATIONS = {
    "AL": ("ALB", "2009-04-01"),
    "BE": ("BEL", "1949-08-24"),
    "BU": ("BGR", "2004-03-29"),
    "CA": ("CAN", "1949-08-24"),
    "HR": ("HRV", "2009-04-01"),
    "EZ": ("CZE", "1999-03-12"),
    "DA": ("DNK", "1949-08-24"),
    "EN": ("EST", "2004-03-29"),
    "FI": ("FIN", "2023-04-04"),
    "FR": ("FRA", "1949-08-24"),
    "GE": ("DEU", "1955-05-06"),
    "GR": ("GRC", "1952-02-18"),
    "HU": ("HUN", "1999-03-12"),
    "IC": ("ISL", "1949-08-24"),
    "IT": ("ITA", "1949-08-24"),
    "LG": ("LVA", "2004-03-29"),
    "LH": ("LTU", "2004-03-29"),
    "LU": ("LUX", "1949-08-24"),
    "MJ": ("MNE", "2017-06-05"),
    "NL": ("NLD", "1949-08-24"),
    "MK": ("MKD", "2020-03-27"),
    "NO": ("NOR", "1949-08-24"),
    "PL": ("POL", "1999-03-12"),
    "PO": ("PRT", "1949-08-24"),
    "RO": ("ROU", "2004-03-29"),
    "LO": ("SVK", "2004-03-29"),
    "SI": ("SVN", "2004-03-29"),
    "SP": ("ESP", "1982-05-30"),
    "SW": ("SWE", "2024-03-07"),
    "TU": ("TUR", "1952-02-18"),
    "UK": ("GBR", "1949-08-24"),
    "US": ("USA", "1949-08-24"),
    "AM": ("ARM", ""),
    "AU": ("AUT", ""),
    "AJ": ("AZE", ""),
    "BK": ("BIH", ""),
    "GG": ("GEO", ""),
    "EI": ("IRL", ""),
    "JO": ("JOR", ""),
    "MG": ("MNG", ""),
    "MO": ("MAR", ""),
    "MD": ("MDA", ""),
    "RS": ("RUS", ""),
    "RI": ("SRB", ""),
    "SZ": ("CHE", ""),
    "UP": ("UKR", ""),
    "AE": ("ARE", ""),
}


def rows(name: str) -> list[dict]:
    with open(SEEDS / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_nato_codes_name_their_countries():
    assert {r["nato_code"]: (r["iso_alpha3"], r["nato_member_since"])
            for r in rows("nato_nations")} == NATIONS
    assert sum(1 for _, since in NATIONS.values() if since) == 32  # every member, as of 2024


def test_equivalent_ranks_share_their_nato_code():
    """STANAG 2116: a rank has one code whatever the service's word for it."""
    code = {r["rank_abbreviation"]: r["nato_rank_code"] for r in rows("ranks")}
    grades = {"OF-9": ["Gen.", "Adm.", "Air Chief Marshal"],
              "OF-8": ["Lt. Gen.", "V. Adm.", "Vice Adm.", "Air Marshal"],
              "OF-7": ["Maj. Gen.", "R. Adm.", "Rear Adm.", "Air Vice-Marshal"],
              "OF-6": ["Brig. Gen.", "Brig.", "Cdre.", "Air Cdre."],
              "OF-5": ["Col."], "OF-4": ["Lt. Col."], "OF-3": ["Maj."], "OF-2": ["Capt."]}
    assert {rank: code[rank] for ranks in grades.values() for rank in ranks} \
        == {rank: grade for grade, ranks in grades.items() for rank in ranks}
    assert set(code) == {rank for ranks in grades.values() for rank in ranks}


def test_service_letters():
    assert {r["service_code"]: r["service_name"] for r in rows("services")} == {
        "A": "Army", "N": "Navy", "F": "Air Force", "M": "Marines"}
