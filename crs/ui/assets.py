"""The page's styles and the small scripts behind its HTML panels.

Kept as strings (no static files to package). Each ``*_JS`` is a ``gr.HTML`` ``js_on_load``
body: Gradio runs it once when the panel mounts, with ``element`` (the panel), ``trigger``
(fire a Gradio event with data) and ``watch`` (run after the panel re-renders). Clicks are
delegated from the panel, so buttons rendered later work without re-binding.
"""

from __future__ import annotations

#: Recommendation cards: a button click becomes the panel's ``click`` event with
#: {movie_id, kind}. The rejected/seen card fades at once; the panel is marked busy until
#: the next render, and keyboard focus returns to the same button of the card in its place.
CARDS_JS = """
element.dataset.crsReady = "1";
let refocus = null;
element.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || element.classList.contains("crs-busy")) return;
  const card = button.closest(".crs-card");
  refocus = {index: [...element.querySelectorAll(".crs-card")].indexOf(card), action: button.dataset.action,
             focused: document.activeElement === button};
  element.classList.add("crs-busy");
  button.setAttribute("aria-busy", "true");
  if (button.dataset.action === "reject" || button.dataset.action === "seen") card.classList.add("crs-leaving");
  trigger("click", {movie_id: button.dataset.movie, kind: button.dataset.action});
});
watch("value", () => {
  element.classList.remove("crs-busy");
  if (refocus && refocus.focused) {
    const cards = element.querySelectorAll(".crs-card");
    const card = cards[Math.min(refocus.index, cards.length - 1)];
    const target = card && (card.querySelector(`button[data-action="${refocus.action}"]`) || card.querySelector("button"));
    (target || document.querySelector("#crs-input textarea"))?.focus();
  }
  refocus = null;
});
"""

#: "What I know about you": the × of a chip becomes the panel's ``click`` event with
#: {slot, value, polarity}; focus moves to the next × (or the message box when none is left).
PREFS_JS = """
element.dataset.crsReady = "1";
let refocus = null;
element.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-remove]");
  if (!button) return;
  const all = [...element.querySelectorAll("button[data-remove]")];
  refocus = document.activeElement === button ? all.indexOf(button) : null;
  button.closest(".crs-chip")?.classList.add("crs-leaving");
  trigger("click", {slot: button.dataset.slot, value: button.dataset.value, polarity: button.dataset.polarity});
});
watch("value", () => {
  if (refocus === null) return;
  const all = element.querySelectorAll("button[data-remove]");
  (all.length ? all[Math.min(refocus, all.length - 1)] : document.querySelector("#crs-input textarea"))?.focus();
  refocus = null;
});
"""

#: The conversation list: open or forget (after a confirmation) one; dates in local time.
SESSIONS_JS = """
element.dataset.crsReady = "1";
const localize = () => element.querySelectorAll("time[datetime]").forEach((t) => {
  const d = new Date(t.dateTime);
  if (!Number.isNaN(d.getTime())) t.textContent = d.toLocaleString([], {dateStyle: "medium", timeStyle: "short"});
});
localize();
watch("value", localize);
element.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-session-action]");
  if (!button) return;
  if (button.dataset.sessionAction === "delete" && !window.confirm(button.dataset.confirm)) return;
  if (button.dataset.sessionAction === "resume") window.crsCloseSidebarIfNarrow?.();
  trigger("click", {action: button.dataset.sessionAction, session: button.dataset.session});
});
"""

