"""RunConfig: every knob of a run, validated, loadable from TOML presets and `--set` overrides.

Importable without torch: the UI validates forms with it as the user types.
"""
from __future__ import annotations

import copy
import math
import tomllib
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError


from engine.errors import ConfigError  # noqa: E402  (re-exported: one error type for bad input)


#: the longest run name, preset or description (in characters); a label, not a document
MAX_NAME = 100
MAX_DESCRIPTION = 2000


def _bad_char(text: str, multiline: bool = False) -> str | None:
    """The first character a config string may not hold, described (None: all fine)."""
    for c in text:
        if multiline and c in "\n\t":
            continue
        if unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            return {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL"}.get(
                c, f"the control character U+{ord(c):04X}")
    return None


def _one_line(v: Any, multiline: bool = False) -> Any:
    texts = v if isinstance(v, list) else [v]
    for t in texts:
        if isinstance(t, str) and (what := _bad_char(t, multiline)):
            raise PydanticCustomError("bad_character", "text may not hold {what}" +
                                      ("" if multiline else "; write it on one line"), {"what": what})
    return v


class _Checked(BaseModel):
    """Strict types everywhere: no bool where a number belongs, no string for a number or a bool,
    no float for an int (an int is fine for a float), no NaN or infinity; text is one line."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, v: Any, info: Any) -> Any:
        return _one_line(v, multiline=info.field_name == "description")


class _Strict(_Checked):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TaskConfig(_Strict):
    name: str = Field("topics", description="task: topics (offline demo) or a task the engine knows")
    source_lang: str = Field("en", description="language of the labeled training data D")
    target_langs: list[str] = Field(default_factory=list,
                                    description="languages to adapt to and evaluate (empty: all the task has)")
    max_source: int | None = Field(None, ge=1, description="cap on |D| (None: all)")
    max_unlabeled: int | None = Field(None, ge=0, description="cap on |U| per target language (None: all)")
    test_fraction: float = Field(0.3, gt=0, lt=1,
                                 description="share of each target language held out as its test set")
    max_test: int | None = Field(None, ge=1, description="cap on each test set (None: all)")
    parallel_size: int = Field(0, ge=0, description="|Dbi|: translation pairs of source items (few-shot)")
    data_dir: str | None = Field(None, description="folder of the user's own files (task custom)")

    @field_validator("target_langs", mode="before")
    @classmethod
    def _split_langs(cls, v: Any) -> Any:
        if isinstance(v, str):  # "it,de" on purpose: what a user types
            return [x.strip() for x in v.strip("[]").split(",") if x.strip()]
        return v

    @field_validator("data_dir", mode="after")
    @classmethod
    def _some_folder(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise PydanticCustomError("empty", "give a folder, or leave task.data_dir out")
        return v

    @model_validator(mode="after")
    def _check_languages(self) -> "TaskConfig":
        from engine.tasks import get_task, task_names

        if self.name not in task_names():
            raise ValueError(f"task.name is {self.name!r}; allowed: {', '.join(task_names())}")
        task = get_task(self.name)
        langs = task.languages()
        sources = task.source_languages()
        if self.source_lang not in sources:
            raise ValueError(f"task.source_lang is {self.source_lang!r}; task {self.name} has labeled "
                             f"training data in: {', '.join(sources)}")
        bad = [x for x in self.target_langs if x not in langs]
        if bad:
            raise ValueError(f"task.target_langs has {', '.join(map(repr, bad))}; "
                             f"task {self.name} has: {', '.join(langs)}")
        if self.source_lang in self.target_langs:
            raise ValueError(f"task.target_langs includes the source language {self.source_lang!r}; "
                             "list only the languages to adapt to")
        twice = next((x for i, x in enumerate(self.target_langs) if x in self.target_langs[:i]), None)
        if twice is not None:
            raise ValueError(f"task.target_langs lists {twice!r} twice; list each language once")
        task.check(self)
        return self

    def resolved_targets(self) -> list[str]:
        from engine.tasks import get_task

        if self.target_langs:
            return list(self.target_langs)
        return [x for x in get_task(self.name).languages() if x != self.source_lang]


class ModelsConfig(_Strict):
    lm: str = Field("e5-small", description="f_lm: e5-small, a Hugging Face id or a local model folder")
    emb: str = Field("use", description="f_emb: use (offline multilingual USE), a Hugging Face id, or tfhub:HANDLE")
    pooling: Literal["auto", "cls", "mean"] = Field(
        "auto", description="sentence vector of f_lm: auto (the model's own), cls (first token) or mean")
    # A role's own learning rate is `<role>_lr` (engine.methods.base.model_lr); a role without one
    # trains at train.lr.
    emb_lr: float | None = Field(None, gt=0, le=1,
                                 description="learning rate of f_emb (None: train.lr); a frozen encoder's head wants ~1e-2")

    @field_validator("lm", "emb", mode="after")
    @classmethod
    def _some_model(cls, v: str) -> str:
        if not v.strip():
            raise PydanticCustomError(
                "empty_model", "give a model: e5-small, use, a Hugging Face id (org/name) or a model folder")
        if v != v.strip():
            raise PydanticCustomError("spaces", "a model name has no spaces around it; write {v}",
                                      {"v": repr(v.strip())})
        return v


class TrainConfig(_Strict):
    epochs: int = Field(5, ge=1, le=1000, description="epochs of each fine-tuning")
    batch_size: int = Field(16, ge=1, le=4096, description="training batch size")
    lr: float = Field(5e-5, gt=0, le=1, description="peak learning rate (AdamW, linear schedule)")
    weight_decay: float = Field(0.01, ge=0, le=1, description="AdamW weight decay")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="share of steps with a linear warm-up")
    max_length: int = Field(128, ge=8, le=4096, description="tokens per text (longer texts are cut)")
    eval_batch_size: int = Field(64, ge=1, le=8192, description="batch size of prediction")
    freeze_embeddings: bool = Field(False, description="keep the word-embedding table fixed (faster on CPU)")
    head_lr: float | None = Field(None, gt=0, le=1, description="learning rate of the classifier head (None: lr); scaled with a stage's or a model's own lr")
    # The old name of models.emb_lr, read for runs made before it moved (see RunConfig._moved_fields);
    # never written back.
    emb_lr: float | None = Field(None, gt=0, le=1, exclude=True,
                                 description="old name of models.emb_lr (read for runs made before; set models.emb_lr)")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: the GPU the launcher gave, else CPU")
    threads: int | None = Field(None, ge=1, le=512, description="CPU threads for torch (None: torch's default)")


class MethodConfig(_Checked):
    """`name` picks the method; its other fields are that method's declared parameters (strict
    like the rest of the config, however the method declared them)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field("finetune", description="finetune")

    @model_validator(mode="after")
    def _check_params(self) -> "MethodConfig":
        from engine.methods import method_names, method_params

        if self.name not in method_names():
            raise ValueError(f"method.name is {self.name!r}; allowed: {', '.join(method_names())}")
        schema = method_params(self.name)
        given = dict(self.model_extra or {})
        unknown = sorted(set(given) - set(schema.model_fields))
        if unknown:
            allowed = ", ".join(sorted(schema.model_fields)) or "none"
            raise ValueError(f"method.{unknown[0]} is not a parameter of method {self.name}; its parameters: {allowed}")
        # Store every declared parameter, defaults included: a run's config is fully resolved.
        self.__pydantic_extra__.update(schema.model_validate(given, strict=True).model_dump())
        return self

    def params(self) -> BaseModel:
        from engine.methods import method_params

        return method_params(self.name)(**(self.model_extra or {}))


