"""Shared fixtures: a tiny transformer built on the spot (never downloaded) and a runs folder."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# The app shows local times: snapshots must not depend on the machine's time zone.
os.environ["TZ"] = "UTC"
time.tzset()


def _corpus_lines() -> list[str]:
    import yaml
    import chatterbot_corpus

    data = Path(chatterbot_corpus.__file__).parent / "data"
    lines = []
    for folder in sorted(data.iterdir()):
        for f in sorted(folder.glob("*.yml")):
            doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
            for conv in doc.get("conversations") or []:
                lines += [str(x) for x in conv if isinstance(x, (str, int, float))]
    return lines


def build_tiny_model(folder: Path, seed: int = 0) -> Path:
    """A 2-layer BERT with a WordPiece vocabulary trained on the corpus: a real, fine-tunable
    transformer small enough to train in seconds on a CPU."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(_corpus_lines(), trainers.WordPieceTrainer(vocab_size=3000, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    folder.mkdir(parents=True, exist_ok=True)
    BertModel(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-bert") / "model")


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


def tiny_sets(model: Path, **extra: str) -> list[str]:
    """`--set` overrides for a run that takes seconds on a CPU."""
    sets = {
        "models.lm": str(model), "task.target_langs": "[it,de]", "task.max_source": "160",
        "task.max_unlabeled": "40", "task.max_test": "40", "train.epochs": "2", "train.batch_size": "16",
        "train.max_length": "32", "train.lr": "5e-4", "train.threads": "1", "seed": "7",
        "method.name": "finetune",
    }
    sets.update(extra)
    return [f"{k}={v}" for k, v in sets.items()]


def cli(*args: str, runs_dir: Path | None = None, env: dict | None = None, timeout: float = 300,
        check: bool = False) -> subprocess.CompletedProcess:
    """Run `xlu-tui ARGS` as a user would, in a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if runs_dir is not None:
        full_env["XLU_RUNS_DIR"] = str(runs_dir)
    out = subprocess.run([sys.executable, "-m", "xlu_tui.cli", *args], capture_output=True, text=True,
                         env=full_env, timeout=timeout, cwd=ROOT)
    if check and out.returncode != 0:
        raise AssertionError(f"xlu-tui {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def assert_bad_input(out: subprocess.CompletedProcess, words: list[str], runs_dir: Path | None = None) -> None:
    """The CLI refused bad input as it must: exit 2, one `error:` sentence holding `words`, no
    traceback, and (given the runs folder) no run left behind."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for w in words:
        assert w in lines[0], lines[0]
    if runs_dir is not None:
        assert not list(Path(runs_dir).glob("2*")), "a bad input must not leave a run behind"
