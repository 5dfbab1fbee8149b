"""HIA screening reports: a self-contained HTML page, the same content as Markdown, and JSON evidence.

:func:`report_blocks` lays a :class:`~geotarget.hia.screen.Screening` out once as a list of blocks
(headings, paragraphs, lists, tables, the HUDU matrix, the map); :func:`to_markdown` and
:func:`to_html` render the same blocks, so the two documents carry the same content.
:func:`evidence` is the JSON form. :func:`run_hia` is the job behind ``geotarget hia``: one
site or a file of sites, one report per site and, in batch, ``sites_comparison.csv``.

Everything user-supplied (site names, file names, WKT) is escaped in HTML and Markdown, each
format its own way; the map is built by :class:`geotarget.render.maps.MapBuilder` (which escapes its
own text) and embedded with ``<iframe srcdoc>``, so the page needs no network except for the map's
background tiles. In print the interactive map gives way to a static one (:func:`static_map_png`,
a PNG in a ``data:`` URI) and the page is laid out on A4 portrait (``@page``, ``@media print``);
:func:`render_report` writes the same page as a PDF (:mod:`geotarget.render.pdf`).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geotarget.core.crs import BNG
from geotarget.core.domains import BY_KEY, DOMAINS
from geotarget.core.errors import GeotargetError, ParameterError, SchemaError
from geotarget.core.licences import OGL, OS_LICENCE
from geotarget.core.progress import progress
from geotarget.core.version import __version__
from geotarget.data.study_data import StudyData
from geotarget.hia.evidence import records, residents_council_text
from geotarget.hia.screen import (
    DEFAULT_BUFFERS,
    HEALTH_INDICATORS,
    RANKING_RULE,
    Screening,
    ScreeningRules,
    compare_sites,
    council_text,
    hia_data,
    screen_site,
    zone_key,
    zone_label,
)
from geotarget.hia.topics import TOPIC_TITLES
from geotarget.io.files import atomic_path, write_csv, write_text_atomic
from geotarget.io.provenance import Provenance
from geotarget.io.publish import publishing
from geotarget.io.sites import Site, is_file, parse_site, read_sites, slugify
from geotarget.render.text import Markup, html, html_heading, html_join, md_cell, md_text

log = logging.getLogger(__name__)

DISCLAIMER = ("Screening evidence, not an assessment: the local evidence is filled in automatically; whether each "
              "topic is relevant, the likely impact (positive, negative, neutral, uncertain) and the mitigation are "
              "for the assessor.")


# -- JSON --------------------------------------------------------------------------------------
def _clean(v):
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if v is None or v is pd.NA:
        return None
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        return None if v != v else round(v, 4)
    return v


def evidence(sc: Screening) -> dict:
    """Return the screening as JSON-ready data (``site_name, buffers, lsoas, flags, topics`` and more)."""
    L = sc.lsoas
    zks = [zone_key(d) for d in sc.buffers]
    lsoas = []
    attrs = L.drop(columns=L.geometry.name) if hasattr(L, "geometry") else L
    for code, r in zip(attrs.index, records(attrs), strict=True):
        item = {"code": code, "name": r["lsoa_name"], "ward": r["ward_name"], "council": r["lad_name"],
                "decile": int(r["imd_decile"]), "population": float(r["pop_total"]), "on_site": bool(r["on_site"]),
                "distance_m": float(r["distance_m"]), "meets_health_inequalities_rule": bool(r["meets_rule"]),
                "deciles": {d.key: _int(r.get(f"{d.key}_decile")) for d in DOMAINS},
                "local_deciles": {k.removesuffix("_local_decile"): _int(r[k]) for k in L.columns
                                  if k.endswith("_local_decile")},
                "within": {zk: {"share": float(r[f"share_{zk}"]), "population": float(r[f"pop_{zk}"]),
                                "centroid_inside": bool(r[f"pwc_in_{zk}"])} for zk in zks},
                "indicators": {k: r[k] for k in sc.indicators.index}}
        if "cni_score" in L:
            item["cni"] = {"score": r["cni_score"], "rank": _int(r["cni_rank"]), "decile": _int(r["cni_decile"]),
                           "left_behind": bool(r["cni_left_behind_area"]) if pd.notna(r["cni_left_behind_area"])
                           else None}
        lsoas.append(item)
    c = sc.site.centre
    out = {
        "site_name": sc.site.name,
        "site": {"kind": sc.site.kind, "source": sc.site.source, "area_ha": round(sc.site.area_ha, 4),
                 "easting": round(c.x, 1), "northing": round(c.y, 1), "wkt": sc.site.geometry.wkt,
                 "notes": list(sc.site.notes)},
        "generated": sc.generated, "geotarget_version": __version__,
        "place": sc.place_name, "vintage": sc.vintage.label,
        "buffers": list(sc.buffers),
        "council": {"code": sc.council[0], "name": sc.council[1]},
        "councils": _councils_json(sc),
        "councils_text": council_text(sc),
        "parameters": sc.parameters,
        "severe_health_inequalities": sc.severe,
        "rule_lsoas": sc.rule_lsoas,
        "population_method": ("Buffers: each LSOA's population apportioned by the share of its residential "
                              "postcodes inside the buffer (by area where it has none); best fit (whole LSOAs whose "
                              "population-weighted centroid is inside) also given. Site: the LSOAs it lies in, whole."),
        "lsoas": lsoas,
        "wards": records(sc.wards),
        "profile": records(sc.profile.reset_index()),
        "indicators": records(sc.indicators.reset_index()),
        "cni": sc.cni,
        "access": records(sc.access.reset_index()),
        "flags": sc.flags,
        "topics": sc.topics,
        "notes": sc.notes,
        "sources": sc.sources,
    }
    return _clean(out)


def _councils_json(sc: Screening) -> list[dict]:
    """Return the councils of the site and of the residents within the first buffer, with their shares (0-1)."""
    if sc.councils is None:
        return [{"code": sc.council[0], "name": sc.council[1], "site_share": 1.0}]
    zk = zone_key(sc.buffers[0])
    return [{"code": code, "name": r["lad_name"], "site_share": float(r["site_share"]),
             f"residents_share_{zk}": float(r["residents_share"])} for code, r in sc.councils.iterrows()]


def _int(v):
    return None if v is None or pd.isna(v) else int(v)


# -- blocks ------------------------------------------------------------------------------------
def _f(v, dp: int = 1, suffix: str = "") -> str:
    return "–" if v is None or pd.isna(v) else f"{v:,.{dp}f}{suffix}"


def report_blocks(sc: Screening, *, with_map: bool = True) -> list[tuple]:
    """Return the report as blocks.

    Blocks are ``("h1"|"h2"|"p"|"ul", ...)``, ``("table", header, rows)``, ``("matrix", topics)`` and,
    with ``with_map``, ``("map", heading)`` (the renderers write the heading only with a map under it).
    Every string is plain text; the renderers escape it.
    """
    zk1 = zone_key(sc.buffers[0])
    k = sc.rules.flag_max_decile
    prof = sc.profile
    site = sc.site
    c = site.centre
    wards_on = ", ".join(sc.wards.loc[sc.wards["site_in_ward"], "ward_name"]) if len(sc.wards) else ""
    from geotarget.core.places import PLACES

    origin = f"the bundled {sc.place_name} sample" if sc.place in PLACES else f"official data files ({sc.place_name})"
    b: list[tuple] = [("h1", f"Health Impact Assessment screening: {site.name}"),
                      ("p", f"Generated {sc.generated} by geotarget {__version__} from {origin} "
                            f"({sc.vintage.label}). {DISCLAIMER}")]
    residents = residents_council_text(sc)
    facts = [
        f"Site: {site.kind}" + (f", {site.area_ha:,.2f} ha" if site.kind == "polygon" else "")
        + f", given as {site.source}; centre easting {c.x:,.0f}, northing {c.y:,.0f} (EPSG:27700).",
        *[f"Input note: {n}" for n in site.notes],
        (f"Council: {sc.council[1]} ({sc.council[0]})" if council_text(sc) == sc.council[1] else
         f"Councils (share of the site's area): {council_text(sc)}; comparator: {sc.council[1]} ({sc.council[0]})")
        + (f"; residents within {sc.buffers[0]:,.0f} m (by postcode): {residents}" if residents else "")
        + f"; ward(s): {wards_on or '–'}.",
        ("MEETS" if sc.severe else "Does not meet") + " the most-severe-health-inequalities rule: "
        + sc.rules.describe(sc.buffers[0]) + ".",
    ]
    for d in sc.buffers:
        r = prof.loc[zone_key(d)]
        facts.append(f"{zone_label(d)}: {r['residents']:,.0f} residents apportioned by postcode "
                     f"({r['residents_best_fit']:,.0f} best fit) in {int(r['lsoas'])} LSOAs; IMD average score "
                     f"{_f(r['imd_average_score'])} ({sc.council[1]} {_f(prof.loc['council', 'imd_average_score'])}, "
                     f"England {_f(prof.loc['england', 'imd_average_score'])}).")
    facts.append(f"{len(sc.flags)} evidence flag(s) under the stated rules.")
    b += [("h2", "Summary"), ("ul", facts)]
    if with_map:
        b.append(("map", "Map"))
    b.append(("h2", "Flags"))
    b.append(("ul", [f["text"] + (f" [{TOPIC_TITLES[f['topic']]}]" if f["topic"] else "") for f in sc.flags])
             if sc.flags else ("p", "No evidence flags are raised under the stated rules."))

    b += [("h2", "Deprivation profile"),
          ("p", "Population-weighted, IoD national deciles (1 = most deprived 10% of LSOAs in England). Buffers: "
                "residents apportioned by residential postcodes; site: the LSOAs it lies in, whole; council and "
                "England: all their LSOAs.")]
    head = ["Area", "Residents", "IMD average score", "% in IMD decile 1", f"% in IMD deciles 1–{k}",
            "Health average score", f"% in Health deciles 1–{k}"]
    rows = [[r["label"], _f(r["residents"], 0), _f(r["imd_average_score"]), _f(r["imd_pct_decile1"], 0, "%"),
             _f(r[f"imd_pct_decile1_{k}"], 0, "%"), _f(r["health_average_score"], 3),
             _f(r[f"health_pct_decile1_{k}"], 0, "%")] for _, r in prof.iterrows()]
    b.append(("table", head, rows))
    head = ["Area", *[f"{d.short} % deciles 1–{k}" for d in DOMAINS]]
    rows = [[r["label"], *[_f(r.get(f"{d.key}_pct_decile1_{k}"), 0, "%") for d in DOMAINS]]
            for _, r in prof.iterrows()]
    b.append(("table", head, rows))

    b += [("h2", "Neighbourhoods (LSOAs)"),
          ("p", f"LSOAs the site lies in or with residents within {sc.buffers[-1]:,.0f} m, nearest first. Deciles: "
                "national / within the council (1 = most deprived). 'Best fit' = the LSOA's population-weighted "
                f"centroid is within {sc.buffers[0]:,.0f} m.")]
    rule_col = " or ".join("Health" if i == "health" else i.upper() if i == "imd" else i
                           for i in sc.rules.flag_indices) + f" decile 1–{sc.rules.flag_max_decile}"
    # two tables of one row per LSOA (where and who; deciles), so that each fits an A4 page
    head = ["LSOA", "Name", "Ward", "On site", "Distance (m)", "Population",
            *[f"Residents {zone_label(d).lower()}" for d in sc.buffers], "Best fit", rule_col]
    rows = [[code, r["lsoa_name"], r["ward_name"], "yes" if r["on_site"] else "", _f(r["distance_m"], 0),
             _f(r["pop_total"], 0), *[_f(r[f"pop_{zone_key(d)}"], 0) for d in sc.buffers],
             "yes" if r[f"pwc_in_{zk1}"] else "", "yes" if r["meets_rule"] else ""] for code, r in sc.lsoas.iterrows()]
    b.append(("table", head, rows))
    domains = ("income", "employment", "education", "crime", "barriers", "living_env")
    head = ["LSOA", "Name", "IMD decile", "Health decile", *[BY_KEY[d].short for d in domains]]
    rows = [[code, r["lsoa_name"], f"{int(r['imd_decile'])} / {int(r['imd_local_decile'])}",
             f"{int(r['health_decile'])} / {int(r['health_local_decile'])}",
             *[str(int(r[f"{d}_decile"])) for d in domains]] for code, r in sc.lsoas.iterrows()]
    b += [("p", "Deciles of the same LSOAs: IMD and Health national / within the council; the six other domains "
                "national."), ("table", head, rows)]
    if len(sc.wards):
        head = ["Ward", "Council", "Site in ward", "Ward population",
                *[f"Residents {zone_label(d).lower()}" for d in sc.buffers], f"IMD average score ({zk1})"]
        rows = [[r["ward_name"], r["lad_name"], "yes" if r["site_in_ward"] else "", _f(r["ward_population"], 0),
                 *[_f(r[f"residents_{zone_key(d)}"], 0) for d in sc.buffers], _f(r[f"imd_average_score_{zk1}"])]
                for _, r in sc.wards.iterrows()]
        b += [("h3", "Wards"), ("p", "Ward residents are the sum of their best-fit LSOAs (ONS lookup)."),
              ("table", head, rows)]

    b += [("h2", "Health of the local population"),
          ("p", f"IoD{sc.vintage.year} underlying indicators, population-weighted; higher = worse unless stated. "
                f"'England position' places the {sc.buffers[0]:,.0f} m average among England's LSOAs "
                "(decile 1 = worst 10%).")]
    b.append(_indicator_table(sc, [i for i in HEALTH_INDICATORS if i in sc.indicators.index]))
    others = [i for i in sc.indicators.index if i not in HEALTH_INDICATORS]
    if others:
        b += [("h3", "Other indicators used in the topics"), _indicator_table(sc, others)]
    b += [("h3", "Community Needs Index"), ("ul", _cni(sc))]

    b += [("h2", "Access to services"),
          ("p", "Straight-line distance from the site" + (" edge (0 inside the site)" if site.kind == "polygon" else "")
                + " to the nearest asset; walking routes are longer. Bands: 400 m ≈ 5, 800 m ≈ 10, 1,600 m ≈ 20 "
                "minutes' walk.")]
    head = ["Service", "Nearest (m)", "Nearest", "Band", "Within 400 m", "Within 800 m", "Within 1,600 m"]
    rows = []
    for _, a in sc.access.iterrows():
        if not a["available"]:
            rows.append([a["label"], "no data", f"No {a['label'].lower()} layer in the {sc.place_name} data",
                         "–", "–", "–", "–"])
        else:
            rows.append([a["label"], _f(a["nearest_m"], 0), a["nearest_name"], a["band"],
                         *[str(int(a[f"n_{x}m"])) for x in ("400", "800", "1600")]])
    b.append(("table", head, rows))

    b += [("h2", "HUDU Rapid HIA matrix"),
          ("p", "The eleven topics of the HUDU Rapid HIA tool, with the local evidence filled in. Relevance, likely "
                "impact and mitigation are left blank for the assessor."),
          ("matrix", sc.topics)]
    b += [("h2", "Method, notes and parameters"), ("ul", _method(sc) + sc.notes),
          ("table", ["Parameter", "Value"], [[key, str(v)] for key, v in sc.parameters.items()]),
          ("h2", "Data, vintages and licences"), ("ul", sc.sources)]
    return b


def _indicator_table(sc: Screening, keys: Sequence[str]) -> tuple:
    zks = [zone_key(d) for d in sc.buffers]
    head = ["Indicator", "Site LSOAs", *[zone_label(d) for d in sc.buffers], sc.council[1], "England",
            f"England position ({zks[0]})"]
    rows = []
    for key in keys:
        r = sc.indicators.loc[key]
        dp = int(r["decimals"])
        dec = r[f"england_decile_{zks[0]}"]
        label = r["label"] + (" (one value per council)" if sc.council_lsoas[key].nunique() == 1 else "")
        rows.append([label, _f(r["site"], dp), *[_f(r[z], dp) for z in zks], _f(r["council"], dp),
                     _f(r["england"], dp), "–" if dec is None or pd.isna(dec) else f"decile {int(dec)}"])
    return ("table", head, rows)


def _cni(sc: Screening) -> list[str]:
    from geotarget.hia.topics import cni_lines

    return cni_lines(sc)


def _method(sc: Screening) -> list[str]:
    r = sc.rules
    return [
        "Population: for each buffer, every LSOA's IoD population is split by the share of its residential "
        "postcodes inside the buffer (by area where an LSOA has none); 'best fit' counts whole LSOAs whose ONS "
        "population-weighted centroid is inside. The site row uses the LSOAs the site lies in, whole.",
        f"Most severe health inequalities: {r.describe(sc.buffers[0])} (configurable).",
        f"Topic flags: at least {r.topic_share:.0%} of residents within {sc.buffers[0]:,.0f} m in LSOAs in England's "
        f"worst {10 * r.topic_max_decile}% on a domain, sub-domain, CNI or indicator (indicator deciles from "
        "England's LSOA percentiles). Access flags: no asset of a category within "
        f"{r.walk_m:,.0f} m in an area meeting the health-inequalities rule.",
        "Deciles within the council rank the council's LSOAs by their national rank and cut them into ten groups; "
        "national deciles are MHCLG's, never recomputed.",
    ]


# -- renderers ---------------------------------------------------------------------------------
def to_markdown(blocks: list[tuple]) -> str:
    """Render the report as Markdown (GitHub flavour).

    Text is Markdown-escaped (:func:`~geotarget.render.text.md_cell`) so no user string becomes markup,
    and reads as written (no HTML entities).
    """
    out = []
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + md_text(blk[1]))
        elif kind == "p":
            out.append(md_text(blk[1]))
        elif kind == "ul":
            out.append("\n".join(f"- {md_text(x)}" for x in blk[1]))
        elif kind == "table":
            head, rows = blk[1], blk[2]
            lines = ["| " + " | ".join(md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "map":
            out.append(f"## {md_text(blk[1])}\n\nThe map (site, buffers, LSOA deciles and nearby services) is in the "
                       "HTML report (interactive on screen, static in print) and in the PDF when one is written.")
        elif kind == "matrix":
            for i, t in enumerate(blk[1], 1):
                part = [f"### {i}. {md_text(t['topic'])}", "", "**Local evidence**", ""]
                part += [f"- {md_text(e)}" for e in t["evidence"]] or ["- No local evidence in the bundled data."]
                if t["data_gaps"]:
                    part += ["", "**Data gaps**", ""] + [f"- {md_text(g)}" for g in t["data_gaps"]]
                if t["flag_texts"]:
                    part += ["", "**Flags**", ""] + [f"- {md_text(f)}" for f in t["flag_texts"]]
                part += ["", "**Prompts**", ""] + [f"- {md_text(p)}" for p in t["prompts"]]
                part += ["", "| Relevant? | Likely impact (positive / negative / neutral / uncertain) | Mitigation |",
                         "|---|---|---|", "|  |  |  |"]
                out.append("\n".join(part))
    return "\n\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 1.5rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1f4e79;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.86rem;width:100%}
th,td{border:1px solid #c8c8c8;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eef2f7}td.num{text-align:right}ul{margin:.3rem 0 .8rem}
.flags li{background:#fff4e5;border-left:4px solid #d9822b;padding:.2rem .5rem;margin:.2rem 0;list-style:none}
.wide{overflow:auto}.matrix{table-layout:fixed}.matrix ul{padding-left:1.1rem}.matrix td.blank{background:#fafafa}
li.flag{background:#fff4e5;border-left:4px solid #d9822b;padding:.1rem .4rem;margin:.15rem 0 .15rem -1.1rem;
list-style:none}
.c-topic{width:12%}.c-evidence{width:42%}.c-prompts{width:22%}.c-relevant{width:6%}.c-impact,.c-mitigation{width:9%}
iframe.map{width:100%;height:560px;border:1px solid #c8c8c8}
img.map-static{display:block;max-width:100%;height:auto;margin:.5rem auto}img.print-only{display:none}
@page{size:A4 portrait;margin:14mm 12mm 16mm;
@bottom-right{content:counter(page) " / " counter(pages);font-size:8pt;color:#555}}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9pt;line-height:1.3;overflow-wrap:break-word}
h1{font-size:15pt}h2{font-size:12pt;margin-top:1rem;break-after:avoid}h3{font-size:10pt;break-after:avoid}
iframe.map{display:none}img.map-static{display:block;width:auto;max-width:100%;max-height:125mm;
margin:.3rem auto;break-inside:avoid}
.wide{overflow:visible}
table{font-size:7.5pt;width:100%;max-width:100%;margin:.3rem 0 .6rem}
th,td{padding:.1rem .2rem;hyphens:auto}td.any{overflow-wrap:anywhere}td.nw{white-space:nowrap}
thead{display:table-header-group}tr{break-inside:avoid}
.matrix{font-size:7pt}.matrix ul{padding-left:.8rem;margin:0}
.c-topic{width:14%}.c-evidence{width:40%}.c-prompts{width:22%}.c-relevant,.c-impact,.c-mitigation{width:8%}
li.flag{margin-left:-.8rem}.flags li{break-inside:avoid}
}
"""