class RunConfig(_Strict):
    name: str = Field("", max_length=MAX_NAME,
                      description="a label for the run (default: preset or method and task)")
    preset: str = Field("", max_length=MAX_NAME, description="the preset this config started from")
    description: str = Field("", max_length=MAX_DESCRIPTION,
                             description="what the run is for (presets describe themselves)")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="seed of data splits, initialisation and order")
    task: TaskConfig = Field(default_factory=TaskConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    method: MethodConfig = Field(default_factory=MethodConfig)

    @model_validator(mode="after")
    def _moved_fields(self) -> "RunConfig":
        """Fields of configs made before they moved, read where they live now (the one place that
        knows their old names): `train.emb_lr` is `models.emb_lr`."""
        old = self.train.emb_lr
        if old is not None:
            if self.models.emb_lr not in (None, old):
                raise ValueError(f"train.emb_lr is {old} and models.emb_lr is {self.models.emb_lr}: train.emb_lr is "
                                 "the old name of models.emb_lr; set only models.emb_lr")
            self.models.emb_lr = old
            self.train.emb_lr = None
        return self

    @model_validator(mode="after")
    def _check_method_data(self) -> "RunConfig":
        from engine.methods import get_method

        if get_method(self.method.name).needs_parallel and self.task.parallel_size == 0:
            raise ValueError(f"method.name is {self.method.name}, which trains on translation pairs: set "
                             "task.parallel_size to how many (the paper's few-shot setting: 200)")
        return self

    def display_name(self) -> str:
        return self.name or self.preset or f"{self.method.name}-{self.task.name}"

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=False)

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(_drop_none(self.to_dict()))


# --------------------------------------------------------------------------- building configs

def _drop_none(d: Any) -> Any:
    # TOML has no null: a missing key means the default, which for these fields is None.
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    return d


