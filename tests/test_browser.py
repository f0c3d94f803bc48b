"""The web app in a real browser (Debian's Chromium driven by Playwright).

One live app (``live_app``, shared by the whole test session) and one browser per module;
each test gets fresh browser contexts (their own localStorage, so their own sessions).
Skips when /usr/bin/chromium is missing, unless CRS_REQUIRE_BROWSER=1 (CI), where that is
a failure. Set CRS_SCREENSHOT_DIR=docs to also write the README's screenshots there.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_fixtures import LiveApp, live_app, small_movies  # noqa: F401  (fixtures)

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_REQUIRED = os.environ.get("CRS_REQUIRE_BROWSER") == "1"
MISSING = f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"

pytestmark = [
    pytest.mark.browser,
    # Decided before any fixture runs, so a machine without Chromium skips at once.
    pytest.mark.skipif(not CHROMIUM.exists() and not BROWSER_REQUIRED, reason=MISSING),
]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TURN_TIMEOUT_MS = 60_000
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
USER = "#crs-chat [data-testid='user']"
BOT = "#crs-chat [data-testid='bot']"
CARDS = "#crs-recs .crs-card"
CHAT_BESIDE_DRAWER_JS = ("() => document.querySelector('#crs-chat').getBoundingClientRect().left"
                         " >= document.querySelector('#crs-sidebar').getBoundingClientRect().right - 1")
#: The accessible name of every visible control, roughly as a screen reader computes it.
CONTROL_NAMES_JS = """() => {
  const clean = (s) => (s || "").replace(/\\s+/g, " ").trim();
  const name = (el) => clean(el.getAttribute("aria-label"))
    || clean((el.getAttribute("aria-labelledby") || "").split(/\\s+/).map((id) => document.getElementById(id)?.innerText || "").join(" "))
    || clean([...(el.labels || [])].map((l) => l.innerText).join(" "))
    || (el.tagName === "BUTTON" ? clean(el.innerText) : "") || clean(el.getAttribute("title"));
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  return [...document.querySelectorAll("button, input, textarea, select")].filter(shown)
    .map((el) => ({html: el.outerHTML.slice(0, 120), name: name(el)}));
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():  # only reached with CRS_REQUIRE_BROWSER=1
        pytest.fail(MISSING + " [CRS_REQUIRE_BROWSER=1]")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_page(browser, live_app: LiveApp):  # noqa: F811
    """``open_page(viewport=..., color_scheme=...)``: a loaded page in a fresh browser context."""
    contexts = []

    def _open(viewport: dict[str, int] = DESKTOP, color_scheme: str = "light"):
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TURN_TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())  # "forget this conversation?"
        page.goto(live_app.url, wait_until="load")
        wait_ready(page)
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture()
def page(open_page):
    return open_page()


def wait_ready(page) -> None:
    """The page has loaded and its session is restored (the panels carry a revision)."""
    page.locator("#crs-input textarea").wait_for()
    page.locator("#crs-recs [data-rev]").wait_for(state="attached")


def send(page, text: str) -> None:
    box = page.locator("#crs-input textarea")
    box.fill(text)
    box.press("Enter")


def card_ids(page) -> list[str]:
    return page.locator(CARDS).evaluate_all("cards => cards.map(c => c.dataset.movieId)")


def current_session(page) -> str:
    """The id of the page's conversation (from the sidebar's current entry)."""
    from playwright.sync_api import expect

    current = page.locator("#crs-sessions .crs-current .crs-session-open")
    expect(current).to_have_count(1)
    return current.get_attribute("data-session")


