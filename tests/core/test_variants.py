"""Prompt variants: the ``{a|b}`` grammar, comments, escapes, modes, labels, caps and errors."""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed_number.nodes.core import variants
from seed_number.nodes.core.variants import (
    DEFAULT_MAX_VARIANTS,
    MAX_DEPTH,
    MAX_TEMPLATE_LENGTH,
    MODES,
    Variant,
    VariantError,
    count_variants,
    escape,
    expand,
    has_groups,
    normalize_whitespace,
    parse,
)


def texts(template: str, mode: str = "all", **kwargs: int) -> list[str]:
    return [v.text for v in expand(template, mode, **kwargs)]


def labels(template: str, mode: str = "all", **kwargs: int) -> list[str]:
    return [v.label for v in expand(template, mode, **kwargs)]


# -- the worked examples ---------------------------------------------------------------------


def test_worked_example_dark_gradient() -> None:
    result = expand("dark {blue|purple|red} gradient")
    assert result == [
        Variant("dark blue gradient", "blue", (0,)),
        Variant("dark purple gradient", "purple", (1,)),
        Variant("dark red gradient", "red", (2,)),
    ]


def test_all_mode_two_groups_first_group_slowest_with_labels() -> None:
    result = expand("a {red|green|blue} cube on a {wooden|marble} table")
    assert [v.text for v in result] == [
        "a red cube on a wooden table",
        "a red cube on a marble table",
        "a green cube on a wooden table",
        "a green cube on a marble table",
        "a blue cube on a wooden table",
        "a blue cube on a marble table",
    ]
    assert [v.label for v in result] == [
        "red · wooden",
        "red · marble",
        "green · wooden",
        "green · marble",
        "blue · wooden",
        "blue · marble",
    ]
    assert [v.choices for v in result] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]


def test_variant_is_frozen() -> None:
    variant = expand("{a|b}")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        variant.text = "x"  # type: ignore[misc]


# -- grammar ---------------------------------------------------------------------------------


def test_nested_group_alternatives_belong_to_their_option() -> None:
    assert texts("{a {big|small}|c}") == ["a big", "a small", "c"]
    assert [v.choices for v in expand("{a {big|small}|c}")] == [(0,), (1,), (2,)]


def test_nested_group_counts_product_of_inner_groups_per_option() -> None:
    template = "{a {b|c} {x|y}|d} {1|2}"
    assert count_variants(template) == (2 * 2 + 1) * 2
    assert texts(template) == [
        "a b x 1",
        "a b x 2",
        "a b y 1",
        "a b y 2",
        "a c x 1",
        "a c x 2",
        "a c y 1",
        "a c y 2",
        "d 1",
        "d 2",
    ]


def test_deeply_nested_groups_enumerate_in_order() -> None:
    assert texts("{p{q{r|s}|t}|u}") == ["pqr", "pqs", "pt", "u"]


def test_parse_exposes_top_level_groups_with_positions_and_sizes() -> None:
    template = parse("x {a|b} y {c {d|e}|f}")
    assert template.has_groups
    assert [g.position for g in template.groups] == [2, 10]
    assert [g.size for g in template.groups] == [2, 3]
    assert [len(g.options) for g in template.groups] == [2, 2]
    assert template.count("all") == 6
    assert template.count("one group", 1) == 3
    assert template.source == "x {a|b} y {c {d|e}|f}"


def test_escapes_give_literal_characters() -> None:
    assert texts(r"\{x\} \| \\ \/") == ["{x} | \\ /"]
    assert texts(r"{a\|b|c\}}") == ["a|b", "c}"]


def test_backslash_before_other_characters_is_kept() -> None:
    assert texts(r"\(cat:1.2\) \n") == [r"\(cat:1.2\) \n"]


def test_empty_options() -> None:
    result = expand("{|very }dark")
    assert [v.text for v in result] == ["dark", "very dark"]
    assert [v.label for v in result] == ["(none)", "very"]


def test_empty_group_is_one_empty_option() -> None:
    assert count_variants("{}x") == 1
    assert texts("{}x") == ["x"]
    assert texts("{|}") == ["", ""]


