"""The attribute-only simulated user: its script (fast, hand-made movies) and ``crs simulate``
end to end on a real store with a handful of held-out ReDial targets (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import load_lexicon
from crs.simulation.runner import Episode, SimulationResult, format_table, to_dict
from crs.simulation.targets import SimTarget
from crs.simulation.user import (AskedQuestion, QuestionReader, answer, genre_phrases, is_target, knowledge, plan,
                                 say_opening, say_reveal)

CRS = str(Path(sys.executable).with_name("crs"))
VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "redial" / "valid_dialogues.jsonl"

HEAT = Movie("1", "Heat", 1995, ("crime", "drama", "action"), ("Michael Mann",), ("Al Pacino", "Robert De Niro", "Val Kilmer"),
             keywords=("bank robbery", "heat", "los angeles"), popularity=40)
COUNTS = Counter({"drama": 900, "action": 500, "crime": 300})


def test_opening_names_the_rarest_genre_and_the_decade_never_the_title():
    opening, later = plan(HEAT, genre_phrases(load_lexicon()), COUNTS)
    text = say_opening(opening)
    assert text == "Hi! I'm looking for a crime movie from the 1990s."
    assert [a.kind for a in later] == ["director", "actor", "genre", "actor", "keyword", "keyword"]
    assert later[0].value == "Michael Mann" and later[1].value == "Al Pacino" and later[2].value == "action"
    said = [say_reveal(a, rejecting=True) for a in later]
    assert said[0] == "None of those. Something directed by Michael Mann."
    assert all("heat" not in norm_title(s) for s in [text, *said]), "the keyword 'heat' would give the title away"


def test_reveal_order_and_missing_facts():
    bare = Movie("2", "Obscure", None, ("drama",), ("Madonna",), ())
    opening, later = plan(bare, genre_phrases(load_lexicon()), COUNTS, order=("actor", "director", "genre"))
    assert say_opening(opening) == "Hi! I'm looking for a drama movie."
    assert later == []  # a one-word name is no name the NLU finds; no second genre
    assert say_reveal(None, rejecting=True) == "None of those. Any other ideas?"
    assert say_reveal(None, rejecting=False) == "Any other ideas?"


def test_target_is_recognised_by_id_or_as_a_duplicate_record():
    assert is_target({"id": "1", "title": "x", "year": None}, HEAT)
    assert is_target({"id": "99", "title": "Heat", "year": 1995}, HEAT)
    assert not is_target({"id": "98", "title": "Heat", "year": 1986}, HEAT)


def test_metrics_of_a_made_up_run():
    target = SimTarget("d1", HEAT, "Heat (1995)")
    result = SimulationResult([Episode(target, 2, 0, ["1"]), Episode(target, None, None, ["5"]),
                               Episode(target, 1, 3, ["7", "8", "9", "1"]), Episode(target)], turns=3)
    m = result.metrics()
    assert m["success_rate"] == 0.5 and m["mean_turns_to_success"] == 1.5
    assert m["success_by_turn"] == [0.25, 0.5, 0.5]
    assert (m["recall@1"], m["recall@3"], m["recall@5"]) == (0.25, 0.25, 0.5)
    doc = to_dict(result, "redial", "x.jsonl")
    assert doc["samples"] == 4 and len(doc["episodes"]) == 4 and "success within 3 turns" in format_table(doc)


# ---------------------------------------------------------------------- answering questions
GRITTY_HEAT = Movie("1", "Heat", 1995, ("crime", "drama", "action"), ("Michael Mann",), ("Al Pacino", "Robert De Niro"),
                    plot="A police detective hunts a crew of thieves through the streets.",
                    keywords=("bank robbery", "heat", "los angeles"), popularity=40)


def _question(attribute: str, values: list[str]):
    from crs.dialogue.policy import Option, Question, option_label

    return Question(attribute, tuple(Option(v, option_label(attribute, v), 0.3) for v in values), 1.0)


@pytest.mark.parametrize("attribute, values", [
    ("genre", ["comedy", "drama", "thriller"]), ("era", ["recent", "2000s", "80s-90s"]), ("director", ["Christopher Nolan", "Ridley Scott"]),
    ("actor", ["Tom Hanks", "Al Pacino", "Meg Ryan"]), ("mood", ["dark", "twist", "light"]), ("keyword", ["revenge", "bank robbery"]),
])
@pytest.mark.parametrize("follow_up", [False, True])
def test_the_user_reads_every_question_the_bot_can_ask(attribute, values, follow_up):
    """The bot's own question text (real templates, real asking code) is read back."""
    from types import SimpleNamespace

    from crs.dialogue.asking import question_text
    from crs.prompts import PromptLibrary
    from crs.settings import REPO_ROOT

    deps = SimpleNamespace(prompts=PromptLibrary(REPO_ROOT / "prompts"))
    question = _question(attribute, values)
    reader = QuestionReader.from_prompts(REPO_ROOT / "prompts")
    for seed in ("s|1", "s|2", "t|3", "u|4"):  # the template variants
        text = question_text(deps, question, seed, follow_up=follow_up)
        reply = f"Here are some picks:\n1. Ronin (1998)\n{text}" if follow_up else text
        asked = reader.read(reply)
        assert asked is not None and asked.attribute == attribute, reply
        assert all(o.label in asked.options for o in question.options)
    assert reader.read("Here are some picks:\n1. Ronin (1998): a heist. Want more?") is None