def to_html(blocks: list[tuple], *, title: str, map_html: str | None, map_png: bytes | None = None) -> str:
    """Return a self-contained HTML page: inline CSS, the map inlined as ``<iframe srcdoc>``; all text escaped.

    ``map_png`` (from :func:`static_map_png`) is embedded as a ``data:`` image: shown in print in
    place of the interactive map, or everywhere when there is no interactive map. Without either,
    the map block (and its heading) is left out. The page's print styles lay it out on A4 portrait.

    Built only with :func:`~geotarget.render.text.html` (markup from literal templates, every value
    escaped), so no text from the screening can become markup.
    """
    body = []
    after_flags = False
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "h3"):
            body.append(html_heading(kind, blk[1]))
        elif kind == "p":
            body.append(html("<p>{}</p>", blk[1]))
        elif kind == "ul":
            items = html_join(html("<li>{}</li>", x) for x in blk[1])
            body.append(html('<ul class="flags">{}</ul>', items) if after_flags else html("<ul>{}</ul>", items))
        elif kind == "table":
            head, rows = blk[1], blk[2]
            header = html_join(html("<th>{}</th>", h) for h in head)
            cells = html_join(html("<tr>{}</tr>", html_join(_cell_html(c) for c in row)) for row in rows)
            body.append(html('<div class="wide"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>',
                             header, cells))
        elif kind == "map" and (map_html or map_png):  # no map, no heading
            body.append(html_heading("h2", blk[1]))
            if map_html:  # a whole page as an attribute value: escaped as such, the browser unescapes it
                body.append(html('<iframe class="map" title="Map of the site" srcdoc="{}"></iframe>', map_html))
            if map_png:  # the static map: in print only when the interactive one is on the screen
                src = "data:image/png;base64," + base64.b64encode(map_png).decode("ascii")
                body.append(html('<img class="{}" alt="{}" src="{}">', "map-static print-only" if map_html
                                 else "map-static", MAP_ALT, src))
        elif kind == "matrix":
            body.append(_matrix_html(blk[1]))
        after_flags = kind == "h2" and blk[1] == "Flags"
    page = html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>{}</title><style>{}</style></head><body>\n{}\n</body></html>\n",
                title, Markup(_CSS), html_join(body, "\n"))
    return str(page)


