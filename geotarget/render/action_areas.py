"""Targeted action areas as documents: the committee-ready Markdown, the method note, and the output files.

The areas are computed by :func:`geotarget.analysis.target.target_areas`; this module only renders
and writes them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geotarget.analysis.target import Targeting
from geotarget.core.licences import OGL_NAME, OS_LICENCE, iod_source
from geotarget.core.version import __version__
from geotarget.io.files import write_csv, write_text_atomic
from geotarget.render.qgis import write_styled_geopackage
from geotarget.render.text import md_cell, md_text

# ---------------------------------------------------------------------------------------------
# Outputs


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.0f}%"


def method_note(result: Targeting) -> str:
    """Return the method paragraph for a committee paper: data, rule, contiguity, constraints, ranking."""
    s, r, v = result.settings, result.rule, result.vintage
    floor = f"at least {s.min_population:,.0f} residents" if s.min_population else "no population floor"
    ceiling = (f"at most {s.max_population:,.0f} residents (larger groups split into contiguous parts grown "
               "outwards from their most deprived LSOA)") if s.max_population else "no population ceiling"
    rank = {"deprived-population": "the number of residents in qualifying LSOAs",
            "score": "population-weighted IMD score", "extent": "extent (MHCLG's measure)"}[s.rank_by]
    text = (
        f"Data: English Indices of Deprivation {v.year} ({v.label}), population denominators {v.population}. "
        f"Qualifying neighbourhoods: {r.describe()}. "
        f"Neighbouring qualifying LSOAs were merged into candidate areas ({result.contiguity_note}) without "
        f"crossing council boundaries"
        + ("; a non-qualifying LSOA touching two separate candidate areas was added to join them (bridging)"
           if s.bridging else "; no bridging through non-qualifying LSOAs")
        + f". Constraints: {floor}; {ceiling}. Candidate areas were ranked within each council by {rank} "
        "(ties: higher IMD score, then more deprived average national rank, larger population, lowest LSOA code)"
        + (f", and the top {s.n} kept." if s.n else ".")
        + " Each area is named after the wards holding most of its residents (ONS best-fit LSOA-to-ward "
        "lookup). Domain profiles are population-weighted average national percentile ranks (0 = most "
        "deprived in England, 50 = the national middle). Stability is the average, over the alternative "
        "rules listed, of the share of an area's residents who would still be selected."
    )
    return text


def _member_names(mem: pd.DataFrame) -> list[str]:
    """Return each member LSOA's code, with its name in brackets where the members have one."""
    codes = [md_text(c) for c in mem["lsoa_code"]]
    if "lsoa_name" not in mem:
        return codes
    return [c + (f" ({md_text(n)})" if pd.notna(n) else "") for c, n in zip(codes, mem["lsoa_name"], strict=True)]


