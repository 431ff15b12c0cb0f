"""Type-check ``nodes/`` and ``tools/`` with mypy (configured in ``pyproject.toml``); exit status is mypy's.

ComfyUI imports this checkout as a package under whatever name its folder has, and the tests import
it as ``seed_number`` (``tools.pack``); the checkout may be cloned into any folder, even one that is
not a Python name. So mypy is run in a small folder of its own holding two links, ``seed_number``
(the checkout) and ``tools``, and checks the packages ``seed_number.nodes`` and ``tools``: module
names do not depend on the folder's name, and our ``nodes`` never shadows ComfyUI's own ``nodes``.

ComfyUI is put on ``MYPYPATH`` (found as ``scripts/test`` finds it: ``COMFYUI_PATH``, else
``~/comfy/ComfyUI``), so the nodes are checked against ComfyUI's real types. Without it the check
still runs, loudly, with ComfyUI's modules unknown (``import-not-found`` and unused-ignore reports
off).

    python -m tools.typecheck [extra mypy arguments]
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tools.comfy_server import PACK_ROOT, find_comfyui

CHECKED = ("seed_number.nodes", "tools")


def work_dir(root: Path = PACK_ROOT) -> Path:
    """This checkout's own folder for the links and mypy's cache (one per checkout, kept between runs)."""
    cache = Path(os.environ.get("SEED_NUMBER_CACHE") or Path.home() / ".cache" / "seed-number")
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return cache / "typecheck" / digest


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)


def command(extra: list[str], comfyui: Path | None, root: Path = PACK_ROOT) -> list[str]:
    args = [sys.executable, "-m", "mypy", "--config-file", str(root / "pyproject.toml")]
    args += ["--cache-dir", str(work_dir(root) / "mypy_cache")]
    if comfyui is None:  # its modules are Any: ignores written for its types cannot be judged
        args += ["--disable-error-code", "import-not-found", "--no-warn-unused-ignores"]
    for package in CHECKED:
        args += ["-p", package]
    return args + extra


def main(argv: list[str] | None = None) -> int:
    extra = sys.argv[1:] if argv is None else argv
    root = PACK_ROOT
    work = work_dir(root)
    work.mkdir(parents=True, exist_ok=True)
    _link(work / "seed_number", root)
    _link(work / "tools", root / "tools")
    comfyui = find_comfyui()
    env = dict(os.environ)
    if comfyui is None:
        sys.stderr.write(
            "[seed-number] !!! ComfyUI NOT FOUND: type-checking with ComfyUI's modules unknown (Any); "
            "set COMFYUI_PATH to check the nodes against its types\n"
        )
    else:
        env["MYPYPATH"] = os.pathsep.join(p for p in (str(comfyui), env.get("MYPYPATH", "")) if p)
    return subprocess.run(command(extra, comfyui, root), cwd=work, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
