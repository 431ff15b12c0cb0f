"""Find ComfyUI, run it headless with this pack in an isolated base directory, and talk to it.

Shared by the demo (``tools.demo``), the test fixtures and the benchmarks. Only the standard library
and ``websocket-client`` (optional, for event streams) are used.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger("seed_number")

PACK_ROOT = Path(__file__).resolve().parent.parent
PACK_FOLDER_NAME = "seed-number"
"""Folder name of the pack inside ``custom_nodes`` (the registry's install name)."""
DEFAULT_WORKSPACE = Path("~/comfy/ComfyUI").expanduser()


def find_comfyui() -> Path | None:
    """ComfyUI's checkout: ``COMFYUI_PATH``, else comfy-cli's default workspace; None if neither."""
    env = os.environ.get("COMFYUI_PATH")
    candidates = [Path(env).expanduser()] if env else []
    candidates.append(DEFAULT_WORKSPACE)
    for path in candidates:
        if (path / "main.py").is_file() and (path / "comfy").is_dir():
            return path.resolve()
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ComfyError(RuntimeError):
    """A request to ComfyUI failed, or a prompt did not finish as expected."""


class ComfyServer:
    """A headless ComfyUI subprocess with the pack linked into its own temporary base directory."""

    def __init__(
        self,
        comfyui: Path,
        checkpoints: Sequence[Path] = (),
        base_dir: Path | None = None,
        multi_user: bool = False,
        cpu: bool = True,
        python: str = sys.executable,
        extra_args: Sequence[str] = (),
        extra_custom_nodes: Sequence[Path] = (),
        pack: bool = True,
    ) -> None:
        self.comfyui = comfyui
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_base = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="seed-number-comfy-"))
        self.checkpoints = list(checkpoints)
        self.multi_user = multi_user
        self.cpu = cpu
        self.python = python
        self.extra_args = list(extra_args)
        self.extra_custom_nodes = list(extra_custom_nodes)
        self.pack = pack
        """False: a stock ComfyUI without the pack (benchmark baselines)."""
        self.process: subprocess.Popen | None = None
        self.log_path = self.base_dir / "comfyui.log"

    # -- layout -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Link the pack and the checkpoints into the base directory."""
        custom = self.base_dir / "custom_nodes"
        custom.mkdir(parents=True, exist_ok=True)
        links = ({PACK_FOLDER_NAME: PACK_ROOT} if self.pack else {}) | {p.name: p for p in self.extra_custom_nodes}
        for name, target in links.items():
            link = custom / name
            if not link.exists():
                link.symlink_to(target, target_is_directory=True)
        models = self.base_dir / "models" / "checkpoints"
        models.mkdir(parents=True, exist_ok=True)
        for ckpt in self.checkpoints:
            link = models / ckpt.name
            if not link.exists():
                link.symlink_to(ckpt.resolve())
        for sub in ("input", "output", "temp", "user"):
            (self.base_dir / sub).mkdir(exist_ok=True)
        if self.pack:  # the images the example workflows load (Re-make an A1111 image)
            for example in sorted((PACK_ROOT / "workflows" / "inputs").glob("*.png")):
                if not (self.base_dir / "input" / example.name).exists():
                    shutil.copyfile(example, self.base_dir / "input" / example.name)

    def command(self) -> list[str]:
        cmd = [
            self.python,
            str(self.comfyui / "main.py"),
            "--listen",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--disable-auto-launch",
            "--base-directory",
            str(self.base_dir),
            "--database-url",
            "sqlite:///:memory:",
        ]
        if self.cpu:
            cmd.append("--cpu")
        if self.multi_user:
            cmd.append("--multi-user")
        return cmd + self.extra_args

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 180.0) -> ComfyServer:
        self.prepare()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log: IO[bytes] | None = log
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.comfyui,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ComfyError(f"ComfyUI exited with {self.process.returncode}; log:\n{self.log_tail()}")
            try:
                self.get_json("/system_stats", timeout=2)
                logger.info("ComfyUI is up at %s (base directory %s)", self.url, self.base_dir)
                return self
            except (OSError, ComfyError):
                time.sleep(0.25)
        self.stop()
        raise ComfyError(f"ComfyUI did not answer within {timeout:.0f}s; log:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server and everything it started; remove an own base directory."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGINT, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
            self._log = None

    def cleanup(self) -> None:
        self.stop()
        if self._own_base:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def restart(self, timeout: float = 180.0) -> ComfyServer:
        """Stop and start again on the same base directory and port."""
        self.stop()
        return self.start(timeout)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> ComfyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- HTTP -------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 30.0, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """(status, decoded JSON or bytes) for an HTTP request; HTTP errors are returned, not raised.

        ``body`` is sent as JSON, or as it is when it is already ``bytes``.
        """
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, payload, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            status, payload, ctype = err.code, err.read(), err.headers.get("Content-Type", "")
        if "json" in ctype:
            return status, json.loads(payload or b"null")
        return status, payload

    def get_json(self, path: str, timeout: float = 30.0) -> Any:
        status, payload = self.request("GET", path, timeout=timeout)
        if status != 200:
            raise ComfyError(f"GET {path} -> {status}: {payload!r}"[:2000])
        return payload

    def post_prompt(
        self, prompt: dict[str, Any], client_id: str | None = None, extra_data: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"prompt": prompt}
        if client_id:
            body["client_id"] = client_id
        if extra_data is not None:
            body["extra_data"] = extra_data
        return self.request("POST", "/prompt", body)

    def queue(self, prompt: dict[str, Any], **kwargs: Any) -> str:
        """Queue a prompt that must validate; its prompt id."""
        status, payload = self.post_prompt(prompt, **kwargs)
        if status != 200:
            raise ComfyError(f"POST /prompt -> {status}: {json.dumps(payload)[:2000]}")
        return payload["prompt_id"]

    def wait(self, prompt_id: str, timeout: float = 300.0) -> dict[str, Any]:
        """The ``/history`` entry of a finished prompt; raises if it failed or timed out."""
        deadline = time.monotonic() + timeout
        pause = 0.01
        while time.monotonic() < deadline:
            history = self.get_json(f"/history/{prompt_id}")
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if (
                entry
                and entry.get("status", {}).get("completed") is not None
                and entry["status"].get("status_str") in ("success", "error")
            ):
                if entry["status"]["status_str"] != "success":
                    raise ComfyError(f"prompt {prompt_id} failed: {json.dumps(entry['status'])[:3000]}")
                return entry
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)
        raise ComfyError(f"prompt {prompt_id} did not finish within {timeout:.0f}s")

    def run(self, prompt: dict[str, Any], timeout: float = 300.0, **kwargs: Any) -> dict[str, Any]:
        """Queue a prompt and wait for its history entry."""
        return self.wait(self.queue(prompt, **kwargs), timeout)

    def output_path(self, image: dict[str, str]) -> Path:
        folder = {"output": "output", "temp": "temp", "input": "input"}[image.get("type", "output")]
        return self.base_dir / folder / image.get("subfolder", "") / image["filename"]


def new_client_id() -> str:
    return uuid.uuid4().hex
