"""The warehouse's Airflow DAGs (one per file) and their shared definitions in ``common``."""