#: Table cells kept on one line (numbers, deciles, LSOA codes): in a narrow table the text columns wrap instead.
_NOWRAP = re.compile(r"(?:[-–]?[\d,.]+%?|\d+ / \d+|[A-Z]\d{8}|–|decile \d+)\Z")
#: A word too long for a column of a printed table (a file path, a name without spaces): broken anywhere.
_LONG_WORD = re.compile(r"\S{25,}")


def _cell_html(value) -> Markup:
    """Return one table cell: numbers and codes on one line, long words breakable anywhere, the rest as text.

    Only cells with a long word get ``overflow-wrap: anywhere`` (it lets the printed table fit the page
    whatever the data; on every cell it costs WeasyPrint most of a second per report).
    """
    text = str(value)
    if _NOWRAP.match(text):
        return html('<td class="nw">{}</td>', value)
    if _LONG_WORD.search(text):
        return html('<td class="any">{}</td>', value)
    return html("<td>{}</td>", value)

def _matrix_html(topics: list[dict]) -> Markup:
    """Return the HUDU matrix as an HTML table (the assessor's three columns left blank)."""
    rows = []
    for i, t in enumerate(topics, 1):
        flags = html_join(html('<li class="flag">{}</li>', f) for f in t["flag_texts"])
        ev = (html_join(html("<li>{}</li>", e) for e in t["evidence"])
              or html("<li>No local evidence in the bundled data.</li>"))
        gaps = html_join(html("<li><em>Data gap:</em> {}</li>", g) for g in t["data_gaps"])
        prompts = html_join(html("<li>{}</li>", p) for p in t["prompts"])
        rows.append(html("<tr><td><strong>{}. {}</strong></td><td><ul>{}{}{}</ul></td><td><ul>{}</ul></td>"
                         '<td class="blank"></td><td class="blank"></td><td class="blank"></td></tr>',
                         i, t["topic"], flags, ev, gaps, prompts))
    return html('<div class="wide"><table class="matrix"><colgroup><col class="c-topic"><col class="c-evidence">'
                '<col class="c-prompts"><col class="c-relevant"><col class="c-impact"><col class="c-mitigation">'
                '</colgroup><thead><tr><th>Topic</th><th>Local evidence (flags first)'
                "</th><th>Prompts</th><th>Relevant?</th><th>Likely impact</th><th>Mitigation</th></tr>"
                "</thead><tbody>{}</tbody></table></div>", html_join(rows))


