"""printf, format and trim, bounded: SQLite's own results, and the bounds however spelled."""

import random
import sqlite3

import pytest

from tools.query_database import run_query
from tools.sql_functions import MAX_FORMAT_WIDTH, Value, spelled_out

PIECES = [*"-+ #!0,*.l123456789", *"dsgzqQwcouxXfeEGinp%rTSa", "é", "%%", "12", "00", "text"]
VALUES: list[Value] = [0, 1, -1, 7, -7, 12, 3.14159, -2.5, 1e20, "abc", "'q'", "12x", " 3"]
VALUES += [None, b"\x01ab", "-4", 99, 2**40, "é", 2e9, "-2000000000"]


def sqlite_printf(conn: sqlite3.Connection, fmt: str, args: list[Value]) -> object:
    try:
        marks = ", ".join("?" * (1 + len(args)))
        return conn.execute(f"SELECT printf({marks})", [fmt, *args]).fetchone()[0]
    except sqlite3.Error as err:
        return repr(err)


def test_a_format_spelled_out_prints_what_sqlite_prints() -> None:
    conn = sqlite3.connect(":memory:")
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    rng = random.Random(7)
    compared = 0
    for _ in range(5000):
        fmt = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12)))
        args = [rng.choice(VALUES) for _ in range(rng.randint(0, 5))]
        try:
            written, values = spelled_out(fmt, args)
        except ValueError:
            continue  # past a bound: refused, never run
        got = sqlite_printf(conn, written, values)
        assert got == sqlite_printf(conn, fmt, args), (fmt, args, written, values)
        compared += 1
    assert compared > 4000


@pytest.mark.parametrize(
    ("fmt", "args", "message"),
    [
        ("%.*c", [2_000_000_000, "x"], "add up to 2,000,000,000"),
        ("%.2000000000c", ["x"], "add up to 2,000,000,000"),
        ("%.99999999999999999999999c", ["x"], "add up to 9,223,372,036,854,775,807"),
        ("%" + "9" * 5000 + "d", [1], "add up to 9,223,372,036,854,775,807"),
        ("%*c", [-200_000, "x"], "add up to 200,000"),
        ("%-*.*c", ["  100000 rows", 1.5, "x"], "add up to 100,001"),
        ("%.*llc", [2**62, "x"], "add up to 4,611,686,018,427,387,904"),
        ("%.50000c%.50001c", ["x", "y"], "add up to 100,001"),
        ("%d" * 101, [], "more than 100 conversions"),
    ],
)
def test_widths_and_precisions_are_bounded_however_spelled(
    fmt: str, args: list[Value], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        spelled_out(fmt, args)


def test_formats_within_the_bounds_are_left_as_sqlite_reads_them() -> None:
    assert spelled_out("%.*c|%-*d|%5.2f%%", [3, "x", -4, 7, 1.5]) == (
        "%.3c|%-4d|%5.2f%%",
        ["x", 7, 1.5],
    )
    assert spelled_out("%.*c", [MAX_FORMAT_WIDTH, "x"])[0] == f"%.{MAX_FORMAT_WIDTH}c"
    assert spelled_out("no conversions, 100%", []) == ("no conversions, 100%%", [])
    assert spelled_out("%d then %T stops", [1]) == ("%d then ", [1])


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT printf('%5.1f|%,d|%q|%!.3s', 3.14159, 1234567, 'it''s', 'ééé€')",
            "  3.1|1,234,567|it''s|ééé",
        ),
        ("SELECT format('%s and %s', 'this', 'that')", "this and that"),
        ("SELECT printf(NULL) IS NULL AND printf() IS NULL", "1"),
        ("SELECT printf(42)", "42"),
        ("SELECT printf(CAST('%d%%' AS BLOB), 5)", "5%"),
        ("SELECT trim('xxhixx', 'x') || '|' || ltrim('--a', '-') || '|' || rtrim('b  ')", "hi|a|b"),
        ("SELECT trim(1.50, '0')", "1.5"),
        ("SELECT trim('abc', NULL) IS NULL", "1"),
    ],
)
def test_the_results_are_sqlites_own(sql: str, expected: str) -> None:
    assert run_query(sql).splitlines()[-1] == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT printf('%.*c', 2000000000, 'x')", "too big: printf\\(\\): the widths"),
        ("SELECT format('%.*c', 1e10, 'x')", "too big: printf\\(\\): the widths"),
        ("SELECT trim('abc', printf('%.*c', 101, 'x'))", "too big: trim\\(\\): 101 characters"),
        ("SELECT rtrim('abc', printf('%.*c', 101, 'é'))", "too big: rtrim\\(\\): 101 characters"),
    ],
)
def test_a_call_past_a_bound_is_refused_with_its_reason(sql: str, message: str) -> None:
    with pytest.raises(sqlite3.OperationalError, match=message):
        run_query(sql)
