"""Reports of an evaluation run: a console table, a JSON file and a Recall@k plot.

Numbers are only comparable under the same protocol, file and catalogue, so the JSON
always carries them together with the command that produced it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crs.evaluation.runner import EvaluationResult


def to_dict(result: EvaluationResult, command: str = "", extra: dict[str, Any] | None = None,
            variant_extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON document: the primary variant's metrics at top level, every variant below.

    ``variant_extra`` adds per-variant details (``hybrid+llm``: its LLM counters under "llm").
    """
    doc: dict[str, Any] = {
        "dataset": result.dataset,
        "protocol": str(result.protocol),
        "file": str(result.file),
        "file_format": result.file_format,
        "samples": result.samples,
        "missing_from_catalogue": result.missing_from_catalogue,
        "skipped_repeats": result.skipped_repeats,
        "catalogue_size": result.catalogue_size,
        "seconds": round(result.seconds, 2),
        "variant": result.primary,
        "metrics": {k: round(v, 4) for k, v in result.metrics.items()},
        "variants": {
            name: {"metrics": {k: round(v, 4) for k, v in variant.metrics.items()},
                   "seconds": round(variant.seconds, 2)}
            for name, variant in result.variants.items()
        },
    }
    for name, details in (variant_extra or {}).items():
        if name in doc["variants"]:
            doc["variants"][name].update(details)
    if command:
        doc["command"] = command
    if extra:
        doc.update(extra)
    return doc


def format_table(result: EvaluationResult) -> str:
    """A fixed-width table, one row per variant (the primary one marked with *)."""
    keys = list(result.metrics)
    head = f"{'variant':<16}" + "".join(f"{k:>11}" for k in keys)
    lines = [
        f"{result.dataset} | protocol={result.protocol} | file={result.file} | samples={result.samples:,} "
        f"| missing from catalogue={result.missing_from_catalogue:,} | catalogue={result.catalogue_size:,} "
        f"| {result.seconds:.1f}s",
        head,
        "-" * len(head),
    ]
    for name, variant in result.variants.items():
        label = name + (" *" if name == result.primary else "")
        lines.append(f"{label:<16}" + "".join(f"{variant.metrics[k]:>11.4f}" for k in keys))
    return "\n".join(lines)


def write_json(doc: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def plot_recall(result: EvaluationResult, path: Path,
                intervals: dict[str, dict[str, tuple[float, float]]] | None = None) -> Path:
    """Recall@k for k = 1..max(ks), one curve per variant, as a PNG (Agg backend, no display).

    ``intervals`` (variant -> "recall@k" -> (low, high), see :mod:`crs.evaluation.uncertainty`)
    adds an error bar at each reported cut-off."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    max_k = max(next(iter(result.variants.values())).accumulator.ks)
    figure = Figure(figsize=(6.4, 4.2), dpi=110)
    axes = figure.subplots()
    ks = list(range(1, max_k + 1))
    styles = ("-", "--", ":", "-.")
    for number, (name, variant) in enumerate(result.variants.items()):
        # distinct dash patterns keep identical curves (hybrid+llm with the template backend) visible
        curve = variant.accumulator.recall_curve(max_k)
        (line,) = axes.plot(ks, curve, label=name, linestyle=styles[number % len(styles)],
                            linewidth=2.2 if name == result.primary else 1.4)
        bars = [(k, *intervals[name][f"recall@{k}"]) for k in variant.accumulator.ks
                if intervals and f"recall@{k}" in intervals.get(name, {})]
        if bars:
            at = [k for k, _, _ in bars]
            low = [curve[k - 1] - lo for k, lo, _ in bars]
            high = [hi - curve[k - 1] for k, _, hi in bars]
            axes.errorbar(at, [curve[k - 1] for k in at], yerr=[low, high], fmt="none", ecolor=line.get_color(),
                          capsize=3, linewidth=1)
    axes.set_xlabel("k")
    axes.set_ylabel("Recall@k")
    axes.set_ylim(0, 1)
    axes.set_xlim(1, max_k)
    axes.grid(alpha=0.3)
    note = ", bars: 95% dialogue bootstrap" if intervals else ""
    axes.set_title(f"{result.dataset} {result.file.name} ({result.protocol}, n={result.samples:,}{note})", fontsize=9)
    axes.legend(loc="lower right")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