# -- the map (the one place the HIA report draws a map) ----------------------------------------
def build_map(sc: Screening) -> str:
    """Return the report's map as a self-contained HTML page.

    Built with :class:`geotarget.render.maps.MapBuilder`: LSOA IMD and Health deciles, the buffers,
    the site and the nearby assets and green space.
    """
    from geotarget.io.assets import CATEGORY_LABELS
    from geotarget.render.maps import MapBuilder

    mb = MapBuilder(f"HIA screening: {sc.site.name}", vintage=sc.vintage.label,
                    notes="1 = most deprived 10% of LSOAs in England. Buffers are straight-line distances.",
                    attribution=f"{sc.vintage.name} (MHCLG); boundaries and centroids: ONS. {OGL} {OS_LICENCE}",
                    parameters={"buffers": sc.parameters["buffers"]})
    keep = ["lsoa_code", "lsoa_name", "ward_name", "lad_name", "pop_total", "imd_decile", "imd_rank", "imd_score",
            "health_decile", "health_rank", "health_score", "geometry"]
    lsoas = sc.lsoas.reset_index()
    lsoas = lsoas[[c for c in keep if c in lsoas.columns]]
    mb.add_deciles(lsoas, columns={"imd_decile": "IMD decile", "health_decile": "Health decile"})
    rings = gpd.GeoDataFrame({"label": [zone_label(d) for d in sc.buffers]},
                             geometry=[sc.site.geometry.buffer(d, quad_segs=32) for d in sc.buffers], crs=BNG)
    mb.add_outlines(rings, "Buffers", tooltip={"label": "Buffer"}, color="#1f4e79", dash="6 4", search=False)
    if sc.site.kind == "polygon":
        mb.add_outlines(sc.site.frame(), "Site", label_column="name", color="#d7191c", weight=3)
    else:
        mb.add_points(sc.site.frame(), "Site", label_column="name", cluster=False, color="#d7191c")
    if sc.nearby_parks is not None and len(sc.nearby_parks):
        parks = sc.nearby_parks[["name", "geometry"]].copy()
        mb.add_outlines(parks, "Green space", tooltip=["name"], color="#1a9641", weight=2)
    a = sc.nearby_assets
    if len(a):
        pts = gpd.GeoDataFrame({"name": a["name"].fillna("").astype(str).to_numpy(),
                                "category": a["category"].map(lambda c: CATEGORY_LABELS.get(c, c)).to_numpy()},
                               geometry=a.geometry.to_numpy(), crs=a.crs)
        mb.add_points(pts, "Services", category_column="category", label_column="name")
    return mb.html()


