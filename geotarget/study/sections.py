"""Study-file sections [cluster], [hotspots] and [inequality]: their runners.

Their keys are the fields of :class:`~geotarget.jobs.params.ClusterParams`, :class:`HotspotsParams`
and :class:`InequalityParams` (generated into :data:`geotarget.study.schema.SECTIONS`); a runner
builds the model from its section and passes it to the job function.
"""

from __future__ import annotations

from geotarget.jobs.analyses import run_cluster, run_hotspots, run_inequality
from geotarget.jobs.params import ClusterParams, HotspotsParams, InequalityParams
from geotarget.study.registry import register


def register_analysis_sections() -> None:
    """Register runners for the study-file sections (called by :mod:`geotarget.study.pipeline` on import)."""

    def inputs(ctx, params, *keys):
        for k in keys:
            if params.get(k) not in (None, "sample"):
                ctx.provenance.add_input(params[k], role=k)

    @register("cluster")
    def _run_cluster_section(ctx, section):
        p = ClusterParams(**section)
        inputs(ctx, section, "indicators")
        return run_cluster(ctx.data, **p.job_kwargs(), out=ctx.out).outputs

    @register("hotspots")
    def _run_hotspots_section(ctx, section):
        p = HotspotsParams(**section)
        inputs(ctx, section, "indicators")
        return run_hotspots(ctx.data, **p.job_kwargs(), out=ctx.out).outputs

    @register("inequality")
    def _run_inequality_section(ctx, section):
        p = InequalityParams(**section)
        inputs(ctx, section, "indicators")
        return run_inequality(ctx.data, **p.job_kwargs(), out=ctx.out).outputs
