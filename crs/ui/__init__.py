"""The Gradio web app: :func:`build_ui` builds the page, :func:`launch_ui` serves it."""

from crs.ui.layout import build_ui, launch_ui

__all__ = ["build_ui", "launch_ui"]