#: The static map's alternative text (the map holds no user text: the heading above it names the site).
MAP_ALT = ("Map of the site, its buffers and the IMD deciles of the neighbourhoods (LSOAs) around it, with nearby "
           "services")


#: Service markers on the static map: light colours (mostly Okabe-Ito) that stand out on dark deciles and on white.
_SERVICE_COLOURS = {"gp": "#e69f00", "pharmacy": "#56b4e9", "dentist": "#cc79a7", "library": "#f0e442",
                    "school": "#ff9da7", "park": "#009e73", "community_centre": "#d55e00", "leisure": "#bebada",
                    "food_support": "#8dd3c7", "other": "#999999"}


def static_map_png(sc: Screening, *, width: float = 7.0, dpi: int = 140) -> bytes:
    """Return the report's static map (for print and PDF) as PNG bytes.

    The site, the buffers and nearby services over the LSOAs' national IMD deciles, cut to the largest
    buffer with a margin, with a legend, a north arrow, a scale bar and the licence attribution
    (:func:`geotarget.render.maps.static.static_figure`). The image carries no text from the data
    (site and asset names are in the report around it), so no name can be misread as markup.

    Parameters
    ----------
    sc : Screening
        The screening whose site, buffers, LSOAs and nearby services are drawn.
    width, dpi : float, int
        Width in inches (A4 less the page margins is about 7.3) and resolution; the defaults keep the
        PNG near 150 kB.

    Returns
    -------
    bytes
        The PNG file.
    """
    from geotarget.io.assets import CATEGORY_LABELS
    from geotarget.render.maps import MapBuilder
    from geotarget.render.maps.static import static_figure

    far = sc.site.geometry.buffer(sc.buffers[-1])
    x0, y0, x1, y1 = far.bounds
    pad = 0.05 * max(x1 - x0, y1 - y0)
    box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    mb = MapBuilder("Site, buffers and neighbourhood deprivation", simplify=0,
                    vintage=f"{sc.vintage.label}; the LSOAs the site lies in or with residents within "
                            f"{sc.buffers[-1]:,.0f} m",
                    attribution=f"{sc.vintage.name} (MHCLG); boundaries: ONS; services: as listed in the report. "
                                f"{OGL} {OS_LICENCE}", tiles=False)
    lsoas = sc.lsoas.reset_index()[["lsoa_code", "imd_decile", "geometry"]]
    lsoas = lsoas.set_geometry(lsoas.geometry.clip_by_rect(*box))
    lsoas = lsoas[~lsoas.geometry.is_empty]
    mb.add_deciles(lsoas, columns={"imd_decile": "IMD decile"}, search=False,
                   legend_title="IMD decile (national)")
    if sc.nearby_parks is not None and len(sc.nearby_parks):
        parks = sc.nearby_parks[["geometry"]].copy()
        parks = parks.set_geometry(parks.geometry.clip_by_rect(*box))
        parks = parks[~parks.geometry.is_empty]
        if len(parks):
            mb.add_outlines(parks, "Green space", color="#1a9641", weight=2, search=False)
    rings_name = (f"Buffers ({', '.join(f'{d:,.0f} m' for d in sc.buffers)})" if len(sc.buffers) <= 2
                  else f"{len(sc.buffers)} buffers, {sc.buffers[0]:,.0f}–{sc.buffers[-1]:,.0f} m")
    rings = gpd.GeoDataFrame({"label": [zone_label(d) for d in sc.buffers]},
                             geometry=[sc.site.geometry.buffer(d, quad_segs=32) for d in sc.buffers], crs=BNG)
    mb.add_outlines(rings, rings_name, color="#1f4e79", dash="6 4", search=False)
    a = sc.nearby_assets
    if len(a):
        inside = a.geometry.within(shapely.box(*box))
        a = a[inside.to_numpy()]
    if len(a):  # categories as words of the code, never the data's own text (matplotlib reads "$" as maths)
        cats = a["category"].map(lambda c: c if c in _SERVICE_COLOURS else "other")
        pts = gpd.GeoDataFrame({"category": cats.to_numpy()}, geometry=a.geometry.to_numpy(), crs=a.crs)
        order = [c for c in _SERVICE_COLOURS if c in set(cats)]
        mb.add_points(pts, "Services", category_column="category", cluster=False, search=False,
                      labels={c: CATEGORY_LABELS[c] for c in order}, colors={c: _SERVICE_COLOURS[c] for c in order})
    if sc.site.kind == "polygon":
        mb.add_outlines(sc.site.frame()[["geometry"]], "Site", color="#d7191c", weight=3, search=False)
    else:
        mb.add_points(sc.site.frame()[["geometry"]], "Site", cluster=False, color="#d7191c", search=False)
    fig = static_figure(mb, width=width, dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "geotarget"})
    return buf.getvalue()


