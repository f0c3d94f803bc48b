"""The shipped model trains on train + valid; no model is ever scored on its own training
dialogues (ReDial: the artefact's record; OpenDialKG: the evaluated file's turns are left out).

Real data: small ReDial models trained on the first 60 dialogues of each training file."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_fixtures import data_dir

LIMIT = 60


def _app():
    from crs.cli import build_app

    return build_app()


@functools.cache
def _catalogue():
    from crs.datasets import load_redial_catalogue

    return load_redial_catalogue(data_dir())


@functools.cache
def _artifacts() -> Path:
    """collab-v2.npz (train + valid) and collab-v2-trainonly.npz, first 60 dialogues of each file.

    Their meta's ``limit`` is cleared so that ``crs evaluate`` treats them as the full artefacts
    (what matters here is which dialogues their records name)."""
    from crs.recommender.collaborative import Fusion
    from crs.recommender.collaborative_training import SHIPPED_FILES, TRAIN_ONLY_FILES, build_model

    folder = Path(tempfile.mkdtemp(prefix="crs-overlap-"))
    for name, files in (("collab-v2.npz", SHIPPED_FILES), ("collab-v2-trainonly.npz", TRAIN_ONLY_FILES)):
        model = build_model(data_dir(), limit=LIMIT, fusion=Fusion(), progress=False, ranker=False, files=files)
        model.meta["limit"] = None
        model.save(folder / name)
    return folder


def _valid_lines(start: int, stop: int) -> list[str]:
    return (data_dir() / "redial" / "valid_dialogues.jsonl").read_text(encoding="utf-8").splitlines()[start:stop]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _settings(artifacts: Path):
    from crs.settings import load_settings

    return load_settings(data_dir=data_dir(), artifacts_dir=artifacts)


def test_shipped_model_records_valid_and_holdout_does_not():
    shipped = json.loads((_artifacts() / "collab-v2.json").read_text())["training"]
    held_out = json.loads((_artifacts() / "collab-v2-trainonly.json").read_text())["training"]
    assert [f["name"] for f in shipped["files"]] == ["redial/train_dialogues.jsonl", "redial/train_reduced_qa.json.zip",
                                                     "redial/valid_dialogues.jsonl"]
    assert [f["name"] for f in held_out["files"]] == [f["name"] for f in shipped["files"]][:2]
    valid = shipped["files"][2]
    first = [json.loads(line)["conversationId"] for line in _valid_lines(0, LIMIT)]
    assert valid["ids"] == first and len(valid["content"]) == valid["used"] == LIMIT and len(valid["sha256"]) == 64
    # the fusion fit is the train-only one (valid adds data to the model, not to the fit)
    assert [f["role"] for f in shipped["files"]] == ["fusion fit + model", "fusion held-out model + model", "model"]
    fit = json.loads((_artifacts() / "collab-v2.json").read_text())["fusion_fit"]
    assert fit["on"] == "redial/train_dialogues.jsonl" and fit["model_trained_on"] == ["redial/train_reduced_qa.json.zip"]
    assert shipped["dialogues"] == held_out["dialogues"] + LIMIT


def test_explicit_model_trained_on_the_file_is_refused_even_renamed(tmp_path):
    renamed = _write(tmp_path / "my-test-file.jsonl", _valid_lines(0, 20))
    result = CliRunner().invoke(_app(), ["evaluate", "--dataset", "redial", "--file", str(renamed), "--no-progress",
                                         "--model", str(_artifacts() / "collab-v2.npz"), "--data-dir", str(data_dir())])
    assert result.exit_code == 2
    assert f"was trained on 20 of the 20 dialogues of {renamed} (20 in redial/valid_dialogues.jsonl)" in \
        " ".join(result.output.split())
    assert "--holdout-valid" in result.output
    # new conversation ids, same messages: still caught (by content)
    edited = [json.dumps({**json.loads(line), "conversationId": f"x{i}"}) for i, line in enumerate(_valid_lines(0, 20))]
    from crs.evaluation.variants import TrainedOnEvaluatedFile, load_collaborative

    with pytest.raises(TrainedOnEvaluatedFile, match="20 of the 20 dialogues"):
        load_collaborative(_settings(_artifacts()), lambda m: None, False, _artifacts() / "collab-v2.npz",
                           _write(tmp_path / "edited.jsonl", edited), _catalogue())


def test_default_model_falls_back_to_the_holdout_artefact(tmp_path):
    from crs.evaluation.variants import load_collaborative

    messages: list[str] = []
    sliced = _write(tmp_path / "slice.jsonl", _valid_lines(5, 25))
    model, provenance = load_collaborative(_settings(_artifacts()), messages.append, False, None, sliced, _catalogue())
    assert provenance == str(_artifacts() / "collab-v2-trainonly.npz")
    assert "collab-v2.npz was trained on 20 of the 20 dialogues" in messages[0] and "using" in messages[0]
    assert "redial/valid_dialogues.jsonl" not in [f["name"] for f in model.meta["training"]["files"]]


def test_a_file_not_trained_on_uses_the_shipped_model_unchanged(tmp_path):
    from crs.evaluation.variants import load_collaborative

    messages: list[str] = []
    unseen = _write(tmp_path / "test_dialogues.jsonl", _valid_lines(LIMIT, LIMIT + 20))  # beyond the first 60
    model, provenance = load_collaborative(_settings(_artifacts()), messages.append, False, None, unseen, _catalogue())
    assert provenance == str(_artifacts() / "collab-v2.npz") and messages == []
    assert model.meta["training"]["files"][2]["used"] == LIMIT


def test_without_a_usable_artefact_it_trains_in_memory_without_the_file(tmp_path, monkeypatch):
    import crs.recommender.collaborative_training as training
    from crs.evaluation.variants import load_collaborative
    from crs.recommender.collaborative import Fusion

    only_shipped = tmp_path / "artifacts"
    only_shipped.mkdir()
    for suffix in (".npz", ".json"):
        (only_shipped / f"collab-v2{suffix}").write_bytes((_artifacts() / f"collab-v2{suffix}").read_bytes())
    real = training.build_model
    calls = []

    def small(data_dir, **kwargs):  # the real training, cut to the first 60 dialogues per file
        calls.append(kwargs)
        return real(data_dir, limit=LIMIT, fusion=Fusion(), ranker=False, **kwargs)

    monkeypatch.setattr(training, "build_model", small)
    messages: list[str] = []
    sliced = _write(tmp_path / "slice.jsonl", _valid_lines(0, 10))
    model, provenance = load_collaborative(_settings(only_shipped), messages.append, False, None, sliced, _catalogue())
    assert provenance.startswith("trained in memory without the dialogues of")
    assert "no artefact at" in messages[0] and "training the collaborative model in memory without" in messages[0]
    valid = model.meta["training"]["files"][2]
    assert valid["dropped_excluded"] == 10 and valid["used"] == LIMIT - 10
    assert not set(valid["ids"]) & {json.loads(line)["conversationId"] for line in _valid_lines(0, 10)}


def test_train_retriever_holdout_valid_flag(tmp_path, monkeypatch):
    import crs.recommender.collaborative_training as training
    from crs.recommender.collaborative import CollaborativeModel

    seen = []
    artifacts = _artifacts()  # trained (once) before build_model is replaced

    def small(data_dir, progress=True, files=training.SHIPPED_FILES, store_dir=None):  # the small models trained above
        seen.append(tuple(files))
        assert store_dir is None  # no store built at CRS_STORE_DIR: metadata alone, and said
        name = "collab-v2-trainonly.npz" if tuple(files) == training.TRAIN_ONLY_FILES else "collab-v2.npz"
        return CollaborativeModel.load(artifacts / name)

    monkeypatch.setattr(training, "build_model", small)
    monkeypatch.setenv("CRS_ARTIFACTS_DIR", str(tmp_path))
    monkeypatch.setenv("CRS_STORE_DIR", str(tmp_path / "no-store"))
    result = CliRunner().invoke(_app(), ["train", "retriever", "--holdout-valid", "--no-progress",
                                         "--data-dir", str(data_dir())])
    assert result.exit_code == 0, result.output
    assert "no movie store at" in result.output and "crs corpus build" in result.output
    assert seen == [training.TRAIN_ONLY_FILES] and (tmp_path / "collab-v2-trainonly.npz").exists()
    assert "valid_dialogues" not in (tmp_path / "collab-v2-trainonly.json").read_text()
    result = CliRunner().invoke(_app(), ["train", "retriever", "--no-progress", "--data-dir", str(data_dir())])
    assert result.exit_code == 0, result.output
    assert seen[1] == training.SHIPPED_FILES and "redial/valid_dialogues.jsonl: 60 dialogues used" in result.output
    assert (tmp_path / "collab-v2.npz").exists()


def test_opendialkg_trains_on_every_official_train_file_but_the_evaluated_one(tmp_path):
    from crs.datasets import load_opendialkg_catalogue
    from crs.evaluation.opendialkg_model import TRAIN_FILES
    from crs.evaluation.overlap import select_opendialkg_training

    catalogue = load_opendialkg_catalogue(data_dir())
    valid = (data_dir() / "opendialkg" / "valid_rec_turns.jsonl").read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text(valid, encoding="utf-8")
    on_valid = select_opendialkg_training(data_dir(), catalogue, TRAIN_FILES, renamed)
    train, held = on_valid.files
    assert train["used"] == train["read"] > 5000 and held["used"] == 0 and held["dropped"] == held["read"]
    # a file we do not have (standing in for test): both files train
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"dialog_id": 1, "turn_id": 1, "context": ["I like Heat"], "entity": ["Heat"],
                                 "rec": ["Ronin"], "resp": "Try Ronin"}) + "\n", encoding="utf-8")
    on_other = select_opendialkg_training(data_dir(), catalogue, TRAIN_FILES, other)
    assert [f["dropped"] for f in on_other.files] == [0, 0]
    assert len(on_other.samples) == len(on_valid.samples) + held["read"]
    # a slice of valid: only its own turns are left out
    part = tmp_path / "part.jsonl"
    part.write_text("".join(valid.splitlines(keepends=True)[:100]), encoding="utf-8")
    on_part = select_opendialkg_training(data_dir(), catalogue, TRAIN_FILES, part)
    assert 0 < on_part.files[1]["dropped"] < held["read"] and on_part.files[0]["dropped"] == 0


def test_simulate_runs_the_app_with_a_model_not_trained_on_the_file(tmp_path):
    from crs.evaluation.overlap import app_settings_for_file

    messages: list[str] = []
    settings = _settings(_artifacts())
    on_valid = app_settings_for_file(settings, _write(tmp_path / "v.jsonl", _valid_lines(0, 10)), messages.append)
    assert on_valid.retriever_model == str(_artifacts() / "collab-v2-trainonly.npz") and "not trained on it" in messages[0]
    unseen = app_settings_for_file(settings, _write(tmp_path / "t.jsonl", _valid_lines(LIMIT, LIMIT + 5)), messages.append)
    assert unseen.retriever_model == str(_artifacts() / "collab-v2.npz") and len(messages) == 1
    assert app_settings_for_file(_settings(tmp_path), tmp_path / "t.jsonl", messages.append).retriever_model == "collab-v2.npz"
