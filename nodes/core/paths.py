"""File-name checks shared by the nodes that save or load files (pure Python)."""

from __future__ import annotations

import ntpath
import posixpath

MAX_PREFIX = 200


def unencodable(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (JSON ``"\\ud800"``): no file name can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_prefix(prefix: str, input_name: str = "filename_prefix") -> str:
    """``prefix`` when it stays inside the output folder; ValueError naming the input otherwise."""
    if not isinstance(prefix, str) or not prefix.strip():
        raise ValueError(f"{input_name}: must be a non-empty file name prefix")
    if len(prefix) > MAX_PREFIX:
        raise ValueError(f"{input_name}: longer than {MAX_PREFIX} characters")
    if "\x00" in prefix or unencodable(prefix):
        raise ValueError(f"{input_name}: {prefix!r} holds a character no file name can hold")
    if posixpath.isabs(prefix) or ntpath.isabs(prefix) or ntpath.splitdrive(prefix)[0]:
        raise ValueError(f"{input_name}: {prefix!r} must be relative to ComfyUI's output folder")
    if ".." in prefix.replace("\\", "/").split("/"):
        raise ValueError(f"{input_name}: {prefix!r} must not contain '..'")
    return prefix


def check_prefixes(filename_prefix: object) -> None:
    """For ``validate_inputs``: :func:`check_prefix` on each text prefix (a list for input-list nodes);
    anything else is left to ComfyUI's own type check."""
    for prefix in filename_prefix if isinstance(filename_prefix, list) else [filename_prefix]:
        if isinstance(prefix, str):
            check_prefix(prefix)


def help_page_file(requested: str, node_ids: list[str] | tuple[str, ...]) -> str | None:
    """The file under ``web/docs/`` holding the help page the frontend asks for, or None.

    The frontend fetches ``docs/<node id>.md``; our node ids contain ``|``, which Windows cannot hold
    in a file name (a git clone there would fail), so ``docs/SeedSource|SeedNumber.md`` is stored as
    ``SeedSource.md``.
    """
    if not requested.endswith(".md"):
        return None
    node_id = requested[: -len(".md")]
    if node_id not in node_ids:
        return None
    return node_id.split("|", 1)[0] + ".md"