# -- writing and the job ---------------------------------------------------------------------
#: The formats a report is written in, by file suffix.
REPORT_FORMATS = ("html", "md", "json", "pdf")


def evidence_json(sc: Screening, *, compact: bool = False) -> bytes:
    """Return :func:`evidence` as UTF-8 JSON: indented for files and downloads, or ``compact`` for an API answer.

    The two parse to the same data; the compact form is written by the json module's C encoder, which
    the indented form cannot use (about 10 ms less for a screening's 80 kB).
    """
    if compact:
        return json.dumps(evidence(sc), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return (json.dumps(evidence(sc), ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")


def render_report(sc: Screening, fmt: str, *, with_map: bool = True) -> bytes:
    """Return the report for ``sc`` in one of :data:`REPORT_FORMATS` as bytes (UTF-8 text, or PDF).

    The one place a screening becomes a document: :func:`write_report` and the HIA web service both
    use it, so a download and a file written by ``geotarget hia`` are the same bytes. With ``with_map``
    the HTML holds the interactive map (on screen) and the static map (:func:`static_map_png`, in
    print), and the PDF the static map; without it, neither has a map section.
    """
    return _render(sc, fmt, with_map=with_map, png={})


def _render(sc: Screening, fmt: str, *, with_map: bool, png: dict) -> bytes:
    """:func:`render_report`, drawing the static map once into ``png`` for the formats that share it."""
    if fmt not in REPORT_FORMATS:
        raise ParameterError(f"unknown report format {fmt!r}: expected one of {', '.join(REPORT_FORMATS)}")
    if fmt == "json":
        return evidence_json(sc)
    blocks = report_blocks(sc, with_map=with_map)
    if fmt == "md":
        return to_markdown(blocks).encode("utf-8")
    title = f"HIA screening: {sc.site.name}"
    if with_map and "png" not in png:
        png["png"] = static_map_png(sc)
    map_png = png.get("png") if with_map else None
    if fmt == "html":
        map_html = build_map(sc) if with_map else None
        return to_html(blocks, title=title, map_html=map_html, map_png=map_png).encode("utf-8")
    from geotarget.render.pdf import pdf_bytes

    return pdf_bytes(to_html(blocks, title=title, map_html=None, map_png=map_png))


def write_report(sc: Screening, out: str | os.PathLike, *, slug: str | None = None,
                 with_map: bool = True, formats: Sequence[str] = ("html", "md", "json")) -> dict[str, Path]:
    """Write ``<slug>.html``, ``<slug>.md`` and ``<slug>.json`` (and ``.pdf`` if asked) into ``out`` atomically.

    The static map is drawn once for the HTML and the PDF.
    """
    out = Path(out)
    slug = slug or slugify(sc.site.name)
    paths, png = {}, {}
    for fmt in formats:
        path = out / f"{slug}.{fmt}"
        with atomic_path(path) as tmp:
            tmp.write_bytes(_render(sc, fmt, with_map=with_map, png=png))
        paths[fmt] = path
    log.info("HIA report for %s -> %s", sc.site.name, out / slug)
    return paths


@dataclass
class HiaResult:
    """What :func:`run_hia` produced."""

    screenings: list[Screening]
    comparison: pd.DataFrame | None
    rejects: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)
    slugs: list[str] = field(default_factory=list)


def run_hia(data: StudyData | None = None, *, site: str | Site | None = None, sites: str | os.PathLike | None = None,
            out: str | os.PathLike, name: str | None = None, name_column: str | None = None,
            buffers: Sequence[float] | str = DEFAULT_BUFFERS, rules: ScreeningRules | None = None,
            assets=None, assets_source: str | None = None, postcodes: str | os.PathLike | None = None,
            generated: str | None = None, with_map: bool = True, pdf: bool = False) -> HiaResult:
    """Screen one site (``site``: a path, WKT, postcode, ``"E,N"`` or a :class:`Site`) or a file of sites (``sites``).

    ``data`` is the study's data (:func:`geotarget.data.load`; default ``load()``, the bundled Tees Valley); it
    must hold the councils the sites and their largest buffer reach (:func:`geotarget.hia.place.site_councils`
    finds them before loading). Postcodes are located in ``postcodes`` when given, else in the data's
    postcode table (:meth:`StudyData.postcode_table`: Code-Point Open with ``codepoint``, any English
    postcode), else in the bundled postcodes.

    Writes one report per site into ``out`` (``<slug>.html``, ``.md``, ``.json`` and, with ``pdf``, ``.pdf``:
    :func:`render_report`) and, for ``sites``, ``sites_comparison.csv`` (ranked
    by :data:`~geotarget.hia.screen.RANKING_RULE`), ``sites_comparison.md`` and, when some rows could
    not be used, ``sites_rejected.csv`` (row, name, reason, detail). A single site that cannot be
    used raises; in a batch it is reported and the others go on.
    """
    from geotarget.hia.screen import parse_buffers
    from geotarget.io.sites import load_postcodes

    if (site is None) == (sites is None):
        raise ParameterError(f"site was {site!r} and `sites` was {sites!r} but exactly one of them is expected: one "
                             "site, or a file of sites", parameter="site", related=("sites",))
    buffers = parse_buffers(buffers)
    if data is None:
        from geotarget.data.load import load

        data = load()
    if postcodes is not None:
        lookup = load_postcodes(postcodes)
    elif data.source.codepoint is not None or data.postcode_locations is not None:
        lookup = data.postcode_table  # read when a postcode is located
    else:
        lookup = None
    inputs = [Path(p).resolve() for p in (sites, site, postcodes, assets_source)
              if p and not isinstance(p, Site) and is_file(str(p))]
    out = Path(out)
    if isinstance(site, Site):
        s = site if name is None else Site(name, site.geometry, site.source, site.notes, site.row)
        candidates, rejects = [s], pd.DataFrame(columns=["row", "name", "reason", "detail"])
    elif site is not None:
        s = parse_site(site, name=name, postcodes=lookup)
        candidates, rejects = [s], pd.DataFrame(columns=["row", "name", "reason", "detail"])
    else:
        read = read_sites(sites, name_column=name_column, postcodes=lookup)
        candidates, rejects = read.sites, read.rejects
        if not candidates:
            raise SchemaError(f"{sites}: none of the {read.n_rows} site(s) could be used; first problem: "
                              f"{read.rejects['detail'].iloc[0] if len(read.rejects) else 'no rows'}")
    taken: set[str] = set()
    slug_of = [slugify(s.name, taken=taken) for s in candidates]
    formats = ("html", "md", "json", "pdf") if pdf else ("html", "md", "json")
    planned = [out / f"{sl}.{ext}" for sl in slug_of for ext in formats]
    if sites is not None:
        planned += [out / "sites_comparison.csv", out / "sites_comparison.md", out / "sites_rejected.csv"]
    clash = [p for p in planned if p.resolve() in inputs]
    if clash:
        raise ParameterError(f"out was {str(out)!r} but an output there would overwrite the input file {clash[0]}; "
                             "choose another folder", parameter="out")
    data = hia_data(data, assets=assets, assets_source=assets_source)
    screenings, slugs, rej = [], [], [rejects]
    for s, slug in progress(list(zip(candidates, slug_of, strict=True)), desc="screening sites", unit="site"):
        try:
            sc = screen_site(s, data, buffers=buffers, rules=rules, generated=generated)
        except GeotargetError as e:
            if site is not None:
                raise
            rej.append(pd.DataFrame([{"row": s.row, "name": s.name, "reason": type(e).__name__,
                                      "detail": str(e)}]))
            continue
        screenings.append(sc)
        slugs.append(slug)
    if any(len(r) for r in rej):
        rejects = pd.concat([r for r in rej if len(r)], ignore_index=True).sort_values("row", kind="stable")
        rejects = rejects.reset_index(drop=True)
    result = HiaResult(screenings, None, rejects, slugs=slugs)
    prov = Provenance(out, command="hia", parameters={"site": site if isinstance(site, str) else None,
                                                     "sites": sites, "buffers": list(buffers), "name": name,
                                                     "with_map": with_map, "pdf": pdf})
    prov.add_sources(data.sample.sources)
    for p in inputs:
        prov.add_input(p, role="hia input")
    with publishing(out, command="hia", provenance=prov) as pub:  # lock, stage, publish whole
        _write_hia(result, pub.dir, screenings, slugs, rejects, sites=sites, with_map=with_map, formats=formats)
    result.outputs = pub.final(result.outputs)
    return result


def _write_hia(result: HiaResult, out: Path, screenings, slugs, rejects, *, sites, with_map: bool,
               formats: Sequence[str]) -> None:
    """Write the reports and, for ``sites``, the comparison into ``out``; record them in ``result.outputs``."""
    for sc, sl in zip(screenings, slugs, strict=True):
        for ext, p in write_report(sc, out, slug=sl, with_map=with_map, formats=formats).items():
            result.outputs[f"{sl}.{ext}"] = p
    if sites is not None:
        if not screenings:
            raise SchemaError(f"{sites}: no site could be screened; see the reasons: "
                              + "; ".join(rejects["detail"].head(3)))
        comp = compare_sites(screenings, reports=[f"{sl}.html" for sl in slugs])
        result.comparison = comp
        result.outputs["sites_comparison.csv"] = write_csv(out / "sites_comparison.csv", comp)
        blocks = [("h1", "HIA screening: comparison of sites"), ("p", RANKING_RULE),
                  ("table", list(comp.columns), [[_cell(v) for v in r] for r in comp.itertuples(index=False)])]
        if len(rejects):
            rows = [[_cell(v) for v in r] for r in rejects.itertuples(index=False)]
            blocks += [("h2", "Sites not screened"), ("table", list(rejects.columns), rows)]
        md = to_markdown(blocks)
        result.outputs["sites_comparison.md"] = write_text_atomic(out / "sites_comparison.md", md)
        if len(rejects):
            result.outputs["sites_rejected.csv"] = write_csv(out / "sites_rejected.csv", rejects)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


__all__ = ["DISCLAIMER", "MAP_ALT", "REPORT_FORMATS", "HiaResult", "build_map", "evidence", "evidence_json",
           "render_report", "report_blocks", "run_hia", "static_map_png", "to_html", "to_markdown", "write_report"]
