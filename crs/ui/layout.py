"""The CineCRS web page: layout and event wiring (behaviour lives in :mod:`crs.ui.handlers`)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from crs.settings import Settings
from crs.ui import render
from crs.ui.handlers import ChatHandlers, ChatServiceLike

#: localStorage key of the session id. Fixed (not random per process) so that a page
#: reload after a server restart still finds the session in the persistent database.
SESSION_STORAGE_KEY = "cinecrs-session"
#: BrowserState "encrypts" with a key it also sends to the page, so this is no secret; the
#: session id itself is the unguessable token. Fixed for the same reason as the key.
SESSION_STORAGE_SECRET = "cinecrs-browser-state"
#: One queue slot shared by UI turns and API turns: the service is not assumed thread-safe.
TURN_CONCURRENCY_ID = "chat-turn"

HEADER_HTML = (
    '<div class="crs-header"><span class="crs-logo">CineCRS</span>'
    '<span class="crs-tagline">Tell me what you like; I\'ll find your next movie.</span></div>'
)
HEADER_CSS = """
.crs-header { display: flex; align-items: baseline; gap: 16px; padding: 6px 4px; }
.crs-logo { font-size: 1.8em; font-weight: 800; letter-spacing: 0.02em; }
.crs-tagline { color: var(--body-text-color-subdued); }
"""
CHAT_PLACEHOLDER = (
    "**Hi! I'm CineCRS.** Tell me about movies you loved (or hated), genres, actors, "
    "directors or the mood you're in, and I'll recommend something."
)


def build_ui(service: ChatServiceLike, settings: Settings, handlers: ChatHandlers | None = None) -> gr.Blocks:
    """Build the chat page around ``service``.

    Args:
        service: The chat service every browser session talks to.
        settings: Product settings (unused today beyond documentation; kept so that the
            page can grow options without changing callers).
        handlers: Pre-built handlers, e.g. with other input-error types; default: bound to ``service``.

    Returns:
        The Gradio app, not yet launched (see :func:`launch_ui`).
    """
    del settings  # reserved for future page options
    h = handlers or ChatHandlers(service)
    with gr.Blocks(title="CineCRS", analytics_enabled=False) as demo:
        session_id = gr.BrowserState(None, storage_key=SESSION_STORAGE_KEY, secret=SESSION_STORAGE_SECRET)
        pending = gr.State("")
        gr.HTML(HEADER_HTML, css_template=HEADER_CSS, js_on_load=None, elem_id="crs-header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="crs-chat", height=540, placeholder=CHAT_PLACEHOLDER,
                    sanitize_html=True, allow_tags=False, feedback_options=None, buttons=["copy"],
                )
                with gr.Row():
                    textbox = gr.Textbox(
                        show_label=False, placeholder="e.g. I loved Heat and Collateral, nothing too violent",
                        elem_id="crs-input", scale=6, lines=1, max_lines=4, autofocus=True, container=False,
                    )
                    send = gr.Button("Send", variant="primary", elem_id="crs-send", scale=1, min_width=80)
                new = gr.Button("New conversation", variant="secondary", elem_id="crs-new", size="sm")
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### What I know about you")
                prefs = gr.HTML(render.EMPTY_PREFERENCES_HTML, css_template=render.PANEL_CSS,
                                js_on_load=None, elem_id="crs-prefs")
                gr.Markdown("### Recommendations")
                recs = gr.HTML(render.EMPTY_RECOMMENDATIONS_HTML, css_template=render.PANEL_CSS,
                               js_on_load=None, elem_id="crs-recs")

        hidden: dict[str, Any] = {"api_visibility": "private"}
        demo.load(h.load, inputs=[session_id], outputs=[session_id, chatbot, prefs, recs], **hidden)
        for trigger in (textbox.submit, send.click):
            trigger(h.accept, inputs=[textbox, chatbot], outputs=[textbox, chatbot, pending],
                    queue=False, **hidden).then(
                h.respond, inputs=[pending, session_id, chatbot],
                outputs=[chatbot, prefs, recs, session_id, textbox],
                concurrency_id=TURN_CONCURRENCY_ID, **hidden,
            )
        # The chat's own trash icon also starts over, so the page never shows an empty
        # chat while the service still remembers the old preferences.
        for trigger in (new.click, chatbot.clear):
            trigger(h.new_conversation, outputs=[session_id, chatbot, prefs, recs, textbox, pending], **hidden)
        gr.api(h.api_chat, api_name="chat", concurrency_id=TURN_CONCURRENCY_ID,
               api_description="One chat turn. Inputs: message, session_id ('' starts a new session). "
                               "Returns the turn object (same keys as a line of `crs replay`).")
    return demo


def launch_ui(demo: gr.Blocks, settings: Settings, **overrides: Any) -> tuple[Any, str, str | None]:
    """Serve ``demo`` on ``settings.host:settings.port`` with the product's launch options.

    Args:
        demo: The app from :func:`build_ui`.
        settings: Supplies host and port.
        **overrides: Extra ``Blocks.launch`` arguments (tests pass ``prevent_thread_lock``).

    Returns:
        What ``Blocks.launch`` returns: (FastAPI app, local URL, share URL).
    """
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "theme": gr.themes.Soft(),
        "share": False,
        "show_error": False,
        "run_history": False,  # conversations are private; don't keep them in a run log
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "mcp_server": False,
    }
    options.update(overrides)
    demo.queue(default_concurrency_limit=1)
    return demo.launch(**options)
