"""The second bundled place, Trafford (E08000009): complete, real, and not Tees-specific."""

from __future__ import annotations

import pytest

from geotarget import AreaNotFoundError, load
from geotarget.data.sample import sample_layer


@pytest.mark.parametrize("vintage,n_lsoas,population", [(2025, 139, 236_301), (2019, 138, 232_975)])
def test_trafford_counts_and_completeness(vintage, n_lsoas, population):
    s = load(vintage=vintage, place="trafford")
    assert len(s.lsoas) == n_lsoas and s.councils == ("E08000009",)
    assert s.place_key == "trafford" and s.place == "Trafford"
    assert len(s.wards) == 21 and len(s.msoas) == 28 and len(s.lads) == 1
    core = ["imd_score", "imd_rank", "imd_decile", "pop_total", "ward_code", "msoa_code", "lad_name"]
    assert s.lsoas[core].notna().all().all() and int(s.lsoas["pop_total"].sum()) == population
    assert s.lsoas.index.isin(s.centroids.index).all() and s.lsoas["ward_code"].isin(s.wards.index).all()
    assert s.lsoas.crs.to_epsg() == 27700 and set(s.lsoas["lad_name"]) == {"Trafford"}


def test_trafford_iod2025_deciles_are_national():
    s = load(vintage=2025, place="trafford")
    # Bucklow-St Martins holds Trafford's most deprived LSOAs; national decile 1 count as published
    assert int((s.lsoas["imd_decile"] == 1).sum()) == 6
    assert s.lsoas.loc[s.lsoas["imd_rank"].idxmin(), "ward_name"] == "Bucklow-St Martins"


def test_trafford_centroid_proxy_is_documented():
    s = load(vintage=2025, place="trafford")
    assert s.centroids["method"].value_counts().to_dict() == {"ons_pwc_2011_unchanged_lsoa": 137,
                                                              "mean_of_onspd_postcodes": 2}
    # every centroid lies in (or within 50 m of, for 20 m-generalised boundaries) its own LSOA
    d = s.centroids.geometry.distance(s.lsoas.geometry.reindex(s.centroids.index), align=False)
    assert (d < 50).all()


def test_trafford_assets_and_green_space():
    s = load(vintage=2025, place="trafford")
    assert s.assets["asset_type"].value_counts().to_dict() == {
        "school": 103, "pharmacy": 57, "gp_practice": 26, "library": 13, "leisure_centre": 9, "food_bank": 7,
        "community_hub": 6}
    sites = sample_layer("greenspace_sites", place="trafford")
    assert len(sites) == 427 and sites["site_id"].is_unique and round(sites["area_ha"].sum()) == 948
    assert len(sample_layer("greenspace_access_points", place="trafford")) == 893


def test_unknown_place():
    # any English council is a place (read from the data cache: tests/test_place.py); a name that is none is an error
    with pytest.raises(AreaNotFoundError, match=r"place 'Gotham' matches no council or region in England"):
        load(vintage=2025, place="Gotham")
