"""``crs evaluate`` and ``crs train retriever``.

    crs evaluate --dataset redial|opendialkg --file PATH [--protocol all|dedup]
                 [--k 1,10,50] [--out report.json] [--data-dir DIR] [--variants a,b]
    crs train retriever [--data-dir DIR] [--out FILE] [--holdout-valid]
    crs train rl [--backend template|openai] [--samples N] [--epochs E] [--out FILE]
    crs train feedback [--db URL] [--out FILE] [--min-events N]   (crs.recommender.feedback_cli)
    crs bench [--sizes 7k,87k,300k] [--store-dir DIR] [--turns N] [--eval/--no-eval] [--build-limit N] [--train] [--out FILE]
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
    model: Path | None = typer.Option(None, "--model", help="ReDial collaborative artefact to use as is; refused when it was trained on dialogues of FILE (default: ARTIFACTS_DIR/collab-v2.npz, else collab-v2-trainonly.npz, each when current and not trained on FILE, else one trained in memory without FILE)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    resamples: int = typer.Option(1000, "--bootstrap", min=0, help="Resamples of the dialogue bootstrap behind the 95% intervals in the report (0: no intervals)."),
    llm_top: int = typer.Option(20, "--llm-top", help="hybrid+llm: stage-1 candidates the LLM reorders per sample."),
    llm_cache: Path | None = typer.Option(None, "--llm-cache", help="hybrid+llm: SQLite file caching LLM answers across runs (default: in memory)."),
    llm_backend: str | None = typer.Option(None, "--llm-backend", help="hybrid+llm: template or openai (default: settings / CRS_LLM_BACKEND)."),
    llm_base_url: str | None = typer.Option(None, "--llm-base-url", help="hybrid+llm: OpenAI-compatible server URL, e.g. http://127.0.0.1:11434/v1."),
    llm_model: str | None = typer.Option(None, "--llm-model", help="hybrid+llm: model name sent to the server."),
) -> None:
    """Rank the catalogue at every recommendation turn of FILE and report Recall/NDCG/MRR."""
    from crs.datasets import DatasetFormatError, detect_format, read_samples
    from crs.evaluation.report import format_table, plot_recall, to_dict, write_json
    from crs.evaluation.runner import run_evaluation
    from crs.evaluation.uncertainty import bootstrap, format_uncertainty
    from crs.evaluation.variants import LLMOptions, build_rankers, load_catalogue, parse_variants
    from crs.settings import load_settings

    start = time.perf_counter()
    ks = _parse_ks(k)
    try:
        settings = load_settings(data_dir=data_dir, llm_backend=llm_backend, llm_base_url=llm_base_url,
                                 llm_model=llm_model)
        names = parse_variants(dataset, variants)
        file_format = detect_format(file)
        catalogue = load_catalogue(dataset, settings.data_dir)
        samples = list(read_samples(file, catalogue, file_format))
        rankers, info = build_rankers(dataset, names, settings, catalogue, lambda m: typer.echo(m, err=True), progress,
                                      model, LLMOptions(top=llm_top, cache=llm_cache), evaluated=file)
    except (DatasetFormatError, FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
        return
    result = run_evaluation(samples, rankers, protocol, ks, catalogue, dataset=str(dataset), file=file,
                            file_format=str(file_format), progress=progress, total=len(samples))
    uncertainty = bootstrap(result, resamples)
    result.seconds = time.perf_counter() - start
    typer.echo(format_table(result))
    if uncertainty is not None:
        typer.echo(format_uncertainty(uncertainty, result.primary))
    variant_extra = uncertainty.variant_extra() if uncertainty is not None else {}
    for name, ranker in rankers.items():
        if hasattr(ranker, "report"):
            variant_extra.setdefault(name, {})["llm"] = ranker.report()
    for name, details in variant_extra.items():
        if "llm" not in details:
            continue
        llm = details["llm"]
        typer.echo(f"{name}: backend={llm['backend']} top_k={llm['top_k']} llm_calls={llm['llm_calls']} "
                   f"cache_hits={llm['cache_hits']} reordered={llm['reordered']} discarded={llm['discarded']} "
                   f"failed={llm['failed']} unparseable={llm['unparseable']} no_model={llm['no_model']}")
    out = out or Path("reports") / f"eval-{dataset}-{Path(file).stem}-{protocol}.json"
    parts = ["crs", "evaluate", "--dataset", str(dataset), "--file", str(file), "--protocol", str(protocol),
             "--k", ",".join(map(str, ks)), "--out", str(out), "--variants", ",".join(names),
             "--bootstrap", str(resamples)]
    if data_dir is not None:
        parts += ["--data-dir", str(data_dir)]
    if model is not None:
        parts += ["--model", str(model)]
    if "hybrid+llm" in names:
        parts += ["--llm-top", str(llm_top), "--llm-backend", settings.llm_backend]
        if settings.llm_backend != "template":
            parts += ["--llm-model", settings.llm_model] + (["--llm-base-url", settings.llm_base_url] if settings.llm_base_url else [])
    command = shlex.join(parts)
    extra = {"models": info} | ({"uncertainty": uncertainty.method()} if uncertainty is not None else {})
    doc = to_dict(result, command, extra, variant_extra)
    json_path = write_json(doc, out)
    png_path = plot_recall(result, json_path.with_suffix(".png"),
                           uncertainty.intervals if uncertainty is not None else None)
    typer.echo(f"wrote {json_path} and {png_path}")


def train_retriever(
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    out: Path | None = typer.Option(None, "--out", help="Artefact path (default: ARTIFACTS_DIR/collab-v2.npz; with --holdout-valid collab-v2-trainonly.npz)."),
    holdout_valid: bool = typer.Option(False, "--holdout-valid", help="Train on the two train files only, keeping redial/valid_dialogues.jsonl out (the model valid figures come from)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Train the collaborative model on the ReDial official train split (train files + valid,
    or without valid with --holdout-valid) and save it."""
    from crs.catalog.store import CorpusMissingError
    from crs.recommender.collaborative import ARTEFACT_NAME
    from crs.recommender.collaborative_training import build_model, built_store
    from crs.recommender.training_data import SHIPPED_FILES, TRAIN_ONLY_FILES, holdout_name
    from crs.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    files = TRAIN_ONLY_FILES if holdout_valid else SHIPPED_FILES
    store_dir = built_store(settings.store_dir)
    if store_dir is None:
        typer.echo(f"no movie store at {settings.store_dir}: the metadata block gets no sentence-embedding neighbours "
                   "(`crs corpus build` first for the full model)")
    try:
        model = build_model(settings.data_dir, progress=progress, files=files, store_dir=store_dir)
        path = model.save(Path(out) if out else
                          Path(settings.artifacts_dir) / (holdout_name(ARTEFACT_NAME) if holdout_valid else ARTEFACT_NAME))
    except (FileNotFoundError, ValueError, CorpusMissingError) as exc:
        _fail(str(exc))
        return
    for record in model.meta["training"]["files"]:
        typer.echo(f"{record['name']}: {record['used']:,} dialogues used of {record['read']:,} "
                   f"({record['dropped_duplicates']:,} duplicates of an earlier file dropped)")
    typer.echo(f"wrote {path} and {path.with_suffix('.json')}")


