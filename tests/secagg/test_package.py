"""Rules for the package as a whole: it is layer 2 (docs/architecture.md), and its randomness is the OS's."""

import ast
import subprocess
import sys
from pathlib import Path

import fedchain.secagg

PACKAGE = Path(fedchain.secagg.__file__).parent
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")


def test_the_core_never_loads_web3_torch_storage_or_chain() -> None:
    imports = "; ".join(f"import fedchain.secagg.{name}" for name in MODULES)
    check = (
        f"import sys; {imports}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('web3', 'torch') "
        "or m.startswith(('fedchain.storage', 'fedchain.chain', 'fedchain.roles', 'fedchain.learn'))); "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == ""


def test_no_non_cryptographic_randomness() -> None:
    """Keys, seeds, coefficients, nonces and masks come from `secrets`, OpenSSL or ChaCha20: no module of the
    core imports `random` or `numpy.random`, or touches any attribute named `random`."""
    assert len(MODULES) >= 12
    for name in MODULES:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(alias.name.split(".")[-1] == "random" for alias in node.names), name
            elif isinstance(node, ast.ImportFrom):
                assert "random" not in (node.module or "").split("."), name
                assert not any(alias.name == "random" for alias in node.names), name
            elif isinstance(node, ast.Attribute):
                assert node.attr != "random", f"{name} uses .random"
