"""How TFX's CSV reader reads records: its value length limit, and the record ``csv`` is reading."""

import csv
import sys
from typing import Iterator, List, Optional, Tuple


def field_size_limit() -> int:
    """The longest value (characters) TFX's CSV reader takes: tfx_bsl's csv_decoder reads rows with Python's
    ``csv`` module, whose default field size limit refuses anything longer (tfx_bsl 1.16, coders/csv_decoder.py)."""
    return csv.field_size_limit()


def oversized_field(record: str, header: List[str]) -> Tuple[Optional[str], int]:
    """(column name, length) of the longest value of a record that ``csv`` refused as too long."""
    limit = csv.field_size_limit(sys.maxsize)  # only to find which value it was; restored at once
    try:
        row = next(csv.reader(record.splitlines(keepends=True)), [])
    finally:
        csv.field_size_limit(limit)
    index = max(range(len(row)), key=lambda i: len(row[i]), default=0)
    length = len(row[index]) if row else 0
    return (header[index] if index < len(header) else None), length


class RecordLines:
    """The lines ``csv`` has read since its last complete row: the record it is reading."""

    def __init__(self, lines: Iterator[str]):
        self.lines, self.current, self.first_line, self.count = lines, [], 1, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        self.current.append(line)
        return line

    def row_done(self) -> None:
        self.current, self.first_line = [], self.count + 1
