"""``crs simulate``: attribute-only simulated users against the real dialogue.

    crs simulate --dataset redial|opendialkg --file PATH [--turns 5] [--limit N]
                 [--out report.json] [--data-dir DIR] [--store-dir DIR] [--reveal KINDS]
                 [--answer-questions] [--simulator template|llm]
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections import Counter
from pathlib import Path

import typer

from crs.evaluation.variants import Dataset
from crs.simulation.user import KINDS, REVEAL_ORDER


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def simulate(
    dataset: Dataset = typer.Option(..., "--dataset", help="Whose dialogues give the target movies."),
    file: Path = typer.Option(..., "--file", help="Held-out dialogues: official ReDial JSONL, *_rec_turns.jsonl or reduced QA zip."),
    turns: int = typer.Option(5, "--turns", min=1, max=20, help="User messages per episode."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Simulate only the first N targets (one per dialogue)."),
    out: Path | None = typer.Option(None, "--out", help="JSON report path (default: reports/simulate-DATASET-FILE-tTURNS.json)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The shared data folder (default: settings / CRS_DATA_DIR)."),
    store_dir: Path | None = typer.Option(None, "--store-dir", help="Built corpus location (default: settings / data/store)."),
    reveal: str = typer.Option(",".join(REVEAL_ORDER), "--reveal",
                               help=f"Order in which the user reveals facts after the opening; kinds: {', '.join(KINDS)}."),
    answer_questions: bool = typer.Option(False, "--answer-questions",
                                          help="The user answers the bot's attribute questions from the target's "
                                               "metadata instead of saying its next fact."),
    simulator: str = typer.Option("template", "--simulator",
                                  help="template: the scripted user's words; llm: the same user's messages worded by "
                                       "the configured LLM backend (CRS_LLM_BACKEND), the template words on any failure."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Simulated users who know a target movie's attributes (never its title) talk to the bot;
    report how often the target is shown within TURNS messages."""
    from crs.catalog.store import CorpusMissingError
    from crs.datasets import DatasetFormatError, detect_format
    from crs.nlu.lexicon import load_lexicon
    from crs.settings import load_settings
    from crs.simulation.runner import format_table, run_simulation, to_dict
    from crs.simulation.targets import load_targets
    from crs.simulation.user import QuestionReader, genre_phrases
    from crs.simulation.voice import LLMVoice
    from crs.wiring import build_components

    order = tuple(k.strip() for k in reveal.split(",") if k.strip())
    if any(k not in KINDS for k in order):
        _fail(f"--reveal {reveal!r}: use a comma-separated list of {', '.join(KINDS)}")
    if simulator not in ("template", "llm"):
        _fail(f"--simulator {simulator!r}: use template or llm")
    try:
        detect_format(file)  # fail fast, before the corpus loads
    except (FileNotFoundError, DatasetFormatError) as exc:
        _fail(str(exc))

    with tempfile.TemporaryDirectory(prefix="crs-simulate-") as tmp:
        settings = load_settings(data_dir=data_dir, store_dir=store_dir, database_url=f"sqlite:///{Path(tmp) / 'sim.db'}",
                                 checkpoint_path=Path(tmp) / "sim.checkpoints.sqlite")
        if str(dataset) == "redial":  # never let the bot's model have been trained on these dialogues
            from crs.evaluation.overlap import app_settings_for_file

            try:
                settings = app_settings_for_file(settings, file, lambda m: typer.echo(m, err=True))
            except ValueError as exc:
                _fail(str(exc))
        try:
            components = build_components(settings)
        except CorpusMissingError as exc:
            _fail(str(exc))
            return
        index = components.store.index
        try:
            targets = load_targets(str(dataset), file, settings.data_dir, index, components.nlu.linker, limit)
        except (FileNotFoundError, DatasetFormatError, ValueError) as exc:
            components.service.close()
            _fail(str(exc))
            return
        if not targets:
            components.service.close()
            _fail(f"{file}: no recommended movie of these dialogues is in the corpus at {settings.store_dir}")
        genre_counts = Counter(g for m in index.movies for g in m.genres)
        lexicon = load_lexicon()
        questions = QuestionReader.from_prompts(settings.prompts_dir) if answer_questions else None
        voice = LLMVoice.from_prompts(components.backend, settings.prompts_dir, settings.llm_timeout_s) \
            if simulator == "llm" else None
        try:
            result = run_simulation(components.service, targets, turns, genre_phrases(lexicon), genre_counts,
                                    progress, order=order, questions=questions, mood_words=lexicon.mood_words,
                                    voice=voice)
        finally:
            components.service.close()
    parts = ["crs", "simulate", "--dataset", str(dataset), "--file", str(file), "--turns", str(turns),
             "--reveal", ",".join(order)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    if answer_questions:
        parts.append("--answer-questions")
    if simulator != "template":
        parts += ["--simulator", simulator]
    out = out or Path("reports") / f"simulate-{dataset}-{Path(file).stem}-t{turns}.json"
    parts += ["--out", str(out)]
    for flag, value in (("--data-dir", data_dir), ("--store-dir", store_dir)):
        if value is not None:
            parts += [flag, str(value)]
    doc = to_dict(result, str(dataset), str(file), shlex.join(parts), {
        "corpus": {"store_dir": str(settings.store_dir), "movies": len(index)},
        "collaborative_model": components.recommender.retriever.collab is not None,
        "llm_backend": settings.llm_backend,
        "n_recommendations": settings.n_recommendations,
        "user": {"kind": "attribute-only template user" if voice is None else "attribute-only user worded by the LLM",
                 "opening": "genre + decade", "reveal_order": list(order), "answers_questions": answer_questions},
        **({"voice": dict(sorted(voice.outcomes.items()))} if voice is not None else {}),
    })
    typer.echo(format_table(doc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}")
