"""The ``crs`` command line. Each area registers its own commands; nothing runs at import."""

from __future__ import annotations

import typer


def build_app() -> typer.Typer:
    """Assemble the CLI from the command groups of each area."""
    from crs.corpus.cli import register as register_corpus
    from crs.evaluation.cli import register as register_evaluation
    from crs.commands import register as register_core
    from crs.ops.cli import register as register_ops

    app = typer.Typer(help="CineCRS: a conversational movie recommender.", no_args_is_help=True,
                      pretty_exceptions_enable=False, add_completion=False)
    register_core(app)
    register_corpus(app)
    register_evaluation(app)
    register_ops(app)
    return app


def main() -> None:
    """Console-script entry point."""
    from crs.settings import apply_offline_env

    apply_offline_env()
    build_app()()