def screenshot(page, name: str, tmp_path: Path) -> None:
    """A full-page screenshot (kept in docs/ when CRS_SCREENSHOT_DIR is set)."""
    target = Path(os.environ.get("CRS_SCREENSHOT_DIR") or tmp_path) / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_conversation_with_card_feedback(
    page, live_app: LiveApp, small_movies, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    (first, first_year), (second, second_year) = small_movies[:2]
    gate = threading.Event()
    real_turn = live_app.service.stream_turn

    def held_turn(session_id: str, text: str):
        gate.wait(20)
        yield from real_turn(session_id, text)

    monkeypatch.setattr(live_app.service, "stream_turn", held_turn)
    send(page, f"I loved {first} ({first_year}) and {second} ({second_year})")
    # While the turn runs: the message is already there and the bot is "typing".
    expect(page.locator(USER)).to_have_count(1, timeout=3_000)
    expect(page.locator(USER)).to_contain_text(first)
    expect(page.locator("#crs-chat [role='status'][aria-label='Loading response']")).to_be_visible(timeout=3_000)
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator("#crs-input textarea")).to_have_value("")
    gate.set()
    monkeypatch.undo()

    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator("#crs-chat [aria-label='Loading response']")).to_have_count(0)
    # On a wide screen the drawer is open beside the chat, not over it.
    expect(page.locator("#crs-sidebar .toggle-button")).to_have_attribute("aria-expanded", "true")
    page.wait_for_function(CHAT_BESIDE_DRAWER_JS)
    # The shift Gradio measured goes stale when the layout moves without a window resize (late
    # styles on a busy machine left the chat under the drawer in CI): the page mends it.
    page.evaluate("() => document.documentElement.style.setProperty('--overlap-amount', '0px')")
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement)"
                           ".getPropertyValue('--overlap-amount')) > 0", timeout=5_000)
    page.wait_for_function(CHAT_BESIDE_DRAWER_JS)
    expect(page.locator(CARDS).first).to_be_visible()
    expect(page.locator("#crs-prefs [data-slot='liked_movies']")).to_contain_text(first)
    before = card_ids(page)
    card = page.locator(f"{CARDS}[data-movie-id='{before[0]}']")
    for part in (".crs-card-title", ".crs-card-reason", ".crs-card-actions"):
        expect(card.locator(part)).to_be_visible()
    rejected_title = card.locator(".crs-card-title").inner_text()
    session = current_session(page)

    card.get_by_role("button", name=re.compile("^Not for me")).click()
    expect(page.locator(f"{CARDS}[data-movie-id='{before[0]}']")).to_have_count(0)
    expect(page.locator(USER).last).to_contain_text("Not for me")
    expect(page.locator(BOT)).to_have_count(2)
    after = card_ids(page)
    assert after and before[0] not in after, "the rejected movie is still shown / nothing replaced it"
    expect(page.locator("#crs-prefs [data-slot='disliked_movies']")).to_contain_text(rejected_title.split(" (")[0])
    [event] = [e for e in live_app.service.repo.feedback(session) if e["kind"] == "reject"]
    assert event["movie_id"] == before[0] and event["dwell_s"] is not None and event["dwell_s"] >= 0

    screenshot(page, "screenshot-desktop.png", tmp_path)

    page.locator(f"{CARDS}[data-movie-id='{after[0]}'] button[data-action='why']").click()
    expect(page.locator(BOT)).to_have_count(3)
    assert card_ids(page) == after  # "why?" explains; the list stays


def test_removed_preference_stays_gone_after_reload_and_next_turn(page, small_movies) -> None:  # noqa: F811
    from playwright.sync_api import expect

    (first, first_year) = small_movies[0]
    send(page, f"I loved {first} ({first_year}), but no horror please")
    horror = page.locator("#crs-prefs [data-slot='disliked_genres']")
    expect(horror).to_contain_text("horror")
    horror.get_by_role("button", name=re.compile("^Forget horror")).click()
    expect(horror).to_have_count(0)
    expect(page.locator("#crs-prefs [data-slot='liked_movies']")).to_contain_text(first)

    page.reload(wait_until="load")
    wait_ready(page)
    expect(page.locator("#crs-prefs [data-slot='liked_movies']")).to_contain_text(first)
    expect(horror).to_have_count(0)
    send(page, "more please")  # the dialogue state forgot it too, or this turn would bring it back
    expect(page.locator(BOT)).to_have_count(2)
    expect(page.locator("#crs-prefs [data-slot='liked_movies']")).to_contain_text(first)
    expect(horror).to_have_count(0)


