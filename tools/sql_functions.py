"""SQLite's functions that can loop for seconds inside one step, bounded per call.

A query's deadline interrupts SQLite between steps; a function call is one step. Measured
on SQLite 3.40 within `query_database`'s limits, two built-in functions can run for
seconds in one call: `printf` (and its alias `format`), which repeats a `%c` as many times
as its precision says, whatever the length limit (`printf('%.*c', 2000000000, 'x')`:
12 s), and `trim`/`ltrim`/`rtrim` with a second argument, which compare every character
against every character to trim (8,000 of them: 1.6 s). `BoundedFunctions` replaces them
on a connection: each call's arguments are checked, then SQLite's own function does the
work, so results are exactly SQLite's. The checks are Python, called by SQLite on every
row: they cost no more than a hundred conversions' parsing per call, and they run in the
query's own process (`tools.sql_process`), whose GIL is not the server's.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import NoReturn

MAX_FORMAT_WIDTH = 100_000  # printf/format: widths and precisions of one call, added up
MAX_FORMAT_CONVERSIONS = 100  # printf/format: `%` conversions in one format (16 arguments at most)
MAX_TRIM_CHARS = 100  # trim/ltrim/rtrim: characters of the second argument

# SQLite's printf conversions (`fmtinfo` in printf.c); others, and %T and %S, end the output.
_CONVERSIONS = frozenset("dsgzqQwcouxXfeEGinp%r")
_NO_ARGUMENT = frozenset("%n")  # take no argument
_DIGITS = re.compile("[0-9]*")
_INTEGER = re.compile(rb"[ \t\n\f\r\v]*([+-]?)([0-9]+)")
_INT64 = (-(2**63), 2**63 - 1)
Value = str | bytes | int | float | None  # an SQL value, as Python sees it


class BoundedFunctions:
    """printf, format, trim, ltrim and rtrim for one connection, each call bounded.

    A call past a bound raises inside SQLite, which reports only that a function failed:
    `refused` keeps the first reason, for the query's error message.
    """

    def __init__(self, max_length: int) -> None:
        """Delegate to SQLite's own functions, with strings of at most `max_length` bytes."""
        self.refused: str | None = None
        self._max_length = max_length
        self._builtins: sqlite3.Connection | None = None

    def install(self, conn: sqlite3.Connection) -> None:
        """Replace the functions on `conn` (they run on the thread that runs its query)."""
        for name in ("printf", "format"):
            conn.create_function(name, -1, self._printf, deterministic=True)
        for name in ("trim", "ltrim", "rtrim"):  # trim(X) alone trims spaces: linear, kept
            conn.create_function(name, 2, partial(self._trim, name), deterministic=True)

    def close(self) -> None:
        """Close the connection the functions delegate to (on the query's thread)."""
        if self._builtins is not None:
            self._builtins.close()
            self._builtins = None

    def _printf(self, *args: Value) -> Value:
        if not args or not isinstance(args[0], str | bytes):  # NULL, or a number: no `%`
            return self._builtin("printf", args)
        fmt = args[0] if isinstance(args[0], str) else args[0].decode("utf-8", "replace")
        try:
            written, values = spelled_out(fmt, args[1:])
        except ValueError as err:
            self._refuse(f"printf(): {err}")
        return self._builtin("printf", (written, *values))

    def _trim(self, name: str, text: Value, characters: Value) -> Value:
        count = len(characters) if isinstance(characters, str | bytes) else 0
        if count > MAX_TRIM_CHARS:
            self._refuse(
                f"{name}(): {count:,} characters to trim; at most {MAX_TRIM_CHARS} in one call"
            )
        return self._builtin(name, (text, characters))

    def _refuse(self, reason: str) -> NoReturn:
        self.refused = self.refused or reason
        raise ValueError(reason)

    def _builtin(self, name: str, args: Sequence[Value]) -> Value:
        """Return SQLite's own `name(*args)`, on a private in-memory connection."""
        if self._builtins is None:
            self._builtins = sqlite3.connect(":memory:")
            self._builtins.text_factory = lambda raw: raw.decode("utf-8", "replace")
            self._builtins.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self._max_length)
        marks = ", ".join("?" * len(args))
        value: Value = self._builtins.execute(f"SELECT {name}({marks})", args).fetchone()[0]
        return value


