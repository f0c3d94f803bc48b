"""Dataset readers: sample definition, title mapping, format detection, clear errors."""

from __future__ import annotations

import json

import pytest
from eval_fixtures import TINY_CATALOGUE, data_dir, tiny_dialogue, write_jsonl, write_reduced_qa

from crs.datasets import (
    Catalogue,
    DatasetFormatError,
    FileFormat,
    Role,
    TitleMatcher,
    detect_format,
    load_opendialkg_vocab,
    load_redial_catalogue,
    read_dialogues,
    read_reduced_qa,
    read_samples,
)


def test_official_dialogue_samples_follow_the_protocol(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()])
    samples = list(read_samples(path, TINY_CATALOGUE))
    assert [(s.turn, s.target_label, s.target, s.repeated) for s in samples] == [
        (2, "200", "200", False), (2, "300", "300", False),
        (4, "100", "100", True), (4, "999", None, False),
    ]
    first = samples[0]
    assert [u.role for u in first.context] == [Role.RECOMMENDER, Role.SEEKER]
    assert first.context[1].text == "Scary ones like The Shining (1980)"  # @id resolved, double space cleaned
    assert [(m.item_id, m.role, m.position) for m in first.mentions] == [("100", Role.SEEKER, 1)]
    last = samples[-1]
    assert len(last.context) == 4  # nothing from the recommendation message itself
    assert last.mentioned_ids == ("100", "200", "300")
    assert last.source.endswith("d.jsonl:1")


def test_extra_fields_are_optional(tmp_path):
    record = tiny_dialogue()
    del record["movieMentions"], record["conversationId"], record["respondentWorkerId"]
    samples = list(read_samples(write_jsonl(tmp_path / "d.jsonl", [record]), TINY_CATALOGUE))
    assert len(samples) == 4
    assert samples[0].context[1].text == "Scary ones like @100"


def test_rec_turns_map_titles_and_detect_repeats(tmp_path):
    record = {
        "dialog_id": "7", "turn_id": 3,
        "context": ["", "Hi, what do you like?", "Scary ones like The Shining (1980)", "Try It Follows (2014)", "Seen it"],
        "entity": ["horror", "The Shining (1980)", "It Follows (2014)"],
        "rec": ["The Shining (1980)", "The Others (2002)", "Not A Movie (2001)"],
    }
    samples = list(read_samples(write_jsonl(tmp_path / "t.jsonl", [record]), TINY_CATALOGUE))
    assert [(s.target, s.repeated) for s in samples] == [("100", True), ("300", False), (None, False)]
    s = samples[0]
    assert s.context[-1].role is Role.SEEKER and s.context[-2].role is Role.RECOMMENDER
    assert [(m.item_id, m.position, m.role) for m in s.mentions] == [("100", 2, Role.SEEKER), ("200", 3, Role.RECOMMENDER)]
    assert s.entities == ("horror", "The Shining (1980)", "It Follows (2014)")


def test_title_matcher_rules():
    matcher = TitleMatcher([("1", "The Matrix (1999)"), ("2", "Heat (1995)"), ("3", "Heat (1972)"), ("4", "Ὀδύσσεια")])
    assert matcher.match("Matrix, The (1999)") == "1"
    assert matcher.match("the matrix (2000)") == "1"  # year +-1
    assert matcher.match("Heat (1972)") == "3"
    assert matcher.match("Heat (1985)") is None  # ambiguous and no year close enough
    assert matcher.match("Ὀδύσσεια") == "4"  # non-ASCII titles match exactly
    assert matcher.match("Alien (1979)") is None