def test_reload_resumes_then_new_resume_and_forget(page, live_app: LiveApp, small_movies) -> None:  # noqa: F811
    from playwright.sync_api import expect

    (first, first_year) = small_movies[0]
    marker = f"zq{int(time.time() * 1000) % 10**9}x"
    send(page, f"I loved {first} ({first_year}) {marker}")
    expect(page.locator(CARDS).first).to_be_visible()
    reply, cards = page.locator(BOT).inner_text(), card_ids(page)
    old = current_session(page)

    page.reload(wait_until="load")
    wait_ready(page)
    expect(page.locator(USER)).to_contain_text(marker)
    expect(page.locator(BOT)).to_have_text(reply)
    assert card_ids(page) == cards

    page.locator("#crs-new").click()
    expect(page.locator(f"{USER}, {BOT}")).to_have_count(0)
    expect(page.locator(CARDS)).to_have_count(0)
    expect(page.locator("#crs-prefs .crs-empty")).to_be_visible()
    listed = page.locator(f"#crs-sessions .crs-session-open[data-session='{old}']")
    expect(listed).to_contain_text(marker)
    assert page.locator("#crs-sessions .crs-session-open[aria-current='true']").count() == 0  # the new one is empty

    listed.click()  # resume the old conversation
    expect(page.locator(USER)).to_contain_text(marker)
    expect(page.locator(CARDS)).to_have_count(len(cards))
    assert current_session(page) == old

    page.locator(f"#crs-sessions .crs-session-delete[data-session='{old}']").click()  # dialog accepted
    expect(page.locator(f"#crs-sessions [data-session='{old}']")).to_have_count(0)
    expect(page.locator(f"{USER}, {BOT}")).to_have_count(0)
    service = live_app.service
    assert service.session_view(old) is None and service.repo.feedback(old) == []
    assert not service.graph.get_state({"configurable": {"thread_id": old}}).values
    db = Path(live_app.settings.database_url.removeprefix("sqlite:///"))
    for path in (db, Path(f"{db}-wal"), live_app.settings.checkpoint_path, Path(f"{live_app.settings.checkpoint_path}-wal")):
        if path.exists():
            assert marker.encode() not in path.read_bytes(), f"'forget me' left the text in {path.name}"


def test_two_browsers_do_not_see_each_other(open_page, small_movies) -> None:  # noqa: F811
    from playwright.sync_api import expect

    (first, first_year), (second, second_year) = small_movies[:2]
    alice, bob = open_page(), open_page()
    send(alice, f"I loved {first} ({first_year})")
    send(bob, f"I loved {second} ({second_year})")
    for me, mine, theirs in ((alice, first, second), (bob, second, first)):
        expect(me.locator("#crs-prefs [data-slot='liked_movies']")).to_contain_text(mine)
        expect(me.locator("#crs-prefs")).not_to_contain_text(theirs)
        expect(me.locator("#crs-sessions")).not_to_contain_text(theirs)
        assert me.locator("#crs-sessions .crs-session").count() == 1
    assert current_session(alice) != current_session(bob)
    alice.reload(wait_until="load")
    wait_ready(alice)
    expect(alice.locator(USER)).to_have_count(1)
    expect(alice.locator("#crs-chat")).not_to_contain_text(second)