def spelled_out(fmt: str, args: Sequence[Value]) -> tuple[str, list[Value]]:
    """Return a printf format with every width and precision written as a number.

    SQLite's parser (`sqlite3_str_vappendf`), followed step by step: the `*` widths and
    precisions are read from `args` as SQLite reads them, and every conversion is written
    again as `%` flags width `.` precision type. SQLite then runs exactly the widths and
    precisions counted here, however the original spelled them.

    Returns:
        The format, and the arguments its conversions take (in order).

    Raises:
        ValueError: for more than `MAX_FORMAT_CONVERSIONS` conversions, or widths and
            precisions adding up to more than `MAX_FORMAT_WIDTH`.
    """
    out: list[str] = []
    values: list[Value] = []
    used = total = conversions = i = 0
    end = len(fmt)

    def at(index: int) -> str:
        return fmt[index] if index < end else ""

    def next_int() -> int:
        nonlocal used
        if used >= len(args):
            return 0
        used += 1
        return _int64(args[used - 1])

    def number(start: int) -> tuple[int, int]:  # the digits from `start`: value, end
        digits = _DIGITS.match(fmt, start)
        assert digits is not None  # `*` matches nothing too
        text = digits.group()
        return (int(text) if len(text) < 19 else _INT64[1]) if text else 0, digits.end()

    while i < end:
        percent = fmt.find("%", i)
        if percent < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:percent])
        i = percent + 1
        if i == end:  # a lone `%` at the end is printed as is
            out.append("%%")
            break
        conversions += 1
        if conversions > MAX_FORMAT_CONVERSIONS:
            raise ValueError(f"more than {MAX_FORMAT_CONVERSIONS} conversions in one format")
        c = fmt[i]
        flags: dict[str, str] = {}
        width, precision, done = 0, -1, False
        while True:
            if c in "-#!,0":
                flags[c] = c
            elif c in "+ ":
                flags["+"] = c  # the last of `+` and ` ` counts
            elif c == "l":  # `l` and `ll`: no effect on SQL values
                i += 1
                if at(i) == "l":
                    i += 1
                c, done = at(i), True
            elif c in "123456789":
                width, i = number(i)
                c = at(i)
                if c in (".", "l"):
                    i -= 1
                else:
                    done = True
            elif c == "*":
                width = next_int()
                if width < 0:
                    flags["-"], width = "-", -width
                if at(i + 1) not in (".", "l"):
                    i += 1
                    c, done = at(i), True
            elif c == ".":
                i += 1
                if at(i) == "*":
                    precision = abs(next_int())
                    i += 1
                else:
                    precision, i = number(i)
                c = at(i)
                if c == "l":
                    i -= 1
                else:
                    done = True
            else:
                done = True
            if done:
                break
            i += 1
            c = at(i)
            if not c:
                break
        if c not in _CONVERSIONS:  # SQLite stops printing here
            break
        total += width + max(precision, 0)
        if total > MAX_FORMAT_WIDTH:
            raise ValueError(
                f"the widths and precisions of one call add up to {total:,} characters; "
                f"at most {MAX_FORMAT_WIDTH:,}"
            )
        spec = "".join(flags.get(f, "") for f in "-+#!,0")
        out.append(f"%{spec}{width or ''}{'' if precision < 0 else f'.{precision}'}{c}")
        if c not in _NO_ARGUMENT and used < len(args):
            values.append(args[used])
            used += 1
        i += 1
    return "".join(out), values


def _int64(value: Value) -> int:
    """Return a value as SQLite's `sqlite3_value_int64` reads it (near enough to bound it)."""
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value == value and abs(value) != float("inf") else 0
    elif isinstance(value, str | bytes):
        raw = value.encode("utf-8", "replace") if isinstance(value, str) else value
        found = _INTEGER.match(raw)
        digits = found.group(2) if found else b"0"
        number = int(digits) if len(digits) < 19 else _INT64[1]
        number = -number if found and found.group(1) == b"-" else number
    else:
        number = 0
    return min(max(number, _INT64[0]), _INT64[1])
