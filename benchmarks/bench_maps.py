"""Benchmark: size and build time of the interactive maps, against geopandas ``.explore()``.

    python benchmarks/bench_maps.py [--source ../shared/data] [--out DIR] [--no-explore]

Prints, for the Tees Valley map with all default layers (``geotarget run``: 8 decile
layers, ward profiles, ward and council outlines, postcode search) plus the bundled
assets, and for a
map of all 33,755 England LSOAs (8 decile layers with the full tooltip: code, name,
ward, council, population, decile/rank/score of the IMD and each domain), the HTML
size and build time; and the size of ``.explore()`` of the same England layer with
the same columns, and the ratio. Budgets: Tees Valley <= 2 MB; England <= 10 MB and
at least 10x smaller than ``.explore()``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import geotarget as gt
from geotarget.analysis.aggregate import aggregate
from geotarget.data.sample import postcode_points
from geotarget.render.maps import deprivation_map


def england_lsoas(src: Path):
    """All England LSOA 2021 polygons (generalised) with IoD2025, population, ward and council."""
    lsoas = gt.read_boundaries(src / "boundaries/england_boundaries_generalised.gpkg", layer="lsoa21")
    imd, v = gt.read_imd(src / "imd/iod2025_lsoa21_england.csv.gz")
    imd = gt.add_population(imd, gt.read_population(src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                                                    vintage=v.year))
    lsoas = gt.attach_imd(lsoas[lsoas.index.str.startswith("E")], imd, vintage=v)
    lookup = gt.read_lsoa_lookup(src / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    return gt.attach_lookup(lsoas, lookup[lookup.index.isin(lsoas.index)])


def mb(n: int) -> str:
    return f"{n / 1e6:6.2f} MB"


def main() -> None:
    from record import default_source, save  # benchmarks/record.py: on the path when run as a script

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=default_source())
    ap.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="bench_maps_")))
    ap.add_argument("--no-explore", action="store_true", help="skip the (slow, large) .explore() comparison")
    args = ap.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    s = gt.load(vintage=2025)
    t0 = time.perf_counter()
    tees = deprivation_map(s.lsoas, wards=s.wards, lads=s.lads,
                           ward_profiles=aggregate(s.lsoas, to="ward", vintage=s.vintage),
                           title="Deprivation in Tees Valley", vintage=s.vintage.label)
    tees.add_points(s.assets, "Assets", category_column="asset_type", label_column="name")
    postcodes = postcode_points(2025)
    tees.add_search(postcodes, "postcode")  # as geotarget run does
    tees_path = tees.save(out / "tees_valley.html")
    t1 = time.perf_counter()
    tees_size = tees_path.stat().st_size
    print(f"Tees Valley ({len(s.lsoas):,} LSOAs, {len(tees.layers)} layers incl. {len(s.assets)} assets, "
          f"{len(postcodes):,} postcodes searchable): "
          f"{mb(tees_size)} in {t1 - t0:5.2f} s  (budget 2 MB: {'ok' if tees_size <= 2e6 else 'OVER'})")

    t2 = time.perf_counter()
    eng = england_lsoas(args.source)
    t3 = time.perf_counter()
    england = deprivation_map(eng, title="Deprivation in England", vintage="IoD2025, LSOA 2021")
    html = england.html()
    t4 = time.perf_counter()
    eng_path = out / "england.html"
    eng_path.write_text(html, encoding="utf-8")
    eng_size = eng_path.stat().st_size
    print(f"England ({len(eng):,} LSOAs, 8 decile layers, full tooltip): read {t3 - t2:5.2f} s, "
          f"map {mb(eng_size)} built in {t4 - t3:5.2f} s  (budget 10 MB: {'ok' if eng_size <= 10e6 else 'OVER'})")
    if not args.no_explore:
        shown = ["lsoa_name", "ward_name", "lad_name", "pop_total",
                 *(c for c in eng.columns if c.endswith(("_decile", "_rank", "_score")) and c.split("_")[0] in
                   {"imd", "income", "employment", "education", "health", "crime", "barriers", "living"})]
        t5 = time.perf_counter()
        explore = eng[[*shown, "geometry"]].explore(column="imd_decile").get_root().render()
        t6 = time.perf_counter()
        ex_size = len(explore.encode("utf-8"))
        del explore
        print(f".explore() of the same layer ({len(shown)} columns): {mb(ex_size)} in {t6 - t5:5.2f} s; "
              f"ratio {ex_size / eng_size:4.1f}x  (target >= 10x: {'ok' if ex_size >= 10 * eng_size else 'MISSED'})")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB; maps in {out}")
    figures = {"tees_mb": tees_size / 1e6, "tees_s": t1 - t0, "england_lsoas": len(eng), "england_mb": eng_size / 1e6,
               "england_s": t4 - t3}
    if not args.no_explore:
        figures.update(explore_mb=ex_size / 1e6, explore_ratio=ex_size / eng_size)
    save("maps", figures, argv=sys.argv)


if __name__ == "__main__":
    main()
