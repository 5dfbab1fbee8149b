"""The look-ups a screening makes through ``HiaData.index`` (built once) give what asking the frames gives.

tests/test_hia.py checks the evidence against independent computations; these tests check the fast paths
against the direct ones: the enriched LSOA table taken whole vs. enriched per screening, comparators read
through a dict vs. the MultiIndex, postcode counts from the tree vs. ``within``, and screenings run from
several threads at once (as the web service runs them) vs. one after another.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import shapely

from geotarget import load
from geotarget.hia.evidence import reference_value
from geotarget.hia.report import render_report
from geotarget.hia.screen import ScreeningRules, enrich, hia_data, screen_site
from geotarget.io.sites import parse_site

GENERATED = "2025-11-01"
#: a postcode, coordinates, a polygon across the Stockton-on-Tees / Middlesbrough boundary, other buffers and rules
SITES = [
    ("TS18 1AU", {}),
    ("441500,515000", {}),
    ("POLYGON ((446150 516250, 447350 516250, 447350 517450, 446150 517450, 446150 516250))", {}),
    ("TS1 1AA", {"buffers": (400, 1000, 3000),
                 "rules": ScreeningRules(flag_scope="site", flag_indices=("imd", "income"), flag_max_decile=3)}),
]


@pytest.fixture(scope="module")
def data():
    return hia_data(load())


def _json(site_text, data, **kw) -> bytes:
    return render_report(screen_site(parse_site(site_text), data, generated=GENERATED, **kw), "json")


@pytest.fixture(scope="module")
def expected(data):
    return [_json(text, data, **kw) for text, kw in SITES]


def test_the_whole_enriched_table_gives_what_enriching_each_screening_gives(data, expected):
    slow = dataclasses.replace(data)  # a new HiaData: its own index, built on first use
    assert slow.index.enriched is not None
    slow.index.enriched = None  # the path taken when a joined table lacks an LSOA: enrich the screening's rows
    assert [_json(text, slow, **kw) for text, kw in SITES] == expected


def test_a_missing_indicator_row_enriches_the_screenings_own_rows(data):
    sc = screen_site(parse_site("TS18 1AU"), data, generated=GENERATED)
    gone = sc.lsoas.index[0]
    key = "years_of_potential_life_lost_indicator"
    partial = dataclasses.replace(data, indicators=data.indicators.drop(index=gone))
    assert partial.index.enriched is None
    sc2 = screen_site(parse_site("TS18 1AU"), partial, generated=GENERATED)
    direct = enrich(data.sample.lsoas.loc[sc2.lsoas.index], partial)
    assert np.isnan(sc2.lsoas.loc[gone, key])
    pd.testing.assert_frame_equal(pd.DataFrame(sc2.lsoas[direct.columns].drop(columns="geometry")),
                                  pd.DataFrame(direct.drop(columns="geometry")))
    assert sc2.lsoas["pop_800m"].tolist() == sc.lsoas["pop_800m"].tolist()


def test_postcodes_counted_from_the_tree_are_those_within_the_buffer(data):
    buffer = shapely.Point(444600, 518900).buffer(800, quad_segs=32)
    counts = data.index.points_inside(buffer)
    pts = data.points[data.points.within(buffer)]
    direct = pts.groupby("lsoa_code").size()
    got = pd.Series(counts, index=data.sample.lsoas.index)
    got = got[got > 0]
    assert got.sum() > 100
    pd.testing.assert_series_equal(got.sort_index(), direct.sort_index(), check_names=False, check_index_type=False)


def test_comparators_read_through_the_dict_are_those_of_the_series(data):
    ref = data.reference
    for (measure, stat), v in ref.items():
        got = reference_value(ref, measure, stat)
        assert got == (None if pd.isna(v) else float(v))
    assert reference_value(ref, "no_such_measure", "p10") is None
    other = ref.copy()
    other.iloc[0] = other.iloc[0] + 1  # a different Series is read for itself, not from the first one's dict
    (measure, stat) = other.index[0]
    assert reference_value(other, measure, stat) == float(ref.iloc[0]) + 1


def test_screenings_from_several_threads_at_once_equal_those_one_after_another(expected):
    fresh = hia_data(load())  # its per-council caches are filled by the concurrent screenings
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda item: _json(item[0], fresh, **item[1]), SITES * 2))
    assert got == expected * 2
