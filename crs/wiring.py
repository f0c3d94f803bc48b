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
    """LangGraph's SQLite checkpointer on ``path`` (created if missing).

    Its connection waits up to :data:`crs.storage.db.BUSY_TIMEOUT_MS` (15 s) for another
    writer of the file, the same as the session database, instead of sqlite3's default
    5 s: the checkpoint file is shared by every app process on the database (and the
    CLI), all writing to it, and one of them forgetting a session rebuilds it (``VACUUM``,
    seconds on a big file). A turn should fail on neither file before the other would.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    from crs.storage.db import BUSY_TIMEOUT_MS

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA journal_mode=WAL")
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


def open_saver(settings: Settings):
    """The dialogue checkpointer the settings call for: in the PostgreSQL session database
    when ``database_url`` is PostgreSQL (shared by every app worker) unless
    ``checkpoint_path`` is set, else the SQLite file of :meth:`Settings.resolved_checkpoint_path`."""
    from crs.dialogue.checkpoints import is_postgres_url, open_postgres_saver

    if settings.checkpoint_path is None and is_postgres_url(settings.database_url):
        return open_postgres_saver(settings.database_url)
    return open_checkpointer(settings.resolved_checkpoint_path())


class SessionReranker:
    """Stage 2 as the turn's language model allows: the metadata reranker when the turn
    runs with the template backend or the small local model (it ranks worse than stage 1
    and too slowly: it only words replies), the LLM reranker (over the metadata one) with
    any other backend. The turn's backend comes from the graph's run config (see
    :mod:`crs.llm.turn`)."""

    #: Backends that never rank.
    NO_RANKING = frozenset({"template", "local"})

    def __init__(self, metadata, llm) -> None:
        self.metadata = metadata
        self.llm = llm

    def rerank(self, query, candidates, k):
        if self.llm.backend.name in self.NO_RANKING:
            return self.metadata.rerank(query, candidates, k)
        return self.llm.rerank(query, candidates, k)


def build_session_llm(settings: Settings, store, prompts):
    """Per-session language models: a backend pool, the reply-wording step, the notices."""
    from crs.llm.sessions import BackendPool, SessionLLM
    from crs.llm.wording import ReplyWording, load_llm_texts

    wording = ReplyWording.from_prompts(settings.prompts_dir, [m.title for m in store.index.movies])
    if settings.llm_backend == "openai":
        import openai  # noqa: F401 - load the client library now: on the first turn it cost 1-4 s of the turn's budget
    return SessionLLM(BackendPool(settings), wording, load_llm_texts(settings.prompts_dir))


def build_recommender(settings: Settings, store, backend, prompts):
    """Stage 1 (hybrid retriever, with the trained collaborative model when present) and
    stage 2 (metadata reranker, or the LLM reranker over it when the turn's session uses
    a language model: see :class:`SessionReranker`)."""
    from crs.recommender.explain import Explainer
    from crs.recommender.hybrid import HybridRetriever
    from crs.recommender.pipeline import Recommender
    from crs.llm.turn import ConfiguredBackend
    from crs.recommender.rerank import LLMReranker, MetadataReranker

    collab = load_collab(settings)
    explainer = Explainer(prompts, store.index)
    reranker = SessionReranker(MetadataReranker(explainer), LLMReranker(ConfiguredBackend(backend), prompts,
                                                                         MetadataReranker(explainer)))
    from crs.recommender.feedback_training import load_feedback_bias

    retriever = HybridRetriever(store, collab, item_bias=load_feedback_bias(settings))  # `crs train feedback`
    return Recommender(retriever, reranker, settings.n_candidates), explainer


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
    store = MovieStore.open(settings.store_dir, Embedder(), collection=settings.collection,
                            chroma_url=settings.chroma_url)
    store.search_text("a movie", 1)  # load the embedding model and the HNSW index now, not on turn one
    backend = make_backend(settings)
    recommender, explainer = build_recommender(settings, store, backend, prompts)
    recommender.retriever.warm()  # stage 1's genre/person/title indexes: 5 s at 87k, not on turn one
    lexicon = load_lexicon()
    linker = TitleLinker(store.index, blocked=set(lexicon.genres) | set(lexicon.moods))
    people = PeopleIndex(store.index, linker.starters)
    years = [m.year for m in store.index.movies if m.year and m.popularity > 0] or [2020]
    nlu = RuleNLU(linker, people, reference_year=max(years))
    refiner = None
    if settings.llm_nlu:  # the session's LLM adds what the rules missed (crs/nlu/llm_refine.py)
        from crs.nlu.llm_refine import LLMRefiner

        refiner = LLMRefiner.from_rule_nlu(nlu, prompts, timeout_s=settings.llm_timeout_s)
    deps = DialogueDeps(nlu=nlu, recommender=recommender, explainer=explainer, prompts=prompts,
                        index=store.index, n_recommendations=settings.n_recommendations, nlu_refiner=refiner)
    checkpointer = graph_checkpointer or open_saver(settings)
    graph = build_graph(deps, checkpointer)
    repo = Repository.from_url(settings.database_url)
    if settings.feedback_session:  # the session's stored reactions reorder its next lists
        from crs.recommender.feedback import FeedbackProvider

        recommender.feedback = FeedbackProvider(repo, store.index)
    service = ChatService(graph, repo, store.index, prompts, max_message_chars=settings.max_message_chars,
                          backend_name=settings.llm_backend, llm=build_session_llm(settings, store, prompts),
                          session_wait_s=settings.session_wait_s, close_checkpointer=graph_checkpointer is None)
    return Components(settings, store, recommender, nlu, graph, service, backend)
