"""``crs evaluate`` and ``crs train retriever``.

    crs evaluate --dataset redial|opendialkg --file PATH [--protocol all|dedup]
                 [--k 1,10,50] [--out report.json] [--data-dir DIR] [--variants a,b]
    crs train retriever [--data-dir DIR] [--out FILE]
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import typer

from crs.evaluation.protocols import Protocol
from crs.evaluation.variants import VARIANTS, Dataset

_VARIANT_HELP = "; ".join(f"{d}: {', '.join(v)}" for d, v in VARIANTS.items())


def _parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise typer.BadParameter(f"--k expects comma-separated integers, got {text!r}") from None
    if not ks or ks[0] < 1:
        raise typer.BadParameter("--k needs at least one cut-off >= 1")
    return ks


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def evaluate(
    dataset: Dataset = typer.Option(..., "--dataset", help="Which catalogue and models to use."),
    file: Path = typer.Option(..., "--file", help="Official ReDial dialogue JSONL or *_rec_turns.jsonl (auto-detected)."),
    protocol: Protocol = typer.Option(Protocol.DEDUP, "--protocol", help="all: every sample; dedup: drop repeated targets, never rank context items."),
    k: str = typer.Option("1,10,50", "--k", help="Recall cut-offs, comma-separated."),
    out: Path | None = typer.Option(None, "--out", help="JSON report path (a PNG plot is written next to it). Default: reports/eval-DATASET-FILE-PROTOCOL.json"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    variants: str | None = typer.Option(None, "--variants", help=f"Comma-separated rankers, the first is reported at top level. {_VARIANT_HELP}."),
    model: Path | None = typer.Option(None, "--model", help="ReDial collaborative artefact to use as is (default: ARTIFACTS_DIR/collab-v1.npz when current, else trained in memory)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Rank the catalogue at every recommendation turn of FILE and report Recall/NDCG/MRR."""
    from crs.datasets import DatasetFormatError, detect_format, read_samples
    from crs.evaluation.report import format_table, plot_recall, to_dict, write_json
    from crs.evaluation.runner import run_evaluation
    from crs.evaluation.variants import build_rankers, load_catalogue, parse_variants
    from crs.settings import load_settings

    start = time.perf_counter()
    ks = _parse_ks(k)
    settings = load_settings(data_dir=data_dir)
    try:
        names = parse_variants(dataset, variants)
        file_format = detect_format(file)
        catalogue = load_catalogue(dataset, settings.data_dir)
        samples = list(read_samples(file, catalogue, file_format))
        rankers, info = build_rankers(dataset, names, settings, catalogue, lambda m: typer.echo(m, err=True), progress, model)
    except (DatasetFormatError, FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
        return
    result = run_evaluation(samples, rankers, protocol, ks, catalogue, dataset=str(dataset), file=file,
                            file_format=str(file_format), progress=progress, total=len(samples))
    result.seconds = time.perf_counter() - start
    typer.echo(format_table(result))
    out = out or Path("reports") / f"eval-{dataset}-{Path(file).stem}-{protocol}.json"
    parts = ["crs", "evaluate", "--dataset", str(dataset), "--file", str(file), "--protocol", str(protocol),
             "--k", ",".join(map(str, ks)), "--out", str(out), "--variants", ",".join(names)]
    if data_dir is not None:
        parts += ["--data-dir", str(data_dir)]
    if model is not None:
        parts += ["--model", str(model)]
    command = shlex.join(parts)
    doc = to_dict(result, command, {"models": info})
    json_path = write_json(doc, out)
    png_path = plot_recall(result, json_path.with_suffix(".png"))
    typer.echo(f"wrote {json_path} and {png_path}")


def train_retriever(
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    out: Path | None = typer.Option(None, "--out", help="Artefact path (default: ARTIFACTS_DIR/collab-v1.npz)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Train the collaborative model on the ReDial training files and save it."""
    from crs.recommender.collaborative import train
    from crs.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    try:
        path = train(settings, progress=progress, out=out)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {path} and {path.with_suffix('.json')}")


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` and the ``train`` group to the main CLI."""
    app.command("evaluate")(evaluate)
    train_app = typer.Typer(help="Train recommender artefacts.", no_args_is_help=True)
    train_app.command("retriever")(train_retriever)
    app.add_typer(train_app, name="train")
