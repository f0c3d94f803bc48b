"""Which rankers exist per dataset, and how to build them from settings.

ReDial rankers share the saved collaborative model (the one ``settings.retriever_model``
names, ``collab-v2.npz`` by default) when it exists and is current; otherwise it is
trained in memory (about five minutes) and the user is told. OpenDialKG rankers train in
seconds from ``train_rec_turns.jsonl`` every run. ``hybrid+llm`` wraps ``hybrid`` with
the configured LLM backend (:mod:`crs.evaluation.llm_variant`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path

from crs.datasets import Catalogue, load_opendialkg_catalogue, load_redial_catalogue
from crs.evaluation.rankers import EaseRanker, HybridRanker, PopularityRanker, Ranker
from crs.recommender.collaborative import CollaborativeModel, artefact_path
from crs.settings import Settings


class Dataset(StrEnum):
    REDIAL = "redial"
    OPENDIALKG = "opendialkg"


#: Variants per dataset, best first (the first is the default).
VARIANTS: dict[Dataset, tuple[str, ...]] = {
    Dataset.REDIAL: ("hybrid", "hybrid-stage1", "ease", "popularity", "hybrid+llm"),
    Dataset.OPENDIALKG: ("hybrid", "cooccurrence", "popularity", "hybrid+llm"),
}


@dataclass(frozen=True)
class LLMOptions:
    """How ``hybrid+llm`` asks the LLM backend (which backend: ``settings.llm_*``).

    Attributes:
        top: Stage-1 candidates handed to the LLM per sample.
        cache: SQLite file of answers kept across runs; None keeps them in memory only.
        backend: A ready backend (tests); None builds ``crs.llm.make_backend(settings)``.
    """

    top: int = 20
    cache: Path | None = None
    backend: object | None = None

Echo = Callable[[str], None]


def parse_variants(dataset: Dataset, text: str | None) -> list[str]:
    """"a,b" -> ["a", "b"] (default: the best variant), checked against :data:`VARIANTS`."""
    if not text:
        return [VARIANTS[dataset][0]]
    names = list(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    unknown = [n for n in names if n not in VARIANTS[dataset]]
    if unknown or not names:
        raise ValueError(f"unknown variant(s) {unknown or text!r} for {dataset}; choose from {', '.join(VARIANTS[dataset])}")
    return names


def load_catalogue(dataset: Dataset, data_dir: Path) -> Catalogue:
    if dataset is Dataset.REDIAL:
        return load_redial_catalogue(data_dir)
    return load_opendialkg_catalogue(data_dir)


def load_collaborative(settings: Settings, echo: Echo, progress: bool = True,
                       model_path: Path | None = None) -> tuple[CollaborativeModel, str]:
    """The model at ``model_path`` if given; else the saved one when present and current,
    else one trained now. Returns (model, provenance)."""
    from crs.recommender.collaborative_training import build_model, data_fingerprint

    if model_path is not None:
        return CollaborativeModel.load(model_path), str(model_path)
    path = artefact_path(settings)
    reason = f"no artefact at {path}"
    if path.exists():
        try:
            model = CollaborativeModel.load(path)
        except ValueError as exc:
            reason = str(exc)
        else:
            current = data_fingerprint(settings.data_dir)
            if model.meta.get("fingerprint") == current and model.meta.get("limit") is None:
                return model, str(path)
            reason = f"{path} was trained on other data (fingerprint {model.meta.get('fingerprint')} != {current})"
    echo(f"{reason}: training the collaborative model in memory (~5 min; `crs train retriever` saves it)")
    return build_model(settings.data_dir, progress=progress), "trained in memory"


def build_rankers(dataset: Dataset, names: Sequence[str], settings: Settings, catalogue: Catalogue,
                  echo: Echo, progress: bool = True, model_path: Path | None = None,
                  llm: LLMOptions | None = None) -> tuple[dict[str, Ranker], dict[str, object]]:
    """Build the named rankers (in that order). Returns (rankers, provenance info for the report)."""
    llm = llm or LLMOptions()
    backend = None
    if "hybrid+llm" in names:  # a misconfigured backend fails before minutes of model loading
        from crs.llm import make_backend

        backend = llm.backend if llm.backend is not None else make_backend(settings)
    stage1 = list(dict.fromkeys("hybrid" if n == "hybrid+llm" else n for n in names))
    rankers, info = _build_stage1(dataset, stage1, settings, catalogue, echo, progress, model_path)
    if backend is not None:
        rankers["hybrid+llm"] = _llm_ranker(dataset, rankers["hybrid"], settings, catalogue, llm, backend)
    return {n: rankers[n] for n in names}, info


def _llm_ranker(dataset: Dataset, base: Ranker, settings: Settings, catalogue: Catalogue, llm: LLMOptions,
                backend: object) -> Ranker:
    from crs.evaluation.llm_variant import LLMRefinedRanker
    from crs.recommender.describe import catalogue_descriptions
    from crs.prompts import PromptLibrary
    from crs.recommender.grounded import GroundedRanker, RankingCache

    label = getattr(backend, "name", type(backend).__name__)
    model_name = settings.llm_model if label != "template" else ""
    grounded = GroundedRanker(backend, PromptLibrary(settings.prompts_dir).text("rerank_system.txt"),
                              RankingCache(llm.cache), model_name)
    descriptions = catalogue_descriptions(str(dataset), settings.data_dir, catalogue.ids, catalogue.labels)
    return LLMRefinedRanker(base, grounded, descriptions, llm.top, label)


def _build_stage1(dataset: Dataset, names: Sequence[str], settings: Settings, catalogue: Catalogue,
                  echo: Echo, progress: bool, model_path: Path | None) -> tuple[dict[str, Ranker], dict[str, object]]:
    if dataset is Dataset.OPENDIALKG:
        from crs.evaluation.opendialkg_model import build_opendialkg_rankers

        built = build_opendialkg_rankers(settings.data_dir, catalogue)
        counts = built["cooccurrence"].counts
        popularity = dict(zip(catalogue.ids, counts.popularity.tolist()))
        pool: dict[str, Ranker] = {**built, "popularity": PopularityRanker(catalogue, popularity)}
        hybrid = built["hybrid"]
        info = {"model": "trained in memory on opendialkg/train_rec_turns.jsonl",
                "hybrid_weights": {"kg": hybrid.kg, "popularity": hybrid.popularity, "decay": hybrid.decay}}
        return {n: pool[n] for n in names}, info
    model, provenance = load_collaborative(settings, echo, progress, model_path)
    popularity = dict(zip(model.item_ids, model.popularity.tolist()))
    factories: dict[str, Callable[[], Ranker]] = {
        "popularity": lambda: PopularityRanker(catalogue, popularity),
        "ease": lambda: EaseRanker(catalogue, model),
        "hybrid": lambda: HybridRanker(catalogue, model),
        "hybrid-stage1": lambda: HybridRanker(catalogue, replace(model, ranker=None), name="hybrid-stage1"),
    }
    info = {"model": provenance, "lambda": model.meta.get("lambda"), "fusion": asdict(model.fusion),
            "ease_fusion": asdict(model.ease_fusion), "ranker": model.meta.get("ranker")}
    return {n: factories[n]() for n in names}, info