def test_no_groups_gives_the_text_itself_in_every_mode() -> None:
    for mode in MODES:
        assert expand("  just a  cat ", mode) == [Variant("just a cat", "", ())]
        assert count_variants("just a cat", mode) == 1
    assert expand("", "all") == [Variant("", "", ())]


def test_one_group_mode_ignores_group_index_without_groups() -> None:
    assert texts("plain", "one group", group=5) == ["plain"]


# -- whitespace ------------------------------------------------------------------------------


def test_options_are_not_stripped_but_result_is_normalised() -> None:
    assert texts("a { red | blue } cube") == ["a red cube", "a blue cube"]
    assert labels("a { red | blue } cube") == ["red", "blue"]


def test_whitespace_runs_and_newlines_collapse() -> None:
    assert texts("  a\n\n{b|c}\t d ") == ["a b d", "a c d"]


def test_adjacent_text_is_not_separated() -> None:
    assert texts("{red|blue}ish") == ["redish", "blueish"]


def test_normalize_whitespace() -> None:
    assert normalize_whitespace(" a \t\n b  ") == "a b"
    assert normalize_whitespace("") == ""


# -- comments --------------------------------------------------------------------------------


def test_block_comment_removed_without_a_space() -> None:
    assert texts("a/* x */b") == ["ab"]
    assert texts("a /* multi\nline */ b") == ["a b"]


def test_line_comment_runs_to_end_of_line_and_keeps_the_break() -> None:
    assert texts("a// x\nb") == ["a b"]
    assert texts("a // x") == ["a"]


@pytest.mark.parametrize("brk", ["\n", "\r", "\u2028", "\u2029"])
def test_line_comment_ends_at_javascript_line_terminators(brk: str) -> None:
    assert texts(f"a // {{x|y}}{brk}{{b|c}}") == ["a b", "a c"]


def test_comment_inside_group() -> None:
    assert texts("{red // warm\n|blue /* cool */}") == ["red", "blue"]


def test_braces_and_bars_in_comments_are_ignored() -> None:
    assert texts("{a|b /* } | { */}") == ["a", "b"]
    assert not has_groups("x /* {a|b} */ y // {c|d}")


def test_double_slash_in_url_is_a_comment_like_the_frontend() -> None:
    assert texts("see http://example.com/{a|b}") == ["see http:"]


def test_escaped_slashes_are_not_comments() -> None:
    assert texts(r"http:\/\/example.com/{a|b}") == ["http://example.com/a", "http://example.com/b"]
    assert texts(r"\/* a *\/") == ["/* a */"]


def test_block_comments_do_not_nest_and_close_at_first_end() -> None:
    assert texts("/* a /* b */ c */") == ["c */"]


def test_lone_close_comment_is_text() -> None:
    assert texts("a */ b") == ["a */ b"]


def test_backslash_inside_comment_is_not_an_escape() -> None:
    assert texts("a /* \\*/ b") == ["a b"]


# -- modes -----------------------------------------------------------------------------------


def test_one_group_sweeps_one_and_pins_others_to_first() -> None:
    template = "a {red|green|blue} cube on a {wooden|marble} table"
    result = expand(template, "one group", group=1)
    assert [v.text for v in result] == ["a red cube on a wooden table", "a red cube on a marble table"]
    assert [v.label for v in result] == ["wooden", "marble"]
    assert [v.choices for v in result] == [(0, 0), (0, 1)]
    assert count_variants(template, "one group", group=0) == 3


def test_one_group_pin_chooses_other_groups_option() -> None:
    template = "{a|b|c} {x|y|z} {1|2|3}"
    assert texts(template, "one group", group=1, pin=2) == ["c x 3", "c y 3", "c z 3"]


def test_one_group_pinned_option_takes_first_nested_alternative() -> None:
    template = "{k|l} {p {big|small}|q}"
    result = expand(template, "one group", group=0, pin=0)
    assert [v.text for v in result] == ["k p big", "l p big"]
    assert [v.choices for v in result] == [(0, 0), (1, 0)]
    result = expand(template, "one group", group=0, pin=1)
    assert [v.text for v in result] == ["k q", "l q"]
    assert [v.choices for v in result] == [(0, 2), (1, 2)]  # q is alternative 2 of the group


