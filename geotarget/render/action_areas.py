"""Targeted action areas as documents: the committee-ready Markdown, the method note, and the output files.

The areas are computed by :func:`geotarget.analysis.target.target_areas`; this module only renders
and writes them.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from geotarget.analysis.split import MIN_SHARE
from geotarget.analysis.target import Targeting
from geotarget.core.licences import OGL, OS_LICENCE, iod_source
from geotarget.core.version import __version__
from geotarget.io.files import write_csv, write_text_atomic
from geotarget.render.qgis import write_styled_geopackage
from geotarget.render.text import Markup, html, html_heading, html_join, md_cell, md_text

# ---------------------------------------------------------------------------------------------
# Outputs


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.0f}%"


def _n(count: int, singular: str, plural: str) -> str:
    """Return ``count`` with the singular or plural noun: "1 neighbourhood (LSOA)", "3 neighbourhoods (LSOAs)"."""
    return f"{count:,} {singular if count == 1 else plural}"


def _lsoas(count: int) -> str:
    return _n(count, "neighbourhood (LSOA)", "neighbourhoods (LSOAs)")


def method_note(result: Targeting) -> str:
    """Return the method paragraph for a committee paper: data, rule, contiguity, constraints, ranking, names."""
    s, r, v = result.settings, result.rule, result.vintage
    floor = f"at least {s.min_population:,.0f} residents" if s.min_population else "no population floor"
    ceiling = (f"at most {s.max_population:,.0f} residents: a larger group is split into k = population / "
               f"{s.max_population:,.0f}, rounded up, contiguous parts of similar population (recursive bisection "
               f"along cuts of the group's neighbour network; a split is accepted when every part is within the "
               f"ceiling and the smallest has at least {MIN_SHARE:.0%} of the average part, else k + 1 parts are "
               "tried), so no part is a leftover fragment") if s.max_population else "no population ceiling"
    rank = {"deprived-population": "the number of residents in qualifying LSOAs",
            "score": "population-weighted IMD score", "extent": "extent (MHCLG's measure)"}[s.rank_by]
    text = (
        f"Data: English Indices of Deprivation {v.year} ({v.label}), population denominators {v.population}. "
        f"Qualifying neighbourhoods: {r.describe()}. "
        f"Neighbouring qualifying LSOAs were merged into candidate areas ({result.contiguity_note.rstrip('.')}) "
        "without "
        f"crossing council boundaries"
        + ("; a non-qualifying LSOA touching two separate candidate areas was added to join them (bridging)"
           if s.bridging else "; no bridging through non-qualifying LSOAs")
        + f". Constraints: {floor}; {ceiling}. Candidate areas were ranked within each council by {rank} "
        "(ties: higher IMD score, then more deprived average national rank, larger population, lowest LSOA code)"
        + (f", and the top {s.n} kept." if s.n else ".")
        + " Each area is named after the wards holding most of its residents (ONS best-fit LSOA-to-ward "
        "lookup), largest first, joined by commas and \"and\", or by semicolons where a ward's own name contains "
        "\"&\" or \"and\"; where two areas of a council share a ward name, each carries a qualifier (north, "
        "south, east, west, central ...) from its population-weighted centre relative to the others. "
        "Domain profiles are population-weighted average national percentile ranks (0 = most "
        "deprived in England, 50 = the national middle). Stability is the average, over the alternative "
        "rules listed, of the share of an area's residents who would still be selected."
    )
    return text


def _by_area(frame: pd.DataFrame) -> dict:
    """Split ``frame`` by ``area_id`` once (rows keep their order), without geometry."""
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return {aid: part for aid, part in plain.groupby("area_id", sort=False)}


# ---------------------------------------------------------------------------------------------
# The list of areas: one function for the document and the console


AREA_TABLE_COLUMNS = ("No.", "Area", "Council", "Rank in council", "Residents", "In qualifying LSOAs", "LSOAs",
                      "IMD score", "Average national rank", "Stability")


def area_table(result: Targeting) -> pd.DataFrame:
    """Return the areas as the document's table shows them: one row of display text per area, in order.

    ``action_areas.md`` (and its HTML and PDF versions) and the console summaries of ``geotarget run`` and
    ``geotarget target`` all list the areas from this table, so they agree on names, order and figures. The
    number ("No.") is the area's place in the document; its maps are ``action_area_<No.>.png``.
    """
    rows = []
    for i, (_, r) in enumerate(result.areas.iterrows(), start=1):
        rows.append({
            "No.": str(i), "Area": str(r["name"]), "Council": str(r["la_name"]), "Rank in council": str(r["rank"]),
            "Residents": f"{r['population']:,.0f}", "In qualifying LSOAs": f"{r['deprived_population']:,.0f}",
            "LSOAs": str(r["n_lsoas"]),
            "IMD score": "–" if pd.isna(r["imd_average_score"]) else f"{r['imd_average_score']:.1f}",
            "Average national rank": f"{r['imd_average_national_rank']:,.0f}", "Stability": _pct(r["stability"]),
        })
    return pd.DataFrame(rows, columns=list(AREA_TABLE_COLUMNS), index=result.areas.index)


def summary_lines(result: Targeting, *, limit: int | None = 30) -> list[str]:
    """Return the console summary of the areas: one line per row of :func:`area_table`, in its order."""
    t = area_table(result)
    lines = [f"  {r['No.']}. {r['Area']} ({r['Council']}, rank {r['Rank in council']}): {r['Residents']} residents, "
             f"{r['LSOAs']} LSOA{'' if r['LSOAs'] == '1' else 's'}, stability {r['Stability']}"
             for _, r in (t if limit is None else t.head(limit)).iterrows()]
    if limit is not None and len(t) > limit:
        lines.append(f"  ... and {len(t) - limit:,} more (action_areas.md)")
    return lines


# ---------------------------------------------------------------------------------------------
# The document: blocks rendered as Markdown and as HTML (and so PDF)


def _blocks(result: Targeting, *, title: str | None, version: str, date: str | None,
            images: Mapping[str, str]) -> list[tuple]:
    """Return the document as blocks: ("h1"/"h2"/"h3"/"p"/"small", text), ("img", file, alt), ("table", ...)."""
    a, s, v = result.areas, result.settings, result.vintage
    councils = result.councils.tolist()
    where = ", ".join(councils[:-1]) + " and " + councils[-1] if len(councils) > 1 else councils[0]
    table = area_table(result)
    set_aside = result.set_aside
    q_pop = float(a["deprived_population"].sum() + set_aside["deprived_population"].sum())
    q_in = int(result.members["qualifying"].sum())
    out: list[tuple] = [("h1", title or f"Targeted action areas: {where}")]
    when = date or _dt.date.today().strftime("%-d %B %Y")
    out.append(("small", f"Prepared {when}" + (f" with geotarget {version}" if version else "") + ". Data: "
                f"English Indices of Deprivation {v.year} ({v.label}), MHCLG; population {v.population} (ONS); "
                f"wards from the ONS best-fit LSOA-to-ward lookup. {OGL} {OS_LICENCE}"))
    out.append(("h2", "Summary"))
    n_areas = len(a)
    if n_areas:
        out.append(("p", f"This paper identifies {_n(n_areas, 'action area', 'action areas')} in {where}: "
                    f"contiguous groups of neighbourhoods where work on deprivation could be focused. Together they "
                    f"are home to {a['population'].sum():,.0f} residents in {_lsoas(int(a['n_lsoas'].sum()))}."))
    else:
        out.append(("p", f"No action area was found in {where} under the rule below."))
    rule_text = (f"Neighbourhoods qualify under a stated rule: {result.rule.describe()}. Qualifying neighbourhoods "
                 "that touch are joined into one area, never across a council boundary"
                 + (f"; an area of more than {s.max_population:,.0f} residents is split into contiguous parts of "
                    "similar size" if s.max_population else "")
                 + (f"; areas under {s.min_population:,.0f} residents are set aside" if s.min_population else "")
                 + "; the areas are ranked within each council"
                 + (f" and the top {s.n} kept" if s.n else "") + ".")
    out.append(("p", rule_text))
    qualifying = _lsoas(result.qualifying)
    out.append(("p", f"{qualifying[0].upper() + qualifying[1:]} in {where} qualify, home to {q_pop:,.0f} "
                f"residents; the {_n(n_areas, 'action area', 'action areas')} below cover "
                f"{'all of them' if q_in == result.qualifying else f'{q_in:,} of them'}"
                + (f" ({_pct(a['deprived_population'].sum() / q_pop)} of those residents)." if q_pop else ".")))
    if "overview" in images:
        out.append(("img", images["overview"], f"Map of the action areas in {where}, numbered as in the table"))
    if n_areas:
        out.append(("table", list(AREA_TABLE_COLUMNS), table.values.tolist(), "rlllrrrrrr"))
        out.append(("small", "Residents: everyone living in the area's LSOAs; in qualifying LSOAs: those living in "
                    "the LSOAs that meet the rule. IMD score: population-weighted; average national rank: "
                    f"population-weighted, of {v.n_lsoas:,} LSOAs in England (1 = most deprived). Stability: the "
                    "share of the area's residents still selected when the rule is varied (next table)."))
    if len(result.sensitivity):
        piv = result.sensitivity.pivot(index="area_id", columns="alternative", values="share_selected")
        alts = list(dict.fromkeys(result.sensitivity["alternative"]))
        out += [("h2", "How robust is the choice?"),
                ("p", "Share of each area's residents still selected under an alternative rule:"),
                ("table", ["No.", "Area", *alts, "Stability"],
                 [[table.loc[aid, "No."], r["name"], *(_pct(piv.loc[aid, x]) for x in alts), _pct(r["stability"])]
                  for aid, r in a.iterrows()], "rl" + "r" * (len(alts) + 1))]
    out.append(("h2", "The areas"))
    members, profiles = _by_area(result.members), _by_area(result.profiles)
    no_members, no_profile = result.members.iloc[:0], result.profiles.iloc[:0]
    for aid, r in a.iterrows():
        no = table.loc[aid, "No."]
        mem = members.get(aid, no_members)
        out.append(("h3", f"Area {no}: {r['name']} ({r['la_name']}, rank {r['rank']})"))
        if aid in images:
            out.append(("img", images[aid], f"Map of area {no}, {r['name']}"))
        nq = int(mem["qualifying"].sum())
        qual = "all of them qualify under the rule" if nq == len(mem) else \
            f"{nq:,} of them qualify under the rule"
        bridges = int(mem["bridge"].sum())
        text = (f"{r['population']:,.0f} residents in {_lsoas(int(r['n_lsoas']))}; {qual}"
                + (f"; {_n(bridges, 'joined as a bridge', 'joined as bridges')}" if bridges else "")
                + ". Population-weighted IMD score "
                + ("–" if pd.isna(r["imd_average_score"]) else f"{r['imd_average_score']:.1f}")
                + f"; average national rank {r['imd_average_national_rank']:,.0f} of {v.n_lsoas:,} "
                "(1 = most deprived).")
        out.append(("p", text))
        if int(r.get("group_parts", 1) or 1) > 1:
            sib = a[(a["group_id"] == r["group_id"]) & (a.index != aid)]
            others = "; ".join(f"area {table.loc[k, 'No.']} ({x['name']})" for k, x in sib.iterrows())
            shown = f" The other part{'s' if len(sib) > 1 else ''} in this paper: {others}." if len(sib) else \
                " The other parts ranked below the areas kept."
            out.append(("p", f"Part of a contiguous group of {r['group_population']:,.0f} residents in qualifying "
                        f"neighbourhoods, over the ceiling of {s.max_population:,.0f}, split into "
                        f"{int(r['group_parts'])} parts of similar size." + shown))
        if "ward_name" in mem.columns and mem["ward_name"].notna().any():
            wards = mem.groupby("ward_name")["lsoa_code"].size().sort_values(ascending=False, kind="mergesort")
            out.append(("p", "Wards (LSOAs in each): " + ", ".join(f"{w} ({c})" for w, c in wards.items()) + "."))
        prof = profiles.get(aid, no_profile)
        if len(prof):
            out.append(("table", ["Index", "Area", "Council", "England",
                                  "Residents in national decile 1 (area / council)"],
                        [[p["label"], f"{p['area_avg_percentile']:.1f}", f"{p['council_avg_percentile']:.1f}",
                          f"{p['england_avg_percentile']:.0f}",
                          f"{p['area_pct_pop_decile1']:.0f}% / {p['council_pct_pop_decile1']:.0f}%"]
                         for p in prof.to_dict("records")], "lrrrr"))
            out.append(("small", "Area, Council, England: population-weighted average national percentile rank "
                        "(0 = most deprived in England, 50 = the national middle)."))
        out.append(("small", "Member LSOAs: " + ", ".join(_member_labels(mem)) + "."))
    out += [("h2", "Method"), ("p", method_note(result))]
    for note in result.notes:
        out.append(("p", f"Note: {note}"))
    if len(set_aside):
        reasons = set_aside["reason"]
        beyond = int(reasons.str.startswith("ranked").sum())
        small = int(reasons.str.contains("below the floor").sum())
        parts = ([f"{beyond:,} ranked below the top {s.n} in their council"] if beyond else []) + \
                ([f"{small:,} under the population floor"] if small else [])
        out.append(("p", f"{_n(len(set_aside), 'other candidate area was', 'other candidate areas were')} set "
                    f"aside: {'; '.join(parts)} (listed in action_areas_set_aside.csv)."))
    out += [("h2", "Sources"),
            ("p", f"{iod_source(v.year)}; ONS boundaries, population estimates and lookups. {OGL} {OS_LICENCE}"
                  + (f" Made with geotarget {version}." if version else ""))]
    return out


def _member_labels(mem: pd.DataFrame) -> list[str]:
    """Return each member LSOA's code, with its name in brackets where the members have one (plain text)."""
    codes = [str(c) for c in mem["lsoa_code"]]
    if "lsoa_name" not in mem:
        return codes
    return [c + (f" ({n})" if pd.notna(n) else "") for c, n in zip(codes, mem["lsoa_name"], strict=True)]