def test_phone_width_layout(open_page, small_movies, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = open_page(viewport=PHONE)
    toggle = page.locator("#crs-sidebar .toggle-button")
    expect(toggle).to_have_attribute("aria-expanded", "false")  # the drawer doesn't cover the chat
    expect(page.locator("#crs-input textarea")).to_be_in_viewport()
    (first, first_year) = small_movies[0]
    send(page, f"I loved {first} ({first_year})")
    expect(page.locator(CARDS).first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal overflow at 375 px: page is {width} px wide"
    for box in page.locator(f"{CARDS}, {CARDS} button, #crs-prefs .crs-chip").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().right)"):
        assert box <= PHONE["width"] + 0.5
    screenshot(page, "screenshot-phone.png", tmp_path)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#crs-n-recs")).to_be_visible()


def test_keyboard_only(page, small_movies) -> None:  # noqa: F811
    from playwright.sync_api import expect

    (first, first_year), (second, second_year) = small_movies[:2]
    expect(page.locator("#crs-input textarea")).to_be_focused()  # type at once
    page.keyboard.type(f"I loved {first} ({first_year}) and {second} ({second_year})")
    page.keyboard.press("Enter")
    expect(page.locator(CARDS).first).to_be_visible()
    before = card_ids(page)

    def tab_to(selector: str) -> None:
        for _ in range(120):
            page.keyboard.press("Tab")
            if page.evaluate("sel => document.activeElement?.matches(sel) ?? false", selector):
                return
        pytest.fail(f"Tab never reached {selector}")

    tab_to("#crs-recs button[data-action='reject']")
    target = page.evaluate("document.activeElement.dataset.movie")
    page.keyboard.press("Enter")
    expect(page.locator(f"{CARDS}[data-movie-id='{target}']")).to_have_count(0)
    expect(page.locator(BOT)).to_have_count(2)
    assert card_ids(page) != before
    # Focus stays in the list, so the next card is one key press away.
    expect(page.locator("#crs-recs button[data-action='reject']").first).to_be_attached()
    assert page.evaluate("document.activeElement?.matches('#crs-recs button[data-action]') ?? false")

    chips = page.locator("#crs-prefs button[data-remove]")
    n_chips = chips.count()
    page.locator("#crs-input textarea").focus()
    tab_to("#crs-prefs button[data-remove]")
    page.keyboard.press("Space")
    expect(chips).to_have_count(n_chips - 1)


def test_settings_are_kept_per_session(page, live_app: LiveApp, small_movies) -> None:  # noqa: F811
    from playwright.sync_api import expect

    number = page.locator("#crs-n-recs input[type='number']")
    number.fill("3")
    number.press("Enter")
    page.locator("#crs-include-seen input[type='checkbox']").check()
    (first, first_year) = small_movies[0]
    send(page, f"I loved {first} ({first_year})")
    expect(page.locator(CARDS)).to_have_count(3)
    session = current_session(page)
    assert live_app.service.session_settings(session) == {"n_recommendations": 3, "include_seen": True}
    page.reload(wait_until="load")
    wait_ready(page)
    expect(number).to_have_value("3")
    expect(page.locator("#crs-include-seen input[type='checkbox']")).to_be_checked()
    expect(page.locator("#crs-llm-kind input[value='template']")).to_be_checked()
    expect(page.locator("#crs-llm-status")).to_contain_text("no language model")


#: Records every text the last bot message shows, so a test can see a reply grow.
WATCH_BOT_JS = """() => {
  window.__botTexts = [];
  const chat = document.querySelector('#crs-chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll("[data-testid='bot']");
    const text = bots.length ? bots[bots.length - 1].innerText : null;
    if (text && window.__botTexts[window.__botTexts.length - 1] !== text) window.__botTexts.push(text);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def test_switch_to_an_openai_server_streams_then_back_to_template(
    page, live_app: LiveApp, small_movies, tmp_path: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    from echo_llm_server import EchoLLMServer

    secret = "sk-browser-secret-91c3"
    server = EchoLLMServer(prefix="Streaming hello! ", delay_s=0.05).start()
    try:
        status = page.locator("#crs-llm-status")
        expect(status).to_contain_text("no language model")
        expect(page.locator("#crs-llm-url")).to_be_hidden()
        page.locator("#crs-llm-kind").get_by_label("OpenAI-compatible server").check()
        page.locator("#crs-llm-url input").fill(server.base_url)
        page.locator("#crs-llm-model input").fill("echo-model")
        page.locator("#crs-llm-key input").fill(secret)
        expect(page.locator("#crs-llm-key input")).to_have_attribute("type", "password")
        page.locator("#crs-llm-apply").click()
        expect(status).to_contain_text(f"echo-model at {server.base_url}", timeout=TURN_TIMEOUT_MS)
        expect(status).to_contain_text("API key set")
        expect(page.locator("#crs-llm-key input")).to_have_value("")  # the key is not kept in the page
        status.scroll_into_view_if_needed()
        screenshot(page, "screenshot-llm-settings.png", tmp_path)

        page.evaluate(WATCH_BOT_JS)
        (first, first_year) = small_movies[0]
        send(page, f"I loved {first} ({first_year})")
        reply = page.locator(BOT).last
        expect(reply).to_contain_text("Streaming hello!", timeout=TURN_TIMEOUT_MS)
        expect(page.locator(CARDS).first).to_be_visible(timeout=TURN_TIMEOUT_MS)
        for title in page.locator(f"{CARDS} .crs-card-title").all_inner_texts():
            expect(reply).to_contain_text(title.split(" (")[0])
        texts = page.evaluate("window.__botTexts")
        final = reply.inner_text()
        growing = [t for t in texts if t.startswith("Streaming hello!") and len(t) < len(final)]
        assert len(growing) >= 2, f"the reply did not appear progressively: {texts[:5]}"
        assert all(h.get("authorization") == f"Bearer {secret}" for h in server.headers)

        page.locator("#crs-llm-kind").get_by_label("Templates (no language model)").check()
        expect(status).to_contain_text("no language model")
        expect(page.locator("#crs-llm-url")).to_be_hidden()
        asked = len(server.requests)
        send(page, "more please")
        expect(page.locator(BOT)).to_have_count(2, timeout=TURN_TIMEOUT_MS)
        expect(page.locator(BOT).last).not_to_contain_text("Streaming hello!")
        assert len(server.requests) == asked  # the template answered; the server was not asked

        page.reload(wait_until="load")
        wait_ready(page)
        expect(page.locator("#crs-llm-kind input[value='template']")).to_be_checked()
    finally:
        server.stop()


def test_dark_theme_labels_and_first_paint(open_page, small_movies, tmp_path: Path, live_app: LiveApp) -> None:  # noqa: F811
    from playwright.sync_api import expect

    started = time.perf_counter()
    page = open_page(color_scheme="dark")
    ready_s = time.perf_counter() - started
    paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    assert paint is not None and paint <= 2000, f"first paint took {paint} ms"
    assert ready_s <= 10, f"the page took {ready_s:.1f} s to become usable"
    assert page.evaluate("document.body.classList.contains('dark')")
    theme = page.locator(".crs-theme")
    expect(theme).to_have_attribute("aria-pressed", "true")

    (first, first_year) = small_movies[0]
    send(page, f"I loved {first} ({first_year}), no horror")
    expect(page.locator(CARDS).first).to_be_visible()
    unnamed = [c["html"] for c in page.evaluate(CONTROL_NAMES_JS) if not c["name"]]
    assert not unnamed, f"controls without a label: {unnamed}"
    emoji_buttons = page.locator("#crs-recs button[data-action]")
    assert all(label for label in emoji_buttons.evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))"))
    screenshot(page, "screenshot-dark.png", tmp_path)

    theme.click()
    expect(theme).to_have_attribute("aria-pressed", "false")
    assert not page.evaluate("document.body.classList.contains('dark')")
    page.reload(wait_until="load")
    wait_ready(page)
    page.wait_for_timeout(500)  # past Gradio's own theme setup
    assert not page.evaluate("document.body.classList.contains('dark')"), "the light choice was not kept"


def test_markup_in_messages_is_shown_not_run(page) -> None:
    from playwright.sync_api import expect

    send(page, f"hello {XSS}")
    chat = page.locator("#crs-chat")
    expect(chat.locator("[data-testid='bot']")).to_have_count(1)
    expect(chat.locator("[data-testid='user']")).to_contain_text("<script>window.__xss = 1</script>")
    assert page.evaluate("window.__xss") is None
    assert chat.locator("script, img[src='x']").count() == 0


def test_empty_message_gets_a_friendly_answer(page) -> None:
    from playwright.sync_api import expect

    page.locator("#crs-send").click()
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator(USER)).to_have_count(0)
    notice = page.locator(BOT).inner_text().strip()
    assert notice
    send(page, "hello")  # and the chat still works afterwards (the notice has done its job)
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator(BOT)).not_to_have_text(notice)


def test_a_starter_example_is_sent_as_if_typed(page) -> None:
    from playwright.sync_api import expect

    example = page.locator("#crs-chat button.example").nth(1)
    text = example.inner_text().strip()
    example.click()
    expect(page.locator(USER)).to_have_text(text)
    expect(page.locator(BOT)).to_have_count(1)