def test_one_group_sweeps_nested_alternatives_of_swept_group() -> None:
    result = expand("{a {big|small}|c} {x|y}", "one group", group=0)
    assert [v.text for v in result] == ["a big x", "a small x", "c x"]
    assert [v.label for v in result] == ["a big", "a small", "c"]


def test_one_group_label_even_for_single_option_group() -> None:
    assert labels("{only} {a|b}", "one group", group=0) == ["only"]
    assert labels("{} {a|b}", "one group", group=0) == ["(none)"]


@pytest.mark.parametrize("group", [2, 7, -1])
def test_one_group_out_of_range_names_group_count(group: int) -> None:
    with pytest.raises(VariantError, match=r"has 2 top-level groups") as info:
        expand("{a|b} {c|d}", "one group", group=group)
    assert info.value.position is None
    with pytest.raises(VariantError, match=r"has 2 top-level groups"):
        count_variants("{a|b} {c|d}", "one group", group=group)


def test_one_group_pin_out_of_range_names_the_group_and_position() -> None:
    with pytest.raises(VariantError, match=r"pin 2 is out of range for group 1, which has 2 options") as info:
        expand("{a|b|c} {x|y}", "one group", group=0, pin=2)
    assert info.value.position == 8


def test_one_group_pin_ignores_the_swept_group() -> None:
    assert texts("{a|b} {x|y|z}", "one group", group=0, pin=2) == ["a z", "b z"]


def test_negative_pin_is_an_error() -> None:
    with pytest.raises(VariantError, match="pin"):
        expand("{a|b} {c|d}", "one group", group=0, pin=-1)


def test_zip_advances_groups_together() -> None:
    result = expand("a {red|green|blue} {cube|ball|cone}", "zip")
    assert [v.text for v in result] == ["a red cube", "a green ball", "a blue cone"]
    assert [v.label for v in result] == ["red · cube", "green · ball", "blue · cone"]
    assert [v.choices for v in result] == [(0, 0), (1, 1), (2, 2)]
    assert count_variants("a {red|green|blue} {cube|ball|cone}", "zip") == 3


def test_zip_unequal_lengths_names_lengths_and_position() -> None:
    with pytest.raises(VariantError, match=r"equal length, got lengths 3, 2, 3 at position 8") as info:
        expand("{a|b|c} {x|y} {1|2|3}", "zip")
    assert info.value.position == 8
    with pytest.raises(VariantError, match="3, 2, 3"):
        count_variants("{a|b|c} {x|y} {1|2|3}", "zip")


def test_zip_counts_nested_alternatives() -> None:
    assert texts("{p {1|2}|q} {x|y|z}", "zip") == ["p 1 x", "p 2 y", "q z"]
    with pytest.raises(VariantError, match="lengths 3, 2"):
        expand("{p {1|2}|q} {x|y}", "zip")


def test_zip_single_option_groups_give_one_unlabelled_variant() -> None:
    assert expand("{a} {b}", "zip") == [Variant("a b", "", (0, 0))]


def test_labels_only_name_groups_that_vary() -> None:
    assert labels("{fixed} {a|b} {also fixed}") == ["a", "b"]
    assert labels("{x} {y}") == [""]


@pytest.mark.parametrize("mode", ["random", "ALL", "", "one"])
def test_unknown_mode_names_mode_and_options(mode: str) -> None:
    for call in (lambda: expand("{a|b}", mode), lambda: count_variants("{a|b}", mode)):
        with pytest.raises(VariantError) as info:
            call()
        assert repr(mode) in str(info.value)
        assert all(repr(m) in str(info.value) for m in MODES)
        assert info.value.position is None


@pytest.mark.parametrize("mode", MODES)
def test_stray_top_level_bar_is_an_error_in_every_mode(mode: str) -> None:
    with pytest.raises(VariantError, match="at position 6") as info:
        expand("{a|b} | c", mode)
    assert info.value.position == 6