def _by_area(frame: pd.DataFrame) -> dict:
    """Split ``frame`` by ``area_id`` once (rows keep their order), without geometry."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return {aid: part for aid, part in plain.groupby("area_id", sort=False)}


def summary_markdown(result: Targeting, *, title: str | None = None, version: str = "") -> str:
    """Return a committee-ready Markdown summary: table of areas, stability, profiles, method, sources."""
    a = result.areas
    councils = ", ".join(result.councils.tolist())
    lines = [f"# {md_text(title or f'Targeted action areas: {councils}')}", ""]
    lines.append(f"{len(a)} area(s) in {len(result.councils)} council(s) from {result.qualifying:,} qualifying "
                 f"LSOAs. Rule: {md_text(result.rule.describe())}. Data: {result.vintage.label}.")
    lines += ["", "| Rank | Area | Council | Residents | In qualifying LSOAs | LSOAs | IMD score | "
              "Average national rank | Stability |", "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for _, r in a.iterrows():
        lines.append(f"| {r['rank']} | {md_cell(r['name'])} | {md_cell(r['la_name'])} | {r['population']:,.0f} | "
                     f"{r['deprived_population']:,.0f} | {r['n_lsoas']} | "
                     f"{'–' if pd.isna(r['imd_average_score']) else f'{r.imd_average_score:.1f}'} | "
                     f"{r['imd_average_national_rank']:,.0f} | {_pct(r['stability'])} |")
    if len(result.sensitivity):
        piv = result.sensitivity.pivot(index="area_id", columns="alternative", values="share_selected")
        alts = list(dict.fromkeys(result.sensitivity["alternative"]))
        lines += ["", "## How robust is the choice?", "",
                  "Share of each area's residents still selected under an alternative rule:", "",
                  "| Area | " + " | ".join(md_cell(x) for x in alts) + " | Stability |",
                  "|---|" + "---:|" * (len(alts) + 1)]
        for aid, r in a.iterrows():
            lines.append(f"| {md_cell(r['name'])} | " + " | ".join(_pct(piv.loc[aid, x]) for x in alts)
                         + f" | {_pct(r['stability'])} |")
    lines += ["", "## Areas", ""]
    members, profiles = _by_area(result.members), _by_area(result.profiles)
    no_members, no_profile = result.members.iloc[:0], result.profiles.iloc[:0]
    for aid, r in a.iterrows():
        mem = members.get(aid, no_members)
        nq = int(mem["qualifying"].sum())
        lines += [f"### {r['rank']}. {md_text(r['name'])} ({md_text(r['la_name'])}, {md_text(aid)})", "",
                  f"{r['population']:,.0f} residents in {r['n_lsoas']} LSOAs; {nq} qualify under the rule"
                  + (f", {int(mem['bridge'].sum())} joined as a bridge" if mem["bridge"].any() else "")
                  + ". Population-weighted IMD score "
                  + ("–" if pd.isna(r["imd_average_score"]) else f"{r['imd_average_score']:.1f}")
                  + f"; average national rank {r['imd_average_national_rank']:,.0f} of "
                  f"{result.vintage.n_lsoas:,} (1 = most deprived).", "",
                  "| Index | Area | Council | England | Residents in national decile 1 (area / council) |",
                  "|---|---:|---:|---:|---:|"]
        prof = profiles.get(aid, no_profile)
        for p in prof.to_dict("records"):
            lines.append(f"| {md_cell(p['label'])} | {p['area_avg_percentile']:.1f} | "
                         f"{p['council_avg_percentile']:.1f} | {p['england_avg_percentile']:.0f} | "
                         f"{p['area_pct_pop_decile1']:.0f}% / "
                         f"{p['council_pct_pop_decile1']:.0f}% |")
        lines += ["", "Member LSOAs: " + ", ".join(_member_names(mem)) + ".", ""]
    lines += ["## Method", "", method_note(result), ""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {md_text(n)}" for n in result.notes] + [""]
    if len(result.set_aside):
        reasons = result.set_aside["reason"]
        beyond = int(reasons.str.startswith("ranked").sum())
        small = int(reasons.str.contains("below the floor").sum())
        parts = ([f"{beyond:,} ranked below the top {result.settings.n} in their council"] if beyond else []) + \
                ([f"{small:,} under the population floor"] if small else [])
        lines += [f"{len(result.set_aside):,} other candidate area(s) were set aside: {'; '.join(parts)} "
                  "(listed in action_areas_set_aside.csv).", ""]
    lines += ["## Sources", "",
              f"{iod_source(result.vintage.year)}; ONS boundaries and lookups. {OGL_NAME}. {OS_LICENCE} "
              + (f"Made with geotarget {version}." if version else ""), ""]
    return "\n".join(lines)


def write_action_areas(result: Targeting, out, *, title: str | None = None) -> dict:
    """Write the action areas' files atomically.

    ``action_areas.gpkg`` (layers ``areas``, ``members``), ``action_areas.csv``, ``.md`` and the profile,
    sensitivity and set-aside tables as CSV.
    """
    d = Path(out)
    areas = result.areas
    outputs = {
        "gpkg": write_styled_geopackage(d / "action_areas.gpkg", {"areas": areas, "members": result.members}),
        "csv": write_csv(d / "action_areas.csv", pd.DataFrame(areas.drop(columns="geometry")).reset_index()),
        "md": write_text_atomic(d / "action_areas.md", summary_markdown(result, title=title, version=__version__)),
        "profiles": write_csv(d / "action_areas_profiles.csv", result.profiles),
        "sensitivity": write_csv(d / "action_areas_sensitivity.csv", result.sensitivity),
        "set_aside": write_csv(d / "action_areas_set_aside.csv", result.set_aside),
    }
    return outputs


__all__ = ["method_note", "summary_markdown", "write_action_areas"]