@pytest.mark.parametrize("attribute, values, order, said, picked", [
    ("mood", ["dark", "gritty", "epic"], REVEAL_ORDER_DEFAULT := ("director", "actor", "genre", "actor", "keyword", "keyword"),
     "None of those. Gritty, please.", 1),
    ("actor", ["Tom Hanks", "Al Pacino"], REVEAL_ORDER_DEFAULT, "None of those. Al Pacino, please.", 1),
    ("keyword", ["revenge", "bank robbery", "heist"], REVEAL_ORDER_DEFAULT, "None of those. Bank robbery, please.", 1),
    ("genre", ["comedy", "romance", "drama"], REVEAL_ORDER_DEFAULT, "None of those. Drama, please.", 2),
    ("era", ["recent", "2000s", "80s-90s"], REVEAL_ORDER_DEFAULT, "None of those. The 80s or 90s, please.", 2),
    # not among the options: the user names its own value (not something the bot offered)
    ("director", ["Christopher Nolan", "Ridley Scott"], REVEAL_ORDER_DEFAULT, "None of those. Something directed by Michael Mann.", None),
    ("keyword", ["revenge", "space"], REVEAL_ORDER_DEFAULT, "None of those. Something about bank robbery.", None),
])
def test_answers_come_from_the_target_metadata_and_the_bot_understands_them(attribute, values, order, said, picked):
    from crs.dialogue.policy import match_option

    lexicon = load_lexicon()
    known = knowledge(GRITTY_HEAT, genre_phrases(lexicon), COUNTS, lexicon.mood_words, order)
    question = _question(attribute, values)
    asked = AskedQuestion(attribute, ", ".join(o.label for o in question.options))
    text, fact = answer(asked, known, rejecting=True)
    assert text == said and "heat" not in norm_title(text)
    if picked is not None:
        assert match_option(question.to_state(), text) == picked, "the bot's own answer matcher picks the option"
    assert answer(asked, known, rejecting=False)[0] == said.removeprefix("None of those. ")


def test_a_user_without_people_does_not_answer_about_people():
    lexicon = load_lexicon()
    known = knowledge(GRITTY_HEAT, genre_phrases(lexicon), COUNTS, lexicon.mood_words, ("genre", "keyword", "keyword"))
    assert answer(AskedQuestion("director", "Michael Mann or Ridley Scott"), known, True) is None
    assert answer(AskedQuestion("actor", "Al Pacino or Tom Hanks"), known, True) is None
    assert answer(AskedQuestion("mood", "dark, gritty or epic"), known, True)[0] == "None of those. Gritty, please."
    bare = Movie("3", "Quiet Film", None, ("drama",), (), (), plot="Two people talk.")
    known = knowledge(bare, genre_phrases(lexicon), COUNTS, lexicon.mood_words)
    assert answer(AskedQuestion("mood", "dark, gritty or epic"), known, True) is None  # nothing to say about it
    assert answer(AskedQuestion("era", "the 2000s or the 80s or 90s"), known, True) is None


