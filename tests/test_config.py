"""Config validation: presets, --set, TOML files, and one clear sentence for bad input."""
from __future__ import annotations

import pytest

from engine.config import ConfigError, apply_set, build, parse_value, preset_names, validate


def test_every_preset_validates():
    assert "demo-finetune" in preset_names()
    for name in preset_names():
        cfg = build(preset=name)
        assert cfg.preset == name


def test_set_reaches_nested_fields_with_typed_values():
    cfg = build(preset="demo-finetune", sets=["train.epochs=1", "task.target_langs=[it,de]",
                                              "task.max_source=200", "seed=7", "train.lr=3e-5",
                                              "train.freeze_embeddings=false"])
    assert cfg.train.epochs == 1 and cfg.task.target_langs == ["it", "de"]
    assert cfg.task.max_source == 200 and cfg.seed == 7 and cfg.train.lr == 3e-5
    assert cfg.train.freeze_embeddings is False


def test_parse_value_reads_toml_and_bare_words():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("[it, de]") == ["it", "de"] and parse_value('"x y"') == "x y"
    assert parse_value("e5-small") == "e5-small"


def test_toml_file_then_set(tmp_path):
    f = tmp_path / "my.toml"
    f.write_text('seed = 3\n[train]\nepochs = 2\n[task]\ntarget_langs = ["ja"]\n')
    cfg = build(f, preset="demo-finetune", sets=["train.epochs=4"])
    assert cfg.seed == 3 and cfg.train.epochs == 4 and cfg.task.target_langs == ["ja"]


def test_round_trip_through_toml(tmp_path):
    cfg = build(preset="demo-finetune", sets=["task.max_test=10"])
    f = tmp_path / "c.toml"
    f.write_text(cfg.to_toml())
    assert build(f) == cfg


@pytest.mark.parametrize("sets, words", [
    (["train.epochs=0"], ["train.epochs", "0", "greater than or equal to 1"]),
    (["train.epochs=many"], ["train.epochs", "many", "integer"]),
    (["task.target_langs=[xx]"], ["task.target_langs", "'xx'", "topics has"]),
    (["task.source_lang=xx"], ["task.source_lang", "'xx'"]),
    (["task.name=nope"], ["task.name", "'nope'", "allowed"]),
    (["method.name=magic"], ["method.name", "'magic'", "allowed: cotrain, finetune, langadapt, langadapt+cotrain, selftrain, translate-train"]),
    (["method.threshold=0.9"], ["method.threshold", "not a parameter of method finetune"]),
    (["method.name=cotrain", "method.threshold=2"], ["method.threshold", "2", "less than 1"]),
    (["method.name=cotrain", "method.colour=red"], ["method.colour", "parameters: reinit_each_round, rounds"]),
    (["train.lr=-1"], ["train.lr", "-1", "greater than 0"]),
    (["trian.epochs=1"], ["trian", "not a config field"]),
    (["train.device=tpu"], ["train.device", "'tpu'", "'auto', 'cpu' or 'cuda'"]),
    (["train.epochs"], ["--set", "no '='"]),
    (["task.target_langs=[fa]", "task.parallel_size=200"], ["task.parallel_size is 200", "translations"]),
])
def test_bad_input_is_one_sentence_naming_field_and_value(sets, words):
    with pytest.raises(ConfigError) as err:
        build(preset="demo-finetune", sets=sets)
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="preset 'nope' does not exist; presets: .*demo-finetune"):
        build(preset="nope")
    with pytest.raises(ConfigError, match="does not exist"):
        build(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        build(bad)


def test_source_language_cannot_be_a_target():
    with pytest.raises(ConfigError, match="includes the source language 'en'"):
        validate({"task": {"target_langs": ["en", "it"]}})


def test_apply_set_into_scalar_is_an_error():
    data = {"seed": 1}
    with pytest.raises(ConfigError, match="seed is not a section"):
        apply_set(data, "seed.x=1")
