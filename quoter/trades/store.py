"""The trade file: CSV or Parquet by its suffix, merged by trade id so a row is never added
twice, written whole to a temporary file and moved into place."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from quoter.basics.private_file import write_private
from quoter.trades.rows import (
    COLUMNS,
    KEY_COLUMNS,
    PENDING_PREFIX,
    SUFFIXES,
    Row,
    TradeFileError,
)

TEXT_COLUMNS = [c for c in COLUMNS if c not in ("quantity-mw", "price")]
PRODUCT_COLUMNS = ("product-type", "product-label")


class TradeStore:
    def __init__(self, path: Path) -> None:
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"{path}: the trade file must end in .csv or .parquet")
        self.path = path

    def load(self) -> pd.DataFrame:
        """The file's trades; TradeFileError, naming the file and what is wrong, if it cannot
        be read as a trade file: merging into it then would overwrite what it holds."""
        if not self.path.exists():
            return _frame([])
        try:
            frame = self._read()
        except OSError as error:
            if error.strerror is not None:  # the system's: permissions, a folder, ...
                raise TradeFileError(
                    f"cannot read trade file {self.path}: {error.strerror}"
                ) from None
            raise TradeFileError(f"trade file {self.path} is damaged: {_first(error)}") from None
        except ValueError as error:  # pandas' parse errors, pyarrow's ArrowInvalid, decoding
            raise TradeFileError(f"trade file {self.path} is damaged: {_first(error)}") from None
        missing = [c for c in KEY_COLUMNS if c not in frame.columns]
        if missing:
            raise TradeFileError(
                f"{self.path} is not a trade file: it has no {', '.join(missing)} "
                + ("column" if len(missing) == 1 else "columns")
            )
        typed = _typed(frame.reindex(columns=list(COLUMNS)))
        unnamed = int((typed["trade-id"] == "").sum())
        if unnamed:
            raise TradeFileError(
                f"trade file {self.path} is damaged: {unnamed} row(s) without a trade-id"
            )
        return typed

    def _read(self) -> pd.DataFrame:
        if self.path.suffix.lower() == ".csv":
            return pd.read_csv(
                self.path, dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False
            )
        return pd.read_parquet(self.path)

    def latest_traded_at(self) -> str | None:
        """The newest venue trade's time in the file (pending fills do not count)."""
        frame = self.load()
        venue_rows = frame[~frame["trade-id"].str.startswith(PENDING_PREFIX)]
        return None if venue_rows.empty else str(venue_rows["traded-at"].max())

    def merge(self, rows: Iterable[Row]) -> int:
        """Add the rows not yet in the file; returns how many were new. The file exists
        afterwards, with its header if there is no row: an empty export is a result too."""
        existing = self.load()
        merged = merge_rows(existing, _frame(list(rows)))
        added = len(set(merged["trade-id"]) - set(existing["trade-id"]))
        # A product handed over by a pending fill changes a row already kept: written too.
        if added or not merged.equals(existing) or not self.path.exists():
            self._write(merged)
        return added

    def _write(self, frame: pd.DataFrame) -> None:
        if self.path.suffix.lower() == ".csv":
            content: str | bytes = frame.to_csv(index=False)
        else:
            content = frame.to_parquet(None, index=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Our trades are the desk's own: owner-only from the first byte.
            write_private(self.path, content)
        except OSError as error:
            raise TradeFileError(f"cannot write trade file {self.path}: {error.strerror}") from None


def _first(error: Exception) -> str:
    """The first line of a reader's complaint, without its full stop."""
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__


def merge_rows(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows already kept win over the same trade id seen again; a pending fill gives way to the
    venue's trade for its RFQ, handing it the product the bot quoted where the trade names
    none (in whichever order the two arrive)."""
    both = pd.concat([existing, new], ignore_index=True) if len(existing) else new
    both = both.drop_duplicates(subset="trade-id", keep="first")
    pending = both["trade-id"].str.startswith(PENDING_PREFIX)
    _take_products(both, pending)
    settled = set(both.loc[~pending, "rfq-id"])
    both = both[~(pending & both["rfq-id"].isin(settled))]
    return both.sort_values(["traded-at", "trade-id"], kind="stable").reset_index(drop=True)


def _take_products(frame: pd.DataFrame, pending: pd.Series[bool]) -> None:
    """Venue trades without a product take the one of their RFQ's pending fill, if it has one."""
    known = frame[pending & (frame["product-type"] != "")].drop_duplicates(subset="rfq-id")
    by_rfq = known.set_index("rfq-id")[list(PRODUCT_COLUMNS)]
    unknown = ~pending & (frame["product-type"] == "") & frame["rfq-id"].isin(by_rfq.index)
    for column in PRODUCT_COLUMNS:
        frame.loc[unknown, column] = frame.loc[unknown, "rfq-id"].map(by_rfq[column])


def _frame(rows: list[Row]) -> pd.DataFrame:
    return _typed(pd.DataFrame(rows, columns=list(COLUMNS)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype(object).fillna("").astype(str)
    for column in ("quantity-mw", "price"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame
