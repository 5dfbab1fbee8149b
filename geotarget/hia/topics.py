"""The 11 HUDU Rapid HIA topics, pre-filled with a site's local evidence, and evidence-driven flags.

The London Healthy Urban Development Unit's Rapid HIA tool asks, for each of eleven topics,
whether it is relevant, what the local evidence is, what the likely impact is (positive,
negative, neutral, uncertain) and what mitigation is proposed. :func:`topics` fills in the
*evidence* from a :class:`~geotarget.hia.screen.Screening` and lists assessment prompts (paraphrased
from the HUDU checklist); relevance, likely impact and mitigation are left for the assessor.

:func:`flags` raises evidence-driven flags, each from a stated rule
(:class:`~geotarget.hia.screen.ScreeningRules`): the "most severe health inequalities" flag, topic
flags where most residents within the first buffer live in LSOAs in England's most deprived
20% on a measure, access gaps in such areas, and left-behind neighbourhoods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geotarget.core.domains import BY_KEY
from geotarget.hia.evidence import (
    HEALTH_INDICATORS,
    INDICATORS,
    Screening,
    indicator_cuts,
    indicator_decile,
    reference_value,
    walk_band,
    zone_key,
)

#: The 11 topics: key, title (as the HUDU Rapid HIA tool, 4th edition, October 2019, words it), assessment prompts.
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("housing", "Housing design and affordability", (
        "Does the proposal provide affordable homes and a mix of tenures and sizes that meets local need, including "
        "larger homes where overcrowding is high?",
        "Are homes accessible and adaptable for older and disabled people (M4(2)/M4(3))?",
        "Are homes energy efficient and designed against overheating and fuel poverty?",
        "Do homes have adequate internal space, daylight and privacy?")),
    ("access_health", "Access to health and social care services and other social infrastructure", (
        "Will new residents add demand on GP, dental, pharmacy and social care capacity, and has the NHS (ICB) been "
        "consulted on that capacity?",
        "Does the proposal provide or contribute to health and social infrastructure (planning obligations, CIL)?",
        "Are schools, libraries and community facilities within walking distance, with the capacity to serve "
        "the development?",
        "Could facilities be shared or co-located for wider community use?")),
    ("open_space", "Access to open space and nature", (
        "Does the proposal keep and enhance existing open and natural space, and provide new publicly accessible "
        "green and blue space?",
        "Where residents lack nearby open space, does it provide or link to open space within a short walk?",
        "Is there safe, accessible play space for children, and a plan to maintain open space?")),
    ("air_quality", "Air quality, noise and neighbourhood amenity", (
        "Will construction or operation (traffic, plant, servicing) worsen air quality or noise for nearby residents "
        "or sensitive uses such as schools and care homes?",
        "Does the layout limit residents' exposure to poor air quality and noise?",
        "Are construction impacts (dust, noise, working hours, vibration) managed?")),
    ("active_travel", "Accessibility and active travel", (
        "Does the proposal prioritise walking and cycling, with safe, direct routes to local services and public "
        "transport?",
        "Is it well served by public transport, and does it reduce car dependency?",
        "Are streets designed for road safety and accessible to disabled people and people with buggies?")),
    ("crime", "Crime reduction and community safety", (
        "Does the design follow Secured by Design principles: natural surveillance, active frontages, lighting?",
        "Have the police and the community safety partnership been consulted?",
        "Will mixed uses keep public spaces active at different times of day?")),
    ("healthy_food", "Access to healthy food", (
        "Does the proposal support access to affordable healthy food: shops, markets, allotments, community growing?",
        "Does it avoid adding hot food takeaways near schools or where child obesity is high?")),
    ("work", "Access to work and training", (
        "Will the proposal create local jobs, training and apprenticeships during construction and operation "
        "(e.g. a local labour agreement)?",
        "Does it provide childcare, affordable workspace or other support that helps residents into work?",
        "Can residents of the most deprived neighbourhoods reach the jobs by public transport, walking or cycling?")),
    ("social_cohesion", "Social cohesion and inclusive design", (
        "Does the proposal include community space and places where people can meet?",
        "Does it connect with existing communities rather than separate them, and is it designed for older people, "
        "disabled people and children?",
        "Has the local community been involved in shaping it?")),
    ("resources", "Minimising the use of resources", (
        "Does the proposal reuse land and buildings and cut construction waste?",
        "Does it make recycling and composting easy for residents?",
        "Does it use sustainable design and construction techniques?")),
    ("climate", "Climate change", (
        "Does the proposal use renewable energy and low-carbon heating?",
        "Is it designed for hotter summers: avoiding overheating, shading, green infrastructure?",
        "Does it manage flood risk with sustainable drainage and reduce surface water run-off?",
        "Does it protect and increase biodiversity and tree cover?")),
)
TOPIC_TITLES = {k: t for k, t, _ in TOPICS}

#: Topic flags from deciles: (code, topic, decile column, what it measures).
DECILE_FLAGS = (
    ("poor_housing_condition", "housing", "indoors_decile",
     "the Living Environment indoors sub-domain (housing in poor condition, houses without central heating)"),
    ("housing_barriers", "housing", "wider_barriers_decile",
     "the Wider Barriers sub-domain (overcrowding, homelessness, housing affordability)"),
    ("poor_outdoor_environment", "air_quality", "outdoors_decile",
     "the Living Environment outdoors sub-domain (air quality and road traffic casualties)"),
    ("geographical_barriers", "active_travel", "geog_barriers_decile",
     "the Geographical Barriers sub-domain (IoD2025: connectivity to services by public transport and walking; "
     "IoD2019: road distance to services)"),
    ("high_crime", "crime", "crime_decile", "the Crime domain"),
    ("employment_deprivation", "work", "employment_decile", "the Employment domain"),
    ("low_adult_skills", "work", "adult_skills_decile", "the Adult Skills sub-domain"),
    ("cni_high_need", "social_cohesion", "cni_decile",
     "the Community Needs Index (civic assets, connectedness, active and engaged community)"),
)
_ACCESS_FLAG_CATEGORIES = ("gp", "pharmacy", "school", "park")
_EXAMPLES = {"park": "OS Open Greenspace sites", "school": "DfE Get Information about Schools",
             "community_centre": "the council's community buildings", "food_support": "a food bank list",
             "leisure": "Sport England Active Places"}


def _pct(x) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{x:.0f}%"


def _num(x, dp: int = 1) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{x:,.{dp}f}"


def _arr(s) -> np.ndarray:
    """Return a column as floats (NaN for missing): selections and sums on arrays cost a fraction of pandas'."""
    return s.to_numpy(dtype=float, na_value=np.nan) if isinstance(s, pd.Series) else np.asarray(s, dtype=float)


def _sum(a: np.ndarray) -> float:
    return float(np.nansum(a))


def _share(w, deciles, k: int) -> float | None:
    if deciles is None:
        return None
    w = _arr(w)
    tot = _sum(w)
    if tot <= 0:
        return None
    return _sum(w[_arr(deciles) <= k]) / tot


def _council_share(sc: Screening, column: str, k: int) -> float | None:
    c = sc.council_lsoas
    if column not in c:
        return None
    return _share(c["pop_total"], c[column], k)


def _england_share(sc: Screening, column: str, k: int) -> float | None:
    shares = [reference_value(sc.reference, column, f"pop_share_decile_{d}") for d in range(1, k + 1)]
    return None if any(s is None for s in shares) else float(sum(shares))


def _indicator_deciles(sc: Screening, key: str) -> np.ndarray | None:
    cuts = indicator_cuts(sc.reference, key)
    if cuts is None or key not in sc.lsoas:
        return None
    d = indicator_decile(sc.lsoas[key], cuts, higher_is_worse=INDICATORS[key][1]).astype(float)
    d[d == 0] = np.nan
    return d


def flags(sc: Screening) -> list[dict]:
    """Evidence-driven flags, each ``{"code", "topic", "text"}`` (topic ``None`` = the whole site)."""
    out = []
    L = sc.lsoas
    first = sc.buffers[0]
    zk = zone_key(first)
    w = L[f"pop_{zk}"]
    r = sc.rules
    k = r.topic_max_decile
    if sc.rule_lsoas:
        hit = L.loc[sc.rule_lsoas]
        names = " or ".join("Health" if i == "health" else BY_KEY[i].short for i in r.flag_indices)
        where = ("the site lies in" if r.flag_scope == "site"
                 else f"the site lies in or with residents within {first:,.0f} m")
        detail = "; ".join(f"{code} ({row.lsoa_name}: " + ", ".join(
            f"{'Health' if i == 'health' else BY_KEY[i].short} {int(row[f'{i}_decile'])}" for i in r.flag_indices
            if f"{i}_decile" in hit) + ")" for code, row in hit.iterrows())
        residents = float(hit[f"pop_{zk}"].sum())
        out.append({"code": "severe_health_inequalities", "topic": None, "text": (
            f"Most severe health inequalities: {len(hit)} of the LSOAs {where} are in England's most deprived "
            f"{10 * r.flag_max_decile}% on the {names} (national decile 1–{r.flag_max_decile}), with "
            f"{residents:,.0f} residents within {first:,.0f} m: {detail}. The Tees strategies call for a Health "
            "Impact Assessment for 'any development that might exacerbate the situation further in areas "
            "experiencing the most severe health inequalities'.")})
    for code, topic, col, what in DECILE_FLAGS:
        if col not in L or np.isnan(_arr(L[col])).all():
            continue
        share = _share(w, L[col], k)
        if share is not None and share >= r.topic_share:
            out.append({"code": code, "topic": topic, "text": (
                f"{share:.0%} of residents within {first:,.0f} m live in LSOAs in England's most deprived "
                f"{10 * k}% on {what}.")})
    for key in [*HEALTH_INDICATORS, "patient_to_gp_ratio", "housing_in_poor_condition_indicator",
                "houses_without_central_heating_indicator", "air_quality_indicator"]:
        dec = _indicator_deciles(sc, key)
        if dec is None:
            continue
        share = _share(w, dec, k)
        if share is not None and share >= r.topic_share:
            label, worse, _, topic = INDICATORS[key]
            topic = "access_health" if topic == "health" else topic
            out.append({"code": f"high_{key.removesuffix('_indicator')}", "topic": topic, "text": (
                f"{share:.0%} of residents within {first:,.0f} m live in LSOAs among England's worst {10 * k}% on "
                f"{label[0].lower() + label[1:]} (IoD{sc.vintage.year} indicator).")})
    if sc.cni is not None and sc.cni["left_behind_lsoas"]:
        lb = sc.cni["left_behind_lsoas"]
        out.append({"code": "left_behind_neighbourhood", "topic": "social_cohesion", "text": (
            f"{len(lb)} 'left behind' neighbourhood(s) (10% highest need on both the Community Needs Index and the "
            f"IMD) within {first:,.0f} m: {', '.join(lb)} ({sc.cni['residents_left_behind']:,.0f} residents).")})
    if sc.rule_lsoas:  # the health-inequalities rule is met (sc.flags is not filled in yet)
        worst = int(L.loc[sc.rule_lsoas, "imd_decile"].min())
        for c in _ACCESS_FLAG_CATEGORIES:
            a = sc.row("access", c)
            if a["available"] and a["nearest_m"] > r.walk_m:
                topic = {"park": "open_space", "school": "access_health"}.get(c, "access_health")
                what = a["label"] if a["label"].startswith("GP") else a["label"].lower()
                out.append({"code": f"no_{c}_within_{r.walk_m:g}m", "topic": topic, "text": (
                    f"No {what} within {r.walk_m:,.0f} m of the site (nearest {a['nearest_m']:,.0f} m, "
                    f"straight line) in an area meeting the health-inequalities rule (IMD decile {worst} nearby).")})
    return out


