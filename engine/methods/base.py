"""The shared round loop every method is a wiring of.

A method declares `Params` (a pydantic model: the TUI form and `--set` come from it) and
fills in the hooks of the loop:

    setup -> for each round: before_round, train, after_train, pseudo_label,
             after_pseudo_label, select, after_select, after_round -> results

The loop checkpoints at every round end (trainers also checkpoint at every epoch end) and,
on resume, restores the method's state and re-enters the round it was in.

Importable without torch: training modules are imported inside the hooks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from engine.context import RunContext
    from engine.tasks.base import TaskData


class Params(BaseModel):
    """Base of every method's parameters: unknown names refused, and types as strict as the rest
    of the config (no true/false where a number belongs, no text for a number or a flag, no float
    for an int, no NaN or infinity; an int is fine for a float)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class MethodInfo:
    """What the faces show of a method, declared by the method (never guessed from its
    parameter names): the models it trains, the one whose numbers are the run's headline, the
    pairs whose agreement it reports, whether it pseudo-labels, whether it needs Dbi, and which
    parameter sets its number of rounds."""

    name: str
    description: str
    #: the roles of the models the method trains, in the order it reports them; each role's model
    #: is `models.<role>` of the config, its learning rate `models.<role>_lr` where the config has one
    models: tuple[str, ...]
    primary: str
    pairs: tuple[tuple[str, str], ...]
    pseudo_labels: bool
    needs_parallel: bool
    rounds_param: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "models": list(self.models), "primary": self.primary,
                "pairs": [list(p) for p in self.pairs], "pseudo_labels": self.pseudo_labels,
                "needs_parallel": self.needs_parallel, "rounds_param": self.rounds_param}

    def rounds(self, params: Any) -> int:
        """Rounds a run with these method parameters (a dict or the Params model) will run."""
        if self.rounds_param is None:
            return 1
        value = params.get(self.rounds_param) if isinstance(params, dict) else getattr(params, self.rounds_param, None)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def model_spec(config: Any, role: str) -> str:
    """The model spec of a role: the `models` section's field of that name."""
    return getattr(config.models, role)


def model_lr(config: Any, role: str) -> float | None:
    """A role's own learning rate, `models.<role>_lr`, where the config has one (None: `train.lr`)."""
    return getattr(config.models, f"{role}_lr", None)


class Method:
    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams
    #: the roles of the models this method trains: each is a field of the `models` config section
    #: (its model spec), and only these are checked before a run is created (engine.models.check)
    uses_models: ClassVar[tuple[str, ...]] = ("lm",)
    #: True when the method trains on Dbi (task.parallel_size translation pairs)
    needs_parallel: ClassVar[bool] = False
    #: the model whose test metrics are the run's headline (latest / best mean)
    primary: ClassVar[str] = "lm"
    #: pairs of models whose agreement the method reports every round
    agreement_pairs: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: True when the method labels an unlabeled pool and grows training sets from it
    pseudo_labels: ClassVar[bool] = False
    #: the parameter that sets how many rounds the method runs (None: one round)
    rounds_param: ClassVar[str | None] = None

    @classmethod
    def info(cls) -> MethodInfo:
        return MethodInfo(name=cls.name, description=cls.description, models=tuple(cls.uses_models),
                          primary=cls.primary, pairs=tuple((a, b) for a, b in cls.agreement_pairs),
                          pseudo_labels=cls.pseudo_labels, needs_parallel=cls.needs_parallel,
                          rounds_param=cls.rounds_param)

    # ----- the models by role
    def model_spec(self, role: str) -> str:
        """The model the config names for `role` (`models.<role>`)."""
        return model_spec(self.ctx.config, role)

    def model_lr(self, role: str) -> float | None:
        """The learning rate the config sets for `role` (None: `train.lr`)."""
        return model_lr(self.ctx.config, role)

    def __init__(self, ctx: "RunContext", data: "TaskData"):
        self.ctx = ctx
        self.data = data
        self.params = ctx.config.method.params()
        self.round = 0
        # Trainers of the current round by model, and the round they belong to: a checkpoint
        # taken inside a round resumes them; one taken at a round's end does not.
        self._trainers: dict[str, Any] = {}
        self.trainers_round: int | None = None
        self._resume: tuple[Any, int | None] | None = None

    # ----- the loop
    def rounds(self) -> int:
        return 1

    def run(self) -> dict[str, Any]:
        self.setup()
        ckpt = self.ctx.latest_checkpoint()
        if ckpt is not None:
            self.restore(ckpt)
        total = self.rounds()
        self.ctx.status(rounds=total)
        while self.round < total:
            r = self.round
            self.ctx.status(round=self.ctx.round_number(r))
            self.before_round(r)
            self.train(r)
            self.after_train(r)
            self.pseudo_label(r)
            self.after_pseudo_label(r)
            self.select(r)
            self.after_select(r)
            self.after_round(r)
            self.round = r + 1
            self.checkpoint(r)
        return self.results()

    # ----- hooks (no-ops unless a method fills them in)
    def setup(self) -> None: ...
    def before_round(self, r: int) -> None: ...
    def train(self, r: int) -> None: ...
    def after_train(self, r: int) -> None: ...
    def pseudo_label(self, r: int) -> None: ...
    def after_pseudo_label(self, r: int) -> None: ...
    def select(self, r: int) -> None: ...
    def after_select(self, r: int) -> None: ...
    def after_round(self, r: int) -> None: ...

    def results(self) -> dict[str, Any]:
        """Final metrics: model -> language -> value, with `mean` over the target languages."""
        raise NotImplementedError

    # ----- state
    def state(self) -> dict[str, Any]:
        """JSON-able state beyond weights and trainers (pools, sets ...)."""
        return {}

    def load(self, state: dict[str, Any]) -> None: ...

    def models(self) -> dict[str, Any]:
        """The classifiers a checkpoint holds, by name ("lm", "emb", ...)."""
        return {}

    def trainers(self) -> dict[str, Any]:
        return self._trainers

    def new_trainer(self, rm: Any, r: int, n_examples: int, epochs: int, lr: float | None = None,
                    stage: int | None = None, steps: int | None = None) -> bool:
        """Give `rm` a fresh trainer for round `r` (and `stage`, when a round fine-tunes a model
        twice); returns True if it resumed a checkpointed one. `steps`: steps per epoch when the
        batches are not plain slices of `n_examples`."""
        from engine import checkpoint as ckpt
        from engine.train import Trainer

        if self.trainers_round != r:
            self._trainers = {}
            self.trainers_round = r
        cfg = self.ctx.config.train
        rm.trainer = Trainer(rm.model, cfg, n_examples, epochs, self.ctx.device, lr=lr, steps=steps)
        name = rm.key if stage is None else f"{rm.key}-stage-{stage}"
        self._trainers[name] = rm.trainer
        if self._resume is not None and self._resume[1] == r:
            return ckpt.load_trainer(self._resume[0], name, rm.trainer)
        return False

    def checkpoint(self, r: int, model: str | None = None, stage: int | None = None,
                   epoch: int | None = None) -> None:
        """Checkpoint in round `r`: after `epoch` of `model`'s fine-tuning (in `stage`), or at the
        round's end."""
        self.ctx.save_checkpoint(self, {"round": self.round, "trainers_round": self.trainers_round,
                                        "method": self.state()}, r, model=model, stage=stage, epoch=epoch)

    def restore(self, path: Any) -> None:
        state = self.ctx.restore_checkpoint(path, self)
        self.round = int(state["round"])
        self._resume = (path, state.get("trainers_round"))
        self.load(state.get("method", {}))
