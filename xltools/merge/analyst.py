"""Analyst outputs: the same tables as the summary workbook, as CSV (UTF-8 with BOM, so Excel
opens the Chinese text), Parquet (pyarrow, the ``analyst`` extra), SQLite, and pandas
DataFrames for the Python API. Column names are the tables' English keys. Every text copied
from the returned files is neutralised against formula injection (a leading ``'``). Each file
is written atomically; all are streamed from the spool in batches.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_path
from .spool import Kind, Spool, Table, tables

if TYPE_CHECKING:
    import pandas as pd


def write_all(
    spool: Spool,
    all_tables: list[Table],
    csv: Path | None,
    parquet: Path | None,
    sqlite: Path | None,
) -> None:
    """Every analyst output asked for, from ``spool``."""
    if csv is not None:
        write_csv(spool, all_tables, csv)
    if parquet is not None:
        write_parquet(spool, all_tables, parquet)
    if sqlite is not None:
        write_sqlite(spool, all_tables, sqlite)


def write_all_from(
    spool_path: Path, csv: Path | None, parquet: Path | None, sqlite: Path | None
) -> None:
    """:func:`write_all` in another process, from the finished spool's file (only read)."""
    spool = Spool.reopen(spool_path)
    try:
        write_all(spool, tables(spool), csv, parquet, sqlite)
    finally:
        spool.close()


def dataframe(spool: Spool, key: str) -> pd.DataFrame:
    import pandas as pd

    table = next(t for t in tables(spool) if t.key == key)
    frame = pd.read_sql_query(table.query(analyst=True), spool.connection)
    for column in table.columns:
        if column.kind == "int":
            frame[column.key] = frame[column.key].astype("Int64")
        elif column.kind in ("money", "percent", "score"):
            frame[column.key] = frame[column.key].astype("float64")
    return frame


def write_csv(spool: Spool, all_tables: list[Table], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table in all_tables:
        with (
            atomic_path(folder / f"{table.key}.csv") as temporary,
            temporary.open("w", encoding="utf-8-sig", newline="") as stream,
        ):
            writer = csv.writer(stream)
            writer.writerow([c.key for c in table.columns])
            for batch in table.rows(spool, analyst=True):
                writer.writerows(batch)


_ARROW_TYPES: dict[Kind, str] = {
    "text": "string",
    "any": "string",
    "int": "int64",
    "money": "float64",
    "percent": "float64",
    "score": "float64",
}


def write_parquet(spool: Spool, all_tables: list[Table], folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    for table in all_tables:
        schema = pa.schema(
            [pa.field(c.key, getattr(pa, _ARROW_TYPES[c.kind])()) for c in table.columns]
        )
        with atomic_path(folder / f"{table.key}.parquet") as temporary:
            writer = pq.ParquetWriter(str(temporary), schema)
            try:
                wrote = False
                for batch in table.rows(spool, analyst=True):
                    columns = list(zip(*batch, strict=True))
                    arrays = [
                        pa.array(_cast(values, c.kind), type=schema.field(i).type)
                        for i, (c, values) in enumerate(zip(table.columns, columns, strict=True))
                    ]
                    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                    wrote = True
                if not wrote:
                    writer.write_table(schema.empty_table())
            finally:
                writer.close()


def _cast(values: tuple[Any, ...], kind: Kind) -> list[Any]:
    """A column's values as its Parquet type wants them: ``any`` (a target or actual value,
    number or text) is stored as text."""
    if kind == "any" or kind == "text":
        return [None if v is None else _as_text(v) for v in values]
    if kind == "int":
        return [None if v is None else int(v) for v in values]
    return [None if v is None else float(v) for v in values]


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_SQL_TYPES: dict[Kind, str] = {
    "text": "TEXT",
    "any": "",  # a target or actual value keeps its type: number or text
    "int": "INTEGER",
    "money": "REAL",
    "percent": "REAL",
    "score": "REAL",
}


def write_sqlite(spool: Spool, all_tables: list[Table], target: Path) -> None:
    with atomic_path(target) as temporary:
        temporary.unlink()  # sqlite3 creates it
        output = sqlite3.connect(temporary)
        try:
            for table in all_tables:
                columns = ", ".join(
                    f'"{c.key}" {_SQL_TYPES[c.kind]}'.rstrip() for c in table.columns
                )
                output.execute(f'CREATE TABLE "{table.key}" ({columns})')
                marks = ", ".join("?" for _ in table.columns)
                for batch in table.rows(spool, analyst=True):
                    output.executemany(f'INSERT INTO "{table.key}" VALUES ({marks})', batch)
            output.commit()
        finally:
            output.close()
