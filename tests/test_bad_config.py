"""Every bad input is one sentence naming the field, the value and what is allowed (issue 9).

Table-driven: each row is the `--set` assignments (on top of the demo-finetune preset) and the
words the sentence must hold. Then the model check a run gets before it exists
(engine.models.check), and a few rows through the real CLI: exit 2, one `error:` line, no run.
"""
from __future__ import annotations

import json

import pytest

from conftest import assert_bad_input, cli
from engine.config import ConfigError, ModelsConfig, build, preset_names
from engine.methods import get_method, method_names
from engine.models.check import check_model, check_models

COTRAIN = ["method.name=cotrain"]
LANGADAPT = ["method.name=langadapt", "task.parallel_size=200"]
LONG = "x" * 10_000

BAD = [
    # a boolean where an int or a float belongs, anywhere (method parameters included)
    (["task.max_source=true"], ["task.max_source is true", "integer", "not true or false"]),
    (["task.max_unlabeled=false"], ["task.max_unlabeled is false", "integer"]),
    (["task.max_test=true"], ["task.max_test is true", "integer"]),
    (["task.parallel_size=true"], ["task.parallel_size is true", "integer"]),
    (["train.epochs=true"], ["train.epochs is true", "integer"]),
    (["train.batch_size=false"], ["train.batch_size is false", "integer"]),
    (["train.max_length=true"], ["train.max_length is true", "integer"]),
    (["train.eval_batch_size=true"], ["train.eval_batch_size is true", "integer"]),
    (["train.threads=true"], ["train.threads is true", "integer"]),
    (["seed=true"], ["seed is true", "integer"]),
    (["train.lr=true"], ["train.lr is true", "number", "not true or false"]),
    (["train.weight_decay=false"], ["train.weight_decay is false", "number"]),
    (["task.test_fraction=true"], ["task.test_fraction is true", "number"]),
    (COTRAIN + ["method.rounds=true"], ["method.rounds is true", "integer"]),
    (COTRAIN + ["method.threshold=true"], ["method.threshold is true", "number"]),
    (LANGADAPT + ["method.stage2_epochs=true"], ["method.stage2_epochs is true", "integer"]),
    (LANGADAPT + ["method.sa_negatives=true"], ["method.sa_negatives is true", "integer"]),
    # a flag must be a real boolean
    (["train.freeze_embeddings=yes"], ["train.freeze_embeddings is 'yes'", "true or false"]),
    (["train.freeze_embeddings=1"], ["train.freeze_embeddings is 1", "true or false"]),
    (["train.freeze_embeddings=on"], ["train.freeze_embeddings is 'on'", "true or false"]),
    (['train.freeze_embeddings="true"'], ["train.freeze_embeddings is 'true'", "without quotes"]),
    (["method.eval_each_epoch=no"], ["method.eval_each_epoch is 'no'", "true or false"]),
    (COTRAIN + ["method.reinit_each_round=1"], ["method.reinit_each_round is 1", "true or false"]),
    (LANGADAPT + ["method.semantic_alignment=yes"], ["method.semantic_alignment is 'yes'", "true or false"]),
    # text where a number belongs
    (['train.epochs="3"'], ["train.epochs is '3'", "integer", "without quotes"]),
    (['train.lr="1e-4"'], ["train.lr is '1e-4'", "number", "without quotes"]),
    (["seed=abc"], ["seed is 'abc'", "integer"]),
    (["task.max_source=lots"], ["task.max_source is 'lots'", "integer"]),
    (COTRAIN + ['method.threshold="0.9"'], ["method.threshold is '0.9'", "number", "without quotes"]),
    (COTRAIN + ["method.rounds=five"], ["method.rounds is 'five'", "integer"]),
    # a float where an int belongs
    (["train.epochs=2.5"], ["train.epochs is 2.5", "integer"]),
    (["train.batch_size=16.0"], ["train.batch_size is 16.0", "integer", "write 16"]),
    (["seed=4.0"], ["seed is 4.0", "integer"]),
    # NaN and infinity
    (["train.lr=nan"], ["train.lr is nan", "finite number"]),
    (["train.lr=inf"], ["train.lr is inf", "finite number"]),
    (["train.lr=-inf"], ["train.lr is -inf", "finite number"]),
    (["train.weight_decay=nan"], ["train.weight_decay is nan", "finite number"]),
    (["train.head_lr=nan"], ["train.head_lr is nan", "finite number"]),
    (["train.emb_lr=inf"], ["train.emb_lr is inf", "finite number"]),
    (["train.warmup_ratio=nan"], ["train.warmup_ratio is nan", "finite number"]),
    (["task.test_fraction=nan"], ["task.test_fraction is nan", "finite number"]),
    (COTRAIN + ["method.threshold=nan"], ["method.threshold is nan", "finite number"]),
    (COTRAIN + ["method.select_fraction=inf"], ["method.select_fraction is inf", "finite number"]),
    (LANGADAPT + ["method.tau=nan"], ["method.tau is nan", "finite number"]),
    # negative or absurd numbers
    (["seed=-1"], ["seed is -1", "greater than or equal to 0"]),
    (["seed=2147483648"], ["seed is 2147483648", "less than or equal to 2147483647"]),
    (["train.epochs=-3"], ["train.epochs is -3", "greater than or equal to 1"]),
    (["train.epochs=100000"], ["train.epochs is 100000", "less than or equal to 1000"]),
    (["train.batch_size=0"], ["train.batch_size is 0", "greater than or equal to 1"]),
    (["train.lr=2"], ["train.lr is 2", "less than or equal to 1"]),
    (["train.lr=0"], ["train.lr is 0", "greater than 0"]),
    (["task.max_source=0"], ["task.max_source is 0", "greater than or equal to 1"]),
    (["task.max_unlabeled=-1"], ["task.max_unlabeled is -1", "greater than or equal to 0"]),
    (["task.test_fraction=1"], ["task.test_fraction is 1", "less than 1"]),
    (["task.parallel_size=-5"], ["task.parallel_size is -5", "greater than or equal to 0"]),
    (["train.max_length=4"], ["train.max_length is 4", "greater than or equal to 8"]),
    (["train.threads=0"], ["train.threads is 0", "greater than or equal to 1"]),
    (COTRAIN + ["method.rounds=0"], ["method.rounds is 0", "greater than or equal to 1"]),
    (COTRAIN + ["method.rounds=1000"], ["method.rounds is 1000", "less than or equal to 100"]),
    # model specs: present and written as a name
    (['models.lm=""'], ["models.lm is ''", "give a model", "e5-small", "folder"]),
    (['models.emb=""'], ["models.emb is ''", "give a model"]),
    (['models.lm="   "'], ["models.lm is '   '", "give a model"]),
    (['models.emb="  "'], ["models.emb is '  '", "give a model"]),
    (['models.lm=" e5-small "'], ["models.lm is ' e5-small '", "no spaces around it", "write 'e5-small'"]),
    (["models.lm=3"], ["models.lm is 3", "valid string"]),
    (['models.lm="a\\u0007b"'], ["models.lm is 'a\\x07b'", "U+0007"]),
    (["models.pooling=max"], ["models.pooling is 'max'", "'auto', 'cls' or 'mean'"]),
    # a data folder for a task that reads none
    (["task.data_dir=/data/mine"], ["task.data_dir is '/data/mine'", "task topics takes none"]),
    (['task.data_dir=""'], ["task.data_dir is ''"]),
    # target languages
    (["task.target_langs=[it,de,it]"], ["task.target_langs lists 'it' twice"]),
    (['task.target_langs="ja,ja"'], ["task.target_langs lists 'ja' twice"]),
    (["task.target_langs=[1,2]"], ["task.target_langs.0 is 1", "valid string"]),
    (["task.target_langs=3"], ["task.target_langs is 3", "valid list"]),
    (["task.target_langs=[en,it]"], ["task.target_langs includes the source language 'en'"]),
    (["task.source_lang=true"], ["task.source_lang is true", "valid string"]),
    (["task.name=3"], ["task.name is 3", "valid string"]),
    (["method.name=true"], ["method.name is true", "valid string"]),
    # unknown fields and sections, and a value where a section belongs
    (["foo=1"], ["foo is not a config field", "the config has: name, preset, description, seed, task"]),
    (["trian.epochs=1"], ["trian is not a config field"]),
    (["train.epoch=1"], ["train.epoch is not a config field", "section train has: epochs, batch_size"]),
    (["models.encoder=x"], ["models.encoder is not a config field", "section models has: lm, emb, pooling"]),
    (["task=topics"], ["task is 'topics'", "a section of the config", "task.name"]),
    (["method=cotrain"], ["method is 'cotrain'", "a section of the config", "method.name"]),
    (["train=3"], ["train is 3", "a section of the config", "train.epochs"]),
    # labels: short, one line, printable
    ([f"name={LONG}"], ["name is 'xxxx", "(10000 characters)", "at most 100 characters"]),
    (['name="a\\nb"'], ["name is 'a\\nb'", "a line break", "one line"]),
    (['name="a\\u0007b"'], ["name is 'a\\x07b'", "U+0007"]),
    (['name="tab\\there"'], ["name is 'tab\\there'", "a tab"]),
    (['preset="a\\rb"'], ["preset is 'a\\rb'", "carriage return"]),
    ([f"description={'y' * 3000}"], ["description is 'yyyy", "(3000 characters)", "at most 2000 characters"]),
    (['description="a\\u0000b"'], ["description is 'a\\x00b'", "NUL"]),
]