def test_has_groups() -> None:
    assert has_groups("a {b|c}")
    assert has_groups("{}")
    assert not has_groups("plain")
    assert not has_groups(r"\{not a group\}")
    with pytest.raises(VariantError):
        has_groups("{")


# -- the cap ---------------------------------------------------------------------------------


def test_over_cap_error_names_count_and_cap() -> None:
    template = " ".join("{a|b|c|d|e|f}" for _ in range(4))  # 6**4 == 1,296
    assert count_variants(template) == 1296
    with pytest.raises(VariantError, match="template expands to 1,296 variants") as info:
        expand(template)
    assert "max_variants 64" in str(info.value)
    assert info.value.position is None
    assert len(expand(template, max_variants=1296)) == 1296


def test_exactly_at_cap_is_allowed() -> None:
    template = "{a|b|c|d|e|f|g|h} {1|2|3|4|5|6|7|8}"
    assert len(expand(template)) == DEFAULT_MAX_VARIANTS
    with pytest.raises(VariantError, match="64 variants"):
        expand(template, max_variants=63)


def test_twenty_groups_of_four_error_without_enumerating() -> None:
    template = " ".join("{a|b|c|d}" for _ in range(20))
    assert count_variants(template) == 4**20
    with pytest.raises(VariantError, match="1,099,511,627,776 variants"):
        expand(template)
    # one group mode on the same template is small, and the other groups stay pinned
    result = expand(template, "one group", group=19)
    assert [v.text for v in result] == [" ".join(["a"] * 19 + [x]) for x in "abcd"]


def test_huge_nested_group_errors_without_enumerating() -> None:
    template = "{" + "{a|b}" * 60 + "|c} {x|y}"
    assert count_variants(template, "one group", group=0) == 2**60 + 1
    with pytest.raises(VariantError, match="1,152,921,504,606,846,977 variants"):
        expand(template, "one group", group=0)
    assert texts(template, "one group", group=1) == ["a" * 60 + " x", "a" * 60 + " y"]


def test_astronomical_count_is_reported_as_a_magnitude() -> None:
    template = "{a|b|c|d}" * 1000
    assert count_variants(template) == 4**1000
    with pytest.raises(VariantError, match=r"about 10\^602 variants"):
        expand(template)


@pytest.mark.parametrize("cap", [0, -3])
def test_max_variants_must_be_positive(cap: int) -> None:
    with pytest.raises(VariantError, match="max_variants"):
        expand("{a|b}", max_variants=cap)


# -- malformed templates ---------------------------------------------------------------------


MALFORMED = [
    ("{", 0),
    ("a {b|c", 2),
    ("a {b|c} {d", 8),
    ("}", 0),
    ("a}", 1),
    ("{a}}", 3),
    ("a|b", 1),
    ("|", 0),
    ("{a|b}|c", 5),
    ("{a|b}\n| c", 6),
    ("x \\", 2),
    ("{a|b\\", 4),
    ("a\\\\\\", 3),
    ("a /* b", 2),
    ("{a /* b|c}", 3),
    ("{a|b} /*", 6),
    ("/*/", 0),
    ("{a // c|b}", 0),
    ("a // x\n}", 7),
    ("a\r// x\r}", 7),
    ("{a|b}\u2028// c\u2028|", 11),
    ("{a|{b|c}", 0),
    ("{{a}", 0),
    ("{a{b}", 0),
    ("{a|b}}", 5),
    ("a /* c */ |", 10),
    ("/* a */ }", 8),
    ("\\{a|b}", 3),
    ("{a\\}", 0),
    ("{a|b\\|c", 0),
    ("a \\|b|c", 5),
    ("*/ {a|b", 3),
    ("{a|b} }", 6),
    ("{a|b}{c|d}}{e}", 10),
    ("é {a|b}|", 7),
    ("{a|/* } */b", 0),
    ("{a|b} // fine\n{c|d", 14),
    ("{a\n|b\n", 0),
    ("{}{", 2),
    ("{http://x.com|b}", 0),
    ("{a|b} /\\* c */ |", 15),
    ("{" * (MAX_DEPTH + 1) + "}" * (MAX_DEPTH + 1), MAX_DEPTH),
    ("x" * (MAX_TEMPLATE_LENGTH + 1), MAX_TEMPLATE_LENGTH),
]


