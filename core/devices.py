"""Which device, numeric precision and backend a run uses (importable without PyTorch: the Processing widgets list
these)."""
import dataclasses
import importlib.util
import os

from .errors import InputError, tr

# PyTorch's OpenMP threads otherwise spin for a while after every operation, which starves NNPACK's threads
# (models.winograd) and the rest of the process on a CPU with few cores; it takes effect where torch is not yet imported
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class Runtime:
    """How a run computes the networks: `device` (DEVICES), `precision` (PRECISIONS), `backend` (BACKENDS), `threads`
    (CPU threads; 0: the backend's default) and `flips` (each network's output averaged over the eight flips and
    rotations of its input, models.ensemble: eight times the networks' time, a better result)."""
    device: str = "auto"
    precision: str = "auto"
    backend: str = "auto"
    threads: int = 0
    flips: bool = False


def select_device(name):
    """'auto' -> CUDA when torch sees a GPU, else CPU; 'cuda' without a GPU is an error."""
    if name == "cpu":
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError(tr("DEVICE is cuda but this PyTorch sees no CUDA GPU: choose auto or cpu, or install a "
                         "CUDA build of PyTorch"))
    return name


def select_precision(name, device):
    """'auto' -> 'bfloat16' where the device computes it natively (CUDA GPUs that support it, CPUs with
    AVX-512 BF16 or AMX), else 'float32'. bfloat16 runs only the network's convolutions in that precision."""
    import torch

    if name not in PRECISIONS:
        raise InputError(tr("unknown precision %r: choose one of %s") % (name, ", ".join(PRECISIONS)))
    if name != "auto":
        return name
    if device == "cuda":
        native = torch.cuda.is_bf16_supported()
    else:
        native = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return "bfloat16" if native else "float32"


def autocast(device, precision):
    """The context a network runs in at `precision` ("float32" or "bfloat16") on `device` ("cpu", "cuda"):
    bfloat16 autocast, or nothing changed for float32."""
    import torch

    return torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16")


BACKENDS = ("auto", "torch", "onnxruntime")


def select_backend(name):
    """"auto": PyTorch where it is installed (with bfloat16 it is the faster on CPUs that compute it natively, and
    as fast in float32: docs/benchmarks.md), else ONNX Runtime (models.backends)."""
    if name not in BACKENDS:
        raise InputError(tr("unknown backend %r: choose one of %s") % (name, ", ".join(BACKENDS)))
    if name == "onnxruntime" or importable("torch"):
        return "torch" if name == "auto" else name
    if name == "torch":
        raise InputError(tr("PyTorch is needed for the torch backend but cannot be imported: install it (Processing > "
                            "s2sr > Install PyTorch or ONNX Runtime for this plugin, or pip install torch), or choose "
                            "the onnxruntime backend"))
    if not importable("onnxruntime"):
        raise InputError(tr("the networks need PyTorch or ONNX Runtime and neither can be imported: run Processing > "
                            "s2sr > Install PyTorch or ONNX Runtime for this plugin, or pip install torch, or pip "
                            "install onnxruntime (small: the plugin's networks in float32 and the models of cards)"))
    return "onnxruntime"


def importable(name):
    """Whether a package can be imported, looked up without importing it (PyTorch takes seconds to import)."""
    return importlib.util.find_spec(name) is not None


def set_threads(backend, threads):
    """threads > 0: the CPU threads PyTorch uses (ONNX Runtime's sessions take theirs when they are made)."""
    if backend == "torch" and threads > 0:
        import torch

        torch.set_num_threads(threads)