# -- evidence lines ------------------------------------------------------------------------------
def _decile_line(sc: Screening, col: str, what: str) -> str | None:
    L = sc.lsoas
    if col not in L:
        return None
    d = _arr(L[col])
    if np.isnan(d).all():
        return None
    k = sc.rules.topic_max_decile
    zk = zone_key(sc.buffers[0])
    inz = d[L[f"in_{zk}"].to_numpy()]
    share = _share(L[f"pop_{zk}"], d, k)
    on = L["on_site"].to_numpy()
    site = [int(x) for x in d[on] if not np.isnan(x)]
    local_col = col.replace("_decile", "_local_decile")
    local = [int(x) for x in _arr(L[local_col])[on] if not np.isnan(x)] if local_col in L else []
    lo, hi = int(np.nanmin(inz)), int(np.nanmax(inz))
    parts = [f"{what}: national decile{'s' if lo != hi else ''} {lo}{f'–{hi}' if lo != hi else ''} within "
             f"{sc.buffers[0]:,.0f} m"
             f"; {_pct(None if share is None else share * 100)} of residents there in deciles 1–{k} "
             f"({sc.council[1]} {_pct(_x100(_council_share(sc, col, k)))}, England "
             f"{_pct(_x100(_england_share(sc, col, k)))})"]
    if site:
        parts.append(f"the site's LSOA(s): decile {', '.join(map(str, site))}"
                     + (f" (within {sc.council[1]}: {', '.join(map(str, local))})" if local else ""))
    return "; ".join(parts) + "."


def _x100(x):
    return None if x is None else x * 100


def _indicator_line(sc: Screening, key: str) -> str | None:
    if key not in sc.indicators.index:
        return None
    r = sc.row("indicators", key)
    dp = int(r["decimals"])
    zs = [f"{'on the site' if z == 'site' else f'within {d:,.0f} m'} {_num(r[z], dp)}"
          for z, d in [("site", 0), *[(zone_key(d), d) for d in sc.buffers]]]
    z1 = zone_key(sc.buffers[0])
    dec = r.get(f"england_decile_{z1}")
    pos = "" if dec is None or pd.isna(dec) else (
        f"; the {sc.buffers[0]:,.0f} m average is in England's worst {int(dec) * 10}% of LSOAs" if dec <= 5
        else f"; the {sc.buffers[0]:,.0f} m average is in England's best {(11 - int(dec)) * 10}% of LSOAs")
    direction = "" if r["higher_is_worse"] else " (higher = better)"
    label = r["label"].replace(" (higher = better)", "")
    if key in sc.council_lsoas and sc.council_lsoas[key].nunique() == 1:
        label += " (one value for the whole council)"
    return (f"{label}{direction}: " + ", ".join(zs) + f"; {sc.council[1]} {_num(r['council'], dp)}, England "
            f"{_num(r['england'], dp)}{pos}.")


def _access_line(sc: Screening, c: str) -> str | None:
    if c not in sc.access.index:
        return None
    a = sc.row("access", c)
    if not a["available"]:
        example = _EXAMPLES.get(c, "a council asset list")
        return (f"{a['label']}: no data — the bundled {sc.place_name} sample has no {a['label'].lower()} layer, so "
                f"access cannot be measured; add one with the assets option (e.g. {example}).")
    counts = ", ".join(f"{int(a[f'n_{b:g}m'])} within {b:,.0f} m" for b in (400.0, 800.0, 1600.0))
    return (f"{a['label']}: nearest {a['nearest_m']:,.0f} m ({a['nearest_name']}), {walk_band(a['nearest_m'])}; "
            f"{counts} (straight line from the site{' edge' if sc.site.kind == 'polygon' else ''}).")


def _age_line(sc: Screening) -> str | None:
    L = sc.lsoas
    zk = zone_key(sc.buffers[0])
    if not {"pop_0_15", "pop_60plus"} <= set(L.columns) or L["pop_0_15"].isna().all():
        return None
    sh = L[f"share_{zk}"]
    kids, old, tot = (L["pop_0_15"] * sh).sum(), (L["pop_60plus"] * sh).sum(), (L["pop_total"] * sh).sum()
    c = sc.council_lsoas
    return (f"Residents within {sc.buffers[0]:,.0f} m: {tot:,.0f}, of whom {kids / tot:.0%} aged 0–15 and "
            f"{old / tot:.0%} aged 60+ ({sc.council[1]}: {c['pop_0_15'].sum() / c['pop_total'].sum():.0%} and "
            f"{c['pop_60plus'].sum() / c['pop_total'].sum():.0%}; IoD population denominators).") if tot else None


def cni_lines(sc: Screening) -> list[str]:
    if sc.cni is None:
        return [f"Community Needs Index: not available with IoD{sc.vintage.year} (CNI 2023 is on LSOA 2021)."]
    c = sc.cni
    first = sc.buffers[0]
    lines = [f"Community Needs Index 2023: population-weighted score {_num(c['average_cni_score'])} within "
             f"{first:,.0f} m (higher = more need); {_pct(c['pct_residents_cni_decile1_k'])} of residents in "
             f"England's highest-need {10 * c['max_decile']}%."]
    lb = c["left_behind_lsoas"]
    lines.append(f"'Left behind' neighbourhoods within {first:,.0f} m: " + (", ".join(lb) if lb else "none")
                 + f" (England: {c['england_left_behind']:,} of {c['england_lsoas']:,} LSOAs).")
    return lines


def _topic_evidence(sc: Screening, key: str) -> tuple[list[str], list[str]]:
    """Evidence lines and data gaps for one topic."""
    lines: list[str | None] = []
    gaps: list[str] = []
    ind = [k for k in sc.indicators.index if INDICATORS[k][3] == key]
    if key == "housing":
        lines += [_decile_line(sc, "barriers_decile", "Barriers to Housing and Services domain"),
                  _decile_line(sc, "wider_barriers_decile", "Wider Barriers sub-domain (overcrowding, homelessness, "
                                                            "affordability)"),
                  _decile_line(sc, "indoors_decile", "Indoors sub-domain (housing in poor condition, no central "
                                                     "heating — a proxy for energy efficiency)"),
                  _age_line(sc)]
    elif key == "access_health":
        lines += [_decile_line(sc, "health_decile", "Health Deprivation and Disability domain")]
        lines += [_indicator_line(sc, k) for k in HEALTH_INDICATORS]
        lines += [_access_line(sc, c) for c in ("gp", "pharmacy", "school", "library")]
    elif key == "open_space":
        lines += [_access_line(sc, "park"), _access_line(sc, "leisure")]
        lines += [_decile_line(sc, "living_env_decile", "Living Environment domain")]
    elif key == "air_quality":
        lines += [_decile_line(sc, "outdoors_decile", "Outdoors sub-domain (air quality, road traffic casualties)")]
        if sc.vintage.year == 2025:
            gaps.append("IoD2025 publishes no LSOA air-quality indicator in the bundled extract; the outdoors "
                        "sub-domain includes it. Noise: no data bundled — use the council's noise maps and AQMAs.")
    elif key == "active_travel":
        lines += [_decile_line(sc, "geog_barriers_decile", "Geographical Barriers sub-domain")]
        av = sc.access[sc.access["available"] & sc.access.index.isin(["gp", "pharmacy", "school", "library", "park"])]
        if len(av):
            near = av[av["nearest_m"] <= sc.rules.walk_m]
            lines.append(f"Everyday services within {sc.rules.walk_m:,.0f} m (straight line): {len(near)} of the "
                         f"{len(av)} measured ({', '.join(near['label']) or 'none'}).")
    elif key == "crime":
        lines += [_decile_line(sc, "crime_decile", "Crime domain")]
    elif key == "healthy_food":
        lines += [_access_line(sc, "food_support")]
        gaps.append("No food retail or hot-food-takeaway layer is bundled: add one with the assets option (e.g. "
                    "FSA food hygiene ratings) to measure access to healthy food.")
    elif key == "work":
        lines += [_decile_line(sc, "employment_decile", "Employment domain"),
                  _decile_line(sc, "income_decile", "Income domain"),
                  _decile_line(sc, "education_decile", "Education, Skills and Training domain")]
    elif key == "social_cohesion":
        lines += cni_lines(sc)
        lines += [_access_line(sc, "community_centre"), _age_line(sc)]
    elif key == "resources":
        gaps.append("No area-level evidence in the IoD for resource use: assessor to complete from the proposal.")
    elif key == "climate":
        lines += [_decile_line(sc, "indoors_decile", "Indoors sub-domain (no central heating, poor condition — "
                                                     "hard-to-heat homes)")]
        gaps.append("Flood risk, heat and tree-canopy data are not bundled: use the Environment Agency flood map "
                    "and local climate evidence.")
    lines += [_indicator_line(sc, k) for k in ind if INDICATORS[k][3] != "health"]
    out = [x for x in lines if x]
    gaps += [x for x in out if ": no data — " in x]
    return [x for x in out if ": no data — " not in x], gaps


def topics(sc: Screening) -> list[dict]:
    """Return the 11 HUDU topics: evidence, data gaps, prompts and flags; assessor columns left blank."""
    out = []
    for key, title, prompts in TOPICS:
        evidence, gaps = _topic_evidence(sc, key)
        mine = [f for f in sc.flags if f["topic"] == key]
        out.append({"key": key, "topic": title, "evidence": evidence, "data_gaps": gaps, "prompts": list(prompts),
                    "flags": [f["code"] for f in mine], "flag_texts": [f["text"] for f in mine],
                    "relevance": "", "likely_impact": "", "mitigation": ""})
    return out


__all__ = ["DECILE_FLAGS", "TOPICS", "TOPIC_TITLES", "flags", "topics"]