@pytest.mark.parametrize("sets, words", BAD, ids=[" ".join(r[0])[:60] for r in BAD])
def test_bad_input_is_one_sentence_naming_field_and_value(sets, words):
    with pytest.raises(ConfigError) as err:
        build(preset="demo-finetune", sets=sets)
    msg = str(err.value)
    assert "\n" not in msg and len(msg) < 400, msg
    for w in words:
        assert w in msg, msg


def test_the_table_is_big_enough():
    assert len(BAD) >= 60


GOOD = [
    (["train.lr=1"], lambda c: c.train.lr == 1.0 and isinstance(c.train.lr, float)),
    (["train.lr=3e-5", "train.head_lr=1"], lambda c: c.train.head_lr == 1.0),
    (['task.target_langs="it,de"'], lambda c: c.task.target_langs == ["it", "de"]),
    (["task.target_langs=it,de"], lambda c: c.task.target_langs == ["it", "de"]),
    (["train.freeze_embeddings=false"], lambda c: c.train.freeze_embeddings is False),
    (['description="line one\\nline two"'], lambda c: "\n" in c.description),
    ([f"name={'n' * 100}"], lambda c: len(c.name) == 100),
    (["name=é-run ✓"], lambda c: c.name == "é-run ✓"),
    (LANGADAPT + ["method.lambda_la=1"], lambda c: c.method.lambda_la == 1.0),
    (COTRAIN + ["method.threshold=0", "models.emb=org/some-model"], lambda c: c.method.threshold == 0.0),
]


