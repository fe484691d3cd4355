"""Run the external verifiers (OpenSSL, poppler's pdfsig) on files the module produced."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:  # the suite's apt packages are listed in the certs README (openssl, poppler-utils)
        pytest.fail(f"{tool} is not installed (apt-get install openssl poppler-utils)")
    return path


def run(*args: str | Path, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a command; returns the completed process (text output) without raising unless ``check``."""
    argv = [str(a) for a in args]
    require(argv[0])
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False, timeout=60)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
