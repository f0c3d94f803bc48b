"""Which rankers exist per dataset, and how to build them from settings.

ReDial rankers share the saved collaborative model (the one ``settings.retriever_model``
names, ``collab-v2.npz`` by default, trained on train + valid) when it exists, is current
and was not trained on any dialogue of the evaluated file. Otherwise the valid-held-out
artefact beside it (``collab-v2-trainonly.npz``, ``crs train retriever --holdout-valid``) is
used under the same conditions, and failing that a model is trained in memory without the
evaluated dialogues (about five minutes); the user is told which and why. A model given
with ``--model`` is used as is, unless it was trained on the evaluated file: then the
evaluation stops (:mod:`crs.evaluation.overlap`). OpenDialKG rankers train in seconds
every run, on the official train split's rec-turn files minus the evaluated file's turns.
``hybrid+llm`` wraps ``hybrid`` with the configured LLM backend
(:mod:`crs.evaluation.llm_variant`).
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


class TrainedOnEvaluatedFile(ValueError):
    """``--model`` was trained on dialogues of the evaluated file."""


def load_collaborative(settings: Settings, echo: Echo, progress: bool = True,
                       model_path: Path | None = None, evaluated: Path | None = None,
                       catalogue: Catalogue | None = None) -> tuple[CollaborativeModel, str]:
    """The model to evaluate ``evaluated`` with. Returns (model, provenance).

    ``model_path`` given: that model, unless it was trained on dialogues of ``evaluated``
    (raises :class:`TrainedOnEvaluatedFile`). Otherwise the settings' artefact, else its
    valid-held-out sibling, each only when current and not trained on ``evaluated``; else
    a model trained now without the dialogues of ``evaluated``.
    """
    from crs.evaluation.overlap import describe_file, is_current, read_meta, redial_overlap, training_files
    from crs.recommender.collaborative_training import build_model
    from crs.recommender.training_data import holdout_name

    catalogue = catalogue or load_redial_catalogue(settings.data_dir)
    described = describe_file(evaluated, catalogue) if evaluated is not None else None

    def overlap_of(path: Path, meta: dict) -> str:
        """Why ``path`` must not score ``evaluated`` ("" when it may)."""
        if described is None:
            return ""
        files = training_files(meta, settings.data_dir, catalogue)
        if files is None:
            return ""
        found = redial_overlap(files, described, settings.data_dir, catalogue)
        return f"{path} was trained on {found.describe(evaluated)}" if found else ""

    if model_path is not None:
        meta = read_meta(model_path) or {}
        if described is not None and training_files(meta, settings.data_dir, catalogue) is None:
            echo(f"{model_path} does not record its training dialogues: cannot check that it was not trained on {evaluated}")
        why = overlap_of(Path(model_path), meta)
        if why:
            raise TrainedOnEvaluatedFile(
                f"{why}; it would be scored on its own training data. Evaluate with a model trained without "
                f"them (`crs train retriever --holdout-valid` writes {Path(settings.artifacts_dir) / holdout_name(artefact_path(settings).name)}), "
                "or leave out --model to train one in memory")
        return CollaborativeModel.load(model_path), str(model_path)
    main = artefact_path(settings)
    reasons: list[str] = []
    for path in (main, main.with_name(holdout_name(main.name))):
        meta = read_meta(path)
        if meta is None:
            reasons.append(f"no artefact at {path}")
            continue
        current, why = is_current(meta, settings.data_dir)
        why = why and f"{path} was {why}"
        why = why or overlap_of(path, meta)
        if why:
            reasons.append(why)
            continue
        try:
            model = CollaborativeModel.load(path)
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        if reasons:
            echo("; ".join(reasons) + f": using {path} (not trained on it)")
        return model, str(path)
    echo("; ".join(reasons) + ": training the collaborative model in memory"
         + (f" without the dialogues of {evaluated}" if described is not None else "")
         + " (~5 min; `crs train retriever` saves one)")
    exclude = described.exclusion() if described is not None else None
    from crs.recommender.collaborative_training import built_store

    model = build_model(settings.data_dir, progress=progress, exclude=exclude, store_dir=built_store(settings.store_dir))
    return model, "trained in memory" + (
        f" without the dialogues of {evaluated}" if described is not None else "")


def build_rankers(dataset: Dataset, names: Sequence[str], settings: Settings, catalogue: Catalogue,
                  echo: Echo, progress: bool = True, model_path: Path | None = None,
                  llm: LLMOptions | None = None, evaluated: Path | None = None) -> tuple[dict[str, Ranker], dict[str, object]]:
    """Build the named rankers (in that order) for scoring the file ``evaluated`` (None: no
    overlap check). Returns (rankers, provenance info for the report)."""
    llm = llm or LLMOptions()
    backend = None
    if "hybrid+llm" in names:  # a misconfigured backend fails before minutes of model loading
        from crs.llm import make_backend

        backend = llm.backend if llm.backend is not None else make_backend(settings)
    stage1 = list(dict.fromkeys("hybrid" if n == "hybrid+llm" else n for n in names))
    rankers, info = _build_stage1(dataset, stage1, settings, catalogue, echo, progress, model_path, evaluated)
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
                  echo: Echo, progress: bool, model_path: Path | None,
                  evaluated: Path | None = None) -> tuple[dict[str, Ranker], dict[str, object]]:
    if dataset is Dataset.OPENDIALKG:
        from crs.evaluation.opendialkg_model import TRAIN_FILE, TRAIN_FILES, build_opendialkg_rankers
        from crs.evaluation.overlap import select_opendialkg_training

        # without a file to check against, only the train file (the valid turns may be what is scored)
        files = TRAIN_FILES if evaluated is not None else (TRAIN_FILE,)
        training = select_opendialkg_training(settings.data_dir, catalogue, files, evaluated)
        echo(f"OpenDialKG: {training.describe()}")
        built = build_opendialkg_rankers(settings.data_dir, catalogue, train=training.samples)
        counts = built["cooccurrence"].counts
        popularity = dict(zip(catalogue.ids, counts.popularity.tolist()))
        pool: dict[str, Ranker] = {**built, "popularity": PopularityRanker(catalogue, popularity)}
        hybrid = built["hybrid"]
        info = {"model": "trained in memory: " + training.describe(), "training_files": training.files,
                "hybrid_weights": {"kg": hybrid.kg, "popularity": hybrid.popularity, "decay": hybrid.decay}}
        return {n: pool[n] for n in names}, info
    model, provenance = load_collaborative(settings, echo, progress, model_path, evaluated, catalogue)
    popularity = dict(zip(model.item_ids, model.popularity.tolist()))
    factories: dict[str, Callable[[], Ranker]] = {
        "popularity": lambda: PopularityRanker(catalogue, popularity),
        "ease": lambda: EaseRanker(catalogue, model),
        "hybrid": lambda: HybridRanker(catalogue, model),
        "hybrid-stage1": lambda: HybridRanker(catalogue, replace(model, ranker=None), name="hybrid-stage1"),
    }
    info = {"model": provenance, "lambda": model.meta.get("lambda"), "fusion": asdict(model.fusion),
            "ease_fusion": asdict(model.ease_fusion), "ranker": model.meta.get("ranker"),
            "training_files": [{k: f.get(k) for k in ("name", "sha256", "used")}
                               for f in (model.meta.get("training") or {}).get("files", [])]}
    return {n: factories[n]() for n in names}, info