@pytest.mark.parametrize("sets, ok", GOOD, ids=[" ".join(r[0])[:60] for r in GOOD])
def test_good_input_still_passes(sets, ok, tmp_path):
    cfg = build(preset="demo-finetune", sets=sets)
    assert ok(cfg)
    f = tmp_path / "c.toml"
    f.write_text(cfg.to_toml(), encoding="utf-8")
    assert build(f) == cfg  # a resolved config reads back as itself, strict types and all


def test_every_preset_still_validates():
    for name in preset_names():
        build(preset=name)


@pytest.mark.parametrize("text, words", [
    ('[train]\nfreeze_embeddings = "yes"\n', ["train.freeze_embeddings is 'yes'", "true or false"]),
    ("[task]\nmax_source = true\n", ["task.max_source is true", "integer"]),
    ("[task]\ndata_dir = \"/mine\"\n", ["task.data_dir is '/mine'", "task topics takes none"]),
    ("[method]\nname = \"cotrain\"\nrounds = 2.0\n", ["method.rounds is 2.0", "integer"]),
    ("[extra]\nx = 1\n", ["extra is not a config field"]),
])
def test_bad_config_file_is_one_sentence(text, words, tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        build(f, preset="demo-finetune")
    for w in words:
        assert w in str(err.value), str(err.value)


# --------------------------------------------------------------------------- models, before a run


def test_methods_declare_the_models_they_use():
    fields = set(ModelsConfig.model_fields)
    for name in method_names():
        method = get_method(name)
        assert method.uses_models and set(method.uses_models) <= fields, name
        assert set(getattr(method, "views", ("lm",))) <= set(method.uses_models), name
    assert get_method("finetune").uses_models == ("lm",)
    assert set(get_method("cotrain").uses_models) == {"lm", "emb"}
    assert set(get_method("langadapt+cotrain").uses_models) == {"lm", "emb"}


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return hub


def _make(tmp_path, kind: str) -> str:
    """A model spec of the given kind, its folder built under tmp_path."""
    d = tmp_path / "m"
    if kind == "missing":
        return str(tmp_path / "no" / "such")
    if kind == "file":
        tmp_path.joinpath("weights.bin").write_bytes(b"\0")
        return str(tmp_path / "weights.bin")
    d.mkdir()
    if kind == "empty":
        return str(d)
    if kind == "no config":
        (d / "model.safetensors").write_bytes(b"\0")
        return str(d)
    (d / "model.safetensors").write_bytes(b"\0")
    (d / "tokenizer.json").write_text("{}")
    text = {"not json": "{'model_type': bert,", "not an object": "[1, 2]", "config itself": "{}",
            "no weights": "{}", "no tokenizer": "{}"}[kind]
    (d / "config.json").write_text(text)
    if kind == "no weights":
        (d / "model.safetensors").unlink()
    if kind == "no tokenizer":
        (d / "tokenizer.json").unlink()
    if kind == "config itself":
        return str(d / "config.json")
    return str(d)


@pytest.mark.parametrize("kind, words", [
    ("missing", ["no such folder", "Hugging Face id", "config.json, weights, tokenizer"]),
    ("file", ["a file, not a folder", "Hugging Face id"]),
    ("empty", ["the folder is empty", "config.json, weights, tokenizer"]),
    ("no config", ["has no config.json", "not a transformers model"]),
    ("not json", ["config.json is not valid JSON", "line 1"]),
    ("not an object", ["config.json is not a JSON object"]),
    ("config itself", ["that is the model's config.json, not its folder", "give the folder"]),
    ("no weights", ["has no weights", "model.safetensors"]),
    ("no tokenizer", ["has no tokenizer", "tokenizer.json"]),
])
@pytest.mark.parametrize("field", ["lm", "emb"])
def test_model_folder_that_cannot_load_is_one_sentence(kind, words, field, tmp_path, empty_hub):
    spec = _make(tmp_path, kind)
    cfg = build(preset="demo-finetune", sets=["method.name=cotrain", f"models.{field}={json.dumps(spec)}"])
    with pytest.raises(ConfigError) as err:
        check_models(cfg)
    msg = str(err.value)
    assert msg.startswith(f"models.{field} is {spec!r}: ") and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("spec", ["sentence-transformers/LaBSE", "bert-base-multilingual-cased"])
def test_offline_id_not_in_the_cache_says_how_to_get_it(spec, empty_hub):
    cfg = build(preset="demo-finetune", sets=[f"models.lm={spec}"])
    with pytest.raises(ConfigError) as err:
        check_models(cfg)
    msg = str(err.value)
    for w in [f"models.lm is {spec!r}", "HF_HUB_OFFLINE is set", "not in the Hugging Face cache", str(empty_hub),
              f"hf download {spec}", "folder"]:
        assert w in msg, msg


def test_transformers_offline_counts_too(empty_hub, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    with pytest.raises(ConfigError, match="TRANSFORMERS_OFFLINE is set"):
        check_model("models.lm", "org/model")


def test_offline_id_in_the_cache_passes_and_a_partial_copy_does_not(empty_hub):
    repo = empty_hub / "models--org--tiny"
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    (snap / "config.json").write_text("{}")
    with pytest.raises(ConfigError) as err:
        check_model("models.lm", "org/tiny")
    assert "models.lm is 'org/tiny'" in str(err.value) and "incomplete" in str(err.value)
    (snap / "model.safetensors").write_bytes(b"\0")
    (snap / "tokenizer.json").write_text("{}")
    check_model("models.lm", "org/tiny")


def test_online_id_is_left_to_the_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    check_model("models.lm", "org/not-downloaded-yet")
    with pytest.raises(ConfigError, match="no such folder"):  # not an id either
        check_model("models.lm", "not an id/nor/a folder")


def test_tfhub_is_refused_before_a_run_with_the_workers_words(empty_hub):
    cfg = build(preset="demo", sets=["models.emb=tfhub:google/LaBSE/2"])
    assert cfg.method.name == "cotrain"
    with pytest.raises(ConfigError) as err:
        check_models(cfg)
    msg = str(err.value)
    assert msg.startswith("models.emb is 'tfhub:google/LaBSE/2'") and "TF-Hub backend is not available" in msg
    assert "sentence-transformers/LaBSE" in msg


def test_only_the_models_the_method_uses_are_checked(tmp_path, empty_hub):
    missing = str(tmp_path / "nope")
    check_models(build(preset="demo-finetune", sets=[f"models.emb={missing}"]))  # finetune: lm only
    with pytest.raises(ConfigError, match="models.emb is"):
        check_models(build(preset="demo", sets=[f"models.emb={missing}"]))


@pytest.mark.parametrize("spec", ["e5-small", "use"])
def test_builtin_models_pass(spec, empty_hub):
    check_model("models.lm", spec)
    check_models(build(preset="demo", sets=[f"models.lm={spec}", f"models.emb={spec}"]))


def test_a_real_model_folder_passes(tiny_model, empty_hub, monkeypatch):
    check_models(build(preset="demo-finetune", sets=[f"models.lm={tiny_model}"]))
    check_models(build(preset="demo", sets=[f"models.lm={tiny_model}", f"models.emb={tiny_model}"]))
    monkeypatch.setenv("HOME", str(tiny_model.parent.parent))
    check_model("models.lm", f"~/{tiny_model.parent.name}/{tiny_model.name}")  # ~ is the user's home


def test_the_check_does_not_import_the_training_stack():
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys\nfrom engine.config import build\nfrom engine.models.check import check_models\n"
            "for spec in ('/nope', 'org/x', 'e5-small'):\n"
            "    try:\n        check_models(build(preset='demo', sets=['models.lm=' + spec]))\n"
            "    except Exception:\n        pass\n"
            "print('HEAVY', [m for m in ('torch', 'transformers', 'tensorflow') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("sets, words", [
    (["task.max_source=true"], ["task.max_source is true", "integer"]),
    (["train.freeze_embeddings=yes"], ["train.freeze_embeddings is 'yes'", "true or false"]),
    (['models.lm=""'], ["models.lm is ''", "give a model"]),
    (["task.data_dir=/data/mine"], ["task.data_dir is '/data/mine'", "task topics takes none"]),
    (["task.target_langs=[it,de,it]"], ["task.target_langs lists 'it' twice"]),
    ([f"name={LONG}"], ["name is", "at most 100 characters"]),
])
def test_cli_exits_2_with_one_sentence_and_no_run(sets, words, runs_dir):
    args = ["run", "--preset", "demo-finetune"]
    for s in sets:
        args += ["--set", s]
    out = cli(*args, runs_dir=runs_dir)
    assert_bad_input(out, words, runs_dir)