def test_the_llm_voice_keeps_only_faithful_wordings():
    from crs.llm import FallbackBackend, LLMError
    from crs.settings import REPO_ROOT
    from crs.simulation.voice import LLMVoice
    from scripted_llm import ScriptedBackend

    draft, facts = "None of those. Something directed by Michael Mann.", ["Michael Mann"]
    answers = ["Nah, none of those. Got anything by Michael Mann?",   # kept
               "Something by Mann?",                                    # a fact lost
               "None of those, I want Heat by Michael Mann.",           # the title said
               "Great! Michael Mann please.",                           # the rejection lost
               LLMError("server down"), None]
    voice = LLMVoice.from_prompts(ScriptedBackend(answers), REPO_ROOT / "prompts")
    said = [voice.say(draft, facts, "Heat", bot="1. Ronin (1998)") for _ in answers]
    assert said == ["Nah, none of those. Got anything by Michael Mann?"] + [draft] * 5
    assert dict(voice.outcomes) == {"worded": 1, "fact lost": 1, "title said": 1, "rejection lost": 1, "failed": 1,
                                    "template": 1}
    failing = LLMVoice.from_prompts(FallbackBackend(ScriptedBackend([LLMError("down")])), REPO_ROOT / "prompts")
    assert failing.say(draft, facts, "Heat") == draft and failing.outcomes == {"failed": 1}


def test_the_llm_voice_through_the_openai_client_and_a_broken_server():
    """The real OpenAI client against the fake OpenAI-compatible server on 127.0.0.1: the
    wording is used, the prompt carries the draft and the bot's reply; a 500 falls back."""
    from fake_openai_server import running

    from crs.llm import FallbackBackend
    from crs.llm.openai_backend import OpenAIBackend
    from crs.settings import REPO_ROOT
    from crs.simulation.voice import LLMVoice

    draft = "None of those. Something gritty."
    with running("nope, none of those. got something gritty?") as server:
        voice = LLMVoice.from_prompts(FallbackBackend(OpenAIBackend(server.base_url, "tiny", timeout_s=5)),
                                      REPO_ROOT / "prompts", timeout_s=5)
        assert voice.say(draft, ["gritty"], "Heat", bot="1. Ronin (1998)") == "nope, none of those. got something gritty?"
        sent = server.requests[0]["messages"]
        assert draft in sent[-1]["content"] and "Ronin (1998)" in sent[-1]["content"] and "movie" in sent[0]["content"]
        server.mode = "error500"
        assert voice.say(draft, ["gritty"], "Heat") == draft
    assert voice.outcomes == {"worded": 1, "failed": 1}


class _Recording:
    """The real service, with each turn's output kept for the test to look at."""

    def __init__(self, service):
        self.service, self.turns = service, []

    def handle_turn(self, session, text):
        out = self.service.handle_turn(session, text)
        self.turns.append(out)
        return out


