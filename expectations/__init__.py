"""Great Expectations suites that audit the build database before anything is published.

Design (see README, "Audit"): GX 1.x cannot validate DuckDB through SQLAlchemy today (metrics come
back empty; GX issues #10738, #11579), so each check is an *audit query* run by DuckDB against the
build file, whose result is handed to GX as a pandas DataFrame and validated with ordinary GX
expectations. Queries keep large tables in DuckDB (they aggregate or select offending rows);
every check also asserts that the data it looked at is not empty, so nothing passes vacuously.
"""

from expectations.audit import AuditFailed, AuditReport, run_audit
from expectations.settings import AuditSettings

__all__ = ["AuditFailed", "AuditReport", "AuditSettings", "run_audit"]
