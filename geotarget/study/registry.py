"""The study-file analysis sections: what each runner gets (:class:`StudyContext`) and the registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geotarget.data.study_data import StudyData
from geotarget.io.provenance import Provenance
from geotarget.jobs.run import RunResult
from geotarget.study.schema import ANALYSES, Study


@dataclass
class StudyContext:
    """What an analysis runner gets."""

    study: Study
    data: StudyData  #: the study's data (:func:`geotarget.data.load`): ``lsoas``, ``wards``, ``lads``, ...
    out: Path  #: the output folder
    stem: str  #: ``"imd2025"``: the prefix of the main job's files
    run: RunResult  #: the main job's result (summary, ward profiles, outputs)
    provenance: Provenance  #: add inputs the runner reads (``provenance.add_input``)

    def where(self, section: str, key: str | None = None) -> str:
        """Return where a key (or section) is in the study file (see :meth:`Study.where`)."""
        return self.study.where(section, key)


#: A runner gets the context and the section's validated keys (build its params model from them:
#: ``TargetParams(**section)``) and returns the files it wrote.
Runner = Callable[[StudyContext, Mapping[str, Any]], Mapping[str, Path]]

#: Section -> runner, for the analyses this installation can run.
REGISTRY: dict[str, Runner] = {}

#: What each analysis section needs, for the error when its runner is missing.
CAPABILITIES: dict[str, str] = {
    "aggregate": "summary measures for wards, councils, MSOAs and custom areas (geotarget aggregate)",
    "target": "targeted action areas (geotarget target)",
    "cluster": "area typologies (geotarget cluster)",
    "hotspots": "deprivation hot spots (geotarget hotspots)",
    "inequality": "inequality gradients, SII/RII (geotarget inequality)",
    "access": "community assets and access (geotarget access)",
    "hia": "health impact assessment screening (geotarget hia)",
}


def register(section: str, runner: Runner | None = None):
    """Register ``runner`` for a study section (usable as a decorator).

    Only the runner is added: the section's keys are declared once, by its params model
    (:mod:`geotarget.jobs.params`, generated into :data:`geotarget.study.schema.SECTIONS`), so a
    study file is validated the same whichever runners are registered.
    """
    if section not in ANALYSES:
        raise ValueError(f"section was {section!r} but is expected to be one of {list(ANALYSES)}")

    def add(fn: Runner) -> Runner:
        REGISTRY[section] = fn
        return fn

    return add(runner) if runner is not None else add


__all__ = ["CAPABILITIES", "REGISTRY", "Runner", "StudyContext", "register"]