def test_answering_users_against_the_real_dialogue(small_store, tmp_path):
    """A user with nothing left to reveal rejects the list; the bot asks a question; the
    user answers it from the target's metadata and the bot takes the answer in."""
    from crs.settings import REPO_ROOT
    from crs.simulation.runner import run_episode
    from crs.simulation.voice import LLMVoice
    from crs.wiring import build_components
    from scripted_llm import ScriptedBackend

    settings = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'sim.db'}",
                                              "checkpoint_path": tmp_path / "sim.ckpt.sqlite"})
    components = build_components(settings)
    lexicon = load_lexicon()
    phrases, index = genre_phrases(lexicon), components.store.index
    counts = Counter(g for m in index.movies for g in m.genres)
    reader = QuestionReader.from_prompts(REPO_ROOT / "prompts")
    service = _Recording(components.service)
    answered = 0
    try:
        # the least popular movies: the first list (popular ones of the genre and decade) seldom holds them
        movies = sorted((m for m in index.movies if m.year and any(g in phrases for g in m.genres) and m.plot),
                        key=lambda m: (m.popularity, m.id))[:12]
        for n, movie in enumerate(movies):
            service.turns = []
            episode = run_episode(service, f"ask-{n}", SimTarget(str(n), movie, movie.display), 4, phrases, counts,
                                  order=(), questions=reader, mood_words=lexicon.mood_words)
            for k, step in enumerate(episode.transcript[:-1]):
                if step.get("answered"):
                    answered += 1
                    reply = episode.transcript[k + 1]["user"]
                    assert reply != "None of those. Any other ideas?" and reply.startswith("None of those.")
                    if step["asked"] == "keyword" and not reply.endswith(", please."):
                        continue  # an unoffered plot word ("Something about X."): the NLU reads none yet
                    prefs = service.turns[k + 1]["preferences"]
                    said = reply.removeprefix("None of those. ").removesuffix(", please.").lower()
                    understood = [*prefs["moods"], *prefs["keywords"], *prefs["liked_genres"],
                                  *(p.lower() for p in prefs["liked_people"])]
                    assert any(v.lower() in said or said.endswith(v.lower()) for v in understood), (reply, prefs)
            assert all(norm_title(movie.title) not in norm_title(t["user"]) for t in episode.transcript)
        assert answered >= 1, "no question was asked and answered in 12 episodes"
        # the same user worded by a (fake) LLM: its wording is said when it keeps the facts
        movie = movies[0]
        fake = ScriptedBackend([f"hey, i want a {movie.genres[0]} film"] + [None] * 8)
        voice = LLMVoice.from_prompts(fake, REPO_ROOT / "prompts")
        episode = run_episode(service, "voice-0", SimTarget("v", movie, movie.display), 2, phrases, counts,
                              order=(), voice=voice)
        first = episode.transcript[0]
        assert first["template"].startswith("Hi! I'm looking for") and voice.outcomes["worded"] + voice.outcomes["fact lost"] == 1
        assert first["user"] == (first["template"] if voice.outcomes["fact lost"] else f"hey, i want a {movie.genres[0]} film")
    finally:
        components.service.close()


@pytest.mark.slow
def test_crs_simulate_end_to_end_is_deterministic(small_store, tmp_path):
    def run(out: Path) -> dict:
        env = dict(os.environ, CRS_ARTIFACTS_DIR=str(small_store.artifacts_dir))
        done = subprocess.run([CRS, "simulate", "--dataset", "redial", "--file", str(VALID), "--turns", "4", "--limit", "6",
                               "--out", str(out), "--store-dir", str(small_store.store_dir), "--no-progress"],
                              capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "success within 4 turns" in done.stdout
        return json.loads(out.read_text(encoding="utf-8"))

    first, second = run(tmp_path / "a.json"), run(tmp_path / "b.json")
    for key in ("dataset", "file", "turns", "samples", "success_rate", "mean_turns_to_success", "recall@1", "recall@5"):
        assert key in first
    assert first["samples"] == 6 and 0.0 <= first["success_rate"] <= 1.0
    assert first["episodes"] == second["episodes"], "same targets, same conversations"
    by_turn = first["success_by_turn"]
    assert by_turn == sorted(by_turn) and by_turn[-1] == first["success_rate"]
    for episode in first["episodes"]:
        title = norm_title(episode["target"].rsplit(" (", 1)[0])
        assert all(title not in norm_title(t["user"]) for t in episode["transcript"]), "the user never says the title"
        assert len(episode["transcript"]) <= 4
        if episode["success_turn"] is not None:
            assert episode["target_id"] in episode["transcript"][episode["success_turn"] - 1]["shown"] or episode["rank"] is not None


@pytest.mark.parametrize("args, message", [
    (["--reveal", "title"], "--reveal"),
    (["--simulator", "gpt"], "--simulator"),
    (["--file", "{missing}"], "no such file"),
    (["--file", "{bad}"], "bad.jsonl:1"),
    (["--store-dir", "{nostore}"], "corpus"),
])
def test_crs_simulate_reports_bad_input(tmp_path, args, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not JSON\n", encoding="utf-8")
    paths = {"missing": tmp_path / "missing.jsonl", "bad": bad, "nostore": tmp_path / "nostore"}
    base = {"--file": str(VALID), "--store-dir": str(tmp_path / "nostore")}
    base.update(dict(zip(args[::2], (a.format(**paths) for a in args[1::2]))))
    argv = [CRS, "simulate", "--dataset", "redial", *[x for kv in base.items() for x in kv]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr.lower()