#: The header's light/dark switch (the choice is kept in localStorage), and the sidebar:
#: open by default only on wide screens, closed after picking a conversation on narrow
#: ones (where it covers the page), and its toggle named and stateful for screen readers.
HEADER_JS = """
const sidebar = () => document.querySelector("#crs-sidebar");
const toggle = () => sidebar()?.querySelector(".toggle-button");
const isOpen = () => Boolean(sidebar()?.classList.contains("open"));
window.crsCloseSidebarIfNarrow = () => { if (isOpen() && window.innerWidth <= 768) toggle()?.click(); };
const describe = () => {
  const t = toggle();
  if (!t) return;
  t.setAttribute("aria-label", "Conversations and settings");
  t.setAttribute("aria-expanded", String(isOpen()));
  t.setAttribute("aria-controls", "crs-sidebar");
};
// Gradio (6.31's Sidebar) shifts the page right by --overlap-amount while the drawer is open,
// measured only on mount and on window resize: a layout that settles later (styles arriving
// late on a busy machine, a scrollbar appearing) left the chat under the drawer. Same formula,
// re-checked whenever the layout may have moved.
const refit = () => {
  const s = sidebar();
  const wrap = s?.closest(".wrap");
  if (!s || !wrap || !isOpen()) return;
  const want = Math.max(0, s.getBoundingClientRect().width - wrap.getBoundingClientRect().left + 30);
  const root = document.documentElement;
  const have = parseFloat(getComputedStyle(root).getPropertyValue("--overlap-amount")) || 0;
  if (Math.abs(want - have) > 1) root.style.setProperty("--overlap-amount", `${want}px`);
};
let tries = 0;
const initSidebar = () => {
  const t = toggle();
  if (!t) { if (tries++ < 100) setTimeout(initSidebar, 100); return; }
  if (window.innerWidth > 1024 && !isOpen()) t.click();
  describe();
  refit();
  new MutationObserver(() => { describe(); refit(); }).observe(sidebar(), {attributes: true, attributeFilter: ["class"]});
  new ResizeObserver(refit).observe(document.documentElement);
  setInterval(refit, 1000);  // a move without a resize (the page centring itself) has no event
};
initSidebar();
const button = element.querySelector(".crs-theme");
const sync = () => button.setAttribute("aria-pressed", String(document.body.classList.contains("dark")));
const apply = (mode) => { document.body.classList.toggle("dark", mode === "dark"); sync(); };
const saved = localStorage.getItem("cinecrs-theme");
if (saved) { apply(saved); setTimeout(() => apply(saved), 300); }  // after Gradio's own theme setup
sync();
button.addEventListener("click", () => {
  const mode = document.body.classList.contains("dark") ? "light" : "dark";
  localStorage.setItem("cinecrs-theme", mode);
  apply(mode);
});
"""

HEADER_HTML = (
    '<header class="crs-header"><div class="crs-brand"><span class="crs-logo">🎬 CineCRS</span>'
    '<span class="crs-tagline">Tell me what you like; I\'ll find your next movie.</span></div>'
    '<button type="button" class="crs-theme" aria-pressed="false" title="Switch light / dark theme">'
    '<span aria-hidden="true">🌓</span> <span class="crs-theme-text">Dark theme</span></button></header>'
)

HEADER_CSS = """
.crs-header { display: flex; align-items: center; justify-content: space-between; gap: 12px;
              flex-wrap: wrap; padding: 4px 2px; }
.crs-brand { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; min-width: 0; }
.crs-logo { font-size: 1.6em; font-weight: 800; letter-spacing: 0.01em; }
.crs-tagline { color: var(--body-text-color-subdued); }
.crs-theme { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 4px 12px;
             background: var(--button-secondary-background-fill); color: var(--body-text-color);
             cursor: pointer; font: inherit; }
.crs-theme[aria-pressed="true"] { background: var(--color-accent-soft); }
.crs-theme:focus-visible { outline: 3px solid var(--color-accent); outline-offset: 2px; }
"""