def train_rl(
    backend: str | None = typer.Option(None, "--backend", help="Judge: template (ground truth of the training dialogues) or openai (an LLM). Default: settings / CRS_LLM_BACKEND."),
    llm_base_url: str | None = typer.Option(None, "--llm-base-url", help="OpenAI-compatible server URL (with --backend openai)."),
    llm_model: str | None = typer.Option(None, "--llm-model", help="Model name sent to the server."),
    llm_cache: Path | None = typer.Option(None, "--llm-cache", help="SQLite file caching the LLM's answers (default: in memory)."),
    samples: int | None = typer.Option(None, "--samples", help="Training contexts to use (a seeded subset; default: all ~4,500)."),
    epochs: int = typer.Option(3, "--epochs", help="Passes over the training contexts."),
    set_size: int = typer.Option(20, "--set-size", help="Movies per sampled candidate set."),
    sets: int = typer.Option(8, "--sets", help="Candidate sets sampled per context and step."),
    temperature: float = typer.Option(0.5, "--temperature", help="Sampling temperature, relative to each pool's score spread."),
    learning_rate: float = typer.Option(0.05, "--lr", help="Adam step in units of each weight's scale."),
    signal: str = typer.Option("auto", "--signal", help="auto | truth | llm | both (auto: truth with template, both with an LLM)."),
    seed: int = typer.Option(0, "--seed"),
    base: Path | None = typer.Option(None, "--base", help="Base artefact (default: the one settings.retriever_model names)."),
    out: Path | None = typer.Option(None, "--out", help="New artefact (default: ARTIFACTS_DIR/collab-v2-rl.npz); the base is kept."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    limit: int | None = typer.Option(None, "--limit", help="Read only the first N dialogues of each training file (quick runs, tests)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """The RAR feedback loop: sample candidate sets from the retriever, let the judge rank
    them, move the fusion weights towards the preferred sets, save a new artefact."""
    from dataclasses import asdict

    from crs.llm import make_backend
    from crs.prompts import PromptLibrary
    from crs.recommender.collaborative import CollaborativeModel, artefact_path
    from crs.recommender.grounded import RankingCache
    from crs.recommender.rl import RL_ARTEFACT_NAME, RLConfig, make_judge
    from crs.recommender.rl import train_rl as run_rl
    from crs.settings import load_settings

    try:
        settings = load_settings(data_dir=data_dir, llm_backend=backend, llm_base_url=llm_base_url, llm_model=llm_model)
        config = RLConfig(samples=samples, epochs=epochs, set_size=set_size, sets_per_context=sets,
                          temperature=temperature, learning_rate=learning_rate, signal=signal, seed=seed)
        llm = make_backend(settings) if settings.llm_backend != "template" else None
        base_path = Path(base) if base else artefact_path(settings)
        model = CollaborativeModel.load(base_path)
        prompt = PromptLibrary(settings.prompts_dir).text("rerank_system.txt")
        cache = RankingCache(llm_cache)
        model_name = settings.llm_model if llm is not None else ""

        def judge_factory(item_ids, descriptions):
            return make_judge(config, llm, prompt, item_ids, descriptions, model_name, cache)

        out_path = Path(out) if out else Path(settings.artifacts_dir) / RL_ARTEFACT_NAME
        path, outcome = run_rl(settings.data_dir, model, judge_factory, config, out_path, base_path, limit, progress)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
        return
    start, learned = asdict(outcome.start), asdict(outcome.learned)
    typer.echo(f"judge: {outcome.judge}; {outcome.contexts:,} training contexts "
               f"({outcome.contexts_with_target_in_pool:,} with the ground truth in the pool); {outcome.seconds:.0f}s")
    typer.echo(f"{'weight':<12}{'before':>10}{'after':>10}")
    for key in ("words", "content", "popularity", "decay", "seeker", "recommender"):
        typer.echo(f"{key:<12}{start[key]:>10.4g}{learned[key]:>10.4g}")
    typer.echo("training contexts, before: " + ", ".join(f"{k} {v:.4f}" for k, v in outcome.train_recall_before.items()))
    typer.echo("training contexts, after:  " + ", ".join(f"{k} {v:.4f}" for k, v in outcome.train_recall_after.items()))
    typer.echo(f"mean reward per epoch: {outcome.reward_per_epoch}")
    if outcome.llm:
        typer.echo("llm: " + ", ".join(f"{k}={v}" for k, v in outcome.llm.items()))
    typer.echo(f"wrote {path} and {path.with_suffix('.json')} (base kept: {base_path}); "
               f"use it with --model {path} or CRS_RETRIEVER_MODEL={path.name}")


def bench(
    sizes: str | None = typer.Option(None, "--sizes", help="Catalogue sizes, comma-separated: 7k (ReDial part of the full store), 87k (the full store), 300k (full + synthetic; built once, cached under data/bench/). Default: only --store-dir / the settings' store as it is."),
    store_dir: Path | None = typer.Option(None, "--store-dir", help="The movie store (the full one for --sizes; default: settings / CRS_STORE_DIR)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    artifacts_dir: Path | None = typer.Option(None, "--artifacts-dir", help="Where the collaborative artefact is (default: settings)."),
    dialogues_file: Path | None = typer.Option(None, "--dialogues-file", help="ReDial dialogues whose seeker messages are the timed turns (default: DATA_DIR/redial/valid_dialogues.jsonl)."),
    turns: int = typer.Option(300, "--turns", min=1, help="Turns timed per size."),
    warmup: int = typer.Option(8, "--warmup", min=1, help="Untimed turns first (the first one's time is reported as the cold first turn)."),
    hnsw_queries: int = typer.Option(100, "--hnsw-queries", min=0, help="Searches comparing Chroma's HNSW with exact search (0 skips)."),
    cache_dir: Path = typer.Option(Path("data/bench"), "--cache-dir", help="Where the derived 7k/300k stores are cached."),
    evaluation: bool = typer.Option(True, "--eval/--no-eval", help="Also measure evaluation throughput (ReDial hybrid, dedup)."),
    eval_file: Path | None = typer.Option(None, "--eval-file", help="Dialogue file for the throughput (default: the dialogues file)."),
    eval_dialogues: int | None = typer.Option(None, "--eval-dialogues", help="Use only the first N dialogues of it."),
    model: Path | None = typer.Option(None, "--model", help="Collaborative artefact for the evaluation (default: the settings' one)."),
    build_limit: int = typer.Option(0, "--build-limit", min=0, help="Also time a throw-away corpus build of this many ReDial movies (0 skips)."),
    train: bool = typer.Option(False, "--train", help="Also time training the retriever (minutes; nothing is saved)."),
    out: Path = typer.Option(Path("reports/bench.json"), "--out", help="JSON report path."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Per-stage chat-turn latency p50/p95/p99 at several catalogue sizes, peak memory,
    corpus build, evaluation (and optionally training) throughput; print and write JSON."""
    import json
    import sys

    from crs.bench import BenchOptions, format_bench, run_bench
    from crs.bench_stores import parse_sizes
    from crs.settings import load_settings

    try:
        chosen = tuple(parse_sizes(sizes)) if sizes else ()
        settings = load_settings(store_dir=store_dir, data_dir=data_dir, artifacts_dir=artifacts_dir)
        dialogues = dialogues_file or Path(settings.data_dir) / "redial" / "valid_dialogues.jsonl"
        if not dialogues.exists():
            raise FileNotFoundError(f"dialogue file not found: {dialogues} (set --dialogues-file or --data-dir)")
        options = BenchOptions(dialogues, chosen, turns, warmup, hnsw_queries, cache_dir,
                               (eval_file or dialogues) if evaluation else None, eval_dialogues, model, build_limit, train,
                               {"command": shlex.join(["crs", "bench", *sys.argv[2:]])})
        doc = run_bench(settings, options, lambda m: typer.echo(m, err=True), progress)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(format_bench(doc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``evaluate``, ``simulate`` and the ``train`` group to the main CLI."""
    app.command("evaluate")(evaluate)
    from crs.simulation.cli import simulate

    app.command("simulate")(simulate)
    app.command("bench")(bench)
    from crs.evaluation.nlu_cli import evaluate_nlu

    app.command("evaluate-nlu")(evaluate_nlu)
    train_app = typer.Typer(help="Train recommender artefacts.", no_args_is_help=True)
    train_app.command("retriever")(train_retriever)
    train_app.command("rl")(train_rl)
    from crs.recommender.feedback_cli import train_feedback

    train_app.command("feedback")(train_feedback)
    app.add_typer(train_app, name="train")
