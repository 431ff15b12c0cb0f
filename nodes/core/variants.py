"""Prompt variants: the ``{a|b|c}`` template grammar of ``PromptVariantSweep|SeedNumber``.

A template such as ``"a {red|green|blue} cube on a {wooden|marble} table"`` expands into a
deterministic, ordered list of prompts. Nothing here is random.

Grammar
-------
- ``{a|b|c}`` is a group with the options ``a``, ``b`` and ``c``. Options may be empty
  (``{|very }dark`` gives ``dark`` and ``very dark``); ``{}`` is a group with one empty option.
- Groups nest: in ``{a {big|small}|c}`` the inner group belongs to the option ``a {big|small}``.
  A group's *alternatives* are the fully resolved texts it can produce, in order: every option in
  turn, and within an option every combination of its inner groups (first inner group varying
  slowest). ``{a {big|small}|c}`` has the three alternatives ``a big``, ``a small``, ``c``; its
  *size* is 3 (the sum over options of the product of their inner groups' sizes).
- Escapes: ``\\{``, ``\\}``, ``\\|``, ``\\\\`` and ``\\/`` give the literal character. A backslash
  before any other character is kept as it is, with that character (``\\(`` stays ``\\(`` for
  ComfyUI's CLIP weighting syntax). A backslash at the very end of the template is an error.
- A ``|`` outside every group is an error in every mode (write ``\\|`` for a literal bar).

Comments (matching the ComfyUI frontend)
----------------------------------------
Matched against ``processDynamicPrompt`` in Comfy-Org/ComfyUI_frontend ``src/utils/formatUtil.ts``
(read at commit 1c03589c), which removes comments with one regular expression before it parses
anything:

- ``/* ... */`` is removed entirely, up to the *first* ``*/`` (it may span lines; no nesting;
  nothing inside a comment is parsed, not braces, bars nor backslashes). It is replaced by
  nothing, so ``a/* x */b`` is ``ab``.
- ``//`` starts a comment that runs to the end of the line; the line break itself is kept. A
  line ends at ``\\n``, ``\\r``, U+2028 or U+2029, as JavaScript's ``.`` does.
- Like the frontend, ``//`` is a comment anywhere, also inside a URL: ``http://x.com`` leaves
  ``http:``. Write ``http:\\/\\/x.com`` (or use :func:`escape`) for a literal ``//``.
- Comments may sit inside groups; ``{a // note`` + newline + ``|b}`` is the group ``{a |b}``.

Where this grammar differs from the frontend, on purpose: the frontend strips comments before it
looks at escapes, whereas here an escaped slash (``\\/``) never starts a comment; an unterminated
``/*`` is an error here (the frontend leaves it in the prompt as text); ``\\\\`` gives one
backslash here (the frontend keeps both); unbalanced braces and stray ``|`` are errors here (the
frontend silently guesses).

Whitespace
----------
Text inside and outside options is kept verbatim while the template is resolved; options are not
stripped. The finished prompt then has every run of whitespace (as Python's ``str.split()`` sees
it, newlines included) collapsed to one space, and its ends stripped. So ``{|very }dark`` gives
``dark`` and ``very dark``, and ``a { red | blue } cube`` gives ``a red cube`` and ``a blue cube``.
Labels are normalised the same way.

Modes
-----
- ``all``: every combination of the top-level groups' alternatives, the first group varying
  slowest (as ``itertools.product`` over the groups in order of appearance).
- ``one group``: sweep the alternatives of top-level group ``group`` (0-based); every other
  top-level group is pinned to its option ``pin`` (0 = first), and groups nested inside a pinned
  option take their first alternative.
- ``zip``: the top-level groups advance together; variant ``i`` takes alternative ``i`` of every
  group. All groups must have the same size (nested alternatives count, so nothing is dropped).

A template without groups gives one variant, its own (normalised) text, in every mode. The number
of variants is computed by arithmetic before anything is enumerated; over ``max_variants`` is an
error, never a silent truncation.

Errors
------
Every problem raises :class:`VariantError` (a ``ValueError``). For a problem in the template its
``position`` is the 0-based index into the *original* template (comments included: the parser
reads the original string in one pass, so positions need no mapping), and the message says
``at position N`` with a caret under an excerpt. Problems found while scanning are reported at the
first one met; an unclosed ``{`` is found at the end and reported at the innermost open brace.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

NODE_ID = "PromptVariantSweep|SeedNumber"
LATENT_OUTPUT, NOISE_OUTPUT = 2, 3
"""Prompt Variant Sweep's ``latent`` and ``noise`` output slots, as a prompt's links name them (public
API; a comfy-tier test holds them to the node's schema)."""
MODES = ("all", "one group", "zip")
DEFAULT_MODE = "all"
DEFAULT_MAX_VARIANTS = 64
MAX_TEMPLATE_LENGTH = 20_000
"""Longest template accepted, in characters."""
MAX_DEPTH = 32
"""Deepest group nesting accepted (a top-level group is depth 1)."""
LABEL_SEPARATOR = " · "
EMPTY_LABEL = "(none)"
"""Label of a group whose chosen alternative is empty (after whitespace normalisation)."""

_ESCAPABLE = frozenset("{}|\\/")
_LINE_BREAK = re.compile("[\n\r\u2028\u2029]")
_EXCERPT_RADIUS = 30


class VariantError(ValueError):
    """A template or an argument that cannot be expanded.

    ``position`` is the 0-based character index into the original template where the problem is,
    or None when the problem is not at one place (an unknown mode, a group index out of range).
    """

    def __init__(self, message: str, position: int | None = None, template: str | None = None) -> None:
        self.position = position
        self.reason = message
        if position is not None:
            message = f"{message} at position {position}"
            if template is not None:
                message += "\n" + _excerpt(template, position)
        super().__init__(message)


def _excerpt(template: str, position: int) -> str:
    """Two lines: the template around ``position`` (controls shown as spaces) and a caret under it."""
    start = max(0, position - _EXCERPT_RADIUS)
    end = min(len(template), position + _EXCERPT_RADIUS)
    window = "".join(" " if (c.isspace() or not c.isprintable()) else c for c in template[start:end])
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(template) else ""
    return f"  {prefix}{window}{suffix}\n  {' ' * (len(prefix) + position - start)}^"


def normalize_whitespace(text: str) -> str:
    """``text`` with every whitespace run collapsed to one space and the ends stripped."""
    return " ".join(text.split())


def escape(text: str) -> str:
    """``text`` written as a template that expands to exactly ``text`` (after whitespace normalisation).

    Backslashes, braces and bars are escaped, and so is every ``/`` that would start a comment
    (one followed by ``/`` or ``*``), so ``//`` and ``/*`` in ``text`` stay literal.
    """
    out: list[str] = []
    for index, char in enumerate(text):
        if char in "{}|\\" or (char == "/" and text[index + 1 : index + 2] in ("/", "*")):
            out.append("\\")
        out.append(char)
    return "".join(out)


def _format_count(count: int) -> str:
    """``1,296`` for ordinary counts; an order of magnitude for astronomically large ones."""
    if count < 10**30:
        return f"{count:,}"
    return f"about 10^{int(count.bit_length() * math.log10(2))}"


# -- the parsed tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a group: literal text and nested groups, in order."""

    parts: tuple[str | Group, ...]
    size: int = field(init=False)
    """How many alternatives this option produces: the product of its inner groups' sizes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", math.prod(p.size for p in self.parts if isinstance(p, Group)))

    @property
    def groups(self) -> tuple[Group, ...]:
        """The groups directly inside this option."""
        return tuple(p for p in self.parts if isinstance(p, Group))

    def render(self, index: int) -> str:
        """Alternative ``index`` (0 ≤ index < size), unnormalised; the first inner group varies slowest."""
        return _render_parts(self.parts, index)


@dataclass(frozen=True)
class Group:
    """A ``{...|...}`` group; ``position`` is the index of its ``{`` in the original template."""

    position: int
    options: tuple[Option, ...]
    size: int = field(init=False)
    """How many alternatives this group produces: the sum of its options' sizes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", sum(o.size for o in self.options))

    def render(self, index: int) -> str:
        """Alternative ``index`` (0 ≤ index < size) of this group, unnormalised."""
        for option in self.options:
            if index < option.size:
                return option.render(index)
            index -= option.size
        raise IndexError(f"alternative {index} out of range for a group of size {self.size}")

    def option_start(self, option: int) -> int:
        """The alternative index of option ``option``'s first alternative."""
        return sum(o.size for o in self.options[:option])


def _render_parts(parts: Sequence[str | Group], index: int) -> str:
    """Text of ``parts`` where the groups take the mixed-radix digits of ``index``, first slowest."""
    groups = [p for p in parts if isinstance(p, Group)]
    picks = [0] * len(groups)
    for k in range(len(groups) - 1, -1, -1):
        index, picks[k] = divmod(index, groups[k].size)
    return _join(parts, picks)


def _join(parts: Sequence[str | Group], picks: Sequence[int]) -> str:
    """Text of ``parts`` with the k-th group resolved to its alternative ``picks[k]``."""
    chosen = iter(picks)
    return "".join(p if isinstance(p, str) else p.render(next(chosen)) for p in parts)


@dataclass(frozen=True)
class Variant:
    """One expanded prompt.

    ``choices`` has one entry per top-level group: the index of the alternative that group took
    (for a group without nested groups, simply the option index).
    """

    text: str
    label: str
    choices: tuple[int, ...]


@dataclass(frozen=True)
class Template:
    """A parsed template: top-level literal text and groups, in order."""

    source: str
    parts: tuple[str | Group, ...]

    @property
    def groups(self) -> tuple[Group, ...]:
        """The top-level groups, in order of appearance."""
        return tuple(p for p in self.parts if isinstance(p, Group))

    @property
    def has_groups(self) -> bool:
        """True when the template has at least one group."""
        return any(isinstance(p, Group) for p in self.parts)

    def count(self, mode: str = DEFAULT_MODE, group: int = 0) -> int:
        """How many variants ``mode`` gives, by arithmetic only (nothing is enumerated).

        Raises VariantError for an unknown mode, an out-of-range ``group`` in ``one group`` mode
        and unequal group sizes in ``zip`` mode.
        """
        _check_mode(mode)
        groups = self.groups
        if not groups:
            return 1
        if mode == "all":
            return math.prod(g.size for g in groups)
        if mode == "one group":
            return groups[self._group_index(group)].size
        return self._zip_length()

    def expand(
        self, mode: str = DEFAULT_MODE, group: int = 0, max_variants: int = DEFAULT_MAX_VARIANTS, pin: int = 0
    ) -> list[Variant]:
        """The variants of this template in ``mode``; see the module docstring for the rules."""
        _check_mode(mode)
        if isinstance(max_variants, bool) or not isinstance(max_variants, int) or max_variants < 1:
            raise VariantError(f"max_variants must be a whole number ≥ 1, got {max_variants!r}")
        total = self.count(mode, group)
        if total > max_variants:
            raise VariantError(too_many_variants(total, mode, max_variants))
        groups = self.groups
        if not groups:
            return [Variant(text=normalize_whitespace(_join(self.parts, ())), label="", choices=())]
        combos: list[tuple[int, ...]]
        if mode == "all":
            combos = list(itertools.product(*(range(g.size) for g in groups)))
            varying = [k for k, g in enumerate(groups) if g.size > 1]
        elif mode == "zip":
            combos = [(i,) * len(groups) for i in range(total)]
            varying = list(range(len(groups))) if total > 1 else []
        else:
            swept = self._group_index(group)
            pinned = self._pinned(pin, swept)
            combos = [(*pinned[:swept], i, *pinned[swept + 1 :]) for i in range(total)]
            varying = [swept]
        return [self._variant(combo, varying) for combo in combos]

    def _variant(self, combo: tuple[int, ...], varying: Iterable[int]) -> Variant:
        raw = [g.render(i) for g, i in zip(self.groups, combo, strict=True)]
        label = LABEL_SEPARATOR.join(normalize_whitespace(raw[k]) or EMPTY_LABEL for k in varying)
        chosen = iter(raw)
        text = "".join(p if isinstance(p, str) else next(chosen) for p in self.parts)
        return Variant(text=normalize_whitespace(text), label=label, choices=combo)

    def _group_index(self, group: int) -> int:
        count = len(self.groups)
        if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < count:
            raise VariantError(
                f"group {group!r} is out of range: the template has {count} top-level "
                f"group{'s' if count != 1 else ''} (0 … {count - 1})"
            )
        return group

    def _pinned(self, pin: int, swept: int) -> tuple[int, ...]:
        if isinstance(pin, bool) or not isinstance(pin, int) or pin < 0:
            raise VariantError(f"pin must be a whole number ≥ 0, got {pin!r}")
        picks: list[int] = []
        for k, g in enumerate(self.groups):
            if k != swept and pin >= len(g.options):
                raise VariantError(
                    f"pin {pin} is out of range for group {k}, which has {len(g.options)} "
                    f"option{'s' if len(g.options) != 1 else ''}",
                    g.position,
                    self.source,
                )
            picks.append(0 if k == swept else g.option_start(pin))
        return tuple(picks)

    def _zip_length(self) -> int:
        groups = self.groups
        sizes = [g.size for g in groups]
        for g in groups:
            if g.size != sizes[0]:
                raise VariantError(
                    "zip mode needs top-level groups of equal length, got lengths "
                    + ", ".join(_format_count(s) for s in sizes),
                    g.position,
                    self.source,
                )
        return sizes[0]


def too_many_variants(total: int, mode: str, max_variants: int) -> str:
    """The message for a template that gives more variants than ``max_variants`` allows."""
    return (
        f"template expands to {_format_count(total)} variants in mode {mode!r}, "
        f"over max_variants {max_variants:,}; remove options, raise max_variants, "
        "or sweep one group at a time"
    )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise VariantError(f"unknown mode {mode!r}: choose one of " + ", ".join(repr(m) for m in MODES))


# -- parsing ------------------------------------------------------------------------------------


@dataclass
class _Frame:
    """A group being parsed: its ``{`` position, its finished options, the current option's parts."""

    position: int
    options: list[Option] = field(default_factory=list)
    parts: list[str | Group] = field(default_factory=list)


def _parse(source: str) -> Template:
    if not isinstance(source, str):
        raise VariantError(f"template must be a string, got {type(source).__name__}")
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise VariantError(
            f"template is {len(source):,} characters long, over the limit of {MAX_TEMPLATE_LENGTH:,}",
            MAX_TEMPLATE_LENGTH,
            source,
        )
    top: list[str | Group] = []
    stack: list[_Frame] = []
    text: list[str] = []

    def fail(message: str, position: int) -> VariantError:
        return VariantError(message, position, source)

    def flush() -> list[str | Group]:
        parts = stack[-1].parts if stack else top
        if text:
            parts.append("".join(text))
            text.clear()
        return parts

    n = len(source)
    i = 0
    while i < n:
        char = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if char == "\\":
            if not nxt:
                raise fail("lone backslash at the end of the template (write \\\\ for a backslash)", i)
            text.append(nxt if nxt in _ESCAPABLE else char + nxt)
            i += 2
        elif char == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            if end < 0:
                raise fail("unterminated /* comment (no closing */)", i)
            i = end + 2
        elif char == "/" and nxt == "/":
            line_break = _LINE_BREAK.search(source, i + 2)
            i = line_break.start() if line_break else n
        elif char == "{":
            if len(stack) >= MAX_DEPTH:
                raise fail(f"groups nested deeper than {MAX_DEPTH} levels", i)
            flush()
            stack.append(_Frame(i))
            i += 1
        elif char == "|":
            if not stack:
                raise fail("stray '|' outside any {...} group (write \\| for a literal bar)", i)
            frame = stack[-1]
            frame.options.append(Option(tuple(flush())))
            frame.parts = []
            i += 1
        elif char == "}":
            if not stack:
                raise fail("unmatched '}' (write \\} for a literal brace)", i)
            flush()
            frame = stack.pop()
            frame.options.append(Option(tuple(frame.parts)))
            (stack[-1].parts if stack else top).append(Group(frame.position, tuple(frame.options)))
            i += 1
        else:
            text.append(char)
            i += 1
    if stack:
        raise fail("unclosed '{' (no matching '}')", stack[-1].position)
    flush()
    return Template(source=source, parts=tuple(top))


@lru_cache(maxsize=64)
def _parse_cached(source: str) -> Template:
    return _parse(source)


def parse(template: str) -> Template:
    """Parse ``template`` into a :class:`Template`; raises VariantError when it is malformed."""
    if not isinstance(template, str):
        raise VariantError(f"template must be a string, got {type(template).__name__}")
    return _parse_cached(template)


def count_variants(template: str, mode: str = DEFAULT_MODE, group: int = 0) -> int:
    """How many variants ``template`` gives in ``mode``, computed without enumerating them."""
    _check_mode(mode)
    return parse(template).count(mode, group)


def expand(
    template: str,
    mode: str = DEFAULT_MODE,
    group: int = 0,
    max_variants: int = DEFAULT_MAX_VARIANTS,
    pin: int = 0,
) -> list[Variant]:
    """The variants of ``template`` in ``mode``, in a fixed order; see the module docstring.

    ``group`` (``one group`` mode) is the 0-based top-level group to sweep and ``pin`` the option
    every other top-level group keeps. Over ``max_variants`` variants is a VariantError.
    """
    _check_mode(mode)
    return parse(template).expand(mode, group, max_variants, pin)


def has_groups(template: str) -> bool:
    """True when ``template`` has at least one group; raises VariantError when it is malformed."""
    return parse(template).has_groups