def show_value(value: Any) -> str:
    """A value as a sentence shows it: TOML's true/false, quoted text, long text cut short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    if len(text) > 60:
        size = f" ({len(value)} characters)" if isinstance(value, str) else ""
        text = text[:50] + "…" + text[-1] + size
    return text


def _section(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model that holds the field at `loc` (None: not a section of ours)."""
    model: Any = RunConfig
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        model = field.annotation if field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
    return model


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"])
    msg = e["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    value = e.get("input")
    kind = e["type"]
    if kind == "extra_forbidden":
        section = _section(e["loc"])
        if section is None:
            return f"{loc} is not a config field"
        where = ".".join(str(p) for p in e["loc"][:-1])
        has = ", ".join(section.model_fields)
        return f"{loc} is not a config field; {f'section {where}' if where else 'the config'} has: {has}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        section = _section((*e["loc"], "x"))
        if section is not None:
            first = next(iter(section.model_fields))
            return (f"{loc} is {show_value(value)}: {loc} is a section of the config, not a value; "
                    f"set its fields instead, e.g. {loc}.{first}")
    msg = msg[0].lower() + msg[1:]
    if kind in ("int_type", "float_type") and isinstance(value, bool):
        msg += ", not true or false"
    elif kind == "bool_type":
        msg = "input should be true or false"
        if isinstance(value, str) and value.strip() in ("true", "false"):
            msg += "; write it without quotes"
    elif kind in ("int_type", "float_type") and isinstance(value, str):
        if type(parse_value(value.strip())) in (int, float):
            msg += "; write it without quotes"
    elif kind == "int_type" and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        msg += f"; write {int(value)}"
    elif kind == "finite_number":
        msg = "input should be a finite number, not NaN or infinity"
    shown = "" if isinstance(value, dict) else f" is {show_value(value)}"
    return f"{loc}{shown}: {msg}"


def validate(data: dict[str, Any]) -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_first_error(err)) from None


def parse_value(text: str) -> Any:
    """A `--set` value as TOML would read it; bare words stay strings, `[a,b]` is a list."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    if text.startswith("[") and text.endswith("]"):
        return [parse_value(x.strip()) for x in text[1:-1].split(",") if x.strip()]
    return text


def get_path(data: dict[str, Any], path: str, default: Any = None) -> Any:
    """The value at `dotted.path` in a plain config dict, or `default` where there is none."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set `dotted.path` in a plain config dict, making the sections on the way (a ConfigError
    when a part of the way is a value, not a section)."""
    parts = [p for p in path.strip().split(".") if p]
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{'.'.join(parts[:i + 1])} is not a section")
        node = nxt
    node[parts[-1]] = value


def drop_path(data: dict[str, Any], path: str) -> None:
    """Remove `dotted.path` from a plain config dict, if it is there."""
    *sections, last = path.split(".")
    node: Any = get_path(data, ".".join(sections), None) if sections else data
    if isinstance(node, dict):
        node.pop(last, None)


def apply_set(data: dict[str, Any], assignment: str) -> None:
    """Apply one `dotted.path=value` to a plain config dict."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r} has no '='; write it as key=value, e.g. train.epochs=1")
    key, _, raw = assignment.partition("=")
    if not [p for p in key.strip().split(".") if p]:
        raise ConfigError(f"--set {assignment!r} has an empty key; write it as key=value, e.g. train.epochs=1")
    value = parse_value(raw.strip())
    try:
        set_path(data, key, value)
    except ConfigError as err:
        raise ConfigError(f"--set {key}: {err}") from None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def preset_names() -> list[str]:
    files = resources.files("engine.presets").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def preset_text(name: str) -> str:
    if name not in preset_names():
        raise ConfigError(f"preset {name!r} does not exist; presets: {', '.join(preset_names())}")
    return resources.files("engine.presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def preset_data(name: str) -> dict[str, Any]:
    data = tomllib.loads(preset_text(name))
    data.setdefault("preset", name)
    return data


def read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(p)!r} is not UTF-8 text") from None


def build(config_file: str | Path | None = None, preset: str | None = None,
          sets: list[str] | None = None, name: str | None = None) -> RunConfig:
    """Preset, then file, then `--set` overrides, then validation."""
    data: dict[str, Any] = {}
    if preset:
        data = preset_data(preset)
    if config_file:
        data = deep_merge(data, read_toml(config_file))
    for s in sets or []:
        apply_set(data, s)
    if name:
        data["name"] = name
    return validate(data)


def config_diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """Dotted keys whose values differ between two config dicts."""
    out: dict[str, tuple[Any, Any]] = {}
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        key = f"{prefix}{k}"
        if isinstance(va, dict) and isinstance(vb, dict):
            out.update(config_diff(va, vb, key + "."))
        elif va != vb:
            out[key] = (va, vb)
    return out
