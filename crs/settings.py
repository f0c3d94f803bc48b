"""One typed settings object for the whole product.

Values come from (highest first): explicit keyword arguments, ``CRS_*`` environment
variables, a ``.env`` file in the working directory, then the defaults below. Nothing is
read at import time: call :func:`load_settings` (the CLI and ``app.py`` do, once).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment that keeps third-party libraries off the network (no telemetry, no hub).
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "LANGSMITH_TRACING": "false",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_env() -> None:
    """Set the offline environment variables unless the user set them already."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Everything configurable. Each field maps to ``CRS_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="CRS_", env_file=".env", extra="forbid")

    data_dir: Path = Field(REPO_ROOT.parent / "shared" / "data", description="The shared research data (movies/, redial/, opendialkg/).")
    store_dir: Path = Field(REPO_ROOT / "data" / "store", description="Where the built movie corpus (Chroma + movie table) lives.")
    artifacts_dir: Path = Field(REPO_ROOT / "data" / "artifacts", description="Trained recommender artefacts.")
    retriever_model: str = Field("collab-v2.npz", description="The collaborative artefact the app and `crs evaluate` load: a file name under artifacts_dir (e.g. collab-v2-rl.npz from `crs train rl`) or a path.")
    feedback_model: str = Field("feedback-v1.json", description="The per-movie feedback bias `crs train feedback` writes and the app loads when present: a file name under artifacts_dir or a path.")
    feedback_session: bool = Field(True, description="Reorder each session's next recommendations by its implicit feedback (likes, explicit per-movie rejects, dwell time, reply sentiment; a blanket \"none of those\" moves nothing): +4.0 points for simulated click users, neutral for the attribute-only simulator (docs/feedback.md). Set false to turn it off.")
    prompts_dir: Path = Field(REPO_ROOT / "prompts", description="Prompt and reply templates.")
    database_url: str = Field(f"sqlite:///{REPO_ROOT / 'data' / 'crs.db'}", description="SQLAlchemy URL of the session database.")
    checkpoint_path: Path | None = Field(None, description="LangGraph SQLite checkpoint file; default: next to a SQLite database. With a PostgreSQL database_url the checkpoints go to that database unless this is set.")
    collection: str = Field("movies", description="Chroma collection name (3+ characters).")
    chroma_url: str | None = Field(None, description="A Chroma server (`chroma run`), e.g. http://127.0.0.1:8000, holding the collection (put there by `crs corpus push`); the movie table still comes from store_dir. Default: the local Chroma folder in store_dir.")

    llm_backend: Literal["template", "openai", "local"] = Field("template", description="Who words replies and refines rankings (the default of sessions that chose none): template, openai or local (needs the 'local' extra).")
    llm_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key: str | None = Field(None, description="API key; falls back to OPENAI_API_KEY.")
    llm_timeout_s: float = Field(8.0, gt=0, description="Per-call timeout; on timeout the template path answers.")
    llm_model_path: Path | None = Field(None, description="GGUF file of the local backend; default: the packaged Qwen2.5-Coder-0.5B, assembled once under artifacts_dir.")
    llm_threads: int = Field(2, ge=1, le=64, description="CPU threads of the local backend.")
    llm_nlu: bool = Field(False, description="Let the session's language model (when not template) add what the rule NLU missed (crs/nlu/llm_refine.py, docs/nlu.md); off by default: one more model call per turn, not measured here.")

    n_recommendations: int = Field(5, ge=1, le=20, description="Movies shown per recommendation turn.")
    n_candidates: int = Field(100, ge=10, le=1000, description="Stage-1 candidates handed to stage 2.")
    max_message_chars: int = Field(4000, ge=100, description="Longer user messages are truncated (and the user told).")
    max_file_mb: float = Field(64.0, gt=0, description="Largest input file `crs replay` and `crs corpus add` accept, in MiB.")
    turn_concurrency: int = Field(4, ge=1, le=64, description="Chat turns (UI and API) the app runs at once; turns of one session are always serialised. 4 beat 1 under 20 concurrent sessions (docs/benchmarks.md).")
    session_wait_s: float = Field(30.0, gt=0, le=600, description="How long a turn (or an edit of the session) waits for another turn of the same session, in this or another app worker, before the user is asked to send it again (docs/deploy.md).")

    host: str = Field("127.0.0.1", description="Where the web app listens.")
    port: int = Field(7860, ge=1, le=65535, description="Web app port.")
    auth: SecretStr | None = Field(None, description="Password protection of the web app: 'user:password' (several: comma-separated). See docs/security.md.")
    auth_file: Path | None = Field(None, description="A file of 'user:password' lines (instead of, or besides, CRS_AUTH).")

    def resolved_checkpoint_path(self) -> Path:
        """The LangGraph checkpoint file: explicit, or beside a SQLite database file."""
        if self.checkpoint_path is not None:
            return self.checkpoint_path
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            db = Path(self.database_url[len(prefix):])
            return db.with_name(db.name + ".checkpoints.sqlite")
        return self.store_dir.parent / "checkpoints.sqlite"


def load_settings(**overrides: object) -> Settings:
    """Build the settings object; ``overrides`` that are None are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
