"""Follow the business: import customers and business cases from the business system's exports.

An export (CSV in UTF-8 or GBK/GB18030, or .xlsx) is read row by row, in constant memory,
through a column mapping kept as data (``schemas/import-mapping.yaml``). Every row is
validated (户号, 工单编号, dates, capacities, business type, the scheme's billing fields);
bad rows are reported with file, line and reason, good rows are imported in the same run,
in batches, each batch one transaction.

Re-importing the same file changes nothing. A changed row updates the customer or case and
keeps the earlier values in ``customer_version`` / ``case_version`` (with the file and line
that changed them); the run itself is one hash-chained event carrying the file's SHA-256
and a digest of every change, so the history rows can be checked against the log.
A 原户号 column records a 户号 change, 分户 or 并户 (archive.lifecycle.change_account_number
and AccountAlias), so old numbers keep finding the customer.
"""

from dangan.archive.business.imports.files import ExportFile, detect_encoding
from dangan.archive.business.imports.mapping import (
    BUSINESS_IMPORT,
    ImportFileError,
    ImportMapping,
    MappingError,
    load_mapping,
)
from dangan.archive.business.imports.rows import ImportOptions, ImportReport, RowProblem
from dangan.archive.business.imports.run import case_history, customer_history, import_cases, import_customers
from dangan.archive.business.imports.values import parse_capacity, parse_date

__all__ = [
    "BUSINESS_IMPORT",
    "ExportFile",
    "ImportFileError",
    "ImportMapping",
    "ImportOptions",
    "ImportReport",
    "MappingError",
    "RowProblem",
    "case_history",
    "customer_history",
    "detect_encoding",
    "import_cases",
    "import_customers",
    "load_mapping",
    "parse_capacity",
    "parse_date",
]
