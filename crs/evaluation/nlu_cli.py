"""``crs evaluate-nlu --file PATH [--out report.json]``: the rule NLU against a labelled set."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import typer


def evaluate_nlu(
    file: Path = typer.Option(Path("data/nlu/labelled.jsonl"), "--file", help="Labelled utterances (JSONL, schema in data/nlu/README.md)."),
    out: Path = typer.Option(Path("reports/nlu-eval.json"), "--out", help="JSON report path (a PNG bar plot of per-slot F1 is written next to it)."),
    store_dir: Path | None = typer.Option(None, "--store-dir", help="Movie store whose table the linker uses (default: settings / CRS_STORE_DIR; without one, the ReDial movies)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder, for the ReDial fallback (default: settings / CRS_DATA_DIR)."),
    field: str = typer.Option("text", "--field", help="text: titles as people type them; raw: ReDial's original @ids."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Per-slot precision/recall/F1, intent accuracy and confusion, and every error, as JSON."""
    from crs.evaluation.nlu_eval import LabelledSetError, evaluate, format_table, load_index, load_labelled, plot_slot_f1
    from crs.evaluation.report import write_json
    from crs.nlu.factory import build_rule_nlu
    from crs.settings import load_settings

    if field not in ("text", "raw"):
        raise typer.BadParameter("--field must be text or raw")
    start = time.perf_counter()
    try:
        rows = load_labelled(file)
        settings = load_settings(store_dir=store_dir, data_dir=data_dir)
        index, source = load_index(settings.store_dir, settings.data_dir, lambda m: typer.echo(m, err=True))
    except (LabelledSetError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    nlu = build_rule_nlu(index)
    report = evaluate(rows, nlu, index, field_name=field, progress=progress)
    parts = ["crs", "evaluate-nlu", "--file", str(file), "--out", str(out), "--field", field]
    if store_dir is not None:
        parts += ["--store-dir", str(store_dir)]
    if data_dir is not None:
        parts += ["--data-dir", str(data_dir)]
    doc = {"command": shlex.join(parts), "file": str(file), "movies": source, "movie_count": len(index),
           "reference_year": nlu.reference_year, "field": field,
           "seconds": round(time.perf_counter() - start, 2), **report}
    typer.echo(format_table(report))
    json_path = write_json(doc, out)
    png_path = plot_slot_f1(report, json_path.with_suffix(".png"))
    typer.echo(f"{len(report['errors'])} utterances with errors; wrote {json_path} and {png_path}")