def _markdown(blocks: list[tuple]) -> str:
    lines: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + md_text(b[1]), ""]
        elif kind == "p":
            lines += [md_text(b[1]), ""]
        elif kind == "small":
            lines += ["*" + md_text(b[1]) + "*", ""]
        elif kind == "img":
            lines += [f"![{md_text(b[2])}]({b[1]})", ""]
        elif kind == "table":
            header, rows, align = b[1], b[2], b[3]
            lines.append("| " + " | ".join(md_cell(h) for h in header) + " |")
            lines.append("|" + "".join("---:|" if c == "r" else "---|" for c in align))
            lines += ["| " + " | ".join(_md_value(x) for x in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


_NUMBER = re.compile(r"[–0-9.,%/ -]+")


def _md_value(x: object) -> str:
    """Return a table cell: figures as written (a cell does not start a line), other text by :func:`md_cell`."""
    s = str(x)
    return s if _NUMBER.fullmatch(s) else md_cell(s)


_CSS = """
@page { size: A4 portrait; margin: 16mm 14mm 16mm 14mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; color: #111;
       max-width: 180mm; margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 14pt 0 4pt; border-bottom: 1px solid #bbb; }
h3 { font-size: 11pt; margin: 12pt 0 4pt; break-after: avoid; }
p.small { font-size: 8pt; color: #444; }
img { max-width: 100%; max-height: 150mm; width: auto; height: auto; display: block; margin: 6pt auto;
      break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin: 4pt 0 8pt; break-inside: auto; }
th, td { border-bottom: 1px solid #ddd; padding: 2pt 4pt; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0f0; text-align: left; overflow-wrap: normal; hyphens: manual; }
td.r, th.r { text-align: right; white-space: nowrap; }
section.area { break-inside: avoid-page; }
"""


def _html(blocks: list[tuple], images: Mapping[str, bytes]) -> str:
    parts = []
    title = next((b[1] for b in blocks if b[0] == "h1"), "Targeted action areas")
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            parts.append(html_heading(kind, b[1]))
        elif kind == "p":
            parts.append(html("<p>{}</p>", b[1]))
        elif kind == "small":
            parts.append(html('<p class="small">{}</p>', b[1]))
        elif kind == "img":
            uri = "data:image/png;base64," + base64.b64encode(images[b[1]]).decode("ascii")
            parts.append(html('<img src="{}" alt="{}">', uri, b[2]))
        elif kind == "table":
            header, rows, align = b[1], b[2], b[3]
            head = html_join(html('<th class="{}">{}</th>', a, h) for a, h in zip(align, header, strict=True))
            body = html_join(html("<tr>{}</tr>", html_join(html('<td class="{}">{}</td>', a, x)
                                                           for a, x in zip(align, row, strict=True)))
                             for row in rows)
            parts.append(html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body))
    return str(html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{}</title>'
                    '<meta name="viewport" content="width=device-width, initial-scale=1"><style>{}</style></head>'
                    "<body>{}</body></html>\n", title, Markup(_CSS), html_join(parts, "\n")))