#: Shared by the three panels (each ``gr.HTML`` scopes its own copy).
PANEL_CSS = """
.crs-empty { color: var(--body-text-color-subdued); font-style: italic; margin: 0; }
button:focus-visible { outline: 3px solid var(--color-accent); outline-offset: 2px; }
.crs-leaving { opacity: 0.25; transition: opacity 0.2s ease; pointer-events: none; }
.crs-prefs { margin: 0; }
.crs-prefs dt { font-weight: 600; margin-top: 0.5em; font-size: 0.9em; }
.crs-prefs dd { margin: 0; }
.crs-chips, .crs-tags { list-style: none; padding: 0; margin: 2px 0; display: flex; flex-wrap: wrap; gap: 4px; }
.crs-chip { display: inline-flex; align-items: center; gap: 2px; padding: 1px 2px 1px 10px; margin: 0;
            border-radius: 999px; background: var(--background-fill-secondary);
            border: 1px solid var(--border-color-primary); font-size: 0.9em; max-width: 100%; }
.crs-chip-label { overflow-wrap: anywhere; }
.crs-chip-x { border: 0; background: transparent; color: var(--body-text-color-subdued); cursor: pointer;
              font-size: 1.15em; line-height: 1; min-width: 28px; min-height: 28px; border-radius: 999px; }
.crs-chip-x:hover { background: var(--background-fill-primary); color: var(--body-text-color); }
.crs-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 250px), 1fr)); gap: 10px; }
.crs-busy .crs-act { opacity: 0.6; cursor: progress; }
.crs-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
            background: var(--background-fill-primary); display: flex; flex-direction: column; gap: 4px;
            min-width: 0; box-shadow: var(--block-shadow); }
.crs-card-title { font-weight: 700; font-size: 1.05em; margin: 0; overflow-wrap: anywhere; }
.crs-card-year, .crs-card-runtime { font-weight: 400; color: var(--body-text-color-subdued); }
.crs-card-runtime { font-size: 0.85em; margin-left: 0.4em; white-space: nowrap; }
.crs-tag { font-size: 0.78em; padding: 0 8px; border-radius: 999px; background: var(--color-accent-soft);
           color: var(--body-text-color); }
.crs-card-meta, .crs-card-plot { font-size: 0.88em; color: var(--body-text-color-subdued); margin: 0; }
.crs-card-plot { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.crs-card-reason { margin: 2px 0 0; font-style: italic; font-size: 0.92em; }
.crs-card-actions { display: flex; flex-wrap: wrap; gap: 4px; margin-top: auto; padding-top: 6px; }
.crs-act { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 2px 8px;
           background: var(--button-secondary-background-fill); color: var(--body-text-color);
           font: inherit; font-size: 0.8em; cursor: pointer; min-height: 30px; white-space: nowrap; }
.crs-act:hover { background: var(--button-secondary-background-fill-hover); }
.crs-sessions { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 4px; }
.crs-session { display: flex; align-items: stretch; gap: 2px; border-radius: 8px;
               border: 1px solid transparent; }
.crs-session.crs-current { border-color: var(--color-accent); background: var(--color-accent-soft); }
.crs-session-open { flex: 1; min-width: 0; text-align: left; border: 0; background: transparent;
                    color: var(--body-text-color); font: inherit; cursor: pointer; padding: 6px 8px;
                    border-radius: 8px; display: flex; flex-direction: column; }
.crs-session-open:hover { background: var(--background-fill-secondary); }
.crs-session-title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.crs-session-meta { font-size: 0.8em; color: var(--body-text-color-subdued); }
.crs-session-delete { border: 0; background: transparent; cursor: pointer; min-width: 36px; border-radius: 8px; }
.crs-session-delete:hover { background: var(--background-fill-secondary); }
"""

#: Page-level rules (passed to ``launch``): small screens get a shorter chat and no
#: horizontal scrolling; the message box wraps long words.
PAGE_CSS = """
.gradio-container { max-width: 1680px !important; margin: 0 auto !important; }
#crs-chat { min-height: 320px; }
@media (max-width: 768px) { #crs-header { padding-left: 22px; } }
@media (max-width: 640px) {
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  #crs-chat { height: 58vh !important; }
}
#crs-input textarea { overflow-wrap: anywhere; }
/* the local model without its extra: shown, greyed out, not clickable (the handler refuses it too) */
#crs-llm-kind.crs-local-off label:has(input[value="local"]) { opacity: .5; pointer-events: none; }
"""
