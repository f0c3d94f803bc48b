"""Build every component from the settings, once, in dependency order."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from crs.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Components:
    settings: Settings
    store: object
    recommender: object
    nlu: object
    graph: object
    service: object
    backend: object


def open_checkpointer(path: Path):
    """LangGraph's SQLite checkpointer on ``path`` (created if missing)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def build_recommender(settings: Settings, store, backend, prompts):
    """Stage 1 (hybrid retriever, with the trained collaborative model when present) and
    stage 2 (metadata reranker, or the LLM reranker over it when an LLM is configured)."""
    from crs.recommender.explain import Explainer
    from crs.recommender.hybrid import HybridRetriever
    from crs.recommender.pipeline import Recommender
    from crs.recommender.rerank import LLMReranker, MetadataReranker

    collab = load_collab(settings)
    explainer = Explainer(prompts, store.index)
    reranker = MetadataReranker(explainer)
    if settings.llm_backend != "template":
        reranker = LLMReranker(backend, prompts, reranker)
    return Recommender(HybridRetriever(store, collab), reranker, settings.n_candidates), explainer


def load_collab(settings: Settings):
    """The trained collaborative model if ``crs train retriever`` has produced one."""
    from crs.recommender.collaborative import CollaborativeModel, artefact_path

    path = artefact_path(settings)  # settings.retriever_model, e.g. collab-v1-rl.npz after `crs train rl`
    if not path.exists():
        log.info("no trained collaborative model at %s; run 'crs train retriever' for better picks", path)
        return None
    return CollaborativeModel.load(path)


def build_components(settings: Settings, *, graph_checkpointer=None) -> Components:
    """Everything the app, replay and the CLI need."""
    from crs.catalog.linker import TitleLinker
    from crs.catalog.store import MovieStore
    from crs.dialogue.deps import DialogueDeps
    from crs.dialogue.graph import build_graph
    from crs.embedding import Embedder
    from crs.llm import make_backend
    from crs.nlu.lexicon import load_lexicon
    from crs.nlu.people import PeopleIndex
    from crs.nlu.rules import RuleNLU
    from crs.prompts import PromptLibrary
    from crs.service import ChatService
    from crs.storage import Repository

    prompts = PromptLibrary(settings.prompts_dir)
    store = MovieStore.open(settings.store_dir, Embedder(), collection=settings.collection)
    store.search_text("a movie", 1)  # load the embedding model and the HNSW index now, not on turn one
    backend = make_backend(settings)
    recommender, explainer = build_recommender(settings, store, backend, prompts)
    lexicon = load_lexicon()
    linker = TitleLinker(store.index, blocked=set(lexicon.genres) | set(lexicon.moods))
    people = PeopleIndex(store.index, linker.starters)
    years = [m.year for m in store.index.movies if m.year and m.popularity > 0] or [2020]
    nlu = RuleNLU(linker, people, reference_year=max(years))
    deps = DialogueDeps(nlu=nlu, recommender=recommender, explainer=explainer, prompts=prompts,
                        index=store.index, n_recommendations=settings.n_recommendations)
    checkpointer = graph_checkpointer or open_checkpointer(settings.resolved_checkpoint_path())
    graph = build_graph(deps, checkpointer)
    repo = Repository.from_url(settings.database_url)
    service = ChatService(graph, repo, store.index, prompts, max_message_chars=settings.max_message_chars,
                          backend_name=settings.llm_backend)
    return Components(settings, store, recommender, nlu, graph, service, backend)