def summary_markdown(result: Targeting, *, title: str | None = None, version: str = "", date: str | None = None,
                     images: Mapping[str, str] | None = None) -> str:
    """Return the committee-ready Markdown document.

    Title, date, data and licence line, summary, map links (``images``: area id or ``"overview"`` -> file name),
    the table of areas, stability, one section per area, method and sources.
    """
    return _markdown(_blocks(result, title=title, version=version, date=date, images=images or {}))


def write_action_areas(result: Targeting, out, *, title: str | None = None, lsoas=None, wards=None, lads=None,
                       pdf: bool = False, maps: bool = True, date: str | None = None) -> dict:
    """Write the action areas' files atomically.

    ``action_areas.gpkg`` (layers ``areas``, ``members``), ``action_areas.csv``, the profile, sensitivity and
    set-aside tables as CSV, and the document: ``action_areas.md`` with its maps beside it
    (``action_areas_overview.png`` and ``action_area_<No.>.png`` for up to
    :data:`~geotarget.render.action_area_maps.MAX_AREA_MAPS` areas), ``action_areas.html`` (the same
    document with the maps embedded, self-contained) and, with ``pdf=True``, ``action_areas.pdf`` (A4 portrait,
    :func:`geotarget.render.pdf.write_pdf`). ``lsoas``, ``wards`` and ``lads`` (the study's frames) give the
    maps their context; without them the maps show the areas' own LSOAs.
    """
    d = Path(out)
    areas = result.areas
    outputs = {
        "gpkg": write_styled_geopackage(d / "action_areas.gpkg", {"areas": areas, "members": result.members}),
        "csv": write_csv(d / "action_areas.csv", pd.DataFrame(areas.drop(columns="geometry")).reset_index()),
        "profiles": write_csv(d / "action_areas_profiles.csv", result.profiles),
        "sensitivity": write_csv(d / "action_areas_sensitivity.csv", result.sensitivity),
        "set_aside": write_csv(d / "action_areas_set_aside.csv", result.set_aside),
    }
    images: dict[str, str] = {}
    if maps and len(areas):
        from geotarget.render import action_area_maps as am

        ctx = am.context_of(result, lsoas, wards=wards, lads=lads)
        numbers = area_table(result)["No."].tolist()
        where = ", ".join(result.councils.tolist())
        outputs["map_overview"] = am.overview_map(result, ctx, d / "action_areas_overview.png", numbers=numbers,
                                                  title=f"Targeted action areas: {where}")
        images["overview"] = "action_areas_overview.png"
        if len(areas) <= am.MAX_AREA_MAPS:
            files = {aid: (d / f"action_area_{no}.png", no) for aid, no in zip(areas.index, numbers, strict=True)}
            for aid, path in am.area_maps(result, ctx, files).items():
                outputs[f"map_{files[aid][1]}"] = path
                images[aid] = path.name
    blocks = _blocks(result, title=title, version=__version__, date=date, images=images)
    outputs["md"] = write_text_atomic(d / "action_areas.md", _markdown(blocks))
    page = _html(blocks, {f: (d / f).read_bytes() for f in images.values()})
    outputs["html"] = write_text_atomic(d / "action_areas.html", page)
    if pdf:
        from geotarget.render.pdf import write_pdf

        outputs["pdf"] = write_pdf(page, d / "action_areas.pdf")
    return outputs


__all__ = ["AREA_TABLE_COLUMNS", "area_table", "method_note", "summary_lines", "summary_markdown",
           "write_action_areas"]