@pytest.mark.parametrize(("template", "position"), MALFORMED)
def test_malformed_template_reports_exact_position(template: str, position: int) -> None:
    for call in (lambda: parse(template), lambda: expand(template), lambda: count_variants(template)):
        with pytest.raises(VariantError) as info:
            call()
        assert info.value.position == position
        assert f"at position {position}" in str(info.value)


def test_at_least_thirty_malformed_cases() -> None:
    assert len(MALFORMED) >= 30


def test_error_message_has_reason_and_caret_under_the_position() -> None:
    with pytest.raises(VariantError) as info:
        parse("a nice {red|blue cube")
    message = str(info.value)
    assert message.startswith("unclosed '{' (no matching '}') at position 7")
    excerpt, caret = message.splitlines()[1:3]
    assert excerpt.index("{") == caret.index("^")
    assert info.value.reason == "unclosed '{' (no matching '}')"


def test_error_caret_in_a_long_template_points_at_the_character() -> None:
    template = "word " * 40 + "}" + " tail" * 40
    with pytest.raises(VariantError) as info:
        parse(template)
    assert info.value.position == 200
    excerpt, caret = str(info.value).splitlines()[1:3]
    assert excerpt[caret.index("^")] == "}"


def test_specific_reasons() -> None:
    cases = {
        "a|b": "stray '|'",
        "a}": "unmatched '}'",
        "{a": "unclosed '{'",
        "a\\": "lone backslash",
        "/* a": r"unterminated /\* comment",
        "{" * 40: "nested deeper than 32",
        "x" * 20_001: "over the limit of 20,000",
    }
    for template, reason in cases.items():
        with pytest.raises(VariantError, match=reason):
            parse(template)


def test_limits_are_inclusive() -> None:
    assert texts("{" * MAX_DEPTH + "x" + "}" * MAX_DEPTH) == ["x"]
    assert texts("x" * MAX_TEMPLATE_LENGTH) == ["x" * MAX_TEMPLATE_LENGTH]


def test_variant_error_is_a_value_error_and_non_string_templates_fail() -> None:
    assert issubclass(VariantError, ValueError)
    with pytest.raises(VariantError, match="must be a string"):
        parse(123)  # type: ignore[arg-type]


# -- escape() --------------------------------------------------------------------------------


def test_escape_examples() -> None:
    assert escape("{a|b} \\ c") == "\\{a\\|b\\} \\\\ c"
    assert escape("http://x/*y*/ a/b") == "http:\\//x\\/*y*/ a/b"
    assert texts(escape("http://x/*y*/ a/b {c|d}")) == ["http://x/*y*/ a/b {c|d}"]


# -- properties ------------------------------------------------------------------------------


@dataclass(frozen=True)
class G:
    """A reference group: options, each a tuple of parts (words and groups)."""

    options: tuple[tuple[str | G, ...], ...]


WORDS = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


def parts_strategy(max_leaves: int) -> st.SearchStrategy[tuple[str | G, ...]]:
    part = st.recursive(
        WORDS,
        lambda inner: st.lists(st.lists(inner, max_size=3).map(tuple), min_size=1, max_size=3).map(
            lambda options: G(tuple(options))
        ),
        max_leaves=max_leaves,
    )
    return st.lists(part, max_size=5).map(tuple)


def render(parts: tuple[str | G, ...]) -> str:
    return " ".join(p if isinstance(p, str) else "{" + "|".join(render(o) for o in p.options) + "}" for p in parts)


def ref_size(part: str | G) -> int:
    if isinstance(part, str):
        return 1
    return sum(math.prod(ref_size(p) for p in option) for option in part.options)


def ref_alternatives(parts: tuple[str | G, ...]) -> list[str]:
    pieces = [[p] if isinstance(p, str) else [a for o in p.options for a in ref_alternatives(o)] for p in parts]
    return [" ".join(combo) for combo in itertools.product(*pieces)]


