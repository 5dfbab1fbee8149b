"""Study-file sections [cluster], [hotspots] and [inequality]: their keys and runners."""

from __future__ import annotations

from geotarget.jobs.analyses import run_cluster, run_hotspots, run_inequality
from geotarget.study.registry import register
from geotarget.study.schema import Key


def register_analysis_sections() -> None:
    """Register runners for the study-file sections (called by :mod:`geotarget.study.pipeline` on import)."""

    def inputs(ctx, params, *keys):
        for k in keys:
            if params.get(k) not in (None, "sample"):
                ctx.provenance.add_input(params[k], role=k)

    @register("cluster", schema={
        "level": Key("str", choices=("lsoa", "ward"), help="areas to cluster"),
        "k": Key("int_or_auto", min=2, help="number of types, or auto (3-8)"),
        "method": Key("str", choices=("kmeans", "ward")),
        "spatial": Key("bool", help="contiguous regions (contiguity-constrained Ward)"),
        "min_population": Key("int", min=0, help="with spatial: people per region at least"),
        "indicators": Key("path", help="indicator table keyed by LSOA or ward code (default: IoD domains)"),
        "id_column": Key("str"),
        "columns": Key("str_list", help="indicator columns to use"),
        "higher_is_better": Key("str_list", help="indicators where higher is better"),
        "reference": Key("str", choices=("england", "region", "study")),
        "seed": Key("int", min=0),
    })
    def _run_cluster_section(ctx, params):
        p = {k: v for k, v in params.items() if v is not None}
        inputs(ctx, p, "indicators")
        res = run_cluster(ctx.data, level=p.get("level", "lsoa"), method="spatial" if p.get("spatial") else p.get("method", "kmeans"),
                          k=p.get("k", "auto"), min_population=p.get("min_population"),
                          indicators=p.get("indicators"), id_column=p.get("id_column"), columns=p.get("columns"),
                          higher_is_better=p.get("higher_is_better", ()), reference=p.get("reference", "england"),
                          seed=p.get("seed", 0), out=ctx.out)
        return res.outputs

    @register("hotspots", schema={
        "indicator": Key("str", help="IoD column or a column of indicators"),
        "indicators": Key("path", help="LSOA indicator table"),
        "id_column": Key("str"),
        "method": Key("str", choices=("gi", "moran")),
        "permutations": Key("int_or_auto", min=99, help="auto: enough for the FDR threshold"),
        "alpha": Key("float", min=0, max=1),
        "seed": Key("int", min=0),
        "islands": Key("str", choices=("link", "exclude")),
    })
    def _run_hotspots_section(ctx, params):
        p = {k: v for k, v in params.items() if v is not None}
        inputs(ctx, p, "indicators")
        res = run_hotspots(ctx.data, indicator=p.get("indicator", "imd_score"), indicators=p.get("indicators"),
                           id_column=p.get("id_column"), method=p.get("method", "gi"),
                           permutations=p.get("permutations", "auto"), alpha=p.get("alpha", 0.05),
                           seed=p.get("seed", 12345), islands=p.get("islands", "link"), out=ctx.out)
        return res.outputs

    @register("inequality", schema={
        "indicator": Key("str", help="an IoD column or a column of indicators (default: every column of indicators)"),
        "indicators": Key("path", help="LSOA indicator table"),
        "id_column": Key("str"),
        "deciles": Key("str", choices=("national", "local")),
        "confidence": Key("float", min=0.5, max=0.999),
        "repetitions": Key("int", min=1000),
        "seed": Key("int", min=0),
    })
    def _run_inequality_section(ctx, params):
        p = {k: v for k, v in params.items() if v is not None}
        inputs(ctx, p, "indicators")
        res = run_inequality(ctx.data, indicator=p.get("indicator"), indicators=p.get("indicators"),
                             id_column=p.get("id_column"), deciles=p.get("deciles", "national"),
                             confidence=p.get("confidence", 0.95), repetitions=p.get("repetitions", 100_000),
                             seed=p.get("seed", 0), out=ctx.out)
        return res.outputs
