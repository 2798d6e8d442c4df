"""The score columns of a batch output row, derived from the model layer's result types.

A row is the document id, the input's passthrough fields, then every field of
:class:`narrascope.model.results.DocumentResult` except those listed in :data:`OMITTED` and finally the
:class:`~narrascope.model.results.ModelStamp` of the model that scored it. The CSV writer (which cells are
JSON-encoded, which read back as numbers) and the Parquet writer (the Arrow type of each column) read the
types from :data:`SCORE_FIELDS` too, so a field added to the result type reaches every output format.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from narrascope.model.results import DocumentResult, ModelStamp

# ``id`` opens the row (before the passthrough fields); batch rows carry evidence sentences with their
# offsets, not every sentence, which would multiply the output size.
OMITTED = frozenset({"id", "sentences"})
MODEL_COLUMN = "model"

ID_TYPE: Any = DocumentResult.model_fields["id"].annotation
# Column name -> Python type, in output order.
SCORE_FIELDS: dict[str, Any] = {
    **{name: info.annotation for name, info in DocumentResult.model_fields.items() if name not in OMITTED},
    MODEL_COLUMN: ModelStamp,
}
SCORE_COLUMNS: tuple[str, ...] = tuple(SCORE_FIELDS)


def is_scalar(annotation: Any) -> bool:
    """A plain text or number (or a fixed set of strings); anything else is a nested value."""
    if get_origin(annotation) is Literal:
        return all(isinstance(value, str) for value in get_args(annotation))
    return annotation in (str, int, float, bool)


# Nested score columns are JSON text in a CSV cell; integer columns are read back as numbers.
NESTED_COLUMNS = frozenset(name for name, annotation in SCORE_FIELDS.items() if not is_scalar(annotation))
INT_COLUMNS = frozenset(name for name, annotation in SCORE_FIELDS.items() if annotation is int)
