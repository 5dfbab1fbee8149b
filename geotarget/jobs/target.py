"""The target job: LSOAs in, targeted action areas out -- what ``geotarget target`` and ``[target]`` run.

:func:`run_target` takes the study's data (:func:`geotarget.data.load`), optionally tests them for Gi* hot
spots, chooses, merges, ranks and names the action areas (:func:`geotarget.analysis.target.target_areas`) and,
with ``out``, writes the GeoPackage, CSV and the committee document -- Markdown with its maps, HTML and PDF
(:func:`geotarget.render.action_areas.write_action_areas`). Its parameters and their defaults are those of
:class:`geotarget.jobs.params.TargetParams`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geotarget.analysis.target import Rule, Targeting, target_areas
from geotarget.core.errors import GeotargetError
from geotarget.data.study_data import StudyData
from geotarget.io.provenance import Provenance
from geotarget.io.publish import publishing
from geotarget.jobs.params import TargetParams as P
from geotarget.render.action_areas import write_action_areas


@dataclass(frozen=True)
class TargetResult:
    """The action areas (:class:`~geotarget.analysis.target.Targeting`) and the files written."""

    result: Targeting
    outputs: dict[str, Path] = field(default_factory=dict)


def run_target(data: StudyData | None = None, *, rule: str = P.rule, index: str = P.index,
               max_decile: int = P.max_decile, percentile: float = P.percentile,
               weights: Mapping[str, float] | None = P.weights,
               min_population: float = P.min_population, max_population: float = P.max_population, n: int = P.n,
               rank_by: str = P.rank_by, bridging: bool = P.bridging, snap: float = P.snap, rook: bool = P.rook,
               hotspots: bool = P.hotspots, councils: Sequence[str] | None = None,
               out: str | os.PathLike | None = None) -> TargetResult:
    """Targeted action areas by a stated rule (parameters: :class:`~geotarget.jobs.params.TargetParams`).

    ``data``: the study's data (default ``load()``, the bundled Tees Valley); every LSOA of it is a
    candidate and composite deciles are taken over all of them. ``councils`` narrows the areas chosen
    (ranks stay national). ``max_population = 0`` means
    no ceiling. ``hotspots`` also requires a significant Gi* hot spot (FDR 5%) of the rule's index
    score, tested over all the LSOAs loaded.
    """
    P(rule=rule, index=index, max_decile=max_decile, percentile=percentile, weights=weights,
      min_population=min_population, max_population=max_population, n=n, rank_by=rank_by, bridging=bridging,
      snap=snap, rook=rook, hotspots=hotspots)  # validates every parameter, naming it
    if data is None:
        from geotarget.data.load import load

        data = load()
    if not data.has_geometry:
        raise GeotargetError("targeting needs LSOA boundaries to find neighbours: load the data with boundaries "
                             "(e.g. ONS LSOA 2021 generalised boundaries)")
    lsoas, vintage = data.lsoas, data.vintage
    also = None
    if hotspots:
        from geotarget.analysis.hotspots import hotspots as gi_star

        column = f"{index}_score" if rule != "composite" else "imd_score"
        if column not in lsoas.columns:
            raise GeotargetError(f"hotspots tests {column}, which the data does not have (IoD2019 publishes "
                                 "ranks only for some domains); choose another index")
        hs = gi_star(lsoas[["geometry"]], lsoas[column].astype(float), snap=snap)
        also = (hs.table["category"] == "hot spot").rename(f"a significant Gi* hot spot of {column} (FDR 5%)")
    result = target_areas(lsoas, councils=councils,
                          rule=Rule(kind=rule, index=index, max_decile=max_decile, percentile=percentile,
                                    weights=dict(weights) if weights else None),
                          min_population=min_population, max_population=max_population or None, n=n,
                          rank_by=rank_by, bridging=bridging, snap=snap, point_contacts=not rook, also=also,
                          vintage=vintage)
    outputs: dict = {}
    if out is not None:
        prov = Provenance(out, command="target", parameters=P(
            rule=rule, index=index, max_decile=max_decile, percentile=percentile, weights=weights,
            min_population=min_population, max_population=max_population, n=n, rank_by=rank_by, bridging=bridging,
            snap=snap, rook=rook, hotspots=hotspots).as_dict() | {"councils": list(councils or [])})
        prov.add_sources(data.sources)
        with publishing(out, command="target", provenance=prov) as pub:  # lock, stage, publish whole
            # the PDF is always written here (about 1-2 s): `target` is the command that makes committee papers
            outputs = pub.final(dict(write_action_areas(result, pub.dir, lsoas=lsoas, wards=data.wards,
                                                        lads=data.lads, pdf=True)))
    return TargetResult(result, dict(outputs))


__all__ = ["TargetResult", "run_target"]