def test_format_detection(tmp_path):
    assert detect_format(write_jsonl(tmp_path / "a.jsonl", [tiny_dialogue()])) is FileFormat.REDIAL_DIALOGUES
    turns = write_jsonl(tmp_path / "b.jsonl", [{"context": ["hi"], "rec": ["Heat (1995)"], "entity": []}])
    assert detect_format(turns) is FileFormat.REC_TURNS
    qa = write_reduced_qa(tmp_path / "c.zip", [{"context": "", "questions": ["hi"], "answers": ["@100"]}])
    assert detect_format(qa) is FileFormat.REDIAL_REDUCED_QA
    with pytest.raises(DatasetFormatError, match=r"d\.jsonl:1"):
        detect_format(write_jsonl(tmp_path / "d.jsonl", [{"foo": 1}]))
    # the sniff reads records as every JSONL reader does (samples.read_jsonl): blank lines
    # skipped, the first record's file:line named when it is no JSON object
    late = tmp_path / "e.jsonl"
    late.write_text("\n  \n" + json.dumps(tiny_dialogue()) + "\n", encoding="utf-8")
    assert detect_format(late) is FileFormat.REDIAL_DIALOGUES
    for name, text, message in (("f.jsonl", "\n{not json\n", r"f\.jsonl:2: not valid JSON .*one JSON object per line"),
                                ("g.jsonl", "[1, 2]\n", r"g\.jsonl:1: expected one JSON object per line, got list"),
                                ("h.jsonl", "\n\n", r"h\.jsonl:1: the file is empty")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(DatasetFormatError, match=message):
            detect_format(tmp_path / name)


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(tiny_dialogue()) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetFormatError, match=r"bad\.jsonl:3: not valid JSON"):
        list(read_samples(path, TINY_CATALOGUE))
    record = tiny_dialogue()
    del record["initiatorWorkerId"]
    path = write_jsonl(tmp_path / "missing.jsonl", [tiny_dialogue(), record])
    with pytest.raises(DatasetFormatError, match=r"missing\.jsonl:2: missing field 'initiatorWorkerId'"):
        list(read_dialogues(path))
    path = write_jsonl(tmp_path / "turns.jsonl", [{"context": ["hi"], "rec": ["Heat (1995)"]}, {"context": "x", "rec": []}])
    with pytest.raises(DatasetFormatError, match=r"turns\.jsonl:2: field 'context' should be list"):
        list(read_samples(path, TINY_CATALOGUE))


def test_reduced_qa_interleaves_and_resolves(tmp_path):
    path = write_reduced_qa(tmp_path / "qa.zip", [
        {"context": "", "questions": ["hi", "I like @100"], "answers": ["hello", "then @200", "bye"]},
    ])
    (dialogue,) = read_reduced_qa(path, {"100": "The Shining (1980)"})
    assert [(u.role, u.text) for u in dialogue.utterances] == [
        (Role.SEEKER, "hi"), (Role.RECOMMENDER, "hello"), (Role.SEEKER, "I like The Shining (1980)"),
        (Role.RECOMMENDER, "then @200"), (Role.RECOMMENDER, "bye"),
    ]
    assert dialogue.interleaving_guessed
    samples = list(read_samples(path, TINY_CATALOGUE))
    assert [(s.target, [m.item_id for m in s.mentions]) for s in samples] == [("200", ["100"])]


def test_catalogue_rejects_misaligned_lists():
    with pytest.raises(ValueError):
        Catalogue("x", ("1", "2"), ("a",))


@pytest.mark.slow
def test_real_files_match_the_reference_counts():
    """EVALUATION.md: ReDial valid 3,894 samples (3,614 dedup); OpenDialKG valid 1,254 (796)."""
    base = data_dir()
    redial = load_redial_catalogue(base)
    assert len(redial) == 6924
    samples = list(read_samples(base / "redial" / "valid_dialogues.jsonl", redial))
    assert (len(samples), sum(not s.repeated for s in samples)) == (3894, 3614)
    assert all(s.target is not None for s in samples)
    vocab = load_opendialkg_vocab(base)
    catalogue = vocab.catalogue()
    assert len(catalogue) == 3672
    samples = list(read_samples(base / "opendialkg" / "valid_rec_turns.jsonl", catalogue))
    assert (len(samples), sum(not s.repeated for s in samples)) == (1254, 796)
    assert sum(s.target is None for s in samples) == 0
    assert ("actor", "Natalie Portman") in vocab.kg["Thor: The Dark World"]