@settings(max_examples=150, deadline=None)
@given(parts_strategy(max_leaves=12))
def test_count_is_product_of_group_sizes_and_matches_reference(parts: tuple[str | G, ...]) -> None:
    template = render(parts)
    expected = math.prod(ref_size(p) for p in parts if isinstance(p, G))
    assert count_variants(template) == expected
    assert [g.size for g in parse(template).groups] == [ref_size(p) for p in parts if isinstance(p, G)]
    if expected <= 400:
        assert texts(template, max_variants=400) == [normalize_whitespace(t) for t in ref_alternatives(parts)]


@settings(max_examples=100, deadline=None)
@given(parts_strategy(max_leaves=8), st.sampled_from(MODES), st.integers(0, 3), st.integers(0, 2))
def test_expand_is_deterministic(parts: tuple[str | G, ...], mode: str, group: int, pin: int) -> None:
    template = render(parts)
    try:
        first = expand(template, mode, group=group, pin=pin, max_variants=10_000)
    except VariantError as error:
        with pytest.raises(VariantError) as again:
            expand(template, mode, group=group, pin=pin, max_variants=10_000)
        assert str(again.value) == str(error)
    else:
        assert expand(template, mode, group=group, pin=pin, max_variants=10_000) == first
        assert len(first) == count_variants(template, mode, group)


TRICKY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from("{}|\\/*ab \n\r\u2028"), max_size=60),
)


@settings(max_examples=200, deadline=None)
@given(TRICKY_TEXT)
def test_escape_round_trips_any_text(text: str) -> None:
    for mode in MODES:
        assert expand(escape(text), mode) == [Variant(normalize_whitespace(text), "", ())]
    assert not has_groups(escape(text))


@settings(max_examples=100, deadline=None)
@given(TRICKY_TEXT, TRICKY_TEXT)
def test_escaped_texts_as_options_expand_to_themselves(a: str, b: str) -> None:
    assert texts("{" + escape(a) + "|" + escape(b) + "}") == [normalize_whitespace(a), normalize_whitespace(b)]


FLAT_GROUPS = st.lists(st.lists(WORDS, min_size=1, max_size=4, unique=True), min_size=1, max_size=4)


@settings(max_examples=100, deadline=None)
@given(FLAT_GROUPS, st.lists(WORDS, min_size=5, max_size=5))
def test_all_variants_distinct_and_first_group_slowest(groups: list[list[str]], glue: list[str]) -> None:
    template = " ".join(f"{glue[k]} {{{'|'.join(options)}}}" for k, options in enumerate(groups))
    result = expand(template, max_variants=1000)
    assert len({v.text for v in result}) == len(result) == math.prod(len(o) for o in groups)
    assert [v.choices for v in result] == list(itertools.product(*(range(len(o)) for o in groups)))
    for variant in result:
        chosen = [options[i] for options, i in zip(groups, variant.choices, strict=True)]
        assert variant.text == " ".join(f"{glue[k]} {w}" for k, w in enumerate(chosen))
        assert variant.label == " · ".join(w for options, w in zip(groups, chosen, strict=True) if len(options) > 1)


@settings(max_examples=100, deadline=None)
@given(FLAT_GROUPS, st.data())
def test_one_group_and_zip_properties(groups: list[list[str]], data: st.DataObject) -> None:
    template = " ".join("{" + "|".join(options) + "}" for options in groups)
    k = data.draw(st.integers(0, len(groups) - 1))
    swept = expand(template, "one group", group=k)
    assert [v.label for v in swept] == groups[k]
    assert all(v.choices[j] == 0 for v in swept for j in range(len(groups)) if j != k)
    lengths = {len(o) for o in groups}
    if len(lengths) == 1:
        zipped = expand(template, "zip")
        assert [v.choices for v in zipped] == [(i,) * len(groups) for i in range(lengths.pop())]
    else:
        with pytest.raises(VariantError, match="equal length"):
            expand(template, "zip")


def test_module_constants() -> None:
    assert variants.MODES == ("all", "one group", "zip")
    assert variants.DEFAULT_MAX_VARIANTS == 64
    assert variants.NODE_ID == "PromptVariantSweep|SeedNumber"
